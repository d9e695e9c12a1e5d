#!/usr/bin/perl

# least_conn: the peer with the fewest active connections (relative to its
# weight) takes the request, round robin among equals; backups; and the
# seed document's second config (least_conn over three servers with
# max_fails=3 fail_timeout=30s, "listen 443 ssl" left to the TLS tests)
# on 127.0.0.x addresses.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::Test::Backend qw(backend);
use Time::HiRes qw(time sleep);

my $t = Portico::Test->new->has(qw/http_proxy http_upstream_least_conn/);

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    upstream lc      { least_conn; server 127.0.0.1:%%PORT_8081%%; server 127.0.0.1:%%PORT_8082%%; }
    upstream lcw     { least_conn; server 127.0.0.1:%%PORT_8081%% weight=3;
                       server 127.0.0.1:%%PORT_8082%%; }
    upstream lcb     { least_conn; server 127.0.0.1:%%PORT_8089%%;
                       server 127.0.0.1:%%PORT_8082%% backup; }

    upstream app_pool {
        least_conn;
        server 127.0.0.11:%%PORT_8083%% max_fails=3 fail_timeout=30s;
        server 127.0.0.12:%%PORT_8083%% max_fails=3 fail_timeout=30s;
        server 127.0.0.13:%%PORT_8083%% max_fails=3 fail_timeout=30s;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location /lc/  { proxy_pass http://lc; }
        location /lcw/ { proxy_pass http://lcw; }
        location /lcb/ { proxy_pass http://lcb; }
    }

    server {
        listen 127.0.0.1:%%PORT_8084%%;
        location / { proxy_pass http://app_pool; }
    }
}
EOF

$t->run_daemon(\&backend, port => $t->port(8081), name => 'a');
$t->run_daemon(\&backend, port => $t->port(8082), name => 'b');
my %pid;
for my $i (11, 12, 13) {
    $pid{$i} = $t->run_daemon(\&backend, addr => "127.0.0.$i", port => $t->port(8083),
                              name => "s$i");
}
$t->wait_for_port($t->port($_)) for 8081, 8082;
sleep 0.3;

$t->run;
$t->plan(10);

$t->expect_errors(qr/connect\(\) failed/);

sub body { my $p = parse_response($_[0]); return $p ? $p->{body} : 'none' }
sub start { http("GET $_[0] HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", start => 1) }

# idle: round robin between equals
is(join(' ', map { body($_) } http_keepalive([('/lc/') x 4])), 'a b a b',
   'equal load: in turn');

# a busy with a slow request: the idle b takes every other one
my $slow = start('/lc/a=sleep2/b=sleep2/x');
sleep 0.3;
my $first = body(http_get('/lc/'));
is(join(' ', map { body($_) } http_keepalive([('/lc/') x 5])), join(' ', ($first) x 5),
   'one peer busy: the idle one takes every request');
my $busy = body(http_read_all($slow));
isnt($first, $busy, 'the slow request was on the other peer');

# weights: with one connection each, a (weight 3) is the less loaded
$slow = start('/lcw/a=sleep2/b=sleep2/1');
sleep 0.3;
my $s2 = start('/lcw/a=sleep2/b=sleep2/2');
sleep 0.3;
is(join(' ', map { body($_) } http_keepalive([('/lcw/') x 4])), 'a a a a',
   'one connection each: a (1/3) before b (1/1)');
my @two = sort map { body(http_read_all($_)) } ($slow, $s2);
is("@two", 'a b', 'the two slow requests: one on each');

# backup
is(join(' ', map { body($_) } http_keepalive([('/lcb/') x 3])), 'b b b', 'least_conn backup');

###############################################################################
# the seed config: three servers, one dies

my $port = $t->port(8084);
my %seen;
$seen{body($_)}++ for http_keepalive([('/') x 30], port => $port);
is(join(',', map { $seen{"s$_"} // 0 } 11 .. 13), '10,10,10', 'seed app_pool: spread evenly');

# s12 stops answering (its backend is stopped): the others take over
kill 'TERM', -$pid{12}, $pid{12};
sleep 0.5;
%seen = ();
$seen{body($_)}++ for http_keepalive([('/') x 30], port => $port);
is($seen{s12} // 0, 0, 'seed app_pool: the dead server gets nothing');
is(($seen{s11} // 0) + ($seen{s13} // 0), 30, 'seed app_pool: every request answered');
my @f = grep { /127\.0\.0\.12:\d+/ } split /\n/, $t->read_file('error.log');
ok(@f >= 1 && @f <= 3, 'seed app_pool: max_fails=3 bounds the failed tries (' . scalar(@f) . ')');
