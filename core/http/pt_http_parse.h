/*
 * pt_http_parse.h: the HTTP/1.x parsers.
 *
 * Each parser is an explicit state machine over a buffer.  It keeps its
 * state in the request (or the chunked context), sets pointers into the
 * buffer instead of copying, never allocates, and can be fed any number of
 * bytes at a time: on PT_AGAIN it has consumed everything up to b->last and
 * resumes there when more data arrives.  The parsers are pure functions of
 * their input, so t/unit/http_parse.c drives them directly.
 *
 * Strict by default (RFC 9112): a bare CR, whitespace before a header colon,
 * obs-fold, a non-token byte in a method or field name, a control byte in a
 * target or field value are all errors.  A bare LF ends a line of the head
 * (RFC 9112 2.2 allows it), never one of the chunked framing; empty lines
 * before the request line are skipped.
 */

#ifndef PT_HTTP_PARSE_H
#define PT_HTTP_PARSE_H

/* Lower-case form of each token character (RFC 9110 tchar), 0 for bytes
 * that may not appear in a method or field name. */
extern const u_char  pt_http_token_lc[256];

/* Control bytes, forbidden in targets and field values (HTAB is handled by
 * the callers where it is allowed). */
#define pt_http_is_ctl(ch)  ((ch) < 0x20 || (ch) == 0x7f)

/* The value of a hex digit, -1 for any other byte. */
pt_int_t pt_http_hex_value(u_char ch);

/* Returns PT_OK with the request line parsed (b->pos past its end), PT_AGAIN,
 * or PT_HTTP_PARSE_INVALID_METHOD / _INVALID_REQUEST / _INVALID_VERSION
 * (a well-formed version other than 1.0 and 1.1) / _INVALID_09 (no version
 * at all).  The target is origin-form, absolute-form with an http or https
 * scheme, or "*" for OPTIONS (r->uri_start then points at the "*"). */
pt_int_t pt_http_parse_request_line(pt_http_request_t *r, pt_buf_t *b);

/* Returns PT_OK with one header line parsed (name, value, hash of the
 * lower-cased name, r->invalid_header for names nginx would ignore),
 * PT_HTTP_PARSE_HEADER_DONE at the empty line, PT_AGAIN, or
 * PT_HTTP_PARSE_INVALID_HEADER. */
pt_int_t pt_http_parse_header_line(pt_http_request_t *r, pt_buf_t *b,
    pt_uint_t allow_underscores);

/* Decodes %XX, drops a "#fragment", merges slashes (if asked) and resolves
 * "." and ".." segments of [r->uri_start, r->args_start or r->uri_end)
 * into r->uri.data, which the caller allocated with at least that many
 * bytes; sets r->uri.len and r->exten.  PT_HTTP_PARSE_INVALID_REQUEST for
 * a bad escape, a NUL, or ".." above the root. */
pt_int_t pt_http_parse_complex_uri(pt_http_request_t *r,
    pt_uint_t merge_slashes);

/* Bounds of the chunked framing: one chunk-size line with its extensions,
 * and the whole trailer section. */
#define PT_HTTP_CHUNK_LINE_MAX     4096
#define PT_HTTP_CHUNK_TRAILER_MAX  8192

/* The chunked transfer coding, CRLF line ends only.  Returns PT_OK with
 * ctx->size bytes of chunk data available at b->pos (the caller consumes
 * them, decreasing ctx->size, and calls again), PT_DONE after the last
 * chunk and trailer (b->pos past them), PT_AGAIN with ctx->length set to
 * the fewest bytes that can still end the body, or PT_ERROR.  Extensions
 * and trailer fields are validated and skipped. */
pt_int_t pt_http_parse_chunked(pt_http_request_t *r, pt_buf_t *b,
    pt_http_chunked_t *ctx);

/* Checks a Host value: trims a port and a trailing dot, rejects an empty
 * host, "..", "/", NUL, a port that is not 0..65535 and malformed IP
 * literals.  Sets *lowcase when the host has
 * upper-case letters (the caller lower-cases a copy).  PT_OK or
 * PT_DECLINED. */
pt_int_t pt_http_validate_host(pt_str_t *host, pt_uint_t *lowcase);

/* True when the comma-separated list value holds token (case-insensitive). */
pt_uint_t pt_http_list_has_token(pt_str_t *value, const char *token,
    size_t len);

#endif /* PT_HTTP_PARSE_H */
