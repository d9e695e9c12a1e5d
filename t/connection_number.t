#!/usr/bin/perl

# $connection (and the "*N" of error log lines) is unique across workers:
# the counter is shared, so two workers never hand out the same number.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Time::HiRes qw(sleep);

my $t = Portico::Test->new->has(qw/http_rewrite/);

$t->write_file('portico.conf', <<'EOF2');
worker_processes 2;
events { }
http {
    log_format conn "$connection $pid";
    access_log %%TESTDIR%%/access.log conn;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { return 200 "ok"; }
    }
}
EOF2

$t->run;
$t->plan(3);

my $ok = 0;
for (1 .. 200) {
    $ok++ if (http_get('/') // '') =~ /200 OK/;
}
is($ok, 200, '200 requests, each on a new connection');

sleep 0.5;
my @lines = split /\n/, $t->read_file('access.log') // '';
my (%seen, %pids);
for (@lines) {
    my ($n, $pid) = split / /;
    $seen{$n}++;
    $pids{$pid} = 1;
}

cmp_ok(scalar keys %pids, '==', 2, 'both workers served requests')
    or diag('pids: ' . join(' ', keys %pids));
is(scalar(grep { $_ > 1 } values %seen), 0, 'no connection number repeats across workers');
