#!/usr/bin/perl

# random [two [least_conn]]: requests spread over the peers in proportion
# to their weights; an unusable peer is drawn again; with "two" the less
# loaded of two drawn peers takes the request.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::Test::Backend qw(backend);
use Time::HiRes qw(sleep);

my $t = Portico::Test->new->has(qw/http_proxy http_upstream_random/);

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    upstream r1 { random; server 127.0.0.1:%%PORT_8081%%; server 127.0.0.1:%%PORT_8082%%;
                  server 127.0.0.1:%%PORT_8083%%; }
    upstream rw { random; server 127.0.0.1:%%PORT_8081%% weight=2;
                  server 127.0.0.1:%%PORT_8082%%; server 127.0.0.1:%%PORT_8083%%; }
    upstream rd { random; server 127.0.0.1:%%PORT_8081%%; server 127.0.0.1:%%PORT_8089%%; }
    upstream r2 { random two least_conn; server 127.0.0.1:%%PORT_8081%%;
                  server 127.0.0.1:%%PORT_8082%%; }
    upstream r2s { random two; server 127.0.0.1:%%PORT_8081%%; server 127.0.0.1:%%PORT_8082%%;
                   server 127.0.0.1:%%PORT_8083%%; }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location /r1/  { proxy_pass http://r1; }
        location /rw/  { proxy_pass http://rw; }
        location /rd/  { proxy_pass http://rd; }
        location /r2/  { proxy_pass http://r2; }
        location /r2s/ { proxy_pass http://r2s; }
    }
}
EOF

$t->run_daemon(\&backend, port => $t->port(8081), name => 'a');
$t->run_daemon(\&backend, port => $t->port(8082), name => 'b');
$t->run_daemon(\&backend, port => $t->port(8083), name => 'c');
$t->wait_for_port($t->port($_)) for 8081, 8082, 8083;

$t->run;
$t->plan(6);

$t->expect_errors(qr/connect\(\) failed/);

sub count {
    my ($path, $n) = @_;
    my %c;
    $c{http_body($_) // 'none'}++ for http_keepalive([($path) x $n], timeout => 30);
    return \%c;
}

my $c = count('/r1/', 600);
ok(!grep({ ($c->{$_} // 0) < 140 || ($c->{$_} // 0) > 260 } qw(a b c)),
   "random: spread (a $c->{a}, b $c->{b}, c $c->{c} of 600)");

$c = count('/rw/', 800);
ok($c->{a} > 300 && $c->{a} < 500 && $c->{b} > 120 && $c->{c} > 120,
   "random, weight 2,1,1: (a $c->{a}, b $c->{b}, c $c->{c} of 800)");

$c = count('/rd/', 50);
is($c->{a}, 50, 'random: a dead peer\'s requests go to the other');

$c = count('/r2s/', 600);
ok(!grep({ ($c->{$_} // 0) < 120 } qw(a b c)),
   "random two: spread (a $c->{a}, b $c->{b}, c $c->{c} of 600)");

# random two least_conn: with a busy, the idle b takes the requests
my $slow = http("GET /r2/a=sleep2/b=sleep2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                start => 1);
sleep 0.3;
$c = count('/r2/', 20);
my $busy = http_body(http_read_all($slow));
my $idle = $busy eq 'a' ? 'b' : 'a';
is($c->{$idle} // 0, 20, "random two least_conn: the idle peer ($idle) takes them all");

$c = count('/r2/', 200);
ok(($c->{a} // 0) > 50 && ($c->{b} // 0) > 50, 'random two: idle peers both used');
