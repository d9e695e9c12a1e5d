#!/usr/bin/perl

# Upstream keepalive: 1000 sequential proxied requests open at most
# "keepalive" upstream connections; keepalive_requests, keepalive_timeout
# and keepalive_time end a cached connection; an upstream "Connection:
# close" or a body of unknown length is never cached; a request that fails
# on a reused connection is retried on a fresh one without counting as a
# try (even with proxy_next_upstream_tries 1), unless it is a POST.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::Test::Backend qw(backend);
use Time::HiRes qw(time sleep);

my $t = Portico::Test->new->has(qw/http_proxy http_upstream_keepalive/);

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    upstream ka     { server 127.0.0.1:%%PORT_8081%%; keepalive 4; }
    upstream kareq  { server 127.0.0.1:%%PORT_8081%%; keepalive 4; keepalive_requests 10; }
    upstream katime { server 127.0.0.1:%%PORT_8081%%; keepalive 4; keepalive_timeout 1s; }
    upstream kalife { server 127.0.0.1:%%PORT_8081%%; keepalive 4; keepalive_time 2s; }
    upstream kastale { keepalive 2; server 127.0.0.1:%%PORT_8081%%; }

    proxy_http_version 1.1;
    proxy_set_header Connection "";

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location /ka/     { proxy_pass http://ka; }
        location /kareq/  { proxy_pass http://kareq; }
        location /katime/ { proxy_pass http://katime; }
        location /kalife/ { proxy_pass http://kalife; }
        location /kastale/ {
            proxy_pass http://kastale;
            proxy_next_upstream_tries 1;
        }
        location /close/ {
            proxy_pass http://ka;
            proxy_set_header Connection close;
        }
        location /stream/ {
            proxy_pass http://ka;
            proxy_http_version 1.0;
        }
    }
}
EOF

$t->run_daemon(\&backend, port => $t->port(8081), name => 'a',
               log => $t->testdir . '/a.log');
$t->wait_for_port($t->port(8081));

$t->run;
$t->plan(13);

$t->expect_errors(qr/upstream prematurely closed/);

# the backend pid of each answer: one pid per upstream connection
sub pids {
    my ($path, $n, $pause) = @_;
    my @r;
    if ($pause) {
        for (1 .. $n) {
            push @r, http_get($path);
            sleep $pause;
        }
    } else {
        @r = http_keepalive([($path) x $n], timeout => 30);
    }
    return map { my $p = parse_response($_); $p ? ($p->{header}{'x-pid'} // 'none') : 'none' } @r;
}
sub distinct { my %h = map { $_ => 1 } @_; return scalar keys %h }

my @p = pids('/ka/', 1000);
is(scalar(grep { $_ eq 'none' } @p), 0, '1000 requests answered');
ok(distinct(@p) <= 4, 'keepalive 4: at most 4 upstream connections (' . distinct(@p) . ')');

@p = pids('/kareq/', 50);
is(distinct(@p), 5, 'keepalive_requests 10: 50 requests, 5 connections');

@p = pids('/katime/', 3, 1.5);
is(distinct(@p), 3, 'keepalive_timeout 1s: idle connections closed');

@p = pids('/katime/', 3, 0.2);
is(distinct(@p), 1, 'keepalive_timeout 1s: reused within it');

@p = pids('/kalife/', 12, 0.25);
ok(distinct(@p) >= 2 && distinct(@p) <= 3, 'keepalive_time 2s: a connection lives 2s (' . distinct(@p) . ')');

@p = pids('/close/', 5);
is(distinct(@p), 5, 'Connection: close to the upstream: never cached');

@p = pids('/stream/', 3);
is(distinct(@p), 3, 'HTTP/1.0 to the upstream: never cached');

# the backend drops a connection after its first request, silently: the
# next request on it fails and is sent again on a fresh connection
my @r = http_keepalive(['/kastale/closeafter/1', '/kastale/closeafter/1',
                        '/kastale/closeafter/1'], timeout => 10);
is(join(' ', map { http_status($_) // 'none' } @r), '200 200 200',
   'a stale cached connection: retried on a fresh one, beyond tries 1');
my @pp = map { http_header($_, 'X-Pid') // 'none' } @r;
is(distinct(@pp), 3, 'each on a fresh connection');
like($t->read_file('error.log'), qr/upstream prematurely closed connection/,
     'the stale connection logged');

http_get('/kastale/closeafter/1');
my $r = http("POST /kastale/closeafter/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
             . "Content-Length: 2\r\n\r\nab");
is(http_status($r), 502, 'a POST on a stale connection is not sent again');

# a request after that still works
is(http_status(http_get('/kastale/x')), 200, 'the group still answers');
