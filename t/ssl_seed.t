#!/usr/bin/perl

# The first configuration of the project's seed document (a reverse proxy
# terminating TLS in front of one app server) runs unchanged: only the
# ports (443, and the app's 8080) and the certificate paths
# (/etc/ssl/example.*) are replaced by ones in the test directory.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::Test::Daemon qw(http_daemon);
use Portico::SSL;

my $t = Portico::Test->new->has(qw/http_ssl http_proxy/)->has_daemon('openssl', 'curl');
my $d = $t->testdir;

ssl_self_signed($d, 'example', cn => 'api.example.com');

# as printed in the seed, line for line
my $seed = <<'EOF2';
server {
listen 443 ssl;
server_name api.example.com;
ssl_certificate /etc/ssl/example.crt;
ssl_certificate_key /etc/ssl/example.key;
location / {
proxy_pass http://127.0.0.1:8080; # forward to one app server
proxy_set_header Host $host;
proxy_set_header X-Real-IP $remote_addr;
}
}
EOF2

my $tls = $t->port(8443);
my $app = $t->port(8080);
$seed =~ s/listen 443 ssl;/listen 127.0.0.1:$tls ssl;/ or die;
$seed =~ s/127\.0\.0\.1:8080;/127.0.0.1:$app;/ or die;
$seed =~ s{/etc/ssl/example\.}{$d/example.}g == 2 or die;

$t->write_file('portico.conf', "events { }\nhttp {\n$seed}\n");

$t->run_daemon(\&http_daemon, port => $app, handler => sub {
    my ($req) = @_;
    return (200, ['Content-Type: text/plain'],
        "app: $req->{uri} host=$req->{headers}{host} real=$req->{headers}{'x-real-ip'}");
});
$t->wait_for_port($app, 5);

$t->run;
$t->plan(3);

my $out = `curl -s --max-time 10 --cacert $d/example.crt --resolve api.example.com:$tls:127.0.0.1 https://api.example.com:$tls/users/1 2>&1`;
is($out, "app: /users/1 host=api.example.com real=127.0.0.1",
    'HTTPS to the seed config, proxied to the app with Host and X-Real-IP');

my $r = https_get('/orders', port => $tls, sni => 'api.example.com', host => 'api.example.com');
like($r, qr/^HTTP\/1\.1 200 .*app: \/orders host=api\.example\.com/s, 'IO::Socket::SSL client');

$r = http("GET / HTTP/1.0\r\nHost: api.example.com\r\n\r\n", port => $tls);
like($r, qr/^HTTP\/1\.1 400 .*The plain HTTP request was sent to HTTPS port/s,
    'plain HTTP on the seed\'s TLS port: 400');

$t->stop;
