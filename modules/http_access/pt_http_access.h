/*
 * pt_http_access.h: the address syntax of allow and deny, for the module
 * and for t/unit/access.c.  The parser itself is the core's pt_ptocidr()
 * (pt_inet.c), which geo shares.
 */

#ifndef PT_HTTP_ACCESS_H
#define PT_HTTP_ACCESS_H

#include "pt_http.h"

/* A parsed "ADDRESS" or "ADDRESS/BITS". */
typedef pt_cidr_t  pt_http_access_cidr_t;

/* nginx's ngx_ptocidr(): PT_OK, PT_DONE (host bits were set and are now
 * cleared: nginx warns), or PT_ERROR (not an IPv4 or IPv6 address, or a
 * bad prefix length). */
static inline pt_int_t
pt_http_access_parse_cidr(pt_str_t *text, pt_http_access_cidr_t *cidr)
{
    return pt_ptocidr(text, cidr);
}

#endif /* PT_HTTP_ACCESS_H */
