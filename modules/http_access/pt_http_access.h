/*
 * pt_http_access.h: the address syntax of allow and deny, for the module
 * and for t/unit/access.c.
 */

#ifndef PT_HTTP_ACCESS_H
#define PT_HTTP_ACCESS_H

#include "pt_http.h"

/* A parsed "ADDRESS" or "ADDRESS/BITS". */
typedef struct {
    int                 family;     /* AF_INET, AF_INET6 */
    in_addr_t           addr;       /* network order */
    in_addr_t           mask;
    u_char              addr6[16];
    u_char              mask6[16];
} pt_http_access_cidr_t;

/* nginx's ngx_ptocidr(): PT_OK, PT_DONE (host bits were set and are now
 * cleared: nginx warns), or PT_ERROR (not an IPv4 or IPv6 address, or a
 * bad prefix length). */
pt_int_t pt_http_access_parse_cidr(pt_str_t *text, pt_http_access_cidr_t *cidr);

#endif /* PT_HTTP_ACCESS_H */
