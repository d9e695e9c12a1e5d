/*
 * pt_http_auth_basic_user.c: the user and password of the Basic scheme
 * (RFC 7617), for $remote_user and the auth_basic module.
 *
 *   Authorization: Basic base64(user ":" password)
 *
 * As nginx: the scheme is matched without case (RFC 9110, 11.1), spaces
 * may follow it, the credentials split on the first colon (a password may
 * hold colons, a user may not), and an empty user counts as none.  Unlike
 * nginx, base64 is decoded strictly (pt_decode_base64): bytes after the
 * padding make the header malformed rather than being ignored.
 */

#include "pt_http.h"

/* The answer is kept: user.data "" with len 0 means "none"; NULL means
 * "not decoded yet". */
static pt_int_t
pt_http_auth_basic_none(pt_http_request_t *r)
{
    r->headers_in.user.len = 0;
    r->headers_in.user.data = (u_char *) "";

    return PT_DECLINED;
}

pt_int_t
pt_http_auth_basic_user(pt_http_request_t *r)
{
    size_t     len;
    pt_str_t   auth, encoded;

    if (r->headers_in.user.len == 0 && r->headers_in.user.data != NULL) {
        return PT_DECLINED;
    }

    if (r->headers_in.user.len) {
        return PT_OK;
    }

    if (r->headers_in.authorization == NULL) {
        return pt_http_auth_basic_none(r);
    }

    encoded = r->headers_in.authorization->value;

    if (encoded.len < sizeof("Basic ") - 1
        || pt_strncasecmp(encoded.data, (u_char *) "Basic ", sizeof("Basic ") - 1) != 0)
    {
        return pt_http_auth_basic_none(r);
    }

    encoded.data += sizeof("Basic ") - 1;
    encoded.len -= sizeof("Basic ") - 1;

    while (encoded.len && encoded.data[0] == ' ') {
        encoded.data++;
        encoded.len--;
    }

    if (encoded.len == 0) {
        return pt_http_auth_basic_none(r);
    }

    auth.data = pt_pnalloc(r->pool, pt_base64_decoded_length(encoded.len) + 1);
    if (auth.data == NULL) {
        return PT_ERROR;
    }

    if (pt_decode_base64(&auth, &encoded) != PT_OK) {
        return pt_http_auth_basic_none(r);
    }

    /* crypt() and the hash functions take the password as a C string */
    auth.data[auth.len] = '\0';

    for (len = 0; len < auth.len && auth.data[len] != ':'; len++) {
        /* void */
    }

    if (len == 0 || len == auth.len) {
        return pt_http_auth_basic_none(r);
    }

    r->headers_in.user.len = len;
    r->headers_in.user.data = auth.data;
    r->headers_in.passwd.len = auth.len - len - 1;
    r->headers_in.passwd.data = &auth.data[len + 1];

    return PT_OK;
}
