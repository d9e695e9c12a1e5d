#!/usr/bin/perl

# The real client address: set_real_ip_from (addresses, CIDR, IPv6,
# unix:), real_ip_header X-Real-IP / X-Forwarded-For / any header,
# real_ip_recursive, $realip_remote_addr and $realip_remote_port, the
# access log and error log showing the new address, untrusted peers left
# alone, values that do not parse, and the address restored between
# requests of a keepalive connection.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::UNIX;
use Portico::Test;

my $t = Portico::Test->new->has(qw/http_realip http_rewrite/);

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    log_format realip '$remote_addr $realip_remote_addr $uri';
    access_log %%TESTDIR%%/access.log realip;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        listen unix:%%TESTDIR%%/unix.sock;
        server_name localhost;

        set_real_ip_from 127.0.0.0/8;
        set_real_ip_from unix:;

        location / {
            return 200 "$remote_addr|$remote_port|$realip_remote_addr|$binary_remote_addr";
        }
        location /xff/ {
            alias %%TESTDIR%%/html/;
            add_header X-Addr $remote_addr;
            real_ip_header X-Forwarded-For;
        }
        location /xffr/ {
            alias %%TESTDIR%%/html/;
            add_header X-Addr $remote_addr;
            real_ip_header X-Forwarded-For;
            real_ip_recursive on;
            set_real_ip_from 10.0.0.0/8;
            set_real_ip_from 127.0.0.1;
            set_real_ip_from 2001:db8::/32;
        }
        location /custom/ {
            alias %%TESTDIR%%/html/;
            add_header X-Addr $remote_addr;
            real_ip_header CF-Connecting-IP;
        }
        location /untrusted/ {
            alias %%TESTDIR%%/html/;
            add_header X-Addr $remote_addr;
            set_real_ip_from 192.0.2.0/24;
            real_ip_header X-Forwarded-For;
        }
        location /realport {
            return 200 "$realip_remote_port";
        }
        location /missing {
            return 404;
        }
    }
}
EOF

$t->write_file('html/f', 'file');
$t->run;

sub get {
    my ($path, @h) = @_;
    my $h = join '', map "$_\r\n", @h;
    my $raw = http("GET $path HTTP/1.1\r\nHost: localhost\r\n$h"
        . "Connection: close\r\n\r\n");
    return http_header($raw, 'X-Addr') if $path =~ m{^/\w+/f$};
    return http_body($raw);
}

###############################################################################
# X-Real-IP (the default header)

my $b = get('/', 'X-Real-IP: 192.0.2.7');
my ($addr, $port, $orig, $bin) = split /\|/, $b // '', 4;
is($addr, '192.0.2.7', 'X-Real-IP: $remote_addr');
is($orig, '127.0.0.1', '$realip_remote_addr: the peer');
is($bin, pack('C4', 192, 0, 2, 7), '$binary_remote_addr follows');

is((split /\|/, get('/', 'X-Real-IP: 192.0.2.7:8443') // '')[0], '192.0.2.7',
    'X-Real-IP with a port: the address');
is((split /\|/, get('/', 'X-Real-IP: 192.0.2.7:8443') // '')[1], '8443',
    'X-Real-IP with a port: $remote_port');
is((split /\|/, get('/', 'X-Real-IP: 2001:db8::5') // '')[0], '2001:db8::5', 'IPv6');
is((split /\|/, get('/', 'X-Real-IP: [2001:db8::6]:99') // '')[0], '2001:db8::6',
    'IPv6 in brackets with a port');
is((split /\|/, get('/', 'X-Real-IP: not-an-address') // '')[0], '127.0.0.1',
    'a value that does not parse: unchanged');
is((split /\|/, get('/') // '')[0], '127.0.0.1', 'no header: unchanged');
is((split /\|/, get('/', 'X-Forwarded-For: 192.0.2.9') // '')[0], '127.0.0.1',
    'another header than the configured one: unchanged');
like(get('/realport', 'X-Real-IP: 192.0.2.7:1'), qr/^\d+$/, '$realip_remote_port');

###############################################################################
# X-Forwarded-For

is(get('/xff/f', 'X-Forwarded-For: 192.0.2.1, 10.0.0.1'), '10.0.0.1',
    'X-Forwarded-For: the last entry');
is(get('/xff/f', 'X-Forwarded-For: 192.0.2.1', 'X-Forwarded-For: 198.51.100.3'),
    '198.51.100.3', 'several fields: the last entry of the last one');
is(get('/xffr/f', 'X-Forwarded-For: 192.0.2.1, 198.51.100.3, 10.1.2.3, 10.0.0.1'),
    '198.51.100.3', 'recursive: trusted entries skipped from the right');
is(get('/xffr/f', 'X-Forwarded-For: 10.9.9.9, 10.0.0.1'), '10.9.9.9',
    'recursive: all trusted: the leftmost');
is(get('/xffr/f', 'X-Forwarded-For: 192.0.2.1, 2001:db8::1'), '192.0.2.1',
    'recursive: a trusted IPv6 proxy');
is(get('/xffr/f', 'X-Forwarded-For: 192.0.2.1,,10.0.0.1 ,'), '192.0.2.1',
    'recursive: empty entries and spaces');
is(get('/xffr/f', 'X-Forwarded-For: 192.0.2.1', 'X-Forwarded-For: 10.0.0.2'),
    '192.0.2.1', 'recursive: across fields');

###############################################################################
# any header, untrusted peers

is(get('/custom/f', 'CF-Connecting-IP: 203.0.113.4'), '203.0.113.4', 'any header name');
is(get('/untrusted/f', 'X-Forwarded-For: 203.0.113.4'), '127.0.0.1',
    'a peer outside set_real_ip_from: unchanged');

###############################################################################
# unix: peers

{
    my $s = IO::Socket::UNIX->new(Peer => $t->testdir . '/unix.sock');
    ok($s, 'unix socket connects') or diag $!;
    my $raw = $s ? http("GET / HTTP/1.1\r\nHost: localhost\r\nX-Real-IP: 192.0.2.77\r\n"
        . "Connection: close\r\n\r\n", socket => $s) : undef;
    is((split /\|/, http_body($raw) // '')[0], '192.0.2.77', 'set_real_ip_from unix:');
}

###############################################################################
# keepalive: every request starts from the peer again

my @k = http_keepalive([
    "GET / HTTP/1.1\r\nHost: localhost\r\nX-Real-IP: 192.0.2.50\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "GET /missing HTTP/1.1\r\nHost: localhost\r\nX-Real-IP: 192.0.2.51\r\n\r\n",
]);
is((split /\|/, http_body($k[0]) // '')[0], '192.0.2.50', 'keepalive: first request changed');
is((split /\|/, http_body($k[1]) // '')[0], '127.0.0.1', 'keepalive: next one is the peer');

select undef, undef, undef, 0.3;
my $log = $t->read_file('access.log');
like($log, qr{^192\.0\.2\.50 127\.0\.0\.1 /$}m, 'access log: the real address');
like($log, qr{^192\.0\.2\.51 127\.0\.0\.1 /missing$}m, 'access log: a 404 too');

###############################################################################
# configuration errors

$t->write_file('bad.conf', <<'EOF');
events { }
http { server { listen 127.0.0.1:%%PORT_8081%%; set_real_ip_from 300.1.1.1; } }
EOF
my ($st, $out) = $t->run_cmd('-t', '-p', $t->testdir . '/', '-c', $t->testdir . '/bad.conf');
like($out, qr/invalid address "300\.1\.1\.1"/, 'bad address: config error');

$t->write_file('bad.conf', <<'EOF');
events { }
http { server { listen 127.0.0.1:%%PORT_8081%%; set_real_ip_from 10.0.0.0/33; } }
EOF
($st, $out) = $t->run_cmd('-t', '-p', $t->testdir . '/', '-c', $t->testdir . '/bad.conf');
like($out, qr/invalid network mask/, 'bad mask: config error');

$t->done_testing;
