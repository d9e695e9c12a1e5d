#!/usr/bin/perl

# worker_connections is a hard limit that degrades cleanly: when every
# connection slot holds a request in progress, a new client is closed and
# the worker logs "[alert] N worker_connections are not enough" (at most
# once a second) -- it does not crash, and it serves again as soon as a
# slot frees up.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Time::HiRes qw(sleep);

my $t = Portico::Test->new->has(qw/http_rewrite/);

# 4 slots: one is the listening socket, so three clients fit.
$t->write_file('portico.conf', <<'EOF2');
worker_processes 1;
events { worker_connections 4; }
http {
    access_log off;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { return 200 "ok"; }
    }
}
EOF2

$t->run;
$t->plan(5);
$t->expect_errors(qr/4 worker_connections are not enough/);

my $worker = ($t->worker_pids)[0];

# Three connections, each with half a request head: busy, not reusable.
my @busy;
for (1 .. 3) {
    my $s = http("GET / HTTP/1.1\r\nHost: lo", start => 1);
    push @busy, $s if $s;
}
is(scalar @busy, 3, 'three clients hold every free slot');
sleep 0.3;

my $r = http_get('/', timeout => 3);
ok(!defined $r || $r !~ /200 OK/, 'a fourth client is turned away');

sleep 0.3;
like($t->read_file('error.log') // '', qr/\[alert\].*4 worker_connections are not enough/,
     'the alert names the limit');

close $_ for @busy;
sleep 0.3;

like(http_get('/'), qr/200 OK/, 'serves again once slots free up');
is(($t->worker_pids)[0], $worker, 'the same worker, no crash');
