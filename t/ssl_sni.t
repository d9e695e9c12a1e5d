#!/usr/bin/perl

# SNI: the client's server name chooses the server (and so the
# certificate) among the servers of a "listen ... ssl" address, with the
# same server_name rules as the Host header: exact names, "*.wildcards",
# case-insensitive, the default server when nothing matches or no name is
# sent.  ssl_reject_handshake refuses a name, or every unknown name when
# the default server has it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::SSL;
use IO::Socket::SSL;

my $t = Portico::Test->new->has(qw/http_ssl http_rewrite/)->has_daemon('openssl');

my $d = $t->testdir;
for my $n (qw/default a wild b/) {
    ssl_self_signed($d, $n, cn => "$n-cert", type => ($n eq 'wild' ? 'ec' : 'rsa'));
}

$t->write_file('portico.conf', <<'EOF2');
worker_processes 1;
error_log %%TESTDIR%%/error.log info;
events { }
http {
    ssl_certificate default.crt;
    ssl_certificate_key default.key;

    server {
        listen 127.0.0.1:%%PORT_8443%% ssl default_server;
        server_name default.test;
        location / { return 200 "server=default sni=$ssl_server_name\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8443%% ssl;
        server_name a.example;
        ssl_certificate a.crt;
        ssl_certificate_key a.key;
        location / { return 200 "server=a sni=$ssl_server_name\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8443%%;
        server_name *.wild.example;
        ssl_certificate wild.crt;
        ssl_certificate_key wild.key;
        location / { return 200 "server=wild sni=$ssl_server_name\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8443%%;
        server_name refused.example;
        ssl_reject_handshake on;
    }

    server {
        listen 127.0.0.1:%%PORT_8444%% ssl default_server;
        ssl_reject_handshake on;
    }
    server {
        listen 127.0.0.1:%%PORT_8444%% ssl;
        server_name b.example;
        ssl_certificate b.crt;
        ssl_certificate_key b.key;
        location / { return 200 "server=b sni=$ssl_server_name\n"; }
    }
}
EOF2

$t->run;
$t->plan(13);

my $p1 = $t->port(8443);
my $p2 = $t->port(8444);

sub get {
    my ($port, $sni, $host) = @_;
    my ($r, $s) = https_get('/', port => $port, sni => $sni, host => $host // $sni // 'x');
    return (undef, undef) unless defined $r;
    my ($server) = $r =~ /server=(\S+)/;
    return ($server // 'none', $s->peer_certificate('cn'));
}

is(join(' ', get($p1, 'a.example')), 'a a-cert', 'SNI a.example: its server and certificate');
is(join(' ', get($p1, 'A.Example')), 'a a-cert', 'SNI is case-insensitive');
is(join(' ', get($p1, 'x.wild.example')), 'wild wild-cert', 'SNI matches *.wild.example');
is(join(' ', get($p1, 'unknown.example', 'unknown.example')), 'default default-cert',
    'unknown SNI: the default server');
is(join(' ', get($p1, undef, 'default.test')), 'default default-cert',
    'no SNI: the default server');

my ($r) = https_get('/', port => $p1, sni => 'a.example');
like($r, qr/sni=a\.example/, '$ssl_server_name');

# SNI chooses the certificate; the Host header still chooses the server
is(join(' ', get($p1, 'a.example', 'x.wild.example')), 'wild a-cert',
    'Host chooses the server after SNI chose the certificate');

ok(!defined((get($p1, 'refused.example'))[0]), 'ssl_reject_handshake: the name is refused');

my $out = s_client(port => $p1, args => ['-servername', 'refused.example']);
like($out, qr/unrecognized.name|alert number 112/i, 'refused with unrecognized_name');

is(join(' ', get($p2, 'b.example')), 'b b-cert', 'default rejects: a known name works');
ok(!defined((get($p2, 'other.example'))[0]), 'default rejects: an unknown name is refused');
ok(!defined((get($p2, undef))[0]), 'default rejects: no name is refused');

is(join(' ', get($p1, 'a.example')), 'a a-cert', 'still serving');

$t->stop;
