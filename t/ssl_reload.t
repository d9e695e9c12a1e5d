#!/usr/bin/perl

# Reload under HTTPS load: wrk keeps 32 TLS keepalive connections busy and
# a second client makes new connections (full handshakes and resumptions)
# all the time, while the configuration is reloaded five times.  Not one
# request may fail, and sessions made before the reloads (shared cache and
# tickets) still resume after them.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::SSL;
use Time::HiRes qw(time sleep);

my $t = Portico::Test->new->has(qw/http_ssl http_rewrite/)->has_daemon('wrk', 'openssl');
my $d = $t->testdir;

ssl_self_signed($d, 'ec', type => 'ec');

my $conf = <<'EOF2';
worker_processes 2;
events {
    worker_connections 1024;
}
http {
    access_log off;
    keepalive_timeout 60s;
    ssl_certificate ec.crt;
    ssl_certificate_key ec.key;
    ssl_session_cache shared:SSL:2m;

    server {
        listen 127.0.0.1:%%PORT_8443%% ssl;
        location / { return 200 "vN reused=$ssl_session_reused"; }
    }
}
EOF2

sub conf { my ($v) = @_; (my $c = $conf) =~ s/"vN /"$v /; return $c }

$t->write_file('portico.conf', conf('v0'));
$t->run;
$t->plan(8);

my $port = $t->port(8443);

# a session of each kind, made before the reloads
my $o = s_client(port => $port, args => ['-tls1_2', '-no_ticket', '-ign_eof',
    '-sess_out', "$d/id.pem"], input => "GET / HTTP/1.0\r\n\r\n");
like($o, qr/v0 reused=\./, 'serving v0 over TLS');
s_client(port => $port, args => ['-tls1_3', '-ign_eof', '-sess_out', "$d/ticket.pem"],
    input => "GET / HTTP/1.0\r\n\r\n");

my $wrk = $t->wrk_start(url => "https://127.0.0.1:$port/", connections => 32,
    threads => 2, duration => 300);

# new connections, one after another, in a child: counts failures
my $fails = "$d/new-conn.txt";
my $pid = fork();
die "fork: $!" unless defined $pid;
if ($pid == 0) {
    my ($n, $bad) = (0, 0);
    my $end = time + 60;
    while (time < $end && !-e "$d/stop") {
        my $r = https_get('/', port => $port, timeout => 5) // '';
        $n++;
        $bad++ unless $r =~ /^HTTP\/1\.[01] 200 /;
        sleep 0.01;
    }
    open my $f, '>', $fails or die;
    print $f "$n $bad\n";
    close $f;
    exit 0;
}

my @no_body;
for my $i (1 .. 5) {
    $t->write_file('portico.conf', conf("v$i"));
    my @new = $t->reload(timeout => 15);
    my $b = '';
    my $deadline = time + 5;
    while (time < $deadline) {
        $b = https_get('/', port => $port) // '';
        last if $b =~ /\bv$i /;
        sleep 0.05;
    }
    push @no_body, $i unless $b =~ /\bv$i /;
    sleep 0.3;
}
is("@no_body", '', 'five reloads: each new config served over TLS');

open my $stop, '>', "$d/stop" or die;
close $stop;
waitpid($pid, 0);
my ($n, $bad) = split ' ', ($t->read_file('new-conn.txt') // '0 0');
ok($n > 20, "new connections made during the reloads: $n");
is($bad, 0, 'no new connection failed');

my $out = $t->wrk_finish($wrk);
my $w = wrk_parse($out);
ok(($w->{requests} // 0) > 1000, 'wrk made requests: ' . ($w->{requests} // 'none'))
    or diag($out);
is_deeply({ map { $_ => $w->{$_} } qw/connect read write timeout non2xx3xx/ },
    { connect => 0, read => 0, write => 0, timeout => 0, non2xx3xx => 0 },
    'wrk over TLS: no errors across the reloads') or diag($out);

$o = s_client(port => $port, args => ['-tls1_2', '-no_ticket', '-ign_eof',
    '-sess_in', "$d/id.pem"], input => "GET / HTTP/1.0\r\n\r\n");
like($o, qr/v5 reused=r/, 'a session id from before the reloads resumes after them');
$o = s_client(port => $port, args => ['-tls1_3', '-ign_eof', '-sess_in', "$d/ticket.pem"],
    input => "GET / HTTP/1.0\r\n\r\n");
like($o, qr/v5 reused=r/, 'a ticket from before the reloads resumes after them');

$t->stop;
