/*
 * inet.c: unit tests for the address code: pt_parse_url() in its listen,
 * upstream and uri forms, its error words, pt_sock_ntop(),
 * pt_cmp_sockaddr() and the port and wildcard helpers.
 */

#include "portico.h"
#include "tap.h"

static pt_pool_t  *pool;


/* Parses s into u with the given mode; returns pt_parse_url()'s result. */
static pt_int_t
parse(pt_url_t *u, const char *s, pt_uint_t listen, pt_uint_t uri_part,
    in_port_t default_port)
{
    pt_memzero(u, sizeof(pt_url_t));

    u->url.data = (u_char *) s;
    u->url.len = strlen(s);
    u->listen = listen;
    u->uri_part = uri_part;
    u->default_port = default_port;

    return pt_parse_url(pool, u);
}


static int
str_is(pt_str_t *s, const char *want)
{
    return s->len == strlen(want) && memcmp(s->data, want, s->len) == 0;
}


/* The "addr:port" text of the first resolved address. */
static int
name_is(pt_url_t *u, const char *want)
{
    return u->naddrs > 0 && str_is(&u->addrs[0].name, want);
}


static int
err_is(pt_url_t *u, const char *want)
{
    return u->err != NULL && strcmp(u->err, want) == 0;
}


static void
test_ipv4(void)
{
    pt_url_t  u;

    tap_is_int(parse(&u, "127.0.0.1:8080", 1, 0, 80), PT_OK, "ipv4:port");
    tap_ok(u.family == AF_INET && u.port == 8080 && u.naddrs == 1,
           "ipv4: family, port, one address");
    tap_ok(str_is(&u.host, "127.0.0.1") && str_is(&u.port_text, "8080"),
           "ipv4: host and port text");
    tap_ok(name_is(&u, "127.0.0.1:8080") && !u.wildcard && !u.no_port,
           "ipv4: address name");
    tap_ok(u.sockaddr.sockaddr_in.sin_port == htons(8080)
           && u.sockaddr.sockaddr_in.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
           "ipv4: sockaddr");

    tap_is_int(parse(&u, "8080", 1, 0, 80), PT_OK, "listen: bare port");
    tap_ok(u.wildcard && u.port == 8080 && name_is(&u, "0.0.0.0:8080"),
           "listen: bare port is *:port");

    tap_is_int(parse(&u, "*:81", 1, 0, 80), PT_OK, "listen: *:port");
    tap_ok(u.wildcard && name_is(&u, "0.0.0.0:81"), "listen: * is wildcard");

    tap_is_int(parse(&u, "0.0.0.0:82", 1, 0, 80), PT_OK, "listen: 0.0.0.0");
    tap_ok(u.wildcard, "0.0.0.0 is wildcard");

    tap_is_int(parse(&u, "10.1.2.3", 0, 0, 80), PT_OK, "no port, default");
    tap_ok(u.no_port && u.port == 80 && name_is(&u, "10.1.2.3:80"),
           "no port: default port used");

    tap_is_int(parse(&u, "10.1.2.3", 0, 0, 0), PT_ERROR, "no default port");
    tap_ok(err_is(&u, "no port"), "error: no port");
}


static void
test_ipv4_errors(void)
{
    pt_url_t  u;

    tap_is_int(parse(&u, "127.0.0.1:0", 1, 0, 80), PT_ERROR, "port 0");
    tap_ok(err_is(&u, "invalid port"), "port 0: invalid port");

    tap_is_int(parse(&u, "127.0.0.1:65536", 1, 0, 80), PT_ERROR, "port 65536");
    tap_ok(err_is(&u, "invalid port"), "port 65536: invalid port");

    tap_is_int(parse(&u, "127.0.0.1:http", 1, 0, 80), PT_ERROR, "port text");
    tap_ok(err_is(&u, "invalid port"), "non-numeric port: invalid port");

    tap_is_int(parse(&u, "70000", 1, 0, 80), PT_ERROR, "bare port too big");
    tap_ok(err_is(&u, "invalid port"), "bare port too big: invalid port");

    tap_is_int(parse(&u, "127.0.0.1:80/x", 1, 0, 80), PT_ERROR,
               "listen with uri");
    tap_ok(err_is(&u, "invalid host"), "listen with uri: invalid host");

    tap_is_int(parse(&u, ":80", 0, 0, 80), PT_ERROR, "empty host");
    tap_ok(err_is(&u, "no host"), "empty host: no host");
}


static void
test_uri_part(void)
{
    pt_url_t  u;

    tap_is_int(parse(&u, "127.0.0.1:8081/api/v1", 0, 1, 80), PT_OK,
               "uri part");
    tap_ok(str_is(&u.uri, "/api/v1") && u.port == 8081
           && str_is(&u.host, "127.0.0.1"), "uri part split off");

    tap_is_int(parse(&u, "127.0.0.1/x:1", 0, 1, 80), PT_OK,
               "colon inside the uri");
    tap_ok(u.no_port && u.port == 80 && str_is(&u.uri, "/x:1"),
           "colon after slash is part of the uri");

    tap_is_int(parse(&u, "127.0.0.1?a=b", 0, 1, 80), PT_OK, "args");
    tap_ok(str_is(&u.uri, "?a=b"), "args start the uri");
}


static void
test_ipv6(void)
{
    pt_url_t  u;

    tap_is_int(parse(&u, "[::1]:8080", 1, 0, 80), PT_OK, "ipv6:port");
    tap_ok(u.family == AF_INET6 && u.port == 8080 && !u.wildcard,
           "ipv6: family and port");
    tap_ok(str_is(&u.host, "[::1]") && name_is(&u, "[::1]:8080"),
           "ipv6: host keeps brackets, name");

    tap_is_int(parse(&u, "[::]:80", 1, 0, 80), PT_OK, "ipv6 wildcard");
    tap_ok(u.wildcard, "[::] is wildcard");

    tap_is_int(parse(&u, "[fe80::1]", 0, 0, 8000), PT_OK, "ipv6 no port");
    tap_ok(u.no_port && u.port == 8000, "ipv6: default port");

    tap_is_int(parse(&u, "[::1]:80/p", 0, 1, 80), PT_OK, "ipv6 uri");
    tap_ok(str_is(&u.uri, "/p"), "ipv6: uri split off");

    tap_is_int(parse(&u, "[::1", 1, 0, 80), PT_ERROR, "ipv6 unclosed");
    tap_ok(err_is(&u, "invalid host"), "ipv6 unclosed: invalid host");

    tap_is_int(parse(&u, "[::1]x", 1, 0, 80), PT_ERROR, "ipv6 junk");
    tap_ok(err_is(&u, "invalid host"), "ipv6 junk: invalid host");

    tap_is_int(parse(&u, "[zz::1]:80", 1, 0, 80), PT_ERROR, "ipv6 bad");
    tap_ok(err_is(&u, "invalid IPv6 address"), "bad ipv6 address");

    tap_is_int(parse(&u, "[::1]:99999", 1, 0, 80), PT_ERROR, "ipv6 bad port");
    tap_ok(err_is(&u, "invalid port"), "ipv6: invalid port");
}


static void
test_unix(void)
{
    pt_url_t  u;

    tap_is_int(parse(&u, "unix:/tmp/pt.sock", 1, 0, 80), PT_OK, "unix");
    tap_ok(u.family == AF_UNIX && str_is(&u.host, "/tmp/pt.sock")
           && u.naddrs == 1
           && strcmp(u.sockaddr.sockaddr_un.sun_path, "/tmp/pt.sock") == 0,
           "unix: path");

    tap_is_int(parse(&u, "unix:/tmp/pt.sock:/uri", 0, 1, 80), PT_OK,
               "unix with uri");
    tap_ok(str_is(&u.host, "/tmp/pt.sock") && str_is(&u.uri, "/uri"),
           "unix: uri after colon");

    tap_is_int(parse(&u, "unix:", 1, 0, 80), PT_ERROR, "unix no path");
    tap_ok(err_is(&u, "no path in the unix domain socket"), "unix: no path");
}


static void
test_names(void)
{
    pt_uint_t  i, found;
    pt_url_t   u;

    tap_is_int(parse(&u, "localhost:8080", 1, 0, 80), PT_OK, "localhost");

    found = 0;
    for (i = 0; i < u.naddrs; i++) {
        if (str_is(&u.addrs[i].name, "127.0.0.1:8080")) {
            found = 1;
        }
    }

    tap_ok(found && u.port == 8080, "localhost resolves to 127.0.0.1:8080");

    tap_is_int(parse(&u, "no-such-host.invalid:80", 0, 0, 80), PT_ERROR,
               "unknown host");
    tap_ok(err_is(&u, "host not found"), "unknown host: host not found");

    pt_memzero(&u, sizeof(pt_url_t));
    u.url.data = (u_char *) "backend";
    u.url.len = sizeof("backend") - 1;
    u.default_port = 80;
    u.no_resolve = 1;

    tap_is_int(pt_parse_url(pool, &u), PT_OK, "no_resolve");
    tap_ok(u.naddrs == 0 && str_is(&u.host, "backend") && u.port == 80,
           "no_resolve keeps the name unresolved");
}


static void
test_ntop_cmp(void)
{
    u_char               buf[PT_SOCKADDR_STRLEN];
    size_t               n;
    struct sockaddr_in   a, b;
    struct sockaddr_in6  a6;
    struct sockaddr_un   un;

    pt_memzero(&a, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(80);
    a.sin_addr.s_addr = htonl(0x0a000001);

    n = pt_sock_ntop((struct sockaddr *) &a, sizeof(a), buf, sizeof(buf), 1);
    tap_ok(n == 11 && memcmp(buf, "10.0.0.1:80", 11) == 0, "ntop ipv4:port");

    n = pt_sock_ntop((struct sockaddr *) &a, sizeof(a), buf, sizeof(buf), 0);
    tap_ok(n == 8 && memcmp(buf, "10.0.0.1", 8) == 0, "ntop ipv4");

    n = pt_sock_ntop((struct sockaddr *) &a, sizeof(a), buf, 4, 1);
    tap_ok(n == 4 && memcmp(buf, "10.0", 4) == 0, "ntop truncates");

    pt_memzero(&a6, sizeof(a6));
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons(443);
    a6.sin6_addr.s6_addr[15] = 1;

    n = pt_sock_ntop((struct sockaddr *) &a6, sizeof(a6), buf, sizeof(buf), 1);
    tap_ok(n == 9 && memcmp(buf, "[::1]:443", 9) == 0, "ntop ipv6:port");

    n = pt_sock_ntop((struct sockaddr *) &a6, sizeof(a6), buf, sizeof(buf), 0);
    tap_ok(n == 3 && memcmp(buf, "::1", 3) == 0, "ntop ipv6 bare");

    pt_memzero(&un, sizeof(un));
    un.sun_family = AF_UNIX;
    strcpy(un.sun_path, "/run/a.sock");

    n = pt_sock_ntop((struct sockaddr *) &un, sizeof(un), buf, sizeof(buf), 1);
    tap_ok(n == 16 && memcmp(buf, "unix:/run/a.sock", 16) == 0, "ntop unix");

    n = pt_sock_ntop((struct sockaddr *) &un, sizeof(sa_family_t), buf,
                     sizeof(buf), 1);
    tap_ok(n == 5 && memcmp(buf, "unix:", 5) == 0, "ntop unnamed unix");

    b = a;
    tap_is_int(pt_cmp_sockaddr((struct sockaddr *) &a, sizeof(a),
                               (struct sockaddr *) &b, sizeof(b), 1),
               PT_OK, "cmp equal");

    b.sin_port = htons(81);
    tap_is_int(pt_cmp_sockaddr((struct sockaddr *) &a, sizeof(a),
                               (struct sockaddr *) &b, sizeof(b), 1),
               PT_DECLINED, "cmp port differs");
    tap_is_int(pt_cmp_sockaddr((struct sockaddr *) &a, sizeof(a),
                               (struct sockaddr *) &b, sizeof(b), 0),
               PT_OK, "cmp ignoring port");
    tap_is_int(pt_cmp_sockaddr((struct sockaddr *) &a, sizeof(a),
                               (struct sockaddr *) &a6, sizeof(a6), 0),
               PT_DECLINED, "cmp family differs");

    tap_is_int(pt_inet_get_port((struct sockaddr *) &a6), 443, "get port");
    pt_inet_set_port((struct sockaddr *) &a6, 8443);
    tap_is_int(pt_inet_get_port((struct sockaddr *) &a6), 8443, "set port");
    tap_is_int(pt_inet_get_port((struct sockaddr *) &un), 0, "unix port 0");

    tap_ok(!pt_inet_wildcard((struct sockaddr *) &a), "10.0.0.1 not wildcard");
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    tap_ok(pt_inet_wildcard((struct sockaddr *) &a), "0.0.0.0 wildcard");
}


int
main(void)
{
    pt_pagesize = (pt_uint_t) getpagesize();

    pool = pt_create_pool(4096, NULL);
    if (pool == NULL) {
        printf("Bail out! no pool\n");
        return 1;
    }

    tap_plan(78);

    test_ipv4();
    test_ipv4_errors();
    test_uri_part();
    test_ipv6();
    test_unix();
    test_names();
    test_ntop_cmp();

    pt_destroy_pool(pool);

    if (tap_n != 78) {
        printf("# planned 78, ran %d\n", tap_n);
    }

    return tap_done();
}
