/*
 * t/fuzz/http_parse.c: libFuzzer harness for the HTTP/1.x parsers
 * (core/http/pt_http_parse.c, pt_http_parse_chunked.c).
 *
 * Built by "make fuzz" with clang -fsanitize=fuzzer,address,undefined into
 * <builddir>/fuzz/http_parse; t/fuzz.t runs it for a bounded time over the
 * seed corpus in t/fuzz/corpus/.
 *
 * One input is: a control byte, then the bytes of a request (request line,
 * header lines, a chunked body).  The control byte picks the feeding step
 * (its low 4 bits; 0: the whole input at once) and underscores_in_headers
 * (bit 4).  Every input is parsed twice, whole and in steps, the way the
 * server meets it (the request line, then header lines until the empty
 * line, then the body as chunked), and the two runs must agree exactly:
 * the parsers are incremental and must not depend on where reads end.
 * Each result is checked for the invariants the server relies on:
 * pointers inside the buffer and in order, a PT_AGAIN that consumed
 * everything, a normalized path that starts with "/" and never climbs
 * above it, chunk data never past the input, the length hint never past
 * the end of the body.
 */

#include "pt_http.h"

typedef struct {
    pt_int_t    line_rc;
    pt_int_t    header_rc;
    pt_int_t    body_rc;
    pt_uint_t   headers;
    pt_uint_t   invalid_headers;
    pt_uint_t   hosts_ok;
    pt_uint_t   method;
    pt_uint_t   version;
    size_t      uri_len;
    pt_int_t    uri_rc;
    size_t      body_bytes;
    size_t      end;            /* offset where parsing stopped */
    uint32_t    sum;            /* of the chunk data and the uri */
} result_t;

#define check(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "invariant failed: %s (line %d)\n", #cond, __LINE__); \
            abort();                                                        \
        }                                                                   \
    } while (0)

#define in_buf(p)  ((p) >= start && (p) <= end)

static uint32_t
mix(uint32_t h, const u_char *p, size_t n)
{
    while (n--) {
        h = h * 31 + *p++;
    }
    return h;
}

/* Extends b->last by step bytes (0: to the end); false at the end. */
static int
more(pt_buf_t *b, u_char *end, size_t step)
{
    if (b->last == end) {
        return 0;
    }

    b->last = (step == 0 || (size_t) (end - b->last) < step) ? end : b->last + step;

    return 1;
}

static void
check_uri(pt_http_request_t *r, result_t *res, u_char *start, u_char *end)
{
    u_char   *raw_end, *out, *p;
    size_t    len;
    pt_int_t  rc;

    raw_end = r->args_start ? r->args_start - 1 : r->uri_end;

    check(in_buf(r->uri_start) && in_buf(r->uri_end) && r->uri_start <= raw_end);

    if (!r->complex_uri && !r->quoted_uri) {
        res->uri_len = raw_end - r->uri_start;
        return;
    }

    len = raw_end - r->uri_start;
    out = malloc(len + 1);
    check(out != NULL);

    r->uri.data = out;
    rc = pt_http_parse_complex_uri(r, 1);
    res->uri_rc = rc;

    if (rc == PT_OK) {
        check(r->uri.len >= 1 && r->uri.len <= len + 1 && out[0] == '/');

        for (p = out; p < out + r->uri.len; p++) {
            check(*p != '\0');
        }

        /* no "/.." segment survives, and no "//" with merge_slashes */
        for (p = out; p + 2 < out + r->uri.len; p++) {
            if (p[0] == '/' && p[1] == '.' && p[2] == '.') {
                check(p + 3 < out + r->uri.len && p[3] != '/');
            }
            check(!(p[0] == '/' && p[1] == '/'));
        }

        if (r->exten.len) {
            check(r->exten.data > out && r->exten.data + r->exten.len == out + r->uri.len);
        }

        res->uri_len = r->uri.len;
        res->sum = mix(res->sum, out, r->uri.len);
    }

    /* without merge_slashes, empty segments count as segments for "..":
     * the verdict may differ, the output rules may not */
    if (pt_http_parse_complex_uri(r, 0) == PT_OK) {
        check(r->uri.len >= 1 && r->uri.len <= len + 1 && out[0] == '/');

        for (p = out; p < out + r->uri.len; p++) {
            check(*p != '\0');
        }
    }

    free(out);
}

static void
check_header(pt_http_request_t *r, result_t *res, u_char *start, u_char *end,
    pt_buf_t *b)
{
    pt_str_t   host, name;
    pt_uint_t  lowcase;

    check(in_buf(r->header_name_start) && in_buf(r->header_name_end)
          && in_buf(r->header_start) && in_buf(r->header_end));
    check(r->header_name_start < r->header_name_end
          && r->header_name_end <= r->header_start
          && r->header_start <= r->header_end
          && r->header_end < b->pos);

    res->headers++;
    res->invalid_headers += r->invalid_header;

    host.data = r->header_start;
    host.len = r->header_end - r->header_start;

    if (pt_http_validate_host(&host, &lowcase) == PT_OK) {
        check(host.len > 0 && host.data == r->header_start
              && host.len <= (size_t) (r->header_end - r->header_start));
        res->hosts_ok++;
    }

    name.data = r->header_start;
    name.len = r->header_end - r->header_start;
    (void) pt_http_list_has_token(&name, "chunked", 7);
}

static void
check_body(pt_http_request_t *r, result_t *res, pt_buf_t *b, u_char *end, size_t step)
{
    off_t               n;
    pt_int_t            rc;
    pt_http_chunked_t   ctx;

    memset(&ctx, 0, sizeof(ctx));

    for ( ;; ) {
        rc = pt_http_parse_chunked(r, b, &ctx);

        if (rc == PT_OK) {
            check(ctx.size > 0 && b->pos < b->last);
            n = pt_min(ctx.size, b->last - b->pos);
            res->sum = mix(res->sum, b->pos, (size_t) n);
            res->body_bytes += n;
            b->pos += n;
            ctx.size -= n;
            continue;
        }

        if (rc == PT_AGAIN) {
            check(b->pos == b->last && ctx.length > 0);

            /* the hint never reaches past a well-formed end */
            if (more(b, end, step)) {
                continue;
            }
        }

        break;
    }

    res->body_rc = rc;
}

static void
parse(u_char *start, size_t len, size_t step, pt_uint_t underscores, result_t *res)
{
    u_char             *end;
    pt_int_t            rc;
    pt_buf_t            b;
    pt_http_request_t  *r;

    r = calloc(1, sizeof(pt_http_request_t));
    check(r != NULL);

    memset(res, 0, sizeof(result_t));
    memset(&b, 0, sizeof(b));

    end = start + len;
    b.start = start;
    b.pos = start;
    b.end = end;
    b.last = start;
    (void) more(&b, end, step);

    for ( ;; ) {
        rc = pt_http_parse_request_line(r, &b);
        if (rc != PT_AGAIN) {
            break;
        }
        check(b.pos == b.last);
        if (!more(&b, end, step)) {
            break;
        }
    }

    /* where b->pos stays after an error is unspecified: not compared */
    res->line_rc = rc;
    res->end = (rc == PT_OK || rc == PT_AGAIN) ? (size_t) (b.pos - start) : 0;

    if (rc != PT_OK) {
        free(r);
        return;
    }

    check(in_buf(r->request_start) && in_buf(r->request_end)
          && r->request_start < r->method_end && r->method_end < r->request_end
          && r->request_end < b.pos);
    check(r->http_version == 1000 || r->http_version == 1001);

    res->method = r->method;
    res->version = r->http_version;

    check_uri(r, res, start, end);

    for ( ;; ) {
        rc = pt_http_parse_header_line(r, &b, underscores);

        if (rc == PT_OK) {
            check_header(r, res, start, end, &b);
            continue;
        }

        if (rc == PT_AGAIN) {
            check(b.pos == b.last);
            if (more(&b, end, step)) {
                continue;
            }
        }

        break;
    }

    res->header_rc = rc;
    res->end = (rc == PT_HTTP_PARSE_HEADER_DONE || rc == PT_AGAIN)
               ? (size_t) (b.pos - start) : 0;

    if (rc == PT_HTTP_PARSE_HEADER_DONE) {
        check_body(r, res, &b, end, step);
        res->end = (res->body_rc != PT_ERROR) ? (size_t) (b.pos - start) : 0;
    }

    free(r);
}

static void
report(const char *what, result_t *r)
{
    fprintf(stderr, "%s: line %ld header %ld body %ld headers %lu invalid %lu hosts %lu "
            "method %lu version %lu uri %zu/%ld body %zu end %zu sum %u\n",
            what, (long) r->line_rc, (long) r->header_rc, (long) r->body_rc,
            (unsigned long) r->headers, (unsigned long) r->invalid_headers,
            (unsigned long) r->hosts_ok, (unsigned long) r->method,
            (unsigned long) r->version, r->uri_len, (long) r->uri_rc, r->body_bytes,
            r->end, (unsigned) r->sum);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char     *buf;
    size_t      len, step;
    result_t    whole, stepped;
    pt_uint_t   underscores;

    if (size < 1) {
        return 0;
    }

    step = data[0] & 0x0f;
    underscores = (data[0] & 0x10) ? 1 : 0;

    /* an exact-size copy: ASan sees any read past the input */
    len = size - 1;
    buf = malloc(len ? len : 1);
    if (buf == NULL) {
        return 0;
    }
    memcpy(buf, data + 1, len);

    parse(buf, len, 0, underscores, &whole);

    if (step) {
        parse(buf, len, step, underscores, &stepped);

        if (memcmp(&whole, &stepped, sizeof(result_t)) != 0) {
            report("whole", &whole);
            report("stepped", &stepped);
            check(memcmp(&whole, &stepped, sizeof(result_t)) == 0);
        }
    }

    free(buf);

    return 0;
}
