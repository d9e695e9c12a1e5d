#!/usr/bin/perl

# The default balancer and passive health, exactly as nginx: smooth
# weighted round robin (5,1,1 gives a a b a c a a), down, backup, "no live
# upstreams", max_fails within fail_timeout, the single request after
# fail_timeout, the gradual recovery of a failed peer's weight (checked
# against a simulation of nginx's algorithm), 403/404 not counted as
# failures, max_conns.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::Test::Backend qw(backend);
use IO::Select;
use Time::HiRes qw(time sleep);

my $t = Portico::Test->new->has(qw/http_proxy/);

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
error_log %%TESTDIR%%/error.log warn;
events { }
http {
    upstream wrr     { server 127.0.0.1:%%PORT_8081%% weight=5;
                       server 127.0.0.1:%%PORT_8082%%;
                       server 127.0.0.1:%%PORT_8083%%; }
    upstream equal   { server 127.0.0.1:%%PORT_8081%%; server 127.0.0.1:%%PORT_8082%%;
                       server 127.0.0.1:%%PORT_8083%%; }
    upstream withdown { server 127.0.0.1:%%PORT_8081%%; server 127.0.0.1:%%PORT_8082%% down; }
    upstream backup  { server 127.0.0.1:%%PORT_8089%%; server 127.0.0.1:%%PORT_8088%%;
                       server 127.0.0.1:%%PORT_8083%% backup; }
    upstream none    { server 127.0.0.1:%%PORT_8089%%; server 127.0.0.1:%%PORT_8088%%; }
    upstream fails   { server 127.0.0.1:%%PORT_8087%% max_fails=2 fail_timeout=2s;
                       server 127.0.0.1:%%PORT_8082%%; }
    upstream recover { server 127.0.0.1:%%PORT_8081%% weight=10 max_fails=2;
                       server 127.0.0.1:%%PORT_8082%% weight=10 max_fails=2; }
    upstream notfail { server 127.0.0.1:%%PORT_8081%% max_fails=1 fail_timeout=30s;
                       server 127.0.0.1:%%PORT_8082%% max_fails=1 fail_timeout=30s; }
    upstream conns   { server 127.0.0.1:%%PORT_8081%% max_conns=1;
                       server 127.0.0.1:%%PORT_8083%% backup; }
    upstream conns1  { server 127.0.0.1:%%PORT_8081%% max_conns=1; }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location /wrr/      { proxy_pass http://wrr; }
        location /equal/    { proxy_pass http://equal; }
        location /withdown/ { proxy_pass http://withdown; }
        location /backup/   { proxy_pass http://backup; }
        location /none/     { proxy_pass http://none; }
        location /fails/    { proxy_pass http://fails; }
        location /recover/  { proxy_pass http://recover; proxy_next_upstream error http_500; }
        location /notfail/  { proxy_pass http://notfail; proxy_next_upstream error http_404; }
        location /conns/    { proxy_pass http://conns; }
        location /conns1/   { proxy_pass http://conns1; }
    }
}
EOF

$t->run_daemon(\&backend, port => $t->port(8081), name => 'a');
$t->run_daemon(\&backend, port => $t->port(8082), name => 'b');
$t->run_daemon(\&backend, port => $t->port(8083), name => 'c');
$t->wait_for_port($t->port($_)) for 8081, 8082, 8083;

$t->run;
$t->plan(18);

$t->expect_errors(qr/connect\(\) failed/, qr/no live upstreams/,
                  qr/upstream server temporarily disabled/);

# the answering backend of each request, over one keepalive connection
sub backends {
    my ($path, $n) = @_;
    my @r = http_keepalive([($path) x $n], timeout => 10);
    return join ' ', map { my $p = parse_response($_); $p ? $p->{body} : 'none' } @r;
}

is(backends('/wrr/', 7), 'a a b a c a a', 'weights 5,1,1: a a b a c a a');
my %n;
$n{$_}++ for split ' ', backends('/wrr/', 70);
is(join(',', map { $n{$_} // 0 } qw(a b c)), '50,10,10', '70 requests: 50/10/10 exactly');

is(backends('/equal/', 6), 'a b c a b c', 'equal weights: in turn');

is(backends('/withdown/', 4), 'a a a a', 'a server marked down gets nothing');

is(backends('/backup/', 3), 'c c c', 'primaries refusing: the backup answers');

my $p = parse_response(http_get('/none/'));
is($p->{status}, 502, 'every peer down: 502');
http_get('/none/');
like($t->read_file('error.log'), qr/no live upstreams while connecting to upstream.*upstream: "http:\/\/none\/none\/"/,
     'no live upstreams logged');

###############################################################################
# max_fails / fail_timeout

my $dead = $t->port(8087);
sub attempts { my @l = grep { /connect\(\) failed.*:$dead\// } split /\n/, $t->read_file('error.log'); scalar @l }

is(backends('/fails/', 8), 'b b b b b b b b', 'a dead peer: the requests still answered');
is(attempts(), 2, 'max_fails=2: the dead peer was tried twice, then left out');
like($t->read_file('error.log'), qr/upstream server temporarily disabled/,
     'disabling logged');
sleep 3.2;     # times are whole seconds: more than 2 for sure
is(backends('/fails/', 4), 'b b b b', 'after fail_timeout: answered');
is(attempts(), 3, 'after fail_timeout: one more try, then out again');

###############################################################################
# gradual recovery: a failure lowers the effective weight by
# weight/max_fails; it grows back by one per pick (nginx's algorithm,
# simulated here)

sub simulate {
    my ($reqs) = @_;
    my @p = ({ n => 'a', w => 10, e => 10, c => 0 }, { n => 'b', w => 10, e => 10, c => 0 });
    my @out;
    for my $fail_a (@$reqs) {
        my %tried;
        while (1) {
            my ($best, $total) = (undef, 0);
            for my $x (@p) {
                next if $tried{$x->{n}};
                $x->{c} += $x->{e};
                $total += $x->{e};
                $x->{e}++ if $x->{e} < $x->{w};
                $best = $x if !$best || $x->{c} > $best->{c};
            }
            $best->{c} -= $total;
            $tried{$best->{n}} = 1;
            if ($best->{n} eq 'a' && $fail_a) {
                $best->{e} -= $best->{w} / 2;
                next;
            }
            push @out, $best->{n};
            last;
        }
    }
    return join ' ', @out;
}

my @reqs = (1, (0) x 14);
my @got = http_keepalive(['/recover/a=500/', ('/recover/') x 14], timeout => 10);
is(join(' ', map { my $p = parse_response($_); $p ? $p->{body} : 'none' } @got),
   simulate(\@reqs), 'a failed peer\'s weight recovers gradually, as nginx');

###############################################################################
# 403 and 404 are not failures

is(backends('/notfail/a=404/', 4), 'b b b b', 'http_404: the next peer answers');
is(backends('/notfail/', 4), 'a b a b', 'and the 404 peer is not taken out');

###############################################################################
# max_conns

my $s1 = http("GET /conns/a=sleep1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", start => 1);
sleep 0.3;
is(http_body(http_get('/conns/')), 'c', 'max_conns reached: the backup answers');
is(http_body(http_read_all($s1)), 'a', 'the slow request answered');

$s1 = http("GET /conns1/a=sleep1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", start => 1);
sleep 0.3;
is(http_status(http_get('/conns1/')), 502, 'max_conns reached, no backup: 502');
http_read_all($s1);
