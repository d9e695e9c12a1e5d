#!/usr/bin/perl

# TLS configuration errors are caught by "portico -t": a missing or
# unreadable key or certificate, a key that does not match its
# certificate, a wrong or missing password for an encrypted key, a
# "listen ... ssl" server without a certificate, bad ssl_session_cache and
# ticket key files.  A good config with ssl_password_file passes.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::SSL;

my $t = Portico::Test->new->has(qw/http_ssl/)->has_daemon('openssl');
my $d = $t->testdir;

ssl_self_signed($d, 'one');
ssl_self_signed($d, 'two');
ssl_self_signed($d, 'enc', password => 'secret');
$t->write_file('pass.txt', "wrong\nsecret\n");
$t->write_file('bad-pass.txt', "wrong\n");
ssl_ticket_key($d, 'good.key', 80);
ssl_ticket_key($d, 'short.key', 32);
ssl_openssl('dhparam', '-dsaparam', '-out', "$d/dh.pem", 2048);
$t->write_file('bad-dh.pem', "not a parameter file\n");

sub conf {
    my ($srv) = @_;
    return <<"EOF2";
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8443%% ssl;
        $srv
    }
}
EOF2
}

sub test_conf {
    my ($srv) = @_;
    $t->write_file('test.conf', conf($srv));
    return $t->run_cmd3('-t', '-p', "$d/", '-c', $t->path('test.conf'),
        '-e', "$d/cmd.log");
}

sub fails {
    my ($srv, $re, $desc) = @_;
    my ($st, $out, $err) = test_conf($srv);
    ok($st == 1 && $err =~ $re, $desc) or diag("status $st:\n$err");
}

sub passes {
    my ($srv, $desc) = @_;
    my ($st, $out, $err) = test_conf($srv);
    ok($st == 0 && $err =~ /test is successful/, $desc) or diag("status $st:\n$err");
}

$t->plan(16);

passes('ssl_certificate one.crt; ssl_certificate_key one.key;', 'good config');
passes('ssl_certificate enc.crt; ssl_certificate_key enc.key; ssl_password_file pass.txt;',
    'encrypted key with ssl_password_file (second password)');
passes('ssl_certificate one.crt; ssl_certificate_key one.key;
        ssl_session_cache shared:SSL:1m builtin:1000; ssl_session_ticket_key good.key;
        ssl_protocols TLSv1.2 TLSv1.3; ssl_ecdh_curve X25519:prime256v1;
        ssl_conf_command Options ServerPreference;', 'all session options');

passes('ssl_certificate one.crt; ssl_certificate_key one.key; ssl_dhparam dh.pem;
        ssl_ciphers DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256;', 'ssl_dhparam');
fails('ssl_certificate one.crt; ssl_certificate_key one.key; ssl_dhparam bad-dh.pem;',
    qr/\[emerg\] PEM_read_bio_Parameters\("\S+bad-dh\.pem"\) failed/, 'bad ssl_dhparam');
fails('ssl_certificate one.crt; ssl_certificate_key one.key; ssl_verify_client on;',
    qr/\[emerg\] no ssl_client_certificate or ssl_trusted_certificate for ssl_verify_client/,
    'ssl_verify_client without CAs');

fails('', qr/\[emerg\] no "ssl_certificate" is defined for the "listen \.\.\. ssl" directive in \S+test\.conf:3/,
    'listen ssl without a certificate');
fails('ssl_certificate one.crt; ssl_certificate_key missing.key;',
    qr/\[emerg\] cannot load certificate key "\S+missing\.key": BIO_new_file\(\) failed/,
    'missing key');
fails('ssl_certificate missing.crt; ssl_certificate_key one.key;',
    qr/\[emerg\] cannot load certificate "\S+missing\.crt"/, 'missing certificate');
fails('ssl_certificate one.crt; ssl_certificate_key two.key;',
    qr/\[emerg\] SSL_CTX_use_PrivateKey\("\S+two\.key"\) failed \(SSL: .*key values mismatch/,
    'key not matching the certificate');
fails('ssl_certificate enc.crt; ssl_certificate_key enc.key;',
    qr/\[emerg\] cannot load certificate key "\S+enc\.key": PEM_read_bio_PrivateKey\(\) failed/,
    'encrypted key without a password');
fails('ssl_certificate enc.crt; ssl_certificate_key enc.key; ssl_password_file bad-pass.txt;',
    qr/\[emerg\] cannot load certificate key "\S+enc\.key": PEM_read_bio_PrivateKey\(\) failed \(SSL: .*bad decrypt/,
    'bad password');
fails('ssl_certificate one.crt;', qr/\[emerg\] no "ssl_certificate_key" is defined for certificate/,
    'certificate without a key');
fails('ssl_certificate one.crt; ssl_certificate_key one.key; ssl_session_cache shared:SSL;',
    qr/\[emerg\] invalid session cache "shared:SSL"/, 'bad ssl_session_cache');
fails('ssl_certificate one.crt; ssl_certificate_key one.key; ssl_session_ticket_key short.key;',
    qr/\[emerg\] "\S+short\.key" must be 48 or 80 bytes/, 'bad ticket key file');

chmod 0, "$d/one.key";
if ($> == 0) {
    # root reads anything: make the path unreadable instead
    unlink "$d/one.key";
    mkdir "$d/one.key";
}
fails('ssl_certificate one.crt; ssl_certificate_key one.key;',
    qr/\[emerg\] cannot load certificate key "\S+one\.key"/, 'unreadable key');

$t->done_testing;
