#!/usr/bin/perl

# Client certificates: ssl_verify_client on | optional | optional_no_ca
# with ssl_client_certificate, ssl_verify_depth and ssl_crl; nginx's 400
# pages ("No required SSL certificate was sent", "The SSL certificate
# error"); the $ssl_client_* variables; and 421 when a Host asks for
# another server than the one whose certificate rules SNI chose.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::SSL;

my $t = Portico::Test->new->has(qw/http_ssl http_rewrite/)->has_daemon('openssl');
my $d = $t->testdir;

ssl_self_signed($d, 'server');
ssl_ca($d, 'ca');
my $serial = ssl_ca_sign($d, 'ca', 'client', cn => 'client');
ssl_ca_sign($d, 'ca', 'revoked', cn => 'revoked');
ssl_ca_revoke($d, 'ca', 'revoked');
ssl_ca_crl($d, 'ca');
ssl_self_signed($d, 'stranger', cn => 'stranger');

my $fp = ssl_openssl('x509', '-in', "$d/client.crt", '-noout', '-fingerprint', '-sha1');
$fp =~ s/.*=//; $fp =~ s/[:\s]//g; $fp = lc $fp;

$t->write_file('portico.conf', <<'EOF2');
worker_processes 1;
error_log %%TESTDIR%%/error.log info;
events { }
http {
    ssl_certificate server.crt;
    ssl_certificate_key server.key;

    server {
        listen 127.0.0.1:%%PORT_8443%% ssl;
        ssl_verify_client on;
        ssl_client_certificate ca.crt;
        ssl_crl ca.crl;
        location / {
            return 200 "verify=$ssl_client_verify s_dn=$ssl_client_s_dn i_dn=$ssl_client_i_dn serial=$ssl_client_serial fp=$ssl_client_fingerprint\n";
        }
        location /cert { return 200 "[$ssl_client_cert]"; }
        location /raw { return 200 "[$ssl_client_raw_cert]"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8444%% ssl;
        ssl_verify_client optional;
        ssl_verify_depth 2;
        ssl_client_certificate ca.crt;
        location / { return 200 "verify=$ssl_client_verify s_dn=$ssl_client_s_dn\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8445%% ssl;
        ssl_verify_client optional_no_ca;
        location / { return 200 "verify=$ssl_client_verify s_dn=$ssl_client_s_dn\n"; }
    }

    server {
        listen 127.0.0.1:%%PORT_8446%% ssl;
        server_name secure.example;
        ssl_verify_client on;
        ssl_trusted_certificate ca.crt;
        location / { return 200 "server=secure verify=$ssl_client_verify\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8446%% ssl;
        server_name open.example;
        location / { return 200 "server=open\n"; }
    }
}
EOF2

$t->run;
$t->plan(20);

sub get {
    my ($port, $cert, %o) = @_;
    my %ssl = $cert ? (SSL_cert_file => "$d/$cert.crt", SSL_key_file => "$d/$cert.key") : ();
    %ssl = (%ssl, %{delete $o{ssl} // {}});
    return https_get($o{path} // '/', port => $t->port($port), ssl => \%ssl, %o) // '';
}

$t->expect_errors(qr/\[info\]/);

###############################################################################
# on

my $r = get(8443, 'client');
like($r, qr/^HTTP\/1\.1 200 .*verify=SUCCESS s_dn=CN=client i_dn=CN=Portico Test CA ca /s,
    'on: verified client certificate');
like($r, qr/serial=\Q$serial\E /, '$ssl_client_serial');
like($r, qr/fp=$fp$/m, '$ssl_client_fingerprint');

$r = get(8443, 'client', ssl => { SSL_version => 'TLSv1_2' });
like($r, qr/verify=SUCCESS s_dn=CN=client /, 'on: verified over TLSv1.2 too');

$r = get(8443, undef);
like($r, qr/^HTTP\/1\.1 400 .*No required SSL certificate was sent/s, 'on: no certificate: 400');

$r = get(8443, 'revoked');
like($r, qr/^HTTP\/1\.1 400 .*The SSL certificate error/s, 'on: revoked certificate: 400');

$r = get(8443, 'stranger');
like($r, qr/^HTTP\/1\.1 400 .*The SSL certificate error/s, 'on: unknown CA: 400');

$r = get(8443, 'client', path => '/cert');
like($r, qr/\[-----BEGIN CERTIFICATE-----\n\t[A-Za-z0-9+\/=]+\n\t.*-----END CERTIFICATE-----\]/s,
    '$ssl_client_cert: PEM, lines after the first start with a tab');
my $pem = do { local $/; open my $f, '<', "$d/client.crt" or die; <$f> };
$r = get(8443, 'client', path => '/raw');
ok(index($r, "[$pem]") >= 0, '$ssl_client_raw_cert: the PEM as is');

my $log = $t->read_file('error.log');
like($log, qr/\[info\].*client sent no required SSL certificate/, 'no certificate logged');
like($log, qr/\[info\].*client SSL certificate verify error: \(23:certificate revoked\)/,
    'revocation logged');

###############################################################################
# optional, optional_no_ca

$r = get(8444, undef);
like($r, qr/^HTTP\/1\.1 200 .*verify=NONE s_dn=\n/s, 'optional: no certificate is fine');
$r = get(8444, 'client');
like($r, qr/verify=SUCCESS s_dn=CN=client/, 'optional: verified certificate');
$r = get(8444, 'revoked');
like($r, qr/verify=SUCCESS s_dn=CN=revoked/, 'optional without ssl_crl: revoked is not known');
$r = get(8444, 'stranger');
like($r, qr/^HTTP\/1\.1 400 .*The SSL certificate error/s, 'optional: unknown CA: 400');

$r = get(8445, 'stranger');
like($r, qr/^HTTP\/1\.1 200 .*verify=FAILED:self.signed certificate s_dn=CN=stranger/s,
    'optional_no_ca: unknown CA passes, $ssl_client_verify says why');
$r = get(8445, undef);
like($r, qr/verify=NONE/, 'optional_no_ca: no certificate');

###############################################################################
# SNI and Host

$r = get(8446, 'client', sni => 'secure.example', host => 'secure.example');
like($r, qr/server=secure verify=SUCCESS/, 'SNI server with client certificates');
$r = get(8446, 'client', sni => 'secure.example', host => 'open.example');
like($r, qr/^HTTP\/1\.1 421 /, 'Host of another server after a verified SNI: 421');
$r = get(8446, undef, sni => 'open.example', host => 'open.example');
like($r, qr/server=open/, 'the other server needs no certificate');

$t->stop;
