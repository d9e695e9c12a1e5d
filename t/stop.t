#!/usr/bin/perl

# Stopping: QUIT is graceful (a request whose head is still arriving is
# completed, answered with "Connection: close", then the master exits;
# idle keepalive connections are closed); TERM and INT are fast (the
# master exits within 1 s even with connections open).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Time::HiRes qw(time sleep);

my $t = Portico::Test->new->has(qw/http_rewrite/);

$t->write_file('portico.conf', <<'EOF2');
worker_processes 2;
events { }
http {
    keepalive_timeout 60s;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { return 200 "done"; }
    }
}
EOF2

$t->plan(21);

###############################################################################
# QUIT with a request half received

$t->run;
my $master = $t->master_pid;
my @workers = $t->worker_pids;

my $s = http_connect();
ok(http_send($s, "GET /slow HTTP/1.1\r\nHo"), 'half of a request head sent');
sleep 0.5;

$t->signal('QUIT');
sleep 0.5;
ok($t->alive($master), 'QUIT: master waits for the request in flight');

http_send($s, "st: localhost\r\n\r\n");
my $r = http_read_response($s, timeout => 5);
is(http_status($r), 200, 'QUIT: the request in flight is answered');
is(http_body($r), 'done', 'QUIT: with its body');
is(lc(http_header($r, 'Connection') // ''), 'close', 'QUIT: with Connection: close');
ok(http_wait_close($s, 3), 'QUIT: then the connection is closed');
close $s;

ok($t->wait_exit($master, 5), 'QUIT: master exits');
is($t->exit_code, 0, 'QUIT: exit status 0');
ok(!grep({ $t->alive($_) } @workers), 'QUIT: workers gone');
ok(!-e $t->pid_path, 'QUIT: pid file removed');

###############################################################################
# QUIT closes an idle keepalive connection

$t->run;
$master = $t->master_pid;

$s = http_connect();
http_send($s, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
$r = http_read_response($s, timeout => 5);
ok(defined $r && http_body($r) eq 'done'
    && lc(http_header($r, 'Connection') // '') eq 'keep-alive', 'keepalive connection established');

my $t0 = time;
$t->signal('QUIT');
ok(http_wait_close($s, 5), sprintf('QUIT: idle keepalive connection closed (%.2f s)', time - $t0));
close $s;
ok($t->wait_exit($master, 5), sprintf('QUIT: master exits (%.2f s)', time - $t0));

###############################################################################
# TERM and INT: fast, even with connections open

for my $sig (qw/TERM INT/) {
    $t->run;
    $master = $t->master_pid;
    @workers = $t->worker_pids;

    my $idle = http_connect();
    http_send($idle, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    http_read_response($idle, timeout => 5);
    my $half = http_connect();
    http_send($half, "GET / HTTP/1.1\r\n");
    sleep 0.2;

    $t0 = time;
    $t->signal($sig);
    ok($t->wait_exit($master, 1), sprintf("$sig: master exits within 1 s (%.2f s)", time - $t0));
    ok(!grep({ $t->alive($_) } @workers), "$sig: workers gone");
    ok(http_wait_close($idle, 1) && http_wait_close($half, 1), "$sig: connections closed");
    is($t->exit_code, 0, "$sig: exit status 0");
    close $idle;
    close $half;
}
