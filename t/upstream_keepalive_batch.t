#!/usr/bin/perl

# Upstream keepalive within one event-loop batch.  When one batch holds
# both an upstream response (its connection goes back to the cache) and
# new client requests (they look for a cached connection), the response is
# handled first and the cache may exceed "keepalive N" until the batch
# ends, so the requests reuse connections instead of opening new ones
# while others are closed.  Between batches at most N stay idle.
#
# The test is the backend itself (it holds and releases responses at
# will), and it stops the worker with SIGSTOP so that everything it sends
# meanwhile reaches the worker as one batch.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use Portico::Test;

my $t = Portico::Test->new->has(qw/http_proxy http_upstream_keepalive/);

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    access_log off;
    upstream one { server 127.0.0.1:%%PORT_8081%%; keepalive 1; }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / {
            proxy_pass http://one;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF

my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $t->port(8081),
    Listen => 16, ReuseAddr => 1) or die "listen: $!";

$t->run;
$t->plan(9);

my ($worker) = $t->worker_pids;
my @upstream;           # the connections portico opened to us, in order

# Accepts whatever portico opened meanwhile.
sub accept_new {
    my $sel = IO::Select->new($listen);
    while ($sel->can_read(0.2)) {
        my $c = $listen->accept or last;
        push @upstream, $c;
    }
}

# The upstream connection that carries the request for PATH (waits up to
# 5 s for it), or undef.
sub upstream_with {
    my ($path) = @_;
    my $deadline = time + 5;
    while (time < $deadline) {
        accept_new();
        for my $u (@upstream) {
            my $buf = ${*$u}{pending} // '';
            while (IO::Select->new($u)->can_read(0.05)) {
                my $n = sysread($u, $buf, 4096, length $buf);
                last unless $n;
            }
            if ($buf =~ s/^GET \Q$path\E HTTP\/1\.1\r\n.*?\r\n\r\n//s) {
                ${*$u}{pending} = $buf;
                return $u;
            }
            ${*$u}{pending} = $buf;
        }
    }
    return undef;
}

sub respond {
    my ($u, $body) = @_;
    syswrite($u, "HTTP/1.1 200 OK\r\nContent-Length: " . length($body) . "\r\n\r\n$body");
}

sub client {
    my $s = http_connect() or die "connect: $!";
    return $s;
}

sub ask { my ($s, $path) = @_; http_send($s, "GET $path HTTP/1.1\r\nHost: x\r\n\r\n") }

sub body_of {
    my ($s) = @_;
    my $r = http_read_response($s, timeout => 5);
    return $r ? http_body($r) : 'none';
}

# One idle cached connection U2, and U1 busy for client A.
my ($a, $y, $b, $c) = map { client() } 1 .. 4;

ask($a, '/a');
my $u1 = upstream_with('/a');
ask($y, '/y');
my $u2 = upstream_with('/y');
respond($u2, 'y');
is(body_of($y), 'y', 'a second connection while the first is busy');
is(scalar @upstream, 2, 'two upstream connections so far');

# Stops the worker and waits until it is stopped (kill() only queues the
# signal).
sub stop_worker {
    kill 'STOP', $worker;
    my $deadline = time + 5;
    while (time < $deadline) {
        open(my $f, '<', "/proc/$worker/stat") or last;
        my $stat = <$f>;
        return if $stat =~ /^\d+ \(.*\) [Tt] /;
        sleep 0.01;
    }
}

# One batch: the requests of B and C, then the response for A.
stop_worker();
ask($b, '/b');
ask($c, '/c');
sleep 0.2;
respond($u1, 'a');
sleep 0.2;
kill 'CONT', $worker;

is(body_of($a), 'a', 'the held response delivered');

my $ub = upstream_with('/b');
my $uc = upstream_with('/c');
ok($ub && $uc, 'both requests reached the upstream');
is(scalar @upstream, 2,
   'one batch: the freed connection and the cached one carry both requests, none opened');

respond($ub, 'b') if $ub;
respond($uc, 'c') if $uc;
is(body_of($b), 'b', 'answer to B');
is(body_of($c), 'c', 'answer to C');

# Both go back to the cache; after the batch at most one stays open.
my %closed;
my $deadline = time + 3;
while (time < $deadline && keys %closed < 2) {
    for my $i (0 .. $#upstream) {
        next if $closed{$i};
        my $u = $upstream[$i];
        next unless IO::Select->new($u)->can_read(0.05);
        my $n = sysread($u, my $buf, 4096);
        $closed{$i} = 1 if !$n;
    }
    last if keys %closed == 1 && time > $deadline - 2;
}
is(scalar keys %closed, 1, 'keepalive 1: one of the two idle connections closed after the batch');

ask($b, '/again');
my $ua = upstream_with('/again');
ok($ua && scalar @upstream == 2, 'the one that stayed is reused');
respond($ua, 'again') if $ua;
body_of($b);

kill 'CONT', $worker;
$t->done_testing;
