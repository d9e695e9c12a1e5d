#!/usr/bin/perl

# worker_processes: the number of workers, and the SO_REUSEPORT layout of
# listening sockets: each worker holds exactly one listening socket per
# listen address, its own; the master holds all of them.  Sockets are
# matched by inode between /proc/PID/fd and /proc/net/tcp.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;

my $t = Portico::Test->new;

$t->write_file('portico.conf', <<'EOF2');
worker_processes 3;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
    }
    server {
        listen 127.0.0.1:%%PORT_8081%%;
    }
}
EOF2

$t->run;
$t->plan(17);

# port => { inode => 1 } of listening TCP sockets (state 0A) on 127.0.0.1
sub listen_inodes {
    my %r;
    open my $fh, '<', '/proc/net/tcp' or die "/proc/net/tcp: $!";
    <$fh>;
    while (<$fh>) {
        my @f = split ' ';
        my ($ip, $port) = split /:/, $f[1];
        next unless $f[3] eq '0A' && $ip eq '0100007F';
        $r{hex $port}{$f[9]} = 1;
    }
    return \%r;
}

# socket inodes among a process's open files
sub socket_inodes {
    my ($pid) = @_;
    my @r;
    opendir my $d, "/proc/$pid/fd" or return ();
    for my $fd (readdir $d) {
        my $l = readlink "/proc/$pid/fd/$fd" // next;
        push @r, $1 if $l =~ /^socket:\[(\d+)\]$/;
    }
    return @r;
}

my @ports = ($t->port(8080), $t->port(8081));
my $master = $t->master_pid;
my @w = $t->wait_workers(3, 5);
is(scalar @w, 3, 'worker_processes 3: 3 workers');

my $li = listen_inodes();
for my $port (@ports) {
    my %all = %{$li->{$port} || {}};
    is(scalar keys %all, 3, "port $port: 3 listening sockets in the system");

    my (%owner, @per_worker);
    for my $pid (@w) {
        my @mine = grep { $all{$_} } socket_inodes($pid);
        push @per_worker, scalar @mine;
        $owner{$_}{$pid} = 1 for @mine;
    }
    is_deeply(\@per_worker, [1, 1, 1], "port $port: each worker holds exactly one listening socket");
    is(scalar keys %owner, 3, "port $port: the workers' sockets are distinct");
    ok(!grep({ keys %{$owner{$_}} != 1 } keys %owner), "port $port: no socket shared by two workers");

    my %m = map { $_ => 1 } grep { $all{$_} } socket_inodes($master);
    is_deeply([sort keys %m], [sort keys %all], "port $port: the master holds all 3");
}

# every worker accepts: with 3 reuseport sockets, many fresh connections
# must be answered (a socket nobody accepts on would hang some of them)

my $ok = 0;
for (1 .. 60) {
    my $r = http_get('/', port => $ports[$_ % 2], timeout => 2);
    $ok++ if defined $r && $r =~ m{^HTTP/1\.1 404 }; # no location: 404
}
is($ok, 60, '60 fresh connections answered on both ports');

$t->stop;

# worker_processes auto: one per CPU

$t->write_file('portico.conf', <<'EOF2');
worker_processes auto;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
    }
}
EOF2

$t->run;
my $n = Portico::Test::ncpus();
@w = $t->wait_workers($n, 5);
is(scalar @w, $n, "worker_processes auto: $n workers ($n CPUs)");

$li = listen_inodes();
my %all = %{$li->{$ports[0]} || {}};
is(scalar keys %all, $n, "auto: $n listening sockets");
my @per = map { my $p = $_; scalar grep { $all{$_} } socket_inodes($p) } @w;
is_deeply(\@per, [(1) x $n], 'auto: one listening socket per worker');

# default: one worker

$t->stop;
$t->write_file('portico.conf', <<'EOF2');
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
    }
}
EOF2
$t->run;
@w = $t->wait_workers(1, 5);
is(scalar @w, 1, 'default: 1 worker');
sleep 0.3;
is(scalar(() = $t->worker_pids), 1, 'default: still 1 worker');
$t->stop;
