#!/usr/bin/perl

# A second instance on a port that is already served must fail to start
# with nginx's bind() error and exit status 1, and must not disturb the
# first instance (no SO_REUSEPORT sharing with a foreign instance).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;

my $t = Portico::Test->new->has(qw/http_rewrite/);

$t->write_file('portico.conf', <<'EOF2');
worker_processes 2;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { return 200 "first"; }
    }
}
EOF2

$t->write_file('second.conf', <<'EOF2');
worker_processes 1;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { return 200 "second"; }
    }
}
EOF2

$t->run;
$t->plan(9);

my $port = $t->port(8080);
my $master = $t->master_pid;
my @workers = $t->worker_pids;

is(http_body(http_get('/')), 'first', 'first instance serves');

my $dir = $t->testdir;
my ($status, $out) = $t->run_fail(conf => 'second.conf',
    globals => "daemon off; pid $dir/second.pid;", timeout => 15);

is($status, 1, 'second instance exits with status 1');
like($out,
    qr/^portico: \[emerg\] bind\(\) to 127\.0\.0\.1:$port failed \(98: Address already in use\)$/m,
    'bind error message');
ok(!-e "$dir/second.pid", 'second instance wrote no pid file');

# The first instance is untouched: same master, same workers, same answer
# on many fresh connections (a shared SO_REUSEPORT group would send some
# of them to the second instance).
ok($t->alive($master), 'first master alive');
is_deeply([sort { $a <=> $b } $t->worker_pids], [sort { $a <=> $b } @workers],
    'first instance workers unchanged');

my %bodies;
$bodies{http_body(http_get('/')) // 'no response'}++ for 1 .. 50;
is_deeply(\%bodies, { first => 50 }, 'all of 50 requests served by the first instance');

my $pf = $t->read_file('portico.pid') // '';
is($pf =~ /^(\d+)/ ? $1 : undef, $master, 'first pid file unchanged');
ok($t->stop, 'first instance stops gracefully');
