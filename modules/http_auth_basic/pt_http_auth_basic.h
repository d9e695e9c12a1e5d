/*
 * pt_http_auth_basic.h: the password formats of auth_basic_user_file, for
 * the module and for t/unit/auth_basic_crypt.c.
 */

#ifndef PT_HTTP_AUTH_BASIC_H
#define PT_HTTP_AUTH_BASIC_H

#include "pt_http.h"

/* The read buffer of the user file, as nginx's: a line longer than this
 * has its hash cut at the buffer's end. */
#define PT_HTTP_AUTH_LINE_MAX  2048

/*
 * Checks the password key (NUL-terminated) against hash, the second field
 * of a user file line (NUL-terminated), as nginx's ngx_crypt(): "$apr1$"
 * (Apache's MD5), "{PLAIN}", "{SHA}" (base64 SHA-1), "{SSHA}" (base64 of
 * SHA-1(key salt) salt), else the system's crypt() (DES, $1$, $5$, $6$,
 * $y$, ... whatever libcrypt knows).  PT_OK: it matches; PT_DECLINED: it
 * does not (also a hash crypt() cannot read); PT_ERROR: a failure of the
 * library, logged on log.
 */
pt_int_t pt_http_auth_basic_check(u_char *key, u_char *hash, pt_log_t *log);

/* Apache's apr1 of key with the salt of hash ("$apr1$SALT[$...]") into
 * out (PT_HTTP_AUTH_APR1_LEN + 1 bytes, NUL-terminated).  PT_OK or
 * PT_ERROR (the MD5 of OpenSSL failed). */
#define PT_HTTP_AUTH_APR1_LEN  (sizeof("$apr1$") - 1 + 8 + 1 + 22)
pt_int_t pt_http_auth_basic_apr1(u_char *key, u_char *hash, u_char *out);

#endif /* PT_HTTP_AUTH_BASIC_H */
