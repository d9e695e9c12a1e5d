#!/usr/bin/perl

# Binary upgrade on the fly, under keepalive load, as nginx does it:
#   USR2 to the master: it renames the pid file to .oldbin and starts a new
#   master (its child, exec of the binary) that inherits the listening
#   sockets; WINCH to the old master: its workers stop gracefully; QUIT to
#   the old master: it exits, the new one carries on.
# And the rollback: USR2, WINCH old, HUP old (its workers come back, with
# its own config), QUIT the new master (the pid file is restored).
# wrk must see zero failed requests in both.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Time::HiRes qw(time sleep);

my $t = Portico::Test->new->has(qw/http_rewrite/)->has_daemon('wrk');

my $conf = <<'EOF2';
worker_processes 2;
events {
    worker_connections 1024;
}
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { return 200 "BODY"; }
    }
}
EOF2

sub conf { my ($v) = @_; (my $c = $conf) =~ s/BODY/$v/; return $c }

sub wait_until {
    my ($code, $timeout) = @_;
    my $deadline = time + ($timeout // 5);
    while (time < $deadline) {
        return 1 if $code->();
        sleep 0.02;
    }
    return 0;
}

sub ppid_of {
    open my $fh, '<', "/proc/$_[0]/stat" or return 0;
    my $l = <$fh>;
    return $l =~ /\)\s+\S+\s+(\d+)/ ? $1 : 0;
}

# bodies of 20 fresh requests, as "body:count ..."
sub bodies {
    my %b;
    $b{http_body(http_get('/', timeout => 3)) // 'none'}++ for 1 .. 20;
    return join ' ', map "$_:$b{$_}", sort keys %b;
}

sub wrk_ok {
    my ($out, $name) = @_;
    my $w = wrk_parse($out);
    ok(($w->{requests} // 0) > 1000 && $w->{errors} == 0,
        sprintf('%s: %s requests, errors: connect %d read %d write %d timeout %d non-2xx/3xx %d',
            $name, $w->{requests} // 'no', @$w{qw/connect read write timeout non2xx3xx/}))
        or diag($out);
}

$t->write_file('portico.conf', conf('one'));
$t->run;
$t->plan(26);

my $pidf = $t->pid_path;
my $m1 = $t->master_pid;
is(bodies(), 'one:20', 'first master serves "one"');

###############################################################################
# upgrade and commit

my $wrk = $t->wrk_start(connections => 32, threads => 2, duration => 300);

$t->write_file('portico.conf', conf('two'));
$t->signal('USR2', $m1);

my $m2;
ok(wait_until(sub {
    my $p = $t->_read_pid($pidf);
    ($t->oldbin_pid // 0) == $m1 && $p && $p != $m1 && $t->alive($p) && ($m2 = $p);
}), 'USR2: pid file renamed to .oldbin, new pid file names a new master');
is(ppid_of($m2 // 0), $m1, 'the new master is a child of the old one');
is(scalar(my @w2 = $t->wait_workers(2, 5, $m2)), 2, 'the new master has 2 workers');
is(scalar(my @w1 = $t->worker_pids($m1)), 2, 'the old master still has its 2 workers');

$t->signal('WINCH', $m1);
ok($t->wait_workers(0, 10, $m1) && 1, 'WINCH: old workers exited');
ok($t->alive($m1), 'WINCH: old master still running');
is(bodies(), 'two:20', 'only the new master serves now');

$t->signal('QUIT', $m1);
ok($t->wait_exit($m1, 10), 'QUIT: old master exited');
ok(!-e "$pidf.oldbin", '.oldbin removed');
is($t->_read_pid($pidf), $m2, 'pid file names the new master');
is(scalar(() = $t->worker_pids($m2)), 2, 'new master still has 2 workers');

wrk_ok($t->wrk_finish($wrk), 'upgrade');

###############################################################################
# upgrade and roll back

$wrk = $t->wrk_start(connections => 32, threads => 2, duration => 300);

$t->write_file('portico.conf', conf('three'));
$t->signal('USR2', $m2);

my $m3;
ok(wait_until(sub {
    my $p = $t->_read_pid($pidf);
    ($t->oldbin_pid // 0) == $m2 && $p && $p != $m2 && $t->alive($p) && ($m3 = $p);
}), 'rollback: USR2 started a new master');
my @w3 = $t->wait_workers(2, 5, $m3 // 0);
is(scalar @w3, 2, 'rollback: the new master has 2 workers');

$t->signal('WINCH', $m2);
ok($t->wait_workers(0, 10, $m2) && 1, 'rollback: WINCH stopped the old workers');
is(bodies(), 'three:20', 'rollback: the new master serves');

$t->signal('HUP', $m2);
is(scalar(my @back = $t->wait_workers(2, 5, $m2)), 2, 'rollback: HUP brought 2 old workers back');

$t->signal('QUIT', $m3);
ok($t->wait_exit($m3, 10), 'rollback: QUIT: new master exited');
ok(wait_until(sub { !grep { $t->alive($_) } @w3 }, 10), 'rollback: its workers exited');
ok(wait_until(sub { ($t->_read_pid($pidf) // 0) == $m2 && !-e "$pidf.oldbin" }),
    'rollback: pid file restored to the old master, no .oldbin');
is(scalar(() = $t->worker_pids($m2)), 2, 'rollback: old master has 2 workers');
is(bodies(), 'two:20', 'rollback: old master serves its own config (not re-read)');

wrk_ok($t->wrk_finish($wrk), 'rollback');

ok($t->stop, 'stops gracefully');
ok(!$t->alive($m2), 'old master gone');
