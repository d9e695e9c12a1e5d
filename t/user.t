#!/usr/bin/perl

# When started as root, workers drop privileges: to "nobody" (and its
# primary group) by default, to the user named by "user" otherwise; the
# master stays root.  No worker keeps root's supplementary groups.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;

plan(skip_all => 'must run as root') unless $> == 0;

my $t = Portico::Test->new->has(qw/http_rewrite/);

my @nobody = getpwnam('nobody') or plan(skip_all => 'no user "nobody"');
my @other = getpwnam('www-data');
@other = getpwnam('daemon') unless @other;
plan(skip_all => 'no user "www-data" or "daemon"') unless @other;
my $other_gid = getgrnam($other[0]);    # "user NAME" alone: group NAME
plan(skip_all => "no group \"$other[0]\"") unless defined $other_gid;

my $conf = <<'EOF2';
worker_processes 2;
USER
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { return 200 "id"; }
    }
}
EOF2

# { uid => [real, effective, saved, fs], gid => [...], groups => [...] }
sub ids {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/status" or return {};
    my %r;
    while (my $l = <$fh>) {
        $r{uid} = [split ' ', $1] if $l =~ /^Uid:\s+(.*)$/;
        $r{gid} = [split ' ', $1] if $l =~ /^Gid:\s+(.*)$/;
        $r{groups} = [split ' ', $1 // ''] if $l =~ /^Groups:\s*(.*)$/;
    }
    return \%r;
}

$t->plan(10);

for my $case (['default', '', $nobody[2], $nobody[3]],
              ["user $other[0]", "user $other[0];", $other[2], $other_gid])
{
    my ($name, $directive, $uid, $gid) = @$case;
    (my $c = $conf) =~ s/USER/$directive/;
    $t->write_file('portico.conf', $c);
    $t->run;

    my @w = $t->worker_pids;
    is(scalar @w, 2, "$name: 2 workers");
    is_deeply([map { ids($_)->{uid} } @w], [([($uid) x 4]) x 2],
        "$name: workers' real/effective/saved/fs uid are $uid");
    is_deeply([map { ids($_)->{gid} } @w], [([($gid) x 4]) x 2],
        "$name: workers' gids are $gid");
    ok(!grep({ grep { $_ == 0 } @{ids($_)->{groups} || []} } @w),
        "$name: workers have no supplementary group 0");
    is_deeply(ids($t->master_pid)->{uid}, [0, 0, 0, 0], "$name: master stays root");

    $t->stop;
}
