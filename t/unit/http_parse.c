/*
 * http_parse.c: unit tests for the HTTP/1.x parsers (pt_http_parse.c):
 * request line, header lines, request-target normalization, the chunked
 * coding, Host validation.  Every good input is also fed one byte at a
 * time, which must give the same result as feeding it whole.
 */

#include "pt_http.h"
#include "tap.h"

static pt_http_request_t  req;
static u_char             data[65536];

/* Copies text into data and points b at it; returns its length. */
static size_t
load(pt_buf_t *b, const char *text, size_t len)
{
    pt_memzero(b, sizeof(pt_buf_t));
    pt_memcpy(data, text, len);
    b->start = data;
    b->pos = data;
    b->last = data + len;
    b->end = data + sizeof(data);
    return len;
}

/* ---- request line ---- */

/* Parses text whole (step 0) or step bytes at a time; returns the final
 * code and leaves the result in req. */
static pt_int_t
request_line_n(const char *text, size_t len, size_t step)
{
    u_char   *end;
    pt_int_t  rc;
    pt_buf_t  b;

    pt_memzero(&req, sizeof(req));
    load(&b, text, len);
    end = data + len;

    if (step == 0) {
        return pt_http_parse_request_line(&req, &b);
    }

    b.last = data + pt_min(step, len);

    for ( ;; ) {
        rc = pt_http_parse_request_line(&req, &b);
        if (rc != PT_AGAIN || b.last == end) {
            return rc;
        }
        if (b.pos != b.last) {
            return -100;    /* AGAIN must consume everything */
        }
        b.last = pt_min(b.last + step, end);
    }
}

static pt_int_t
request_line(const char *text, size_t step)
{
    return request_line_n(text, strlen(text), step);
}

static int
span_is(u_char *start, u_char *end, const char *want)
{
    if (start == NULL || end == NULL) {
        return want == NULL;
    }

    return want && (size_t) (end - start) == strlen(want)
           && memcmp(start, want, end - start) == 0;
}

typedef struct {
    const char  *line;
    pt_uint_t    method;
    const char  *uri;           /* uri_start .. args or end */
    const char  *args;
    const char  *host;
    pt_uint_t    version;
    pt_uint_t    complex;
} good_line_t;

static good_line_t  good_lines[] = {
    { "GET / HTTP/1.1\r\n", PT_HTTP_GET, "/", NULL, NULL, 1001, 0 },
    { "GET /a/b.html?x=1&y HTTP/1.0\r\n", PT_HTTP_GET, "/a/b.html", "x=1&y", NULL,
      1000, 0 },
    { "HEAD /x HTTP/1.1\n", PT_HTTP_HEAD, "/x", NULL, NULL, 1001, 0 },
    { "\r\n\r\nPOST /p HTTP/1.1\r\n", PT_HTTP_POST, "/p", NULL, NULL, 1001, 0 },
    { "DELETE //a/./b HTTP/1.1\r\n", PT_HTTP_DELETE, "//a/./b", NULL, NULL, 1001, 1 },
    { "GET http://Example.com:8080/p?q HTTP/1.1\r\n", PT_HTTP_GET, "/p", "q",
      "Example.com", 1001, 0 },
    { "GET http://[::1]/ HTTP/1.1\r\n", PT_HTTP_GET, "/", NULL, "[::1]", 1001, 0 },
    { "GET http://h HTTP/1.1\r\n", PT_HTTP_GET, "/", NULL, "h", 1001, 0 },
    { "PURGE /x HTTP/1.1\r\n", PT_HTTP_UNKNOWN, "/x", NULL, NULL, 1001, 0 },
    { "GET /%41b HTTP/1.0\r\n", PT_HTTP_GET, "/%41b", NULL, NULL, 1000, 0 },
    { "OPTIONS * HTTP/1.1\r\n", PT_HTTP_OPTIONS, "*", NULL, NULL, 1001, 0 },
    { "GET HTTPS://h:443/s HTTP/1.1\r\n", PT_HTTP_GET, "/s", NULL, "h", 1001, 0 },
    { "GET http://h:65535 HTTP/1.1\r\n", PT_HTTP_GET, "/", NULL, "h", 1001, 0 },
    { "GET /caf\xc3\xa9 HTTP/1.1\r\n", PT_HTTP_GET, "/caf\xc3\xa9", NULL, NULL, 1001, 0 },
};

static void
test_good_request_lines(void)
{
    size_t        i, step;
    pt_int_t      rc;
    u_char       *uri_end;
    good_line_t  *g;

    for (i = 0; i < pt_nelems(good_lines); i++) {
        g = &good_lines[i];

        for (step = 0; step <= 1; step++) {
            rc = request_line(g->line, step);

            uri_end = req.args_start ? req.args_start - 1 : req.uri_end;

            tap_ok(rc == PT_OK
                   && req.method == g->method
                   && span_is(req.uri_start, uri_end, g->uri)
                   && span_is(req.args_start, req.args_start ? req.uri_end : NULL, g->args)
                   && span_is(req.host_start, req.host_end, g->host)
                   && req.http_version == g->version
                   && req.complex_uri == g->complex
                   && req.request_end && (*req.request_end == CR || *req.request_end == LF)
                   && req.state == 0,
                   "request line %zu %s: %.*s", i, step ? "byte by byte" : "whole",
                   (int) strcspn(g->line + strspn(g->line, "\r\n"), "\r\n"),
                   g->line + strspn(g->line, "\r\n"));
        }
    }

    /* the line ends where it should: the rest stays in the buffer */
    {
        pt_buf_t  b;

        pt_memzero(&req, sizeof(req));
        load(&b, "GET / HTTP/1.1\r\nHost: a\r\n", 25);
        rc = pt_http_parse_request_line(&req, &b);
        tap_ok(rc == PT_OK && b.pos == data + 16, "b->pos is past the request line");
        tap_ok(span_is(req.request_start, req.request_end, "GET / HTTP/1.1")
               && span_is(req.method_end - 3, req.method_end, "GET")
               && span_is(req.http_protocol_start, req.request_end, "HTTP/1.1"),
               "request line, method and protocol spans");
    }

    rc = request_line("GET /a.b/c.tar.gz HTTP/1.1\r\n", 0);
    tap_ok(rc == PT_OK && span_is(req.uri_ext, req.uri_end, "gz"), "extension");

    rc = request_line("GET /a+b%20 HTTP/1.1\r\n", 0);
    tap_ok(rc == PT_OK && req.plus_in_uri && req.quoted_uri, "plus and quoted uri");
}

typedef struct {
    const char  *line;
    size_t       len;
    pt_int_t     rc;
} bad_line_t;

#define BL(s, rc)  { s, sizeof(s) - 1, rc }

static bad_line_t  bad_lines[] = {
    BL("get / HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_METHOD),
    BL("G\x01T / HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_METHOD),
    BL(" GET / HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_METHOD),
    BL("GET  / HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET\t/ HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_METHOD),
    BL("GET / HTTP/1.1 \r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET /  HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET * HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET / http/1.1\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET / HTTP/1.10\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET / HTTP/1\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET / HTTP/0.9\r\n", PT_HTTP_PARSE_INVALID_VERSION),
    BL("GET / HTTP/2.0\r\n", PT_HTTP_PARSE_INVALID_VERSION),
    BL("GET / HTTP/1.2\r\n", PT_HTTP_PARSE_INVALID_VERSION),
    BL("GET / HTTP/9.9\n", PT_HTTP_PARSE_INVALID_VERSION),
    BL("GET / HTTP/3\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET / HTTP/2.0x\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("OPTIONS *x HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("OPTIONS */ HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET ftp://h/ HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET httpx://h/ HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET http://h:123456/ HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET http:///x HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET / HTTP/1.1\rX", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET /a\x7f HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET /a\x00 HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET /?a\x1b HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET http:/x HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET http://a@b/ HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET http://[::1 HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("GET http://h:8x/ HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("\rGET / HTTP/1.1\r\n", PT_HTTP_PARSE_INVALID_REQUEST),
    BL("POST /x\r\n", PT_HTTP_PARSE_INVALID_09),
    BL("GET /x\r\n", PT_HTTP_PARSE_INVALID_09),
    BL("GET /x?a\n", PT_HTTP_PARSE_INVALID_09),
};

static void
test_bad_request_lines(void)
{
    size_t    i;
    pt_int_t  rc, rc1;
    pt_buf_t  b;

    for (i = 0; i < pt_nelems(bad_lines); i++) {
        pt_memzero(&req, sizeof(req));
        load(&b, bad_lines[i].line, bad_lines[i].len);
        rc = pt_http_parse_request_line(&req, &b);

        rc1 = request_line_n(bad_lines[i].line, bad_lines[i].len, 1);

        tap_ok(rc == bad_lines[i].rc && rc1 == rc, "bad request line %zu rejected (%ld)",
               i, (long) rc);
    }

    rc = request_line("GET /incomplete HTTP/1.", 0);
    tap_is_int(rc, PT_AGAIN, "incomplete line: PT_AGAIN");
}

/* ---- header lines ---- */

static pt_uint_t
lc_hash(const char *name)
{
    pt_uint_t  h;

    for (h = 0; *name; name++) {
        h = pt_hash(h, pt_tolower((u_char) *name));
    }

    return h;
}

/* Parses one header line (whole or byte by byte). */
static pt_int_t
header_line(const char *text, size_t len, size_t step, pt_uint_t underscores)
{
    u_char    *end;
    pt_int_t   rc;
    pt_buf_t   b;

    pt_memzero(&req, sizeof(req));
    load(&b, text, len);
    end = data + len;

    if (step == 0) {
        return pt_http_parse_header_line(&req, &b, underscores);
    }

    b.last = data + pt_min(step, len);

    for ( ;; ) {
        rc = pt_http_parse_header_line(&req, &b, underscores);
        if (rc != PT_AGAIN || b.last == end) {
            return rc;
        }
        b.last = pt_min(b.last + step, end);
    }
}

typedef struct {
    const char  *line;
    const char  *name;
    const char  *value;
    pt_uint_t    invalid;
} good_header_t;

static good_header_t  good_headers[] = {
    { "Host: example.com\r\n", "Host", "example.com", 0 },
    { "X-Value:  a b \t \r\n", "X-Value", "a b", 0 },
    { "X-Empty:\r\n", "X-Empty", "", 0 },
    { "X-Empty2:   \r\n", "X-Empty2", "", 0 },
    { "Accept: */*\n", "Accept", "*/*", 0 },
    { "x-obs: caf\xc3\xa9\r\n", "x-obs", "caf\xc3\xa9", 0 },
    { "X_Under: 1\r\n", "X_Under", "1", 1 },
    { "X.Dot: 1\r\n", "X.Dot", "1", 1 },
    { "A-very-long-header-name-that-goes-past-32-bytes: v\r\n",
      "A-very-long-header-name-that-goes-past-32-bytes", "v", 0 },
};

static void
test_header_lines(void)
{
    size_t          i, step;
    pt_int_t        rc;
    good_header_t  *g;

    for (i = 0; i < pt_nelems(good_headers); i++) {
        g = &good_headers[i];

        for (step = 0; step <= 1; step++) {
            rc = header_line(g->line, strlen(g->line), step, 0);

            tap_ok(rc == PT_OK
                   && span_is(req.header_name_start, req.header_name_end, g->name)
                   && span_is(req.header_start, req.header_end, g->value)
                   && req.header_hash == lc_hash(g->name)
                   && req.invalid_header == g->invalid
                   && req.state == 0,
                   "header %zu %s: %s", i, step ? "byte by byte" : "whole", g->name);
        }
    }

    rc = header_line("Content-Type: x\r\n", 17, 0, 0);
    tap_ok(rc == PT_OK && req.lowcase_index == 12
           && memcmp(req.lowcase_header, "content-type", 12) == 0,
           "lower-cased name kept by the parser");

    rc = header_line("X_Under: 1\r\n", 12, 0, 1);
    tap_ok(rc == PT_OK && !req.invalid_header, "underscores allowed when asked");

    rc = header_line("\r\n", 2, 0, 0);
    tap_is_int(rc, PT_HTTP_PARSE_HEADER_DONE, "empty line ends the head");

    rc = header_line("\n", 1, 0, 0);
    tap_is_int(rc, PT_HTTP_PARSE_HEADER_DONE, "bare LF empty line ends the head");

    rc = header_line("Host: x", 7, 0, 0);
    tap_is_int(rc, PT_AGAIN, "incomplete header: PT_AGAIN");
}

typedef struct {
    const char  *line;
    size_t       len;
} bad_header_t;

#define BH(s)  { s, sizeof(s) - 1 }

static bad_header_t  bad_headers[] = {
    BH("Host : a\r\n"),             /* whitespace before the colon */
    BH("Host\t: a\r\n"),
    BH(" folded\r\n"),              /* obs-fold */
    BH("\tfolded\r\n"),
    BH(": novalue\r\n"),            /* empty name */
    BH("NoColon\r\n"),
    BH("Ho@st: a\r\n"),             /* not a token */
    BH("Ho\"st: a\r\n"),
    BH("X: a\x00 b\r\n"),           /* NUL in the value */
    BH("X: a\x7f\r\n"),             /* DEL */
    BH("X: a\rb\r\n"),              /* bare CR */
    BH("X: a\r\r\n"),
    BH("\rX"),                      /* CR without LF at the end */
    BH("X: \x01\r\n"),
    BH("X: visible\x01run\r\n"),   /* a control byte inside a run of vchars */
    BH("X: visible\x7frun\r\n"),
    BH("X: a b\x1f" "c\r\n"),
};

static void
test_bad_header_lines(void)
{
    size_t    i;
    pt_int_t  rc, rc1;

    for (i = 0; i < pt_nelems(bad_headers); i++) {
        rc = header_line(bad_headers[i].line, bad_headers[i].len, 0, 0);
        rc1 = header_line(bad_headers[i].line, bad_headers[i].len, 1, 0);

        tap_ok(rc == PT_HTTP_PARSE_INVALID_HEADER && rc1 == rc,
               "bad header %zu rejected", i);
    }
}

/* A whole head, fed in pieces of every size from 1 to 7 bytes. */
static void
test_whole_head(void)
{
    static const char  head[] =
        "GET /x?y=1 HTTP/1.1\r\n"
        "Host: h\r\n"
        "User-Agent: ua 1.0\r\n"
        "Cookie: a=1; b=2\r\n"
        "Cookie: c=3\n"
        "\r\n"
        "BODY";

    u_char     *end;
    size_t      step, len;
    pt_int_t    rc;
    pt_buf_t    b;
    pt_uint_t   n, ok;

    len = sizeof(head) - 1;

    for (step = 1; step <= 7; step++) {
        pt_memzero(&req, sizeof(req));
        load(&b, head, len);
        end = data + len;
        b.last = data + step;
        n = 0;
        ok = 1;

        do {
            rc = pt_http_parse_request_line(&req, &b);
            if (rc == PT_AGAIN) {
                b.last = pt_min(b.last + step, end);
            }
        } while (rc == PT_AGAIN);

        ok &= (rc == PT_OK);

        for ( ;; ) {
            rc = pt_http_parse_header_line(&req, &b, 0);
            if (rc == PT_AGAIN) {
                if (b.last == end) {
                    ok = 0;
                    break;
                }
                b.last = pt_min(b.last + step, end);
                continue;
            }
            if (rc == PT_OK) {
                n++;
                continue;
            }
            break;
        }

        ok &= (rc == PT_HTTP_PARSE_HEADER_DONE);
        ok &= (n == 4);
        ok &= (b.pos == end - 4) || (b.pos < end && memcmp(b.pos, "BODY", 4) == 0);

        tap_ok(ok, "whole head in %zu-byte pieces: line, 4 headers, end at the body",
               step);
    }
}

/* ---- request-target normalization ---- */

static pt_int_t
complex_uri(const char *line, pt_uint_t merge, u_char *out)
{
    pt_int_t  rc;

    rc = request_line(line, 0);
    if (rc != PT_OK) {
        return -100;
    }

    req.uri.data = out;

    return pt_http_parse_complex_uri(&req, merge);
}

static void
test_complex_uri(void)
{
    pt_int_t  rc;
    u_char    out[256];

    static const struct {
        const char  *line;
        pt_uint_t    merge;
        const char  *uri;
        const char  *exten;
    } cases[] = {
        { "GET /a/./b/../c HTTP/1.1\r\n", 1, "/a/c", NULL },
        { "GET //x//y HTTP/1.1\r\n", 1, "/x/y", NULL },
        { "GET //x//y HTTP/1.1\r\n", 0, "//x//y", NULL },
        { "GET /%41%62c.%74xt HTTP/1.1\r\n", 1, "/Abc.txt", "txt" },
        { "GET /a/b/.. HTTP/1.1\r\n", 1, "/a/", NULL },
        { "GET /a/. HTTP/1.1\r\n", 1, "/a/", NULL },
        { "GET /. HTTP/1.1\r\n", 1, "/", NULL },
        { "GET /a/.. HTTP/1.1\r\n", 1, "/", NULL },
        { "GET /a/..b/c HTTP/1.1\r\n", 1, "/a/..b/c", NULL },
        { "GET /a%2F..%2Fb HTTP/1.1\r\n", 1, "/b", NULL },
        { "GET /p%3Fq?r=1 HTTP/1.1\r\n", 1, "/p?q", NULL },
        { "GET /f.x/g HTTP/1.1\r\n", 1, "/f.x/g", NULL },
        { "GET /a#frag HTTP/1.1\r\n", 1, "/a", NULL },
    };

    static const char  *bad[] = {
        "GET /.. HTTP/1.1\r\n",
        "GET /a/../.. HTTP/1.1\r\n",
        "GET /%2e%2e/x HTTP/1.1\r\n",
        "GET /%zz HTTP/1.1\r\n",
        "GET /%4 HTTP/1.1\r\n",
        "GET /a%00b HTTP/1.1\r\n",
    };

    size_t  i;

    for (i = 0; i < pt_nelems(cases); i++) {
        rc = complex_uri(cases[i].line, cases[i].merge, out);

        tap_ok(rc == PT_OK && span_is(req.uri.data, req.uri.data + req.uri.len, cases[i].uri)
               && span_is(req.exten.data, req.exten.data ? req.exten.data + req.exten.len
                                                         : NULL, cases[i].exten),
               "uri %s%.*s -> %s", cases[i].merge ? "" : "(no merge) ",
               (int) strcspn(cases[i].line + 4, " "), cases[i].line + 4, cases[i].uri);
    }

    for (i = 0; i < pt_nelems(bad); i++) {
        rc = complex_uri(bad[i], 1, out);
        tap_is_int(rc, PT_HTTP_PARSE_INVALID_REQUEST, "bad uri %zu rejected", i);
    }
}

/* ---- chunked ---- */

/* Decodes a chunked body fed step bytes at a time (0: whole); returns the
 * decoded data in out and the final code.  *rest is what stays unread
 * after the body.  The reader never takes more than ctx.length bytes
 * beyond what it has, the way the body discarder reads. */
static pt_int_t
chunked(const char *text, size_t len, size_t step, u_char *out, size_t *outlen,
    size_t *rest)
{
    u_char             *end;
    size_t              n, avail;
    pt_int_t            rc;
    pt_buf_t            b;
    pt_http_chunked_t   ctx;

    pt_memzero(&ctx, sizeof(ctx));
    load(&b, text, len);
    end = data + len;
    b.last = step ? data + pt_min(step, len) : end;
    *outlen = 0;

    for ( ;; ) {
        rc = pt_http_parse_chunked(&req, &b, &ctx);

        if (rc == PT_OK) {
            avail = b.last - b.pos;
            n = (size_t) pt_min((off_t) avail, ctx.size);
            pt_memcpy(out + *outlen, b.pos, n);
            *outlen += n;
            b.pos += n;
            ctx.size -= n;
            continue;
        }

        if (rc == PT_AGAIN) {
            if (b.last == end || ctx.length <= 0) {
                break;
            }
            /* read at most what the body still owes */
            n = step ? step : (size_t) ctx.length;
            n = (size_t) pt_min((off_t) n, ctx.length);
            b.last = pt_min(b.last + n, end);
            continue;
        }

        break;
    }

    *rest = end - b.pos;

    return rc;
}

#define CHUNKED(s, step)  chunked(s, sizeof(s) - 1, step, out, &outlen, &rest)

static void
test_chunked(void)
{
    size_t    outlen, rest, step;
    pt_int_t  rc;
    u_char    out[1024];

    static const char  body[] =
        "5\r\nhello\r\n"
        "1A;name=value;x\r\nabcdefghijklmnopqrstuvwxyz\r\n"
        "0\r\n"
        "Trailer: t\r\n"
        "\r\n"
        "GET /next";

    for (step = 0; step <= 3; step++) {
        rc = chunked(body, sizeof(body) - 1, step, out, &outlen, &rest);

        tap_ok(rc == PT_DONE && outlen == 31
               && memcmp(out, "helloabcdefghijklmnopqrstuvwxyz", 31) == 0
               && rest == sizeof("GET /next") - 1,
               "chunked body, %zu-byte steps: data, trailer, next request untouched",
               step);
    }

    rc = CHUNKED("3\r\nabc\r\n0\r\n\r\nGET", 1);
    tap_ok(rc == PT_DONE && outlen == 3 && rest == 3, "chunked byte by byte: no over-read");

    rc = CHUNKED("3\r\nabc\r\n0\r\n\r\nGET", 0);
    tap_ok(rc == PT_DONE && outlen == 3 && rest == 3,
           "chunked read by the length hints: no over-read");

    rc = CHUNKED("3 ;a=b ; c = \"q\\\"s\" ;d\r\nabc\r\n0;e\r\n\r\n", 1);
    tap_ok(rc == PT_DONE && outlen == 3, "chunk extensions with BWS and quoted strings");

    rc = CHUNKED("0000000000000003\r\nabc\r\n0\r\n\r\n", 0);
    tap_ok(rc == PT_DONE && outlen == 3, "16 hex digits");

    rc = CHUNKED("3\nabc\n0\n\n", 0);
    tap_is_int(rc, PT_ERROR, "bare LF after the size");

    rc = CHUNKED("3\r\nabc\n0\r\n\r\n", 0);
    tap_is_int(rc, PT_ERROR, "bare LF after the data");

    rc = CHUNKED("0\r\n\n", 0);
    tap_is_int(rc, PT_ERROR, "bare LF ending the trailer");

    rc = CHUNKED("00000000000000003\r\nabc\r\n0\r\n\r\n", 0);
    tap_is_int(rc, PT_ERROR, "17 hex digits");

    rc = CHUNKED("3 \r\nabc\r\n0\r\n\r\n", 0);
    tap_is_int(rc, PT_ERROR, "whitespace after the size without an extension");

    rc = CHUNKED("3;\r\nabc\r\n0\r\n\r\n", 0);
    tap_is_int(rc, PT_ERROR, "empty extension name");

    rc = CHUNKED("3;a=\r\nabc\r\n0\r\n\r\n", 0);
    tap_is_int(rc, PT_ERROR, "empty extension value");

    rc = CHUNKED("3;a=\"x\r\nabc\r\n0\r\n\r\n", 0);
    tap_is_int(rc, PT_ERROR, "unterminated quoted extension value");

    rc = CHUNKED("-3\r\nabc\r\n0\r\n\r\n", 0);
    tap_is_int(rc, PT_ERROR, "signed chunk size");

    rc = CHUNKED("0x3\r\nabc\r\n0\r\n\r\n", 0);
    tap_is_int(rc, PT_ERROR, "0x chunk size");

    rc = CHUNKED("0\r\n folded: x\r\n\r\n", 0);
    tap_is_int(rc, PT_ERROR, "obs-fold in the trailer");

    rc = CHUNKED("0\r\nNoColon\r\n\r\n", 0);
    tap_is_int(rc, PT_ERROR, "trailer line without a colon");

    {
        static char  big[PT_HTTP_CHUNK_TRAILER_MAX + 64];
        size_t       n;

        n = (size_t) snprintf(big, sizeof(big), "3;");
        memset(big + n, 'e', PT_HTTP_CHUNK_LINE_MAX);
        n += PT_HTTP_CHUNK_LINE_MAX;
        n += (size_t) snprintf(big + n, sizeof(big) - n, "\r\nabc\r\n0\r\n\r\n");
        rc = chunked(big, n, 0, out, &outlen, &rest);
        tap_is_int(rc, PT_ERROR, "chunk line longer than PT_HTTP_CHUNK_LINE_MAX");

        n = (size_t) snprintf(big, sizeof(big), "0\r\nX: ");
        memset(big + n, 'v', PT_HTTP_CHUNK_TRAILER_MAX);
        n += PT_HTTP_CHUNK_TRAILER_MAX;
        n += (size_t) snprintf(big + n, sizeof(big) - n, "\r\n\r\n");
        rc = chunked(big, n, 0, out, &outlen, &rest);
        tap_is_int(rc, PT_ERROR, "trailer section longer than PT_HTTP_CHUNK_TRAILER_MAX");
    }

    rc = CHUNKED("0\r\n\r\n", 0);
    tap_ok(rc == PT_DONE && outlen == 0 && rest == 0, "empty chunked body");

    rc = CHUNKED("5\r\nhel", 0);
    tap_ok(rc == PT_AGAIN && outlen == 3, "incomplete chunk: PT_AGAIN after the data");

    rc = CHUNKED("x\r\n", 0);
    tap_is_int(rc, PT_ERROR, "chunk size not hex");

    rc = CHUNKED("5\r\nhelloX\r\n0\r\n\r\n", 0);
    tap_is_int(rc, PT_ERROR, "no CRLF after chunk data");

    rc = CHUNKED("fffffffffffffffffff\r\n", 0);
    tap_is_int(rc, PT_ERROR, "chunk size overflow");

    rc = CHUNKED("5\rx", 0);
    tap_is_int(rc, PT_ERROR, "bare CR after the size");

    rc = CHUNKED("0\r\nBad Trailer\x01\r\n\r\n", 0);
    tap_is_int(rc, PT_ERROR, "control byte in a trailer");
}

/* ---- Host, token lists, args ---- */

static void
test_host(void)
{
    pt_str_t   h;
    pt_uint_t  lc;

    static const struct {
        const char  *in;
        const char  *out;       /* NULL: rejected */
        pt_uint_t    lowcase;
    } cases[] = {
        { "example.com", "example.com", 0 },
        { "Example.COM:8080", "Example.COM", 1 },
        { "host.", "host", 0 },
        { "host.:80", "host", 0 },
        { "[::1]:8080", "[::1]", 0 },
        { "[::1]", "[::1]", 0 },
        { "[FE80::1]", "[FE80::1]", 1 },
        { "a_b-c", "a_b-c", 0 },
        { "h:", "h", 0 },
        { "h:65535", "h", 0 },
        { "h:65536", NULL, 0 },
        { "h:99999", NULL, 0 },
        { "[]", NULL, 0 },
        { "a..b", NULL, 0 },
        { "a/b", NULL, 0 },
        { "", NULL, 0 },
        { ":80", NULL, 0 },
        { "h:8x", NULL, 0 },
        { "[::1", NULL, 0 },
        { "[::1]x", NULL, 0 },
        { "a b", NULL, 0 },
        { "a@b", NULL, 0 },
    };

    size_t    i;
    pt_int_t  rc;

    for (i = 0; i < pt_nelems(cases); i++) {
        h.data = (u_char *) cases[i].in;
        h.len = strlen(cases[i].in);

        rc = pt_http_validate_host(&h, &lc);

        if (cases[i].out == NULL) {
            tap_is_int(rc, PT_DECLINED, "host \"%s\" rejected", cases[i].in);
        } else {
            tap_ok(rc == PT_OK && span_is(h.data, h.data + h.len, cases[i].out)
                   && lc == cases[i].lowcase,
                   "host \"%s\" -> \"%s\"", cases[i].in, cases[i].out);
        }
    }
}

static void
test_tokens_and_args(void)
{
    pt_str_t  v;

    v.data = (u_char *) "keep-alive, Close";
    v.len = strlen((char *) v.data);
    tap_ok(pt_http_list_has_token(&v, "close", 5)
           && pt_http_list_has_token(&v, "keep-alive", 10)
           && !pt_http_list_has_token(&v, "upgrade", 7),
           "token list: case-insensitive, comma separated");

    v.data = (u_char *) "closed";
    v.len = 6;
    tap_ok(!pt_http_list_has_token(&v, "close", 5), "token list: whole tokens only");

    pt_memzero(&req, sizeof(req));
    req.args.data = (u_char *) "a=1&bb=22&b=3&empty=";
    req.args.len = strlen((char *) req.args.data);

    tap_ok(pt_http_arg(&req, (u_char *) "b", 1, &v) == PT_OK
           && v.len == 1 && v.data[0] == '3', "arg b (not bb)");
    tap_ok(pt_http_arg(&req, (u_char *) "BB", 2, &v) == PT_OK
           && v.len == 2 && memcmp(v.data, "22", 2) == 0, "arg names are case-insensitive");
    tap_ok(pt_http_arg(&req, (u_char *) "empty", 5, &v) == PT_OK && v.len == 0,
           "empty arg value");
    tap_is_int(pt_http_arg(&req, (u_char *) "c", 1, &v), PT_DECLINED, "missing arg");
}

int
main(void)
{
    test_good_request_lines();
    test_bad_request_lines();
    test_header_lines();
    test_bad_header_lines();
    test_whole_head();
    test_complex_uri();
    test_chunked();
    test_host();
    test_tokens_and_args();

    tap_plan(tap_n);

    return tap_done();
}
