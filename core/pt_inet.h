/*
 * pt_inet.h: socket addresses and the "listen"/"server" address syntax.
 */

#ifndef PT_INET_H
#define PT_INET_H

#define PT_INET_ADDRSTRLEN   (sizeof("255.255.255.255") - 1)
#define PT_INET6_ADDRSTRLEN  (sizeof("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255") - 1)
#define PT_UNIX_ADDRSTRLEN   (sizeof("unix:") - 1 + sizeof(((struct sockaddr_un *) 0)->sun_path))
#define PT_SOCKADDR_STRLEN   (PT_UNIX_ADDRSTRLEN + sizeof("[]:65535"))

typedef union {
    struct sockaddr           sockaddr;
    struct sockaddr_in        sockaddr_in;
    struct sockaddr_in6       sockaddr_in6;
    struct sockaddr_un        sockaddr_un;
    struct sockaddr_storage   storage;
} pt_sockaddr_t;

typedef struct {
    struct sockaddr  *sockaddr;
    socklen_t         socklen;
    pt_str_t          name;     /* "127.0.0.1:8080" */
} pt_addr_t;

/*
 * A parsed "listen" or "server"/"proxy_pass" address:
 *   "8080", "127.0.0.1", "127.0.0.1:8080", "*:8080", "[::1]:8080",
 *   "localhost:8080", "unix:/path/sock", and with uri_part a trailing "/uri".
 */
typedef struct {
    pt_str_t        url;
    pt_str_t        host;
    pt_str_t        port_text;
    pt_str_t        uri;

    in_port_t       port;
    in_port_t       default_port;
    int             family;

    unsigned        listen:1;       /* "8080" alone means *:8080 */
    unsigned        uri_part:1;     /* a "/uri" suffix is allowed */
    unsigned        no_resolve:1;
    unsigned        no_port:1;
    unsigned        wildcard:1;

    socklen_t       socklen;
    pt_sockaddr_t   sockaddr;

    pt_addr_t      *addrs;          /* every resolved address */
    pt_uint_t       naddrs;

    char           *err;            /* set on PT_ERROR */
} pt_url_t;

pt_int_t pt_parse_url(pt_pool_t *pool, pt_url_t *u);
/* Text form of a socket address; with port, "1.2.3.4:80" / "[::1]:80". */
size_t pt_sock_ntop(struct sockaddr *sa, socklen_t socklen, u_char *text,
    size_t len, pt_uint_t port);
pt_int_t pt_cmp_sockaddr(struct sockaddr *sa1, socklen_t slen1,
    struct sockaddr *sa2, socklen_t slen2, pt_uint_t cmp_port);
in_port_t pt_inet_get_port(struct sockaddr *sa);
void pt_inet_set_port(struct sockaddr *sa, in_port_t port);
pt_uint_t pt_inet_wildcard(struct sockaddr *sa);

/* A parsed "ADDRESS" or "ADDRESS/BITS" (allow, deny, geo). */
typedef struct {
    int                 family;     /* AF_INET, AF_INET6 */
    in_addr_t           addr;       /* network order */
    in_addr_t           mask;
    u_char              addr6[16];
    u_char              mask6[16];
} pt_cidr_t;

/* nginx's ngx_inet_addr(): a dotted quad in network order, or INADDR_NONE
 * (also for 255.255.255.255, as in nginx). */
in_addr_t pt_inet_addr(u_char *text, size_t len);
/* nginx's ngx_ptocidr(): PT_OK, PT_DONE (host bits were set and are now
 * cleared: nginx warns), or PT_ERROR (not an IPv4 or IPv6 address, or a
 * bad prefix length). */
pt_int_t pt_ptocidr(pt_str_t *text, pt_cidr_t *cidr);

#endif /* PT_INET_H */
