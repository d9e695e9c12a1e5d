/*
 * pt_http_parse_chunked.c: the parser of the chunked transfer coding, for
 * request bodies (and, later, upstream responses).
 *
 * Pure like the other parsers (pt_http_parse.h): no allocation, no I/O,
 * the state in a pt_http_chunked_t, chunk data handed out as a length at
 * b->pos.
 */

#include "pt_http.h"

/*
 * The chunked transfer coding (RFC 9112 7.1), strictly:
 *
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-size   = 1*HEXDIG            (at most 16 digits, no overflow)
 *   chunk-ext    = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
 *   ext-val      = token / quoted-string
 *   last-chunk   = 1*("0") [ chunk-ext ] CRLF
 *   trailer      = *( field-line CRLF ) CRLF
 *
 * Every line ends with CRLF: a bare LF or CR in the framing is an error (a
 * lenient parser here is how request smuggling starts).  Extensions are
 * checked and skipped; a chunk line may hold PT_HTTP_CHUNK_LINE_MAX bytes.
 * Trailer fields are checked like header fields (no obs-fold, no control
 * bytes) and skipped; the trailer section may hold
 * PT_HTTP_CHUNK_TRAILER_MAX bytes.
 *
 * States: size_start, size (hex digits), size_ws (BWS before ";"),
 * ext_name_start, ext_name, ext_name_ws, ext_val_start, ext_val, ext_val_ws,
 * ext_quoted, ext_quoted_pair, size_lf, data (handed to the caller as
 * ctx->size bytes), data_cr, data_lf, trailer (start of a trailer line or
 * the final CRLF), trailer_name, trailer_value, trailer_lf, last_lf.
 */
#define pt_http_chunked_sum(size, n)                                        \
    ((size) > PT_MAX_OFF_T_VALUE - (n) ? PT_MAX_OFF_T_VALUE : (size) + (n))

pt_int_t
pt_http_parse_chunked(pt_http_request_t *r, pt_buf_t *b, pt_http_chunked_t *ctx)
{
    u_char    ch, *p;
    pt_int_t  d;
    enum {
        sw_size_start = 0,
        sw_size,
        sw_size_ws,
        sw_ext_name_start,
        sw_ext_name,
        sw_ext_name_ws,
        sw_ext_val_start,
        sw_ext_val,
        sw_ext_val_ws,
        sw_ext_quoted,
        sw_ext_quoted_pair,
        sw_size_lf,
        sw_data,
        sw_data_cr,
        sw_data_lf,
        sw_trailer,
        sw_trailer_name,
        sw_trailer_value,
        sw_trailer_lf,
        sw_last_lf
    } state;

    state = ctx->state;

    if (state == sw_data) {
        if (ctx->size) {
            if (b->pos < b->last) {
                return PT_OK;
            }
            goto again;
        }
        state = sw_data_cr;
    }

    for (p = b->pos; p < b->last; p++) {
        ch = *p;

        if (state < sw_size_lf) {
            /* the chunk line, extensions included, is bounded */
            if (++ctx->line > PT_HTTP_CHUNK_LINE_MAX) {
                goto invalid;
            }

        } else if (state >= sw_trailer) {
            if (++ctx->line > PT_HTTP_CHUNK_TRAILER_MAX) {
                goto invalid;
            }
        }

        switch (state) {

        case sw_size_start:
            d = pt_http_hex_value(ch);
            if (d < 0) {
                goto invalid;
            }
            ctx->size = d;
            ctx->digits = 1;
            state = sw_size;
            break;

        case sw_size:
            d = pt_http_hex_value(ch);
            if (d >= 0) {
                if (++ctx->digits > 16 || ctx->size > (PT_MAX_OFF_T_VALUE - 15) / 16) {
                    goto invalid;
                }
                ctx->size = ctx->size * 16 + d;
                break;
            }
            switch (ch) {
            case CR:
                state = sw_size_lf;
                break;
            case ';':
                state = sw_ext_name_start;
                break;
            case ' ':
            case '\t':
                state = sw_size_ws;
                break;
            default:
                goto invalid;
            }
            break;

        case sw_size_ws:
            if (ch == ' ' || ch == '\t') {
                break;
            }
            if (ch == ';') {
                state = sw_ext_name_start;
                break;
            }
            goto invalid;

        case sw_ext_name_start:
            if (ch == ' ' || ch == '\t') {
                break;
            }
            if (pt_http_token_lc[ch] == 0) {
                goto invalid;
            }
            state = sw_ext_name;
            break;

        case sw_ext_name:
            if (pt_http_token_lc[ch]) {
                break;
            }
            /* fall through */

        case sw_ext_name_ws:
            switch (ch) {
            case ' ':
            case '\t':
                state = sw_ext_name_ws;
                break;
            case '=':
                state = sw_ext_val_start;
                break;
            case ';':
                state = sw_ext_name_start;
                break;
            case CR:
                state = sw_size_lf;
                break;
            default:
                goto invalid;
            }
            break;

        case sw_ext_val_start:
            if (ch == ' ' || ch == '\t') {
                break;
            }
            if (ch == '"') {
                state = sw_ext_quoted;
                break;
            }
            if (pt_http_token_lc[ch] == 0) {
                goto invalid;
            }
            state = sw_ext_val;
            break;

        case sw_ext_val:
            if (pt_http_token_lc[ch]) {
                break;
            }
            /* fall through */

        case sw_ext_val_ws:
            switch (ch) {
            case ' ':
            case '\t':
                state = sw_ext_val_ws;
                break;
            case ';':
                state = sw_ext_name_start;
                break;
            case CR:
                state = sw_size_lf;
                break;
            default:
                goto invalid;
            }
            break;

        case sw_ext_quoted:
            if (ch == '"') {
                state = sw_ext_val_ws;
                break;
            }
            if (ch == '\\') {
                state = sw_ext_quoted_pair;
                break;
            }
            if (ch != '\t' && pt_http_is_ctl(ch)) {
                goto invalid;
            }
            break;

        case sw_ext_quoted_pair:
            if (ch != '\t' && pt_http_is_ctl(ch)) {
                goto invalid;
            }
            state = sw_ext_quoted;
            break;

        case sw_size_lf:
            if (ch != LF) {
                goto invalid;
            }
            ctx->line = 0;
            if (ctx->size == 0) {
                state = sw_trailer;
                break;
            }
            ctx->state = sw_data;
            b->pos = p + 1;
            if (b->pos < b->last) {
                return PT_OK;
            }
            goto again;

        case sw_data:
            /* not reached: data is handed out above */
            goto invalid;

        case sw_data_cr:
            if (ch != CR) {
                goto invalid;
            }
            state = sw_data_lf;
            break;

        case sw_data_lf:
            if (ch != LF) {
                goto invalid;
            }
            state = sw_size_start;
            break;

        case sw_trailer:
            if (ch == CR) {
                state = sw_last_lf;
                break;
            }
            /* a field name; whitespace here would be obs-fold */
            if (pt_http_token_lc[ch] == 0) {
                goto invalid;
            }
            state = sw_trailer_name;
            break;

        case sw_trailer_name:
            if (pt_http_token_lc[ch]) {
                break;
            }
            if (ch != ':') {
                goto invalid;
            }
            state = sw_trailer_value;
            break;

        case sw_trailer_value:
            if (ch == CR) {
                state = sw_trailer_lf;
                break;
            }
            if (ch != '\t' && pt_http_is_ctl(ch)) {
                goto invalid;
            }
            break;

        case sw_trailer_lf:
            if (ch != LF) {
                goto invalid;
            }
            state = sw_trailer;
            break;

        case sw_last_lf:
            if (ch != LF) {
                goto invalid;
            }
            goto last;
        }
    }

    b->pos = p;
    ctx->state = state;

again:

    /* The fewest bytes that can still end the body: a reader may read this
     * much without eating into a pipelined request. */
    switch (ctx->state) {
    case sw_size_start:
        ctx->length = 5;                        /* "0" CRLF CRLF */
        break;
    case sw_size:
    case sw_size_ws:
    case sw_ext_name_start:
    case sw_ext_name:
    case sw_ext_name_ws:
    case sw_ext_val_start:
    case sw_ext_val:
    case sw_ext_val_ws:
    case sw_ext_quoted:
    case sw_ext_quoted_pair:
        /* CRLF, then the data, CRLF and "0" CRLF CRLF; or, for a last
         * chunk, CRLF CRLF */
        ctx->length = ctx->size ? pt_http_chunked_sum(ctx->size, 9) : 4;
        break;
    case sw_size_lf:
        ctx->length = ctx->size ? pt_http_chunked_sum(ctx->size, 8) : 3;
        break;
    case sw_data:
        ctx->length = pt_http_chunked_sum(ctx->size, 7);
        break;
    case sw_data_cr:
        ctx->length = 7;
        break;
    case sw_data_lf:
        ctx->length = 6;
        break;
    case sw_trailer:
        ctx->length = 2;
        break;
    case sw_trailer_name:
    case sw_trailer_value:
        ctx->length = 4;
        break;
    case sw_trailer_lf:
        ctx->length = 3;
        break;
    default:
        ctx->length = 1;
        break;
    }

    return PT_AGAIN;

last:

    b->pos = p + 1;
    ctx->state = sw_size_start;
    ctx->size = 0;
    ctx->length = 0;
    ctx->line = 0;

    return PT_DONE;

invalid:

    return PT_ERROR;
}
