#!/usr/bin/perl

# Request bodies over TLS: a large body read into memory or a temporary
# file and sent back (TLS reads that fill the buffer, file buffers sent
# through the TLS write buffer), a streamed body in chunks, and several
# such requests on one keepalive connection.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::SSL;

my $t = Portico::Test->new->has(qw/http_ssl http_echo/)->has_daemon('openssl');
my $d = $t->testdir;

ssl_self_signed($d, 'ec', type => 'ec');

$t->write_file('portico.conf', <<'EOF2');
worker_processes 1;
events { }
http {
    client_max_body_size 8m;
    client_body_buffer_size 64k;
    server {
        listen 127.0.0.1:%%PORT_8443%% ssl;
        ssl_certificate ec.crt;
        ssl_certificate_key ec.key;
        location /echo { echo_request_body; }
        location /stream { echo_request_body stream; }
    }
}
EOF2

$t->run;
$t->plan(7);

my $port = $t->port(8443);
my $body = join('', map { sprintf("%08d", $_) } 1 .. 262144);    # 2 MiB

sub body_of { my ($r) = @_; my $i = index($r, "\r\n\r\n"); return $i < 0 ? '' : substr($r, $i + 4) }

my $s = https_connect(port => $port);
my $r = https_request($s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: "
    . length($body) . "\r\n\r\n$body", timeout => 20);
like($r, qr/^HTTP\/1\.1 200 .*X-Body: file/s, '2 MiB body over TLS: into a temporary file');
ok(body_of($r) eq $body, '2 MiB body over TLS: sent back intact');

my $small = 'x' x 1000;
$r = https_request($s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n$small");
like($r, qr/X-Body: memory/, 'next request on the same connection: in memory');
ok(body_of($r) eq $small, 'small body intact');

my $chunked = join('', map { sprintf("%x\r\n%s\r\n", 4096, 'y' x 4096) } 1 .. 64) . "0\r\n\r\n";
$r = https_request($s, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n$chunked",
    timeout => 20);
ok(body_of($r) eq 'y' x (4096 * 64), 'chunked body over TLS');

$r = https_get('/stream', port => $port);
like($r, qr/^HTTP\/1\.[01] 200 /, 'streamed echo without a body');

# small enough for the socket buffers: this client writes all, then reads
my $b256 = substr($body, 0, 262144);
my $s2 = https_connect(port => $port);
print $s2 "POST /stream HTTP/1.0\r\nHost: x\r\nContent-Length: " . length($b256) . "\r\n\r\n$b256";
my $all = '';
eval {
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 20;
    while (sysread($s2, $all, 65536, length $all)) { }
    alarm 0;
};
ok(body_of($all) eq $b256, '256 KiB streamed back over TLS');

$t->stop;
