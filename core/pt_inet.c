/*
 * pt_inet.c: socket addresses and the "listen"/"server" address syntax.
 *
 * pt_parse_url() understands what the listen, server and proxy_pass
 * directives accept:
 *
 *   8080                 a bare port, only with u->listen ("*:8080")
 *   127.0.0.1[:8080]     IPv4
 *   *:8080               the IPv4 wildcard, only with u->listen
 *   [::1][:8080]         IPv6, brackets required
 *   localhost[:8080]     a name, resolved with getaddrinfo() unless
 *                        u->no_resolve (every address is kept, IPv4 first)
 *   unix:/path/sock      a unix-domain socket
 *
 * With u->uri_part a "/uri" may follow the address ("unix:/path:/uri" for
 * unix sockets).  A missing port takes u->default_port; when that is 0 too
 * the address is rejected with "no port".  Errors are reported as nginx
 * words them, in u->err.
 */

#include "portico.h"

static pt_int_t pt_parse_unix_url(pt_pool_t *pool, pt_url_t *u);
static pt_int_t pt_parse_inet_url(pt_pool_t *pool, pt_url_t *u);
static pt_int_t pt_parse_inet_host(pt_pool_t *pool, pt_url_t *u, u_char *host,
    size_t len);
static pt_int_t pt_parse_inet6_url(pt_pool_t *pool, pt_url_t *u);
static pt_int_t pt_parse_port(pt_url_t *u, u_char *port, u_char *last);
static pt_int_t pt_inet_add_addr(pt_pool_t *pool, pt_url_t *u,
    struct sockaddr *sa, socklen_t socklen, pt_uint_t total);
static pt_int_t pt_inet_resolve_host(pt_pool_t *pool, pt_url_t *u);


pt_int_t
pt_parse_url(pt_pool_t *pool, pt_url_t *u)
{
    u_char  *p;
    size_t   len;

    p = u->url.data;
    len = u->url.len;

    if (len >= 5 && pt_strncasecmp(p, (u_char *) "unix:", 5) == 0) {
        return pt_parse_unix_url(pool, u);
    }

    if (len && p[0] == '[') {
        return pt_parse_inet6_url(pool, u);
    }

    return pt_parse_inet_url(pool, u);
}


/* "unix:/path" or, with uri_part, "unix:/path:/uri". */
static pt_int_t
pt_parse_unix_url(pt_pool_t *pool, pt_url_t *u)
{
    u_char              *path, *uri, *last;
    size_t               len;
    struct sockaddr_un  *saun;

    path = u->url.data + 5;
    len = u->url.len - 5;
    last = path + len;

    if (u->uri_part) {
        uri = pt_strlchr(path, last, ':');
        if (uri) {
            len = uri - path;
            uri++;
            u->uri.len = last - uri;
            u->uri.data = uri;
        }
    }

    if (len == 0) {
        u->err = "no path in the unix domain socket";
        return PT_ERROR;
    }

    u->host.len = len;
    u->host.data = path;

    saun = &u->sockaddr.sockaddr_un;

    /* sun_path must also hold the terminating NUL */
    if (len + 1 > sizeof(saun->sun_path)) {
        u->err = "too long path in the unix domain socket";
        return PT_ERROR;
    }

    pt_memzero(saun, sizeof(struct sockaddr_un));
    saun->sun_family = AF_UNIX;
    pt_memcpy(saun->sun_path, path, len);

    u->family = AF_UNIX;
    u->socklen = sizeof(struct sockaddr_un);

    u->addrs = pt_pcalloc(pool, sizeof(pt_addr_t));
    if (u->addrs == NULL) {
        return PT_ERROR;
    }

    u->addrs[0].sockaddr = pt_palloc(pool, sizeof(struct sockaddr_un));
    if (u->addrs[0].sockaddr == NULL) {
        return PT_ERROR;
    }

    pt_memcpy(u->addrs[0].sockaddr, saun, sizeof(struct sockaddr_un));
    u->addrs[0].socklen = sizeof(struct sockaddr_un);
    u->addrs[0].name = u->url;
    u->naddrs = 1;

    return PT_OK;
}


/* Parses "NNN" in [port, last) as a port number into u. */
static pt_int_t
pt_parse_port(pt_url_t *u, u_char *port, u_char *last)
{
    pt_int_t  n;

    n = pt_atoi(port, last - port);

    if (n < 1 || n > 65535) {
        u->err = "invalid port";
        return PT_ERROR;
    }

    u->port = (in_port_t) n;
    u->port_text.len = last - port;
    u->port_text.data = port;

    return PT_OK;
}


/* Falls back to the default port; a caller without one needs a port. */
static pt_int_t
pt_url_no_port(pt_url_t *u)
{
    u->no_port = 1;
    u->port = u->default_port;

    if (u->default_port == 0) {
        u->err = "no port";
        return PT_ERROR;
    }

    return PT_OK;
}


static pt_int_t
pt_parse_inet_url(pt_pool_t *pool, pt_url_t *u)
{
    u_char              *host, *port, *last, *uri, *args;
    struct sockaddr_in  *sin;

    sin = &u->sockaddr.sockaddr_in;
    pt_memzero(sin, sizeof(struct sockaddr_in));
    sin->sin_family = AF_INET;
    u->family = AF_INET;
    u->socklen = sizeof(struct sockaddr_in);

    host = u->url.data;
    last = host + u->url.len;

    port = pt_strlchr(host, last, ':');
    uri = pt_strlchr(host, last, '/');
    args = pt_strlchr(host, last, '?');

    if (args && (uri == NULL || args < uri)) {
        uri = args;
    }

    if (uri) {
        if (u->listen || !u->uri_part) {
            u->err = "invalid host";
            return PT_ERROR;
        }

        u->uri.len = last - uri;
        u->uri.data = uri;
        last = uri;

        if (port && uri < port) {
            port = NULL;
        }
    }

    if (port) {
        if (pt_parse_port(u, port + 1, last) != PT_OK) {
            return PT_ERROR;
        }
        last = port;

    } else if (uri == NULL && u->listen
               && pt_atoi(host, last - host) != PT_ERROR)
    {
        /* "listen 8080": a value that is all digits is a port */
        if (pt_parse_port(u, host, last) != PT_OK) {
            return PT_ERROR;
        }

        sin->sin_port = htons(u->port);
        sin->sin_addr.s_addr = htonl(INADDR_ANY);
        u->wildcard = 1;

        return pt_inet_add_addr(pool, u, &u->sockaddr.sockaddr, u->socklen, 1);

    } else if (pt_url_no_port(u) != PT_OK) {
        return PT_ERROR;
    }

    sin->sin_port = htons(u->port);

    return pt_parse_inet_host(pool, u, host, last - host);
}


/* The host part of an IPv4 or name address: "*" (listen only), a dotted
 * quad, or a name to resolve. */
static pt_int_t
pt_parse_inet_host(pt_pool_t *pool, pt_url_t *u, u_char *host, size_t len)
{
    u_char              text[PT_INET_ADDRSTRLEN + 1];
    struct sockaddr_in  *sin;

    sin = &u->sockaddr.sockaddr_in;

    if (len == 0) {
        u->err = "no host";
        return PT_ERROR;
    }

    u->host.len = len;
    u->host.data = host;

    if (u->listen && len == 1 && *host == '*') {
        sin->sin_addr.s_addr = htonl(INADDR_ANY);
        u->wildcard = 1;
        return pt_inet_add_addr(pool, u, &u->sockaddr.sockaddr, u->socklen, 1);
    }

    if (len <= PT_INET_ADDRSTRLEN) {
        pt_memcpy(text, host, len);
        text[len] = '\0';

        if (inet_pton(AF_INET, (char *) text, &sin->sin_addr) == 1) {
            u->wildcard = (sin->sin_addr.s_addr == htonl(INADDR_ANY));
            return pt_inet_add_addr(pool, u, &u->sockaddr.sockaddr,
                                    u->socklen, 1);
        }
    }

    if (u->no_resolve) {
        return PT_OK;
    }

    if (pt_inet_resolve_host(pool, u) != PT_OK) {
        return PT_ERROR;
    }

    u->family = u->addrs[0].sockaddr->sa_family;
    u->socklen = u->addrs[0].socklen;
    pt_memcpy(&u->sockaddr, u->addrs[0].sockaddr, u->addrs[0].socklen);
    u->wildcard = pt_inet_wildcard(&u->sockaddr.sockaddr);

    return PT_OK;
}


static pt_int_t
pt_parse_inet6_url(pt_pool_t *pool, pt_url_t *u)
{
    u_char               *host, *port, *last, *uri, *p;
    u_char                text[PT_INET6_ADDRSTRLEN + 1];
    size_t                len;
    struct sockaddr_in6  *sin6;

    sin6 = &u->sockaddr.sockaddr_in6;
    pt_memzero(sin6, sizeof(struct sockaddr_in6));
    sin6->sin6_family = AF_INET6;
    u->family = AF_INET6;
    u->socklen = sizeof(struct sockaddr_in6);

    host = u->url.data + 1;
    last = u->url.data + u->url.len;

    p = pt_strlchr(host, last, ']');

    if (p == NULL) {
        u->err = "invalid host";
        return PT_ERROR;
    }

    port = p + 1;

    uri = pt_strlchr(port, last, '/');

    if (uri) {
        if (u->listen || !u->uri_part) {
            u->err = "invalid host";
            return PT_ERROR;
        }

        u->uri.len = last - uri;
        u->uri.data = uri;
        last = uri;
    }

    if (port < last) {
        if (*port != ':') {
            u->err = "invalid host";
            return PT_ERROR;
        }

        if (pt_parse_port(u, port + 1, last) != PT_OK) {
            return PT_ERROR;
        }

    } else if (pt_url_no_port(u) != PT_OK) {
        return PT_ERROR;
    }

    sin6->sin6_port = htons(u->port);

    len = p - host;

    if (len == 0) {
        u->err = "no host";
        return PT_ERROR;
    }

    /* the host keeps its brackets, as nginx's does */
    u->host.len = len + 2;
    u->host.data = host - 1;

    if (len > PT_INET6_ADDRSTRLEN) {
        u->err = "invalid IPv6 address";
        return PT_ERROR;
    }

    pt_memcpy(text, host, len);
    text[len] = '\0';

    if (inet_pton(AF_INET6, (char *) text, &sin6->sin6_addr) != 1) {
        u->err = "invalid IPv6 address";
        return PT_ERROR;
    }

    u->wildcard = IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) ? 1 : 0;

    return pt_inet_add_addr(pool, u, &u->sockaddr.sockaddr, u->socklen, 1);
}


/*
 * Resolves u->host with getaddrinfo() into u->addrs (IPv4 first, then IPv6,
 * duplicates dropped) and applies u->port to each.
 */
static pt_int_t
pt_inet_resolve_host(pt_pool_t *pool, pt_url_t *u)
{
    u_char           *host;
    pt_uint_t         n, pass;
    struct addrinfo   hints, *res, *rp;

    host = pt_palloc(pool, u->host.len + 1);
    if (host == NULL) {
        return PT_ERROR;
    }

    (void) pt_cpystrn(host, u->host.data, u->host.len + 1);

    pt_memzero(&hints, sizeof(struct addrinfo));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;

    if (getaddrinfo((char *) host, NULL, &hints, &res) != 0) {
        u->err = "host not found";
        return PT_ERROR;
    }

    n = 0;
    for (rp = res; rp != NULL; rp = rp->ai_next) {
        if (rp->ai_family == AF_INET || rp->ai_family == AF_INET6) {
            n++;
        }
    }

    if (n == 0) {
        freeaddrinfo(res);
        u->err = "host not found";
        return PT_ERROR;
    }

    for (pass = 0; pass < 2; pass++) {
        for (rp = res; rp != NULL; rp = rp->ai_next) {
            if (rp->ai_family != (pass == 0 ? AF_INET : AF_INET6)) {
                continue;
            }

            pt_inet_set_port(rp->ai_addr, u->port);

            if (pt_inet_add_addr(pool, u, rp->ai_addr, rp->ai_addrlen, n)
                != PT_OK)
            {
                freeaddrinfo(res);
                return PT_ERROR;
            }
        }
    }

    freeaddrinfo(res);

    return PT_OK;
}


/*
 * Appends a copy of sa, named "addr:port", to u->addrs (allocated for total
 * entries on first use).  An address already present is skipped.
 */
static pt_int_t
pt_inet_add_addr(pt_pool_t *pool, pt_url_t *u, struct sockaddr *sa,
    socklen_t socklen, pt_uint_t total)
{
    u_char     *p;
    size_t      len;
    pt_uint_t   i;
    pt_addr_t  *addr;

    if (u->addrs == NULL) {
        u->addrs = pt_palloc(pool, total * sizeof(pt_addr_t));
        if (u->addrs == NULL) {
            return PT_ERROR;
        }
    }

    for (i = 0; i < u->naddrs; i++) {
        if (pt_cmp_sockaddr(u->addrs[i].sockaddr, u->addrs[i].socklen,
                            sa, socklen, 1) == PT_OK)
        {
            return PT_OK;
        }
    }

    addr = &u->addrs[u->naddrs];

    addr->sockaddr = pt_palloc(pool, socklen);
    if (addr->sockaddr == NULL) {
        return PT_ERROR;
    }

    pt_memcpy(addr->sockaddr, sa, socklen);
    addr->socklen = socklen;

    len = PT_INET6_ADDRSTRLEN + sizeof("[]:65535") - 1;

    p = pt_pnalloc(pool, len);
    if (p == NULL) {
        return PT_ERROR;
    }

    addr->name.len = pt_sock_ntop(sa, socklen, p, len, 1);
    addr->name.data = p;

    u->naddrs++;

    return PT_OK;
}


/*
 * Writes the text form of sa into text (at most len bytes, no NUL):
 * "1.2.3.4", "::1", "unix:/path"; with port "1.2.3.4:80" and "[::1]:80".
 * Returns the length written.
 */
size_t
pt_sock_ntop(struct sockaddr *sa, socklen_t socklen, u_char *text, size_t len,
    pt_uint_t port)
{
    u_char               buf[PT_SOCKADDR_STRLEN + 1], *p, *last;
    size_t               n;
    struct sockaddr_in  *sin;
    struct sockaddr_in6 *sin6;
    struct sockaddr_un  *saun;
    char                 addr[INET6_ADDRSTRLEN];

    p = buf;
    last = buf + sizeof(buf) - 1;

    switch (sa->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) sa;

        if (inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr)) == NULL) {
            return 0;
        }

        p = pt_slprintf(p, last, "%s", addr);

        if (port) {
            p = pt_slprintf(p, last, ":%u", (unsigned) ntohs(sin->sin_port));
        }

        break;

    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) sa;

        if (inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr)) == NULL) {
            return 0;
        }

        if (port) {
            p = pt_slprintf(p, last, "[%s]:%u", addr,
                            (unsigned) ntohs(sin6->sin6_port));
        } else {
            p = pt_slprintf(p, last, "%s", addr);
        }

        break;

    case AF_UNIX:
        saun = (struct sockaddr_un *) sa;

        p = pt_cpymem(p, "unix:", sizeof("unix:") - 1);

        if (socklen <= (socklen_t) offsetof(struct sockaddr_un, sun_path)) {
            break;   /* an unnamed (client) socket */
        }

        n = socklen - offsetof(struct sockaddr_un, sun_path);
        n = pt_min(n, sizeof(saun->sun_path));

        if (saun->sun_path[0] == '\0') {
            /* the abstract namespace, shown as "@name" like ss(8) does */
            if (n > 1) {
                *p++ = '@';
                p = pt_cpymem(p, saun->sun_path + 1, n - 1);
            }
            break;
        }

        n = strnlen(saun->sun_path, n);
        p = pt_cpymem(p, saun->sun_path, n);
        break;

    default:
        return 0;
    }

    n = pt_min((size_t) (p - buf), len);
    pt_memcpy(text, buf, n);

    return n;
}


/*
 * Compares two socket addresses: PT_OK when equal (the ports too when
 * cmp_port), PT_DECLINED otherwise.
 */
pt_int_t
pt_cmp_sockaddr(struct sockaddr *sa1, socklen_t slen1, struct sockaddr *sa2,
    socklen_t slen2, pt_uint_t cmp_port)
{
    size_t                n1, n2;
    struct sockaddr_in   *sin1, *sin2;
    struct sockaddr_in6  *sin61, *sin62;
    struct sockaddr_un   *saun1, *saun2;

    if (sa1->sa_family != sa2->sa_family) {
        return PT_DECLINED;
    }

    switch (sa1->sa_family) {

    case AF_INET:
        sin1 = (struct sockaddr_in *) sa1;
        sin2 = (struct sockaddr_in *) sa2;

        if (cmp_port && sin1->sin_port != sin2->sin_port) {
            return PT_DECLINED;
        }

        if (sin1->sin_addr.s_addr != sin2->sin_addr.s_addr) {
            return PT_DECLINED;
        }

        return PT_OK;

    case AF_INET6:
        sin61 = (struct sockaddr_in6 *) sa1;
        sin62 = (struct sockaddr_in6 *) sa2;

        if (cmp_port && sin61->sin6_port != sin62->sin6_port) {
            return PT_DECLINED;
        }

        if (pt_memcmp(&sin61->sin6_addr, &sin62->sin6_addr, 16) != 0) {
            return PT_DECLINED;
        }

        return PT_OK;

    case AF_UNIX:
        saun1 = (struct sockaddr_un *) sa1;
        saun2 = (struct sockaddr_un *) sa2;

        n1 = slen1 > offsetof(struct sockaddr_un, sun_path)
             ? slen1 - offsetof(struct sockaddr_un, sun_path) : 0;
        n2 = slen2 > offsetof(struct sockaddr_un, sun_path)
             ? slen2 - offsetof(struct sockaddr_un, sun_path) : 0;

        n1 = strnlen(saun1->sun_path, pt_min(n1, sizeof(saun1->sun_path)));
        n2 = strnlen(saun2->sun_path, pt_min(n2, sizeof(saun2->sun_path)));

        if (n1 != n2 || pt_memcmp(saun1->sun_path, saun2->sun_path, n1) != 0) {
            return PT_DECLINED;
        }

        return PT_OK;

    default:
        return PT_DECLINED;
    }
}


in_port_t
pt_inet_get_port(struct sockaddr *sa)
{
    switch (sa->sa_family) {

    case AF_INET:
        return ntohs(((struct sockaddr_in *) sa)->sin_port);

    case AF_INET6:
        return ntohs(((struct sockaddr_in6 *) sa)->sin6_port);

    default:
        return 0;
    }
}


void
pt_inet_set_port(struct sockaddr *sa, in_port_t port)
{
    switch (sa->sa_family) {

    case AF_INET:
        ((struct sockaddr_in *) sa)->sin_port = htons(port);
        break;

    case AF_INET6:
        ((struct sockaddr_in6 *) sa)->sin6_port = htons(port);
        break;

    default:
        break;
    }
}


/* True for 0.0.0.0 and [::]. */
pt_uint_t
pt_inet_wildcard(struct sockaddr *sa)
{
    switch (sa->sa_family) {

    case AF_INET:
        return ((struct sockaddr_in *) sa)->sin_addr.s_addr == htonl(INADDR_ANY);

    case AF_INET6:
        return IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *) sa)->sin6_addr)
               ? 1 : 0;

    default:
        return 0;
    }
}


/* ---- CIDR (allow, deny, geo) ---- */

/* nginx's dotted quad: exactly four decimal parts, each up to 255 (an
 * empty part counts as 0).  INADDR_NONE, so also 255.255.255.255, means
 * not an IPv4 address, as in nginx. */
in_addr_t
pt_inet_addr(u_char *text, size_t len)
{
    u_char     *p;
    in_addr_t   addr;
    pt_uint_t   octet, n;

    addr = 0;
    octet = 0;
    n = 0;

    for (p = text; p < text + len; p++) {
        if (*p >= '0' && *p <= '9') {
            octet = octet * 10 + (*p - '0');
            if (octet > 255) {
                return INADDR_NONE;
            }
            continue;
        }

        if (*p == '.') {
            addr = (addr << 8) + octet;
            octet = 0;
            n++;
            continue;
        }

        return INADDR_NONE;
    }

    if (n != 3) {
        return INADDR_NONE;
    }

    return htonl((addr << 8) + octet);
}

static pt_int_t
pt_inet6_addr(u_char *text, size_t len, u_char *addr)
{
    char  buf[PT_INET6_ADDRSTRLEN + 1];

    if (len == 0 || len > PT_INET6_ADDRSTRLEN) {
        return PT_ERROR;
    }

    pt_memcpy(buf, text, len);
    buf[len] = '\0';

    return (inet_pton(AF_INET6, buf, addr) == 1) ? PT_OK : PT_ERROR;
}

/* Masks an IPv6 address to shift bits; PT_DONE when host bits were set. */
static pt_int_t
pt_cidr_mask6(pt_cidr_t *cidr, pt_uint_t shift)
{
    pt_int_t   rc;
    pt_uint_t  i, s;

    rc = PT_OK;

    for (i = 0; i < 16; i++) {
        s = (shift > 8) ? 8 : shift;
        shift -= s;

        cidr->mask6[i] = (u_char) (0xffu << (8 - s));

        if (cidr->addr6[i] & ~cidr->mask6[i]) {
            rc = PT_DONE;
            cidr->addr6[i] &= cidr->mask6[i];
        }
    }

    return rc;
}

/* "ADDRESS" or "ADDRESS/BITS", IPv4 or IPv6 (pt_inet.h). */
pt_int_t
pt_ptocidr(pt_str_t *text, pt_cidr_t *cidr)
{
    u_char    *slash, *last;
    size_t     len;
    pt_int_t   shift;

    last = text->data + text->len;
    slash = pt_strlchr(text->data, last, '/');
    len = (slash ? slash : last) - text->data;

    cidr->addr = pt_inet_addr(text->data, len);

    if (cidr->addr != INADDR_NONE) {
        cidr->family = AF_INET;
        cidr->mask = 0xffffffff;

    } else if (pt_inet6_addr(text->data, len, cidr->addr6) == PT_OK) {
        cidr->family = AF_INET6;
        pt_memset(cidr->mask6, 0xff, 16);

    } else {
        return PT_ERROR;
    }

    if (slash == NULL) {
        return PT_OK;
    }

    shift = pt_atoi(slash + 1, last - slash - 1);

    if (shift == PT_ERROR || shift > ((cidr->family == AF_INET) ? 32 : 128)) {
        return PT_ERROR;
    }

    if (cidr->family == AF_INET6) {
        return pt_cidr_mask6(cidr, (pt_uint_t) shift);
    }

    /* a shift by 32 is undefined in C: /0 is the empty mask */
    cidr->mask = shift ? htonl((uint32_t) (0xffffffffu << (32 - shift))) : 0;

    if ((cidr->addr & cidr->mask) == cidr->addr) {
        return PT_OK;
    }

    cidr->addr &= cidr->mask;

    return PT_DONE;
}
