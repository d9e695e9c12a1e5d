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
 * target or field value are all errors.  A bare LF ends a line (RFC 9112
 * 2.2 allows it) and empty lines before the request line are skipped.
 */

#ifndef PT_HTTP_PARSE_H
#define PT_HTTP_PARSE_H

/* Returns PT_OK with the request line parsed (b->pos past its end), PT_AGAIN,
 * or PT_HTTP_PARSE_INVALID_METHOD / _INVALID_REQUEST / _INVALID_VERSION
 * (major version 2..9) / _INVALID_09_METHOD. */
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

/* The chunked transfer coding.  Returns PT_OK with ctx->size bytes of chunk
 * data available at b->pos (the caller consumes them and calls again),
 * PT_DONE after the last chunk and trailer, PT_AGAIN, or PT_ERROR. */
pt_int_t pt_http_parse_chunked(pt_http_request_t *r, pt_buf_t *b,
    pt_http_chunked_t *ctx);

/* Checks a Host value: trims a port and a trailing dot, rejects "..", "/",
 * NUL and malformed ports or IP literals.  Sets *lowcase when the host has
 * upper-case letters (the caller lower-cases a copy).  PT_OK or
 * PT_DECLINED. */
pt_int_t pt_http_validate_host(pt_str_t *host, pt_uint_t *lowcase);

/* True when the comma-separated list value holds token (case-insensitive). */
pt_uint_t pt_http_list_has_token(pt_str_t *value, const char *token,
    size_t len);

#endif /* PT_HTTP_PARSE_H */
