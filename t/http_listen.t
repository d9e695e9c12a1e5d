#!/usr/bin/perl

# listen: an address and port, a bare port (the wildcard) next to a
# specific address of the same port, unix: sockets, [::1] and [::] with
# ipv6only=, default_server, and the socket options backlog=, rcvbuf=,
# sndbuf=, deferred and reuseport as the kernel reports them (ss), plus the
# configuration errors.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::IP;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(sleep time);
use Portico::Test;

my $t = Portico::Test->new->has(qw/http_rewrite/)->has_daemon('ss');

# IPv6 on the loopback, if the machine has it.
my $ipv6 = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0, Listen => 1,
    Proto => 'tcp') ? 1 : 0;

my $v6 = $ipv6 ? <<'EOF' : '';
    server {
        listen [::1]:%%PORT_8086%%;
        listen [::]:%%PORT_8087%% ipv6only=off;
        listen [::]:%%PORT_8088%%;
        return 200 "v6 addr=$server_addr remote=$remote_addr";
    }
EOF

$t->write_file('portico.conf', <<"EOF");
worker_processes 2;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name first;
        return 200 "first";
    }
    server {
        listen 127.0.0.1:%%PORT_8080%% default_server;
        server_name second;
        return 200 "second";
    }

    server {
        listen %%PORT_8081%%;
        return 200 "wildcard addr=\$server_addr";
    }
    server {
        listen 127.0.0.1:%%PORT_8081%%;
        return 200 "specific";
    }

    server {
        listen unix:%%TESTDIR%%/http.sock;
        server_name unixhost;
        return 200 "unix remote=\$remote_addr port=[\$server_port] host=\$host";
    }

    server {
        listen 127.0.0.1:%%PORT_8082%% backlog=37 rcvbuf=64k sndbuf=32k;
        listen 127.0.0.1:%%PORT_8083%% deferred;
        listen 127.0.0.1:%%PORT_8084%%;
        listen 127.0.0.1:%%PORT_8085%% reuseport;
        return 200 "options";
    }
$v6
}
EOF

$t->run(ports => [map { ['127.0.0.1', $t->port($_)] } 8080, 8082 .. 8085]);
$t->plan(22);

sub body {
    my ($host, %o) = @_;
    return http_body(http("GET / HTTP/1.1\r\nHost: $host\r\nConnection: close\r\n\r\n", %o)) // '';
}

sub ss_listen {
    my ($port) = @_;
    return grep { /^LISTEN/ } split /\n/, `ss -Hltnm 'sport = :$port' 2>/dev/null`
        . `ss -Hltn 'sport = :$port' 2>/dev/null`;
}

###############################################################################
# addresses and servers

is(body('first'), 'first', 'by name on an address');
is(body('unknown'), 'second', 'default_server, though not the first');
is(body('x', port => $t->port(8081)), 'specific', 'a specific address beats the wildcard of its port');
is(body('x', port => $t->port(8081), addr => '127.0.0.2'), 'wildcard addr=127.0.0.2',
    'the wildcard serves the other addresses');

my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $t->path('http.sock'));
ok($s, 'unix: socket accepts');
is(http_body(http("GET / HTTP/1.1\r\nHost: UnixHost\r\nConnection: close\r\n\r\n", socket => $s)),
    'unix remote=unix: port=[] host=unixhost', 'unix: socket serves');

SKIP: {
    skip 'no curl', 1 unless `curl --version 2>/dev/null` =~ /^curl/;
    my $out = `curl -s --max-time 5 --unix-socket '${\ $t->path('http.sock')}' http://unixhost/`;
    is($out, 'unix remote=unix: port=[] host=unixhost', 'unix: socket with curl --unix-socket');
}

###############################################################################
# IPv6

SKIP: {
    skip 'no IPv6 on the loopback', 5 unless $ipv6;

    is(body('x', addr => '::1', port => $t->port(8086)), 'v6 addr=::1 remote=::1', '[::1]:port');
    is(body('x', addr => '::1', port => $t->port(8087)), 'v6 addr=::1 remote=::1', '[::]:port over IPv6');
    like(body('x', addr => '127.0.0.1', port => $t->port(8087)),
        qr/^v6 addr=(::ffff:)?127\.0\.0\.1 remote=(::ffff:)?127\.0\.0\.1$/,
        'ipv6only=off: IPv4 clients too');
    is(body('x', addr => '::1', port => $t->port(8088)), 'v6 addr=::1 remote=::1', '[::] (ipv6only on)');
    ok(!http_connect(addr => '127.0.0.1', port => $t->port(8088), timeout => 2),
        'ipv6only on by default: no IPv4 clients');
}

###############################################################################
# socket options

my @l = ss_listen($t->port(8082));
ok((grep { /^LISTEN\s+\d+\s+37\s/ } @l), 'backlog=37 (the listen queue ss shows)');

my ($mem) = `ss -Hltm 'sport = :${\ $t->port(8082)}'` =~ /skmem:\(([^)]*)\)/;
my ($rb) = ($mem // '') =~ /\brb(\d+)/;
my ($tb) = ($mem // '') =~ /\btb(\d+)/;
is($rb, 2 * 65536, 'rcvbuf=64k (the kernel doubles it)');
is($tb, 2 * 32768, 'sndbuf=32k (the kernel doubles it)');

@l = ss_listen($t->port(8084));
ok((grep { /^LISTEN\s+\d+\s+511\s/ } @l), 'the default backlog is 511');

is(scalar(() = `ss -Hltn 'sport = :${\ $t->port(8085)}'` =~ /^LISTEN/mg), 2,
    'reuseport: one listening socket per worker');

# TCP_DEFER_ACCEPT: a connection that sends nothing is not accepted (it
# stays SYN-RECV on the server side), while the plain port accepts it.
my $dp = $t->port(8083);
my $pp = $t->port(8084);
my $c1 = http_connect(port => $dp);
my $c2 = http_connect(port => $pp);
my ($syn, $est) = (0, 0);
for (1 .. 40) {
    $syn = () = `ss -Htn state syn-recv 'sport = :$dp'` =~ /\S/g;
    $est = () = `ss -Htn state established 'sport = :$pp'` =~ /\S/g;
    last if $syn && $est;
    sleep 0.05;
}
ok($syn, 'deferred: a silent connection is not accepted yet');
ok($est, 'not deferred: it is');
http_send($c1, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
is(http_body(http_read_all($c1)), 'options', 'deferred: served once the request arrives');
close $c1;
close $c2;

###############################################################################
# configuration errors

sub conf_error {
    my ($text) = @_;
    $t->write_file('bad.conf', "events { }\nhttp { $text }\n");
    my ($st, $out, $err) = $t->run_cmd3('-t', '-p', $t->testdir . '/', '-c', $t->path('bad.conf'));
    return ($st // -1) != 0 ? $err : "accepted\n";
}

my $bp = $t->port(8090);
like(conf_error("server { listen 127.0.0.1:$bp default_server; }"
    . " server { listen 127.0.0.1:$bp default_server; }"),
    qr/a duplicate default server for 127\.0\.0\.1:$bp/, 'two default servers');
like(conf_error("server { listen 127.0.0.1:$bp backlog=0; }"),
    qr/invalid value "backlog=0"/, 'a bad backlog');
