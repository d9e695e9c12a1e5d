#!/usr/bin/perl

# Access by client address (allow, deny) and the core directives around
# it (satisfy, limit_except), with nginx 1.22's semantics: rules in order,
# first match wins; addresses, CIDR, IPv6, IPv4-mapped IPv6 clients, unix:
# and all; the rule lists per address family; a level with rules replaces
# its parent's; the 403 and its error log line; realip changing the
# decision; internal redirects checked again; satisfy any; limit_except
# (GET implies HEAD, the block applies to the methods not listed, proxy_pass
# still answers the others); and the configuration errors with nginx's
# messages.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::IP;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use Portico::Test;

my $t = Portico::Test->new->has(qw/http_access http_realip http_rewrite http_proxy/);

# IPv6 on the loopback, if the machine has it.
my $ipv6 = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0, Listen => 1,
    Proto => 'tcp') ? 1 : 0;

my $v6 = $ipv6 ? <<'EOF' : '';
    server {
        listen [::1]:%%PORT_8081%%;
        root %%TESTDIR%%/html;

        location /v6/ { allow ::1; deny all; }
        location /v6net/ { deny ::/64; allow all; }
        location /v6other/ { allow 2001:db8::/32; deny all; }
        location /v4only/ { deny 127.0.0.1; deny 10.0.0.0/8; }
        location /v6deny/ { allow 127.0.0.1; deny all; }
    }

    # a dual-stack socket: IPv4 clients arrive as ::ffff:127.0.0.1
    server {
        listen [::]:%%PORT_8082%% ipv6only=off;
        root %%TESTDIR%%/html;

        location /m4deny/ { deny 127.0.0.1; allow all; }
        location /m4allow/ { allow 127.0.0.0/8; deny all; }
        location /m6rule/ { deny ::ffff:127.0.0.1; }
        location /m6ignored/ { allow 127.0.0.1; deny ::ffff:127.0.0.1; deny all; }
    }
EOF

$t->write_file('portico.conf', <<"EOF");
worker_processes 1;
events { }
http {
    deny all;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        listen unix:%%TESTDIR%%/unix.sock;
        server_name localhost;
        root %%TESTDIR%%/html;

        allow all;

        location / { }
        location /allow_first/ { allow 127.0.0.1; deny all; }
        location /deny_first/ { deny 127.0.0.1; allow all; }
        location /cidr_in/ { deny 10.0.0.0/8; allow 127.0.0.0/8; deny all; }
        location /cidr_out/ { allow 10.0.0.0/8; allow 127.0.0.2/32; deny all; }
        location /cidr_zero/ { deny 0.0.0.0/0; }
        location /deny_all/ { deny all; }
        location /allow_all/ { allow all; deny 127.0.0.1; }
        location /other/ { allow 10.0.0.1; }
        location /nested/ {
            deny 127.0.0.1;
            location /nested/inner/ { }
            location /nested/open/ { allow 127.0.0.1; }
        }

        location /unix_allow/ { allow unix:; deny all; }
        location /unix_deny/ { deny unix:; allow all; }
        location /v4rules/ { deny 127.0.0.1; deny 10.0.0.0/8; }

        location /realip/ {
            set_real_ip_from 127.0.0.1;
            real_ip_header X-Forwarded-For;
            deny 192.0.2.1;
            allow all;
        }
        location /realip_only/ {
            set_real_ip_from 127.0.0.1;
            real_ip_header X-Forwarded-For;
            allow 203.0.113.5;
            deny all;
        }

        location /any/ { satisfy any; deny all; }
        location /any_ok/ { satisfy any; allow 127.0.0.1; deny all; }

        location /rw/ { rewrite ^ /deny_all/f last; }
        location /rw_out/ { deny all; rewrite ^ /allow_first/f last; }
        location /ep/ { error_page 404 = /deny_all/f; }

        location /le/ { limit_except GET { deny all; } }
        location /le_allow/ { limit_except GET { allow 127.0.0.1; deny all; } }
        location /le_case/ { limit_except get post { deny all; } }
        location /le_head/ { limit_except HEAD { deny all; } }
        location /le_loc/ { deny all; limit_except GET { allow all; } }
        location /le_return/ { return 200 "returned"; limit_except GET { deny all; } }
        location /le_proxy/ {
            proxy_pass http://127.0.0.1:%%PORT_8083%%;
            limit_except GET { deny all; }
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8084%%;
        root %%TESTDIR%%/html;

        location / { }
        location /open/ { allow 127.0.0.1; }
        location /other/ { allow 10.0.0.1; }
    }

    server {
        listen 127.0.0.1:%%PORT_8083%%;
        allow all;
        location / { return 200 "backend \$request_method"; }
    }
$v6
}
EOF

for my $d (qw/x allow_first deny_first cidr_in cidr_out cidr_zero deny_all allow_all other
    nested nested\/inner nested\/open unix_allow unix_deny v4rules realip realip_only any any_ok
    allow_first le le_allow le_case le_head le_loc v6 v6net v6other v4only v6deny m4deny m4allow
    m6rule m6ignored open/)
{
    $t->write_file("html/$d/f", "file $d");
}
$t->write_file('html/f', 'file');

$t->run(ports => [map { ['127.0.0.1', $t->port($_)] } 8080, 8083, 8084]);

# Status of METHOD PATH over a new connection.
sub status {
    my ($path, %o) = @_;
    my $m = $o{method} // 'GET';
    my $h = join '', map "$_\r\n", @{$o{headers} || []};
    my $body = $m eq 'POST' || $m eq 'PUT' ? "Content-Length: 0\r\n" : '';
    my $raw = http("$m $path HTTP/1.1\r\nHost: localhost\r\n$h$body"
        . "Connection: close\r\n\r\n", %o);
    return http_status($raw) // 'none';
}

sub unix_status {
    my ($path) = @_;
    my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $t->path('unix.sock'))
        or return 'no connection';
    return http_status(http("GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        socket => $s)) // 'none';
}

###############################################################################
# rules in order, first match wins

is(status('/f'), 200, 'server level allow all replaces the http level deny all');
is(status('/allow_first/f'), 200, 'allow before deny all: allowed');
is(status('/deny_first/f'), 403, 'deny before allow all: denied');
is(status('/cidr_in/f'), 200, 'CIDR: 127.0.0.0/8 matches');
is(status('/cidr_out/f'), 403, 'CIDR: 10.0.0.0/8 and 127.0.0.2/32 do not match');
is(status('/cidr_zero/f'), 403, '0.0.0.0/0 matches everything');
is(status('/deny_all/f'), 403, 'deny all');
is(status('/allow_all/f'), 200, 'allow all, first');
is(status('/other/f'), 200, 'no rule matches: allowed');

###############################################################################
# levels: rules replace the parent's

is(status('/x/f', port => $t->port(8084)), 403, 'a server without rules inherits http');
is(status('/open/f', port => $t->port(8084)), 200, 'a location with rules replaces them');
is(status('/other/f', port => $t->port(8084)), 200,
    'replaced, not added to: the inherited deny all is gone');
is(status('/nested/f'), 403, 'location rule');
is(status('/nested/inner/f'), 403, 'a nested location inherits its parent\'s rules');
is(status('/nested/open/f'), 200, 'a nested location with rules replaces them');

###############################################################################
# the 403 and the error log line

{
    my $raw = http("GET /deny_all/f HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    is(http_status($raw), 403, 'denied: status 403');
    like(http_body($raw), qr{<title>403 Forbidden</title>}, 'the built-in 403 page');
    select undef, undef, undef, 0.2;
    like($t->read_file('error.log'),
        qr{\[error\]\ \d+\#\d+:\ \*\d+\ access\ forbidden\ by\ rule,
           \ client:\ 127\.0\.0\.1,\ server:\ localhost,
           \ request:\ "GET\ /deny_all/f\ HTTP/1\.1",\ host:\ "localhost"$}mx,
        'error log: access forbidden by rule, with client, server, request, host');
}

###############################################################################
# realip: the rules see the real client address

is(status('/realip/f'), 200, 'realip: no header: the peer is allowed');
is(status('/realip/f', headers => ['X-Forwarded-For: 192.0.2.1']), 403,
    'realip: X-Forwarded-For 192.0.2.1 is denied');
is(status('/realip/f', headers => ['X-Forwarded-For: 192.0.2.2']), 200,
    'realip: another address is allowed');
is(status('/realip_only/f'), 403, 'realip: the peer itself is denied');
is(status('/realip_only/f', headers => ['X-Forwarded-For: 203.0.113.5']), 200,
    'realip: the allowed real address');
select undef, undef, undef, 0.2;
like($t->read_file('error.log'), qr{access forbidden by rule, client: 192\.0\.2\.1,},
    'realip: the error line names the real address');

###############################################################################
# satisfy any (with only this module: a deny still refuses)

is(status('/any/f'), 403, 'satisfy any: deny all refuses');
is(status('/any_ok/f'), 200, 'satisfy any: allow');
select undef, undef, undef, 0.2;
my @any = $t->read_file('error.log') =~ m{access forbidden by rule, client: [^\n]*"GET /any/f }g;
is(scalar @any, 1, 'satisfy any: the error line written once');

###############################################################################
# rewrites and internal redirects: the new location's rules

is(status('/rw/f'), 403, 'rewrite ... last into a denied location');
is(status('/rw_out/f'), 200, 'rewrite (before access) out of a denied location');
is(status('/ep/missing'), 403, 'error_page redirect into a denied location: checked again');

###############################################################################
# unix: clients

is(unix_status('/unix_allow/f'), 200, 'allow unix:');
is(unix_status('/unix_deny/f'), 403, 'deny unix:');
is(unix_status('/deny_all/f'), 403, 'deny all covers unix:');
is(unix_status('/v4rules/f'), 200, 'IPv4 rules alone do not concern a unix: client');
is(status('/unix_deny/f'), 200, 'deny unix: does not concern a TCP client');

###############################################################################
# limit_except

is(status('/le/f'), 200, 'limit_except GET: GET passes');
is(status('/le/f', method => 'HEAD'), 200, 'limit_except GET: HEAD passes');
is(status('/le/f', method => 'POST'), 403, 'limit_except GET: POST refused');
is(status('/le/f', method => 'PUT'), 403, 'limit_except GET: PUT refused');
is(status('/le/f', method => 'DELETE'), 403, 'limit_except GET: DELETE refused');
is(status('/le/f', method => 'FOO'), 403, 'limit_except GET: an unknown method refused');
is(http_body(http("GET /le_return/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")),
    'returned', 'limit_except: a listed method runs the location\'s return');
is(status('/le_return/', method => 'POST'), 403,
    'limit_except: the block\'s requests do not run the location\'s return (nginx)');
is(status('/le_allow/f', method => 'POST'), 405,
    'limit_except GET { allow 127.0.0.1; ... }: POST passes (the static 405)');
is(status('/le_case/f', method => 'POST'), 405, 'limit_except get post: POST passes');
is(status('/le_case/f', method => 'PUT'), 403, 'limit_except get post: PUT refused');
is(status('/le_head/f', method => 'HEAD'), 200, 'limit_except HEAD: HEAD passes');
is(status('/le_head/f'), 403, 'limit_except HEAD: GET refused');
is(status('/le_loc/f'), 403, 'a listed method gets the location\'s rules');
is(status('/le_loc/f', method => 'POST'), 405, 'an unlisted method gets the block\'s rules');
is(http_body(http("GET /le_proxy/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")),
    'backend GET', 'limit_except in a proxied location: GET proxied');
is(status('/le_proxy/', method => 'POST'), 403, 'limit_except in a proxied location: POST refused');

###############################################################################
# IPv6, IPv4-mapped IPv6

SKIP: {
    skip 'no IPv6 on the loopback', 13 unless $ipv6;

    my %v6 = (addr => '::1', port => $t->port(8081));
    is(status('/v6/f', %v6), 200, 'allow ::1');
    is(status('/v6net/f', %v6), 403, 'deny ::/64');
    is(status('/v6other/f', %v6), 403, 'IPv6 CIDR that does not match');
    is(status('/v4only/f', %v6), 200, 'IPv4 rules alone do not concern an IPv6 client');
    is(status('/v6deny/f', %v6), 403, 'all covers IPv6');

    my %m = (port => $t->port(8082));
    is(status('/m4deny/f', %m), 403, 'IPv4-mapped client: deny 127.0.0.1');
    is(status('/m4allow/f', %m), 200, 'IPv4-mapped client: allow 127.0.0.0/8');
    is(status('/m6rule/f', %m), 403,
        'IPv4-mapped client, no IPv4 rules: the IPv6 rules apply');
    is(status('/m6ignored/f', %m), 200,
        'IPv4-mapped client with IPv4 rules: the IPv6 rules do not');
    is(status('/m4deny/f', %m, addr => '::1'), 200, 'dual-stack socket, IPv6 client');

    is(status('/v6/f', %m, addr => '::1'), 403,
        'a location without rules inherits the http level deny all (IPv6)');
    select undef, undef, undef, 0.2;
    like($t->read_file('error.log'),
        qr{access forbidden by rule, client: ::1, server: , request: "GET /v6net/f HTTP/1\.1"},
        'error log: an IPv6 client');
    like($t->read_file('error.log'),
        qr{access\ forbidden\ by\ rule,\ client:\ (::ffff:)?127\.0\.0\.1,\ server:\ ,
           \ request:\ "GET\ /m4deny/f}x,
        'error log: an IPv4-mapped client');
}

###############################################################################
# configuration errors and warnings (nginx's messages)

sub conf_test {
    my ($body) = @_;
    $t->write_file('bad.conf', <<"EOF");
events { }
http { server { listen 127.0.0.1:%%PORT_8085%%; $body } }
EOF
    my ($st, $out) = $t->run_cmd('-t', '-p', $t->testdir . '/', '-c', $t->path('bad.conf'));
    return ($st, $out // '');
}

my @bad = (
    ['allow 1.2.3;', qr/\[emerg\] .*invalid parameter "1\.2\.3"/],
    ['deny 256.1.1.1;', qr/invalid parameter "256\.1\.1\.1"/],
    ['allow 255.255.255.255;', qr/invalid parameter "255\.255\.255\.255"/],
    ['allow 1.2.3.4/33;', qr/invalid parameter "1\.2\.3\.4\/33"/],
    ['allow 1.2.3.4/;', qr/invalid parameter "1\.2\.3\.4\/"/],
    ['allow ::1/129;', qr/invalid parameter "::1\/129"/],
    ['allow 1::2::3;', qr/invalid parameter "1::2::3"/],
    ['allow [::1];', qr/invalid parameter "\[::1\]"/],
    ['allow unix:/x;', qr/invalid parameter "unix:\/x"/],
    ['allow 1.2.3.4:80;', qr/invalid parameter "1\.2\.3\.4:80"/],
    ['allow ALL;', qr/invalid parameter "ALL"/],
    ['deny all 1;', qr/invalid number of arguments in "deny" directive/],
    ['satisfy some;', qr/invalid value "some"/],
    ['location / { if ($uri) { allow all; } }', qr/"allow" directive is not allowed here/],
    ['limit_except GET { deny all; }', qr/"limit_except" directive is not allowed here/],
    ['location / { limit_except TRACE { deny all; } }', qr/invalid method "TRACE"/],
    ['location / { limit_except GET FOO { deny all; } }', qr/invalid method "FOO"/],
    ['location / { limit_except { deny all; } }',
        qr/invalid number of arguments in "limit_except" directive/],
    ['location / { limit_except GET { } limit_except POST { } }',
        qr/"limit_except" directive is duplicate/],
    ['location / { limit_except GET { satisfy any; } }',
        qr/"satisfy" directive is not allowed here/],
    ['location / { limit_except GET { root /tmp; } }', qr/"root" directive is not allowed here/],
    ['location / { limit_except GET { return 403; } }', qr/"return" directive is not allowed here/],
);

for my $b (@bad) {
    my ($st, $out) = conf_test($b->[0]);
    ok($st && $out =~ $b->[1], "-t fails: $b->[0]") or diag $out;
}

for my $good ('allow 01.2.3.4; deny ::/0; allow 2001:db8::/32; satisfy ANY;',
    'location / { limit_except get HEAD patch { allow all; deny all; access_log off; } }')
{
    my ($st, $out) = conf_test($good);
    ok(defined $st && $st == 0 && $out !~ /\[(?:warn|emerg)\]/, "-t passes: $good") or diag $out;
}

{
    my ($st, $out) = conf_test('allow 10.1.2.3/8; deny 2001:db8::1/32; allow 1.2.3.4/0;');
    ok(defined $st && $st == 0, 'host bits set: a warning only');
    like($out, qr/\[warn\] .*low address bits of 10\.1\.2\.3\/8 are meaningless/,
        'warning: IPv4');
    like($out, qr/low address bits of 2001:db8::1\/32 are meaningless/, 'warning: IPv6');
    like($out, qr/low address bits of 1\.2\.3\.4\/0 are meaningless/, 'warning: /0');
}

$t->done_testing;
