#!/usr/bin/perl

# TLS to upstreams: proxy_pass https://, certificate verification
# (proxy_ssl_verify, proxy_ssl_trusted_certificate, proxy_ssl_name,
# proxy_ssl_verify_depth) with 502 on failure, SNI (proxy_ssl_server_name),
# protocols, a client certificate to the upstream (proxy_ssl_certificate),
# its key encrypted and read with proxy_ssl_password_file (a wrong password
# there fails -t), session reuse (proxy_ssl_session_reuse), keepalive over
# TLS, and the
# [warn] of "portico -t" for every https upstream that is not verified.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::SSL;

my $t = Portico::Test->new->has(qw/http_ssl http_proxy/)->has_daemon('openssl');
my $d = $t->testdir;

ssl_ca($d, 'ca');
ssl_ca_sign($d, 'ca', 'backend', cn => 'backend.test', names => ['backend.test', '127.0.0.1']);
ssl_ca_sign($d, 'ca', 'client', cn => 'portico-client');
ssl_ca_sign($d, 'ca', 'revoked', cn => 'backend.test', names => ['backend.test', '127.0.0.1']);
ssl_ca_revoke($d, 'ca', 'revoked');
ssl_ca_crl($d, 'ca');
ssl_ca($d, 'other');
ssl_openssl('pkey', '-in', "$d/client.key", '-aes256', '-passout', 'pass:secret',
    '-out', "$d/encclient.key");
$t->write_file('client-pass.txt', "wrong\nsecret\n");
$t->write_file('bad-pass.txt', "wrong\n");

my $conf = <<'EOF2';
worker_processes 1;
error_log %%TESTDIR%%/error.log info;
events { }
http {
    access_log off;

    upstream pool {
        server 127.0.0.1:%%PORT_8081%%;
        keepalive 4;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        location /noverify/ {
            proxy_pass https://127.0.0.1:%%PORT_8081%%/;
        }
        location /verify/ {
            proxy_pass https://127.0.0.1:%%PORT_8081%%/;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate ca.crt;
        }
        location /name/ {
            proxy_pass https://127.0.0.1:%%PORT_8081%%/;
            proxy_ssl_verify on;
            proxy_ssl_verify_depth 2;
            proxy_ssl_trusted_certificate ca.crt;
            proxy_ssl_name backend.test;
            proxy_ssl_server_name on;
        }
        location /badname/ {
            proxy_pass https://127.0.0.1:%%PORT_8081%%/;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate ca.crt;
            proxy_ssl_name other.test;
        }
        location /badca/ {
            proxy_pass https://127.0.0.1:%%PORT_8081%%/;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate other.crt;
        }
        location /crl/ {
            proxy_pass https://127.0.0.1:%%PORT_8081%%/;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate ca.crt;
            proxy_ssl_crl ca.crl;
        }
        location /revoked/ {
            proxy_pass https://127.0.0.1:%%PORT_8083%%/;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate ca.crt;
            proxy_ssl_crl ca.crl;
        }
        location /tls12/ {
            proxy_pass https://127.0.0.1:%%PORT_8081%%/;
            proxy_ssl_protocols TLSv1.2;
            proxy_ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256;
        }
        location /cert/ {
            proxy_pass https://127.0.0.1:%%PORT_8082%%/;
            proxy_ssl_certificate client.crt;
            proxy_ssl_certificate_key client.key;
        }
        location /enccert/ {
            proxy_pass https://127.0.0.1:%%PORT_8082%%/;
            proxy_ssl_certificate client.crt;
            proxy_ssl_certificate_key encclient.key;
            proxy_ssl_password_file client-pass.txt;
        }
        location /nocert/ {
            proxy_pass https://127.0.0.1:%%PORT_8082%%/;
        }
        location /reuse/ {
            proxy_pass https://127.0.0.1:%%PORT_8081%%/;
        }
        location /noreuse/ {
            proxy_pass https://127.0.0.1:%%PORT_8081%%/;
            proxy_ssl_session_reuse off;
        }
        location /ka/ {
            proxy_pass https://pool/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF2

$t->write_file('portico.conf', $conf);

# -t: one [warn] per unverified https upstream (8 locations here)
my ($st, $out, $err) = $t->run_cmd3('-t', '-p', "$d/", '-c', $t->path('portico.conf'),
    '-e', "$d/cmd.log");

$t->run_daemon(\&https_daemon, port => $t->port(8081),
    cert => "$d/backend.crt", key => "$d/backend.key");
$t->run_daemon(\&https_daemon, port => $t->port(8082),
    cert => "$d/backend.crt", key => "$d/backend.key", ca => "$d/ca.crt", require => 1);
$t->run_daemon(\&https_daemon, port => $t->port(8083),
    cert => "$d/revoked.crt", key => "$d/revoked.key");
$t->wait_for_port($t->port(8081), 5);
$t->wait_for_port($t->port(8083), 5);
$t->wait_for_port($t->port(8082), 5);

$t->run;
$t->plan(23);

my @warn = $err =~ /\[warn\] the certificate of the upstream of "proxy_pass https:\/\/\.\.\." in \S+portico\.conf:\d+ is not verified/g;
is($st, 0, '-t passes');
is(scalar @warn, 8, '-t warns for each of the 8 unverified https upstreams');

# the encrypted key with a password file that has no right password
(my $badconf = $conf) =~ s/client-pass\.txt/bad-pass.txt/;
$t->write_file('bad.conf', $badconf);
my ($bst, undef, $berr) = $t->run_cmd3('-t', '-p', "$d/", '-c', $t->path('bad.conf'),
    '-e', "$d/cmd.log");
isnt($bst, 0, '-t fails: no password in proxy_ssl_password_file opens the key');
like($berr, qr/\[emerg\].*encclient\.key/, 'the error names the key');

sub get { my ($uri) = @_; return http_get($uri, timeout => 10) // '' }

my $r = get('/noverify/a');
like($r, qr/^HTTP\/1\.1 200 .*uri=\/a sni= client= reused=0 proto=TLSv1_3/s,
    'https upstream, not verified, no SNI by default');

$r = get('/verify/b');
like($r, qr/^HTTP\/1\.1 200 .*uri=\/b /s, 'verified: the address matches the certificate');

$r = get('/name/c');
like($r, qr/^HTTP\/1\.1 200 .*uri=\/c sni=backend\.test /s,
    'verified by proxy_ssl_name, sent as SNI with proxy_ssl_server_name');

$t->expect_errors(qr/upstream SSL certificate/);

$r = get('/badname/d');
like($r, qr/^HTTP\/1\.1 502 /, 'name mismatch: 502');
$r = get('/badca/e');
like($r, qr/^HTTP\/1\.1 502 /, 'unknown CA: 502');

my $log = $t->read_file('error.log');
like($log, qr/\[error\].*upstream SSL certificate does not match "other\.test"/,
    'name mismatch logged');
like($log, qr/\[error\].*upstream SSL certificate verify error: \(\d+:/,
    'verify error logged');

$r = get('/crl/e2');
like($r, qr/^HTTP\/1\.1 200 .*uri=\/e2 /s, 'proxy_ssl_crl: a certificate not revoked passes');
$r = get('/revoked/e3');
like($r, qr/^HTTP\/1\.1 502 /, 'proxy_ssl_crl: a revoked certificate: 502');
like($t->read_file('error.log'), qr/upstream SSL certificate verify error: \(23:certificate revoked\)/,
    'revocation logged');

$r = get('/tls12/f');
like($r, qr/^HTTP\/1\.1 200 .*proto=TLSv1_2/s, 'proxy_ssl_protocols TLSv1.2');

$r = get('/cert/g');
like($r, qr/^HTTP\/1\.1 200 .*client=portico-client/s, 'client certificate to the upstream');

$r = get('/enccert/g');
like($r, qr/^HTTP\/1\.1 200 .*client=portico-client/s,
    'client certificate with an encrypted key and proxy_ssl_password_file (second line)');

$t->expect_errors(qr/\[error\]/);
$r = get('/nocert/h');
like($r, qr/^HTTP\/1\.1 502 /, 'upstream requires a client certificate, none given: 502');

get('/reuse/1');
my @reused = map { get("/reuse/$_") =~ /reused=1/ ? 1 : 0 } 2 .. 4;
is("@reused", '1 1 1', 'proxy_ssl_session_reuse: sessions resumed');

@reused = map { get("/noreuse/$_") =~ /reused=1/ ? 1 : 0 } 1 .. 3;
is("@reused", '0 0 0', 'proxy_ssl_session_reuse off: full handshakes');

my @conn = map { (get("/ka/$_") =~ /conn=(\d+)\.(\d+)/)[0] // 'none' } 1 .. 4;
my %c = map { $_ => 1 } @conn;
is(scalar keys %c, 1, 'keepalive over TLS: one upstream connection for 4 requests');
like(get('/ka/5'), qr/conn=\d+\.5/, 'keepalive over TLS: fifth request on it');

$r = get('/noverify/after');
like($r, qr/^HTTP\/1\.1 200 /, 'still working');

$t->stop;
