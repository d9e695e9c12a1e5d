#!/usr/bin/perl

# A worker killed with SIGKILL is replaced at once, and clients hardly
# notice: requests on fresh connections keep succeeding while it happens
# (the dead worker's listening socket stays open in the master, so its
# queued connections wait for the replacement instead of being reset).

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
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { return 200 "ok"; }
    }
}
EOF2

$t->expect_errors(qr/exited on signal 9\b/);
$t->run;
$t->plan(10);

my $port = $t->port(8080);
my $log = $t->testdir . '/requests.txt';

# The client: one request per fresh connection, for $secs seconds; one
# line per request: "start end ok|fail reason".
sub client {
    my ($secs) = @_;
    open my $fh, '>', $log or die $!;
    $fh->autoflush(1);
    my $stop = time + $secs;
    while (time < $stop) {
        my $s = time;
        my $r = http_get('/', port => $port, timeout => 3);
        my $e = time;
        my $res = !defined $r || $r eq '' ? 'fail no-response'
            : http_status($r) != 200 ? 'fail status-' . http_status($r)
            : http_body($r) ne 'ok' ? 'fail body'
            : 'ok';
        printf $fh "%.6f %.6f %s\n", $s, $e, $res;
    }
    close $fh;
}

my @before = $t->worker_pids;
is(scalar @before, 2, '2 workers');

my $client = $t->run_daemon(\&client, 4);
sleep 1;

my ($victim, $other) = @before;
my $t_kill = time;
kill 'KILL', $victim;

my ($new, $t_new);
while (time < $t_kill + 3) {
    my @w = $t->worker_pids;
    my ($n) = grep { $_ != $victim && $_ != $other } @w;
    if ($n && @w == 2) { ($new, $t_new) = ($n, time); last }
    sleep 0.005;
}
ok($new, 'a new worker replaced the killed one');
ok(defined $t_new && $t_new - $t_kill <= 1.0,
    sprintf('the new worker appeared within 1 s (%.3f s)', ($t_new // 99) - $t_kill));
is_deeply([sort { $a <=> $b } $t->worker_pids], [sort { $a <=> $b } grep defined, $other, $new],
    'the other worker was not touched');

ok($t->wait_exit($client, 10), 'client loop finished');

open my $fh, '<', $log or die "$log: $!";
my @req = map { [split ' ', $_, 3] } <$fh>;
close $fh;
chomp $_->[2] for @req;

my @pre = grep { $_->[1] < $t_kill } @req;
my @straddle = grep { $_->[0] <= $t_kill && $_->[1] >= $t_kill } @req;
my @post = grep { $_->[0] > $t_kill } @req;

ok(@pre > 5 && !grep({ $_->[2] ne 'ok' } @pre),
    sprintf('%d requests before the kill all succeeded', scalar @pre));
my @fail = grep { $_->[2] ne 'ok' } @req;
ok(@fail == 0 || (@fail == 1 && @straddle == 1 && $fail[0] == $straddle[0]),
    'at most one failure: the request in flight at the kill')
    or diag(join "\n", map { "@$_" } @fail[0 .. ($#fail > 9 ? 9 : $#fail)]);
my @post_fail = grep { $_->[2] ne 'ok' } @post;
ok(@post > 20 && !@post_fail,
    sprintf('%d requests after the kill, %d failed', scalar @post, scalar @post_fail))
    or diag(join "\n", map { "@$_" } @post_fail[0 .. ($#post_fail > 9 ? 9 : $#post_fail)]);

my $found = 0;
for (1 .. 100) {
    last if $found = ($t->read_file('error.log') // '')
        =~ /\[alert\] .*worker process $victim exited on signal 9\b/;
    sleep 0.02;
}
ok($found, "error log: worker process $victim exited on signal 9");

# still serving afterwards, on both sockets
my $ok = grep { (http_body(http_get('/')) // '') eq 'ok' } 1 .. 20;
is($ok, 20, '20 more requests served');
