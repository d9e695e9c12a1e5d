/*
 * pt_http_parse.c: the HTTP/1.x parsers (request line, header lines,
 * request-target normalization, Host check; the chunked coding is in
 * pt_http_parse_chunked.c).
 *
 * They are pure: no allocation, no I/O, state kept in the request, results
 * as pointers into the caller's buffer.  See pt_http_parse.h for the rules
 * they enforce.
 */

#include "pt_http.h"

/*
 * Lower-case form of each token character (RFC 9110 tchar), 0 for bytes
 * that may not appear in a method or field name.
 */
const u_char  pt_http_token_lc[256] = {
    /* 0x00 - 0x1f: controls */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /*   !  "  #  $  %  &  '  (  )  *  +  ,  -  .  /  */
    0, '!', 0, '#', '$', '%', '&', '\'', 0, 0, '*', '+', 0, '-', '.', 0,
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 0, 0, 0, 0, 0, 0,
    /* @ A-O */
    0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    /* P-Z [ \ ] ^ _ */
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0, 0, 0, '^', '_',
    /* ` a-o */
    '`', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    /* p-z { | } ~ DEL */
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0, '|', 0, '~', 0,
    /* 0x80 - 0xff: not tokens */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};


typedef struct {
    pt_str_t    name;
    pt_uint_t   method;
} pt_http_method_name_t;

static pt_http_method_name_t  pt_http_methods[] = {
    { pt_string("GET"),       PT_HTTP_GET },
    { pt_string("HEAD"),      PT_HTTP_HEAD },
    { pt_string("POST"),      PT_HTTP_POST },
    { pt_string("PUT"),       PT_HTTP_PUT },
    { pt_string("DELETE"),    PT_HTTP_DELETE },
    { pt_string("OPTIONS"),   PT_HTTP_OPTIONS },
    { pt_string("PATCH"),     PT_HTTP_PATCH },
    { pt_string("MKCOL"),     PT_HTTP_MKCOL },
    { pt_string("COPY"),      PT_HTTP_COPY },
    { pt_string("MOVE"),      PT_HTTP_MOVE },
    { pt_string("PROPFIND"),  PT_HTTP_PROPFIND },
    { pt_string("PROPPATCH"), PT_HTTP_PROPPATCH },
    { pt_string("LOCK"),      PT_HTTP_LOCK },
    { pt_string("UNLOCK"),    PT_HTTP_UNLOCK },
    { pt_string("TRACE"),     PT_HTTP_TRACE },
    { pt_string("CONNECT"),   PT_HTTP_CONNECT },
    { pt_null_string, 0 }
};

static pt_uint_t
pt_http_parse_method(u_char *start, u_char *end)
{
    size_t                  len;
    pt_http_method_name_t  *m;

    len = end - start;

    /* GET is nearly every request: test it first. */
    if (len == 3 && start[0] == 'G' && start[1] == 'E' && start[2] == 'T') {
        return PT_HTTP_GET;
    }

    for (m = pt_http_methods; m->name.len; m++) {
        if (m->name.len == len && pt_memcmp(m->name.data, start, len) == 0) {
            return m->method;
        }
    }

    return PT_HTTP_UNKNOWN;
}

/* [a-z0-9-]: the bytes of a (lower-cased) header name that nginx accepts
 * without flagging the header as invalid ("_" is decided by
 * underscores_in_headers), and the plain bytes of a host name. */
static const u_char  pt_http_lc_alnum[256] = {
    ['-'] = 1, ['0' ... '9'] = 1, ['a' ... 'z'] = 1
};

/* Bytes allowed in the host of an absolute-form target (reg-name). */
static pt_uint_t
pt_http_is_host_char(u_char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
        || (ch >= '0' && ch <= '9'))
    {
        return 1;
    }

    switch (ch) {
    case '-': case '.': case '_': case '~': case '!': case '$': case '&':
    case '\'': case '(': case ')': case '*': case '+': case ',': case ';':
    case '=': case '%':
        return 1;
    }

    return 0;
}

/* The scheme of an absolute-form target: "http" or "https", any case. */
static pt_uint_t
pt_http_is_http_scheme(u_char *start, u_char *end)
{
    size_t  len;

    len = end - start;

    if (len != 4 && len != 5) {
        return 0;
    }

    if ((start[0] | 0x20) != 'h' || (start[1] | 0x20) != 't'
        || (start[2] | 0x20) != 't' || (start[3] | 0x20) != 'p')
    {
        return 0;
    }

    return len == 4 || (start[4] | 0x20) == 's';
}

/*
 * The request line: method SP request-target SP HTTP-version CRLF.
 *
 * States:
 *   start        skip empty lines; the first token byte starts the method
 *   start_lf     a CR of an empty line was seen: LF must follow
 *   method       [A-Z_-] up to SP
 *   target       first byte of the target: "/" (origin-form), a scheme
 *                letter (absolute-form) or "*" (asterisk-form, OPTIONS
 *                only); exactly one SP before it
 *   asterisk     "*" seen: SP must follow
 *   schema ...   "http" or "https", "://", host [":" port], then the path;
 *                an absolute-form target without a path means "/"
 *   after_slash  the previous path byte was "/": "/" or "." here makes the
 *                uri complex (merge or dot segments to resolve)
 *   path         path bytes; "." notes the extension, "%" a quoted uri,
 *                "?" starts the args, SP ends the target; CR or LF here is
 *                an HTTP/0.9 request line, which is refused
 *   args         query bytes up to SP
 *   http_H ...   exactly "HTTP/" DIGIT "." DIGIT; anything else is
 *                INVALID_REQUEST, a well-formed version other than 1.0 and
 *                1.1 is INVALID_VERSION (505)
 *   almost_done  CR seen: LF must follow
 *
 * On PT_OK: r->request_start .. r->request_end is the line without CRLF,
 * b->pos is past the line, r->state is reset.
 */
pt_int_t
pt_http_parse_request_line(pt_http_request_t *r, pt_buf_t *b)
{
    u_char  ch, *p;
    enum {
        sw_start = 0,
        sw_start_lf,
        sw_method,
        sw_target,
        sw_asterisk,
        sw_schema,
        sw_schema_slash,
        sw_schema_slash_slash,
        sw_host_start,
        sw_host,
        sw_host_ip_literal,
        sw_host_end,
        sw_port,
        sw_after_slash,
        sw_path,
        sw_args,
        sw_http_H,
        sw_http_HT,
        sw_http_HTT,
        sw_http_HTTP,
        sw_http_slash,
        sw_major,
        sw_dot,
        sw_minor,
        sw_after_version,
        sw_almost_done
    } state;

    state = r->state;

    for (p = b->pos; p < b->last; p++) {
        ch = *p;

        switch (state) {

        case sw_start:
            if (ch == CR) {
                state = sw_start_lf;
                break;
            }
            if (ch == LF) {
                break;
            }
            if ((ch < 'A' || ch > 'Z') && ch != '_' && ch != '-') {
                return PT_HTTP_PARSE_INVALID_METHOD;
            }
            r->request_start = p;
            state = sw_method;
            break;

        case sw_start_lf:
            if (ch != LF) {
                return PT_HTTP_PARSE_INVALID_REQUEST;
            }
            state = sw_start;
            break;

        case sw_method:
            if (ch == ' ') {
                r->method_end = p;
                r->method = pt_http_parse_method(r->request_start, p);
                state = sw_target;
                break;
            }
            if ((ch < 'A' || ch > 'Z') && ch != '_' && ch != '-') {
                return PT_HTTP_PARSE_INVALID_METHOD;
            }
            break;

        case sw_target:
            if (ch == '/') {
                r->uri_start = p;
                state = sw_after_slash;
                break;
            }
            if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') {
                r->schema_start = p;
                state = sw_schema;
                break;
            }
            if (ch == '*' && r->method == PT_HTTP_OPTIONS) {
                /* RFC 9112 3.2.4: "OPTIONS *" asks about the server */
                r->uri_start = p;
                r->uri_end = p + 1;
                state = sw_asterisk;
                break;
            }
            return PT_HTTP_PARSE_INVALID_REQUEST;

        case sw_asterisk:
            if (ch != ' ') {
                return PT_HTTP_PARSE_INVALID_REQUEST;
            }
            state = sw_http_H;
            break;

        case sw_schema:
            if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') {
                break;
            }
            if (ch == ':' && pt_http_is_http_scheme(r->schema_start, p)) {
                r->schema_end = p;
                state = sw_schema_slash;
                break;
            }
            return PT_HTTP_PARSE_INVALID_REQUEST;

        case sw_schema_slash:
            if (ch != '/') {
                return PT_HTTP_PARSE_INVALID_REQUEST;
            }
            state = sw_schema_slash_slash;
            break;

        case sw_schema_slash_slash:
            if (ch != '/') {
                return PT_HTTP_PARSE_INVALID_REQUEST;
            }
            state = sw_host_start;
            break;

        case sw_host_start:
            r->host_start = p;
            if (ch == '[') {
                state = sw_host_ip_literal;
                break;
            }
            /* no userinfo ("@" is not a host byte): RFC 9110 4.2.4 */
            if (!pt_http_is_host_char(ch)) {
                return PT_HTTP_PARSE_INVALID_REQUEST;
            }
            state = sw_host;
            break;

        case sw_host:
            if (pt_http_is_host_char(ch)) {
                break;
            }
            r->host_end = p;
            goto host_end;

        case sw_host_ip_literal:
            if ((ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
                || ch == ':' || ch == '.')
            {
                break;
            }
            if (ch == ']') {
                r->host_end = p + 1;
                state = sw_host_end;
                break;
            }
            return PT_HTTP_PARSE_INVALID_REQUEST;

        case sw_host_end:
        host_end:
            switch (ch) {
            case ':':
                state = sw_port;
                break;
            case '/':
                r->uri_start = p;
                state = sw_after_slash;
                break;
            case ' ':
                /* "http://host" has an empty path: use the "/" of "://". */
                r->uri_start = r->schema_end + 1;
                r->uri_end = r->schema_end + 2;
                state = sw_http_H;
                break;
            default:
                return PT_HTTP_PARSE_INVALID_REQUEST;
            }
            break;

        case sw_port:
            if (ch >= '0' && ch <= '9') {
                /* at most 5 digits; the value is checked with the host */
                if (p - r->host_end > 5) {
                    return PT_HTTP_PARSE_INVALID_REQUEST;
                }
                break;
            }
            r->port_end = p;
            if (ch == '/') {
                r->uri_start = p;
                state = sw_after_slash;
                break;
            }
            if (ch == ' ') {
                r->uri_start = r->schema_end + 1;
                r->uri_end = r->schema_end + 2;
                state = sw_http_H;
                break;
            }
            return PT_HTTP_PARSE_INVALID_REQUEST;

        case sw_after_slash:
            switch (ch) {
            case '/':
            case '.':
                r->complex_uri = 1;
                state = sw_path;
                continue;
            case '%':
                r->quoted_uri = 1;
                state = sw_path;
                continue;
            }
            state = sw_path;
            /* fall through */

        case sw_path:
            switch (ch) {
            case '/':
                r->uri_ext = NULL;
                state = sw_after_slash;
                continue;
            case '.':
                r->uri_ext = p + 1;
                continue;
            case '%':
                r->quoted_uri = 1;
                continue;
            case '+':
                r->plus_in_uri = 1;
                continue;
            case '#':
                r->complex_uri = 1;
                continue;
            case '?':
                r->args_start = p + 1;
                state = sw_args;
                continue;
            case ' ':
                r->uri_end = p;
                state = sw_http_H;
                continue;
            case CR:
            case LF:
                goto http_09;
            }
            if (pt_http_is_ctl(ch)) {
                return PT_HTTP_PARSE_INVALID_REQUEST;
            }
            continue;

        case sw_args:
            switch (ch) {
            case ' ':
                r->uri_end = p;
                state = sw_http_H;
                continue;
            case CR:
            case LF:
                goto http_09;
            case '#':
                r->complex_uri = 1;
                continue;
            }
            if (pt_http_is_ctl(ch)) {
                return PT_HTTP_PARSE_INVALID_REQUEST;
            }
            continue;

        case sw_http_H:
            if (ch != 'H') {
                return PT_HTTP_PARSE_INVALID_REQUEST;
            }
            r->http_protocol_start = p;
            state = sw_http_HT;
            break;

        case sw_http_HT:
            if (ch != 'T') {
                return PT_HTTP_PARSE_INVALID_REQUEST;
            }
            state = sw_http_HTT;
            break;

        case sw_http_HTT:
            if (ch != 'T') {
                return PT_HTTP_PARSE_INVALID_REQUEST;
            }
            state = sw_http_HTTP;
            break;

        case sw_http_HTTP:
            if (ch != 'P') {
                return PT_HTTP_PARSE_INVALID_REQUEST;
            }
            state = sw_http_slash;
            break;

        case sw_http_slash:
            if (ch != '/') {
                return PT_HTTP_PARSE_INVALID_REQUEST;
            }
            state = sw_major;
            break;

        case sw_major:
            if (ch < '0' || ch > '9') {
                return PT_HTTP_PARSE_INVALID_REQUEST;
            }
            r->http_major = ch - '0';
            state = sw_dot;
            break;

        case sw_dot:
            if (ch != '.') {
                return PT_HTTP_PARSE_INVALID_REQUEST;
            }
            state = sw_minor;
            break;

        case sw_minor:
            if (ch < '0' || ch > '9') {
                return PT_HTTP_PARSE_INVALID_REQUEST;
            }
            r->http_minor = ch - '0';
            state = sw_after_version;
            break;

        case sw_after_version:
            if (ch == CR) {
                r->request_end = p;
                state = sw_almost_done;
                break;
            }
            if (ch == LF) {
                r->request_end = p;
                goto done;
            }
            return PT_HTTP_PARSE_INVALID_REQUEST;

        case sw_almost_done:
            if (ch == LF) {
                goto done;
            }
            return PT_HTTP_PARSE_INVALID_REQUEST;
        }
    }

    b->pos = p;
    r->state = state;

    return PT_AGAIN;

done:

    b->pos = p + 1;
    r->state = sw_start;

    /* RFC 9112 2.3: a well-formed version this server does not speak */
    if (r->http_major != 1 || r->http_minor > 1) {
        return PT_HTTP_PARSE_INVALID_VERSION;
    }

    r->http_version = r->http_major * 1000 + r->http_minor;

    return PT_OK;

http_09:

    /* A request line without a version is HTTP/0.9, which RFC 9112 no
     * longer defines: it is answered with 400 (in HTTP/1.1 form) and the
     * connection is closed. */
    r->uri_end = p;
    r->request_end = p;
    b->pos = p;
    r->state = sw_start;

    return PT_HTTP_PARSE_INVALID_09;
}

/*
 * One header field line: field-name ":" OWS field-value OWS CRLF, or the
 * empty line that ends the head.
 *
 * States:
 *   start              a token byte starts the name; CR/LF is the end of
 *                      the head; SP/HTAB (obs-fold, or whitespace before
 *                      the first field) and ":" (empty name) are errors
 *   name               token bytes, lower-cased into r->lowcase_header and
 *                      hashed; ":" ends it; whitespace or any other byte
 *                      is an error
 *   space_before_value OWS
 *   value              field-vchar and inner SP/HTAB; controls are errors
 *   space_after_value  trailing OWS, not part of the value
 *   almost_done        CR seen: LF must follow
 *   header_almost_done CR of the empty line seen
 *
 * Names with bytes other than [A-Za-z0-9-] (and "_" unless allowed) are
 * valid tokens but flagged in r->invalid_header: nginx ignores them.
 */
pt_int_t
pt_http_parse_header_line(pt_http_request_t *r, pt_buf_t *b,
    pt_uint_t allow_underscores)
{
    u_char      c, ch, *p;
    pt_uint_t   hash, i;
    enum {
        sw_start = 0,
        sw_name,
        sw_space_before_value,
        sw_value,
        sw_space_after_value,
        sw_almost_done,
        sw_header_almost_done
    } state;

    state = r->state;
    hash = r->header_hash;
    i = r->lowcase_index;

    for (p = b->pos; p < b->last; p++) {
        ch = *p;

        switch (state) {

        case sw_start:
            r->header_name_start = p;
            r->invalid_header = 0;

            if (ch == CR) {
                r->header_end = p;
                state = sw_header_almost_done;
                break;
            }
            if (ch == LF) {
                r->header_end = p;
                goto header_done;
            }

            c = pt_http_token_lc[ch];
            if (c == 0) {
                return PT_HTTP_PARSE_INVALID_HEADER;
            }

            hash = pt_hash(0, c);
            r->lowcase_header[0] = c;
            i = 1;

            if (!pt_http_lc_alnum[c] && !(c == '_' && allow_underscores)) {
                r->invalid_header = 1;
            }

            state = sw_name;
            break;

        case sw_name:
            c = pt_http_token_lc[ch];

            if (c) {
                hash = pt_hash(hash, c);
                r->lowcase_header[i++] = c;
                i &= (PT_HTTP_LC_HEADER_LEN - 1);

                if (!pt_http_lc_alnum[c] && !(c == '_' && allow_underscores)) {
                    r->invalid_header = 1;
                }
                break;
            }

            if (ch == ':') {
                r->header_name_end = p;
                state = sw_space_before_value;
                break;
            }

            /* RFC 9112 5.1: whitespace before the colon must be rejected. */
            return PT_HTTP_PARSE_INVALID_HEADER;

        case sw_space_before_value:
            switch (ch) {
            case ' ':
            case '\t':
                break;
            case CR:
                r->header_start = p;
                r->header_end = p;
                state = sw_almost_done;
                break;
            case LF:
                r->header_start = p;
                r->header_end = p;
                goto done;
            default:
                if (pt_http_is_ctl(ch)) {
                    return PT_HTTP_PARSE_INVALID_HEADER;
                }
                r->header_start = p;
                state = sw_value;
                break;
            }
            break;

        case sw_value:
            if (ch > ' ' && ch != 0x7f) {
                /* field-vchar or obs-text, nearly every byte of a value:
                 * skip the whole run at once (it changes no state) */
                while (p + 1 < b->last && p[1] > ' ' && p[1] != 0x7f) {
                    p++;
                }
                break;
            }

            switch (ch) {
            case ' ':
            case '\t':
                r->header_end = p;
                state = sw_space_after_value;
                break;
            case CR:
                r->header_end = p;
                state = sw_almost_done;
                break;
            case LF:
                r->header_end = p;
                goto done;
            default:
                if (pt_http_is_ctl(ch)) {
                    return PT_HTTP_PARSE_INVALID_HEADER;
                }
                break;
            }
            break;

        case sw_space_after_value:
            switch (ch) {
            case ' ':
            case '\t':
                break;
            case CR:
                state = sw_almost_done;
                break;
            case LF:
                goto done;
            default:
                if (pt_http_is_ctl(ch)) {
                    return PT_HTTP_PARSE_INVALID_HEADER;
                }
                state = sw_value;
                break;
            }
            break;

        case sw_almost_done:
            if (ch == LF) {
                goto done;
            }
            /* A bare CR inside a header line. */
            return PT_HTTP_PARSE_INVALID_HEADER;

        case sw_header_almost_done:
            if (ch == LF) {
                goto header_done;
            }
            return PT_HTTP_PARSE_INVALID_HEADER;
        }
    }

    b->pos = p;
    r->state = state;
    r->header_hash = hash;
    r->lowcase_index = i;

    return PT_AGAIN;

done:

    b->pos = p + 1;
    r->state = sw_start;
    r->header_hash = hash;
    r->lowcase_index = i;

    return PT_OK;

header_done:

    b->pos = p + 1;
    r->state = sw_start;

    return PT_HTTP_PARSE_HEADER_DONE;
}

pt_int_t
pt_http_hex_value(u_char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }

    ch |= 0x20;

    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }

    return -1;
}

/* Decodes the raw path into dst; returns the end or NULL on a bad escape or
 * a NUL byte.  A "#" ends the path (a fragment is not sent to servers, but
 * some clients do). */
static u_char *
pt_http_decode_path(u_char *src, u_char *end, u_char *dst)
{
    pt_int_t  hi, lo;
    u_char    ch;

    while (src < end) {
        ch = *src++;

        if (ch == '#') {
            break;
        }

        if (ch == '%') {
            if (end - src < 2) {
                return NULL;
            }
            hi = pt_http_hex_value(src[0]);
            lo = pt_http_hex_value(src[1]);
            if (hi < 0 || lo < 0) {
                return NULL;
            }
            ch = (u_char) (hi * 16 + lo);
            src += 2;

            if (ch == '\0') {
                return NULL;
            }
        }

        *dst++ = ch;
    }

    return dst;
}

pt_int_t
pt_http_parse_complex_uri(pt_http_request_t *r, pt_uint_t merge_slashes)
{
    u_char  *start, *end, *src, *dst, *seg, *last;

    start = r->uri.data;
    end = r->args_start ? r->args_start - 1 : r->uri_end;

    last = pt_http_decode_path(r->uri_start, end, start);
    if (last == NULL) {
        return PT_HTTP_PARSE_INVALID_REQUEST;
    }

    /* Resolve segments in place: the output never outruns the input.  Each
     * step copies one "/segment" or drops it ("." and empty), or removes
     * the previous output segment (".."). */
    src = start;
    dst = start;

    while (src < last) {
        /* src is at a "/" */
        seg = src + 1;
        while (seg < last && *seg != '/') {
            seg++;
        }

        if (seg - src == 1) {
            /* "//": an empty segment */
            if (merge_slashes && seg < last) {
                src = seg;
                continue;
            }

        } else if (seg - src == 2 && src[1] == '.') {
            /* "/." */
            src = seg;
            if (src == last) {
                *dst++ = '/';
            }
            continue;

        } else if (seg - src == 3 && src[1] == '.' && src[2] == '.') {
            /* "/..": back to the "/" before the last output segment */
            if (dst == start) {
                return PT_HTTP_PARSE_INVALID_REQUEST;
            }
            do {
                dst--;
            } while (dst > start && *dst != '/');
            src = seg;
            if (src == last) {
                *dst++ = '/';
            }
            continue;
        }

        while (src < seg) {
            *dst++ = *src++;
        }
    }

    if (dst == start) {
        *dst++ = '/';
    }

    r->uri.len = dst - start;

    /* The extension: after the last "." of the last segment. */
    r->exten.len = 0;
    r->exten.data = NULL;

    for (src = dst - 1; src > start && *src != '/'; src--) {
        if (*src == '.') {
            r->exten.data = src + 1;
            r->exten.len = dst - src - 1;
            break;
        }
    }

    return PT_OK;
}

pt_int_t
pt_http_validate_host(pt_str_t *host, pt_uint_t *lowcase)
{
    u_char     ch, *h;
    size_t     i, dot_pos, host_len;
    pt_uint_t  literal, port;

    h = host->data;
    dot_pos = host->len;
    host_len = host->len;
    literal = 0;
    *lowcase = 0;

    for (i = 0; i < host->len; i++) {
        ch = h[i];

        if (pt_http_lc_alnum[ch] && !literal) {
            /* nearly every byte of a name: nothing to check or note */
            continue;
        }

        if (ch == '.') {
            if (dot_pos == i - 1) {
                return PT_DECLINED;
            }
            dot_pos = i;
            continue;
        }

        if (ch == '[' && i == 0) {
            literal = 1;
            continue;
        }

        if (literal) {
            if (ch == ']') {
                if (i == 1) {
                    return PT_DECLINED;
                }
                literal = 0;
                if (i + 1 < host->len && h[i + 1] != ':') {
                    return PT_DECLINED;
                }
                continue;
            }
            if ((ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
                || ch == ':')
            {
                if (ch >= 'A' && ch <= 'F') {
                    *lowcase = 1;
                }
                continue;
            }
            return PT_DECLINED;
        }

        if (ch == ':') {
            /* port = *DIGIT (RFC 3986): empty is allowed, above 65535 not */
            host_len = i;
            port = 0;
            for (i++; i < host->len; i++) {
                if (h[i] < '0' || h[i] > '9') {
                    return PT_DECLINED;
                }
                port = port * 10 + (h[i] - '0');
                if (port > 65535) {
                    return PT_DECLINED;
                }
            }
            break;
        }

        if (!pt_http_is_host_char(ch) || ch == '%') {
            return PT_DECLINED;
        }

        if (ch >= 'A' && ch <= 'Z') {
            *lowcase = 1;
        }
    }

    if (literal) {
        return PT_DECLINED;
    }

    if (dot_pos == host_len - 1 && host_len > 0) {
        host_len--;
    }

    if (host_len == 0) {
        return PT_DECLINED;
    }

    host->len = host_len;

    return PT_OK;
}

/* Case-insensitive equality of n bytes (kept local: the parsers link with
 * nothing but themselves). */
static pt_uint_t
pt_http_caseeq(u_char *a, u_char *b, size_t n)
{
    while (n--) {
        if (pt_tolower(*a) != pt_tolower(*b)) {
            return 0;
        }
        a++;
        b++;
    }

    return 1;
}

pt_uint_t
pt_http_list_has_token(pt_str_t *value, const char *token, size_t len)
{
    u_char  *p, *last, *start, *end;

    p = value->data;
    last = p + value->len;

    while (p < last) {
        while (p < last && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        start = p;

        while (p < last && *p != ',') {
            p++;
        }

        end = p;

        while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }

        if ((size_t) (end - start) == len
            && pt_http_caseeq(start, (u_char *) token, len))
        {
            return 1;
        }
    }

    return 0;
}

pt_int_t
pt_http_arg(pt_http_request_t *r, u_char *name, size_t len, pt_str_t *value)
{
    u_char  *p, *last, *start;

    if (r->args.len == 0) {
        return PT_DECLINED;
    }

    p = r->args.data;
    last = p + r->args.len;

    while (p < last) {
        start = p;

        while (p < last && *p != '&') {
            p++;
        }

        /* [start, p) is one "name=value" pair */
        if ((size_t) (p - start) > len && start[len] == '='
            && pt_http_caseeq(start, name, len))
        {
            value->data = start + len + 1;
            value->len = p - value->data;
            return PT_OK;
        }

        p++;
    }

    return PT_DECLINED;
}
