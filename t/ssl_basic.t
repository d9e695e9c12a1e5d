#!/usr/bin/perl

# TLS termination basics: TLSv1.2 and TLSv1.3, ssl_protocols and
# ssl_ciphers, RSA and ECDSA certificates side by side (the client's
# capabilities choose), ALPN http/1.1, the $ssl_* variables with $https and
# $scheme, keepalive and a large response over TLS (ssl_buffer_size), plain
# HTTP on a TLS port (400), and garbage or truncated handshakes (closed,
# logged at [info], the server unharmed).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::SSL;
use IO::Socket::SSL;

my $t = Portico::Test->new->has(qw/http_ssl http_rewrite/)->has_daemon('openssl', 'curl');

my $d = $t->testdir;
ssl_self_signed($d, 'rsa', cn => 'rsa-cert', names => ['localhost']);
ssl_self_signed($d, 'ec', cn => 'ec-cert', names => ['localhost'], type => 'ec');
ssl_ca($d, 'ca');
ssl_ca_sign($d, 'ca', 'leaf', cn => 'leaf-cert', names => ['localhost']);
{
    # the certificate file carries the chain: leaf, then the CA
    local $/;
    open my $l, '<', "$d/leaf.crt" or die;
    open my $c, '<', "$d/ca.crt" or die;
    open my $o, '>', "$d/chain.crt" or die;
    my ($leaf, $ca) = (scalar <$l>, scalar <$c>);
    print $o $leaf, $ca;
}

open my $fh, '>', "$d/big.bin" or die;
print $fh join('', map { sprintf("%07d\n", $_) } 1 .. 131072);    # 1 MiB
close $fh;

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
error_log %%TESTDIR%%/error.log info;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8443%% ssl;
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        ssl_certificate rsa.crt;
        ssl_certificate_key rsa.key;
        ssl_certificate ec.crt;
        ssl_certificate_key ec.key;

        location / {
            return 200 "proto=$ssl_protocol cipher=$ssl_cipher https=$https scheme=$scheme alpn=$ssl_alpn_protocol curve=$ssl_curve sni=$ssl_server_name reused=$ssl_session_reused\n";
        }
        location /big.bin { root %%TESTDIR%%; }
    }

    server {
        listen 127.0.0.1:%%PORT_8444%% ssl;
        ssl_protocols TLSv1.2;
        ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256;
        ssl_prefer_server_ciphers on;
        ssl_buffer_size 4k;
        ssl_session_tickets off;
        ssl_certificate rsa.crt;
        ssl_certificate_key rsa.key;
        location / { return 200 "proto=$ssl_protocol cipher=$ssl_cipher\n"; }
        location /id { return 200 "id=$ssl_session_id\n"; }
        location /big.bin { root %%TESTDIR%%; }
    }

    server {
        listen 127.0.0.1:%%PORT_8446%% ssl;
        ssl_certificate chain.crt;
        ssl_certificate_key leaf.key;
        location / { return 200 "chain\n"; }
    }

    server {
        listen 127.0.0.1:%%PORT_8445%% ssl;
        ssl_handshake_timeout 1s;
        ssl_certificate rsa.crt;
        ssl_certificate_key rsa.key;
        location / { return 200 "ok\n"; }
    }
}
EOF

$t->run;
$t->plan(34);

my $p1 = $t->port(8443);
my $p2 = $t->port(8444);

###############################################################################
# protocols

my ($r, $s) = https_get('/', port => $p1);
like($r, qr/proto=TLSv1\.3 /, 'default: TLSv1.3 negotiated');
like($r, qr/https=on scheme=https /, '$https and $scheme on TLS');
like($r, qr/cipher=TLS_\w+ /, '$ssl_cipher');
like($r, qr/curve=\w+ /, '$ssl_curve');
like($r, qr/sni= reused=\./, 'no SNI sent, session not reused');

$r = https_get('/', port => $p1, ssl => { SSL_version => 'TLSv1_2' });
like($r, qr/proto=TLSv1\.2 cipher=ECDHE-/, 'TLSv1.2 on request');

$r = http_get('/', port => $t->port(8080));
like($r, qr/https= scheme=http /, '$https and $scheme on plain HTTP');

$r = https_get('/', port => $p2, ssl => { SSL_version => 'TLSv1_3' });
ok(!defined $r, 'ssl_protocols TLSv1.2: TLSv1.3 refused');

$r = https_get('/', port => $p2);
like($r, qr/proto=TLSv1\.2 cipher=ECDHE-RSA-AES128-GCM-SHA256/,
    'ssl_protocols and ssl_ciphers');

$r = https_get('/id', port => $p2);
like($r, qr/id=[0-9A-F]{64}\n/, '$ssl_session_id: the id in upper-case hex');

###############################################################################
# RSA and ECDSA side by side

($r, $s) = https_get('/', port => $p1,
    ssl => { SSL_version => 'TLSv1_2', SSL_cipher_list => 'ECDHE-ECDSA-AES128-GCM-SHA256' });
is($s && $s->peer_certificate('cn'), 'ec-cert', 'TLSv1.2 ECDSA suite: ECDSA certificate');

($r, $s) = https_get('/', port => $p1,
    ssl => { SSL_version => 'TLSv1_2', SSL_cipher_list => 'ECDHE-RSA-AES128-GCM-SHA256' });
is($s && $s->peer_certificate('cn'), 'rsa-cert', 'TLSv1.2 RSA suite: RSA certificate');

my $out = s_client(port => $p1, args => ['-tls1_3', '-sigalgs', 'ECDSA+SHA256']);
like($out, qr/subject=CN\s*=\s*ec-cert/, 'TLSv1.3 with ECDSA signatures: ECDSA certificate');

$out = s_client(port => $p1, args => ['-tls1_3', '-sigalgs', 'RSA-PSS+SHA256']);
like($out, qr/subject=CN\s*=\s*rsa-cert/, 'TLSv1.3 with RSA signatures: RSA certificate');

$out = s_client(port => $t->port(8446), args => ['-CAfile', "$d/ca.crt", '-verify_return_error']);
like($out, qr/^ 1 s:CN\s*=\s*Portico Test CA ca/m, 'the chain from the certificate file is sent');
like($out, qr/Verify return code: 0 \(ok\)/, 'the client verifies it against the CA');

###############################################################################
# ALPN

$r = https_get('/', port => $p1, ssl => { SSL_alpn_protocols => ['h2', 'http/1.1'] });
like($r, qr/alpn=http\/1\.1 /, 'ALPN: http/1.1 chosen');

$r = https_get('/', port => $p1, ssl => { SSL_alpn_protocols => ['h2'] });
ok(!defined $r, 'ALPN: a client offering only h2 is refused');

###############################################################################
# keepalive, large responses, curl

$s = https_connect(port => $p1);
my @ok;
for my $i (1 .. 3) {
    my $x = https_request($s, "GET /k$i HTTP/1.1\r\nHost: localhost\r\n\r\n");
    push @ok, $i if $x =~ /^HTTP\/1\.1 200 .*proto=TLSv1\.3/s;
}
is("@ok", '1 2 3', 'three requests on one TLS connection');

my $big = do { local $/; open my $b, '<', "$d/big.bin" or die; <$b> };
$r = https_get('/big.bin', port => $p1, timeout => 20);
ok(defined $r && substr($r, index($r, "\r\n\r\n") + 4) eq $big, '1 MiB file over TLS');
$r = https_get('/big.bin', port => $p2, timeout => 20);
ok(defined $r && substr($r, index($r, "\r\n\r\n") + 4) eq $big,
    '1 MiB file over TLS, ssl_buffer_size 4k');

$out = `curl -sk --max-time 10 https://127.0.0.1:$p1/curl 2>&1`;
like($out, qr/proto=TLSv1\.3 .*alpn=http\/1\.1/, 'curl over TLSv1.3');
$out = `curl -sk --max-time 10 --tlsv1.2 --tls-max 1.2 https://127.0.0.1:$p1/curl 2>&1`;
like($out, qr/proto=TLSv1\.2 /, 'curl over TLSv1.2');

###############################################################################
# plain HTTP and garbage on the TLS port

$r = http("GET / HTTP/1.0\r\nHost: localhost\r\n\r\n", port => $p1);
like($r, qr/^HTTP\/1\.1 400 .*The plain HTTP request was sent to HTTPS port/s,
    'plain HTTP to the TLS port: 400 page');

$t->expect_errors(qr/\[info\]/);

my $sock = http_connect(port => $p1);
http_send($sock, "\x16\x03\x01\x00\x10" . ("\xff" x 16));
ok(http_wait_close($sock, 5), 'garbage TLS record: connection closed');

$sock = http_connect(port => $p1);
http_send($sock, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" . ("\x00" x 20));
close $sock;

$sock = http_connect(port => $p1);
http_send($sock, "\x80\x80\x80\x80" x 64);
ok(http_wait_close($sock, 5), 'garbage with the high bit: connection closed');

$sock = http_connect(port => $p1);
http_send($sock, join('', map { chr(int(rand(256))) } 1 .. 4096) . "\r\n\r\n");
ok(http_wait_close($sock, 5), 'random bytes: connection closed');

$r = https_get('/after', port => $p1);
like($r, qr/proto=TLSv1\.3/, 'server still answers after garbage');

###############################################################################
# handshake timeout

use Time::HiRes qw(time);

my $p3 = $t->port(8445);
my $t0 = time;
$sock = http_connect(port => $p3);
ok(http_wait_close($sock, 5), 'nothing sent: closed by ssl_handshake_timeout');
my $el = time - $t0;
ok($el > 0.7 && $el < 4, sprintf('after about 1s (%.1fs)', $el));

$sock = http_connect(port => $p3);
http_send($sock, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
ok(http_wait_close($sock, 5), 'a stalled ClientHello: closed by ssl_handshake_timeout');

select(undef, undef, undef, 0.3);
my $log = $t->read_file('error.log');
like($log, qr/\[info\].*SSL_do_handshake\(\) failed/, 'bad handshake logged at [info]');
like($log, qr/\[info\].*peer closed connection in SSL handshake/,
    'truncated handshake logged at [info]');
like($log, qr/\[info\].*client timed out.*while SSL handshaking/,
    'handshake timeout logged at [info]');

$t->stop;
