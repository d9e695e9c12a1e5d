#!/usr/bin/perl

# hash KEY [consistent] and ip_hash: a key keeps its server; with
# "consistent", removing one of 10 servers moves at most 1/8 of 1000 keys
# (ketama moves only the removed server's keys); an unavailable server
# sends its keys elsewhere; ip_hash keeps a client (its /24) on one server.
# When nginx is installed, both hash variants and ip_hash are checked key
# by key against nginx with the same configuration.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::Test::Backend qw(backend);
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

my $t = Portico::Test->new->has(qw/http_proxy http_upstream_hash http_upstream_ip_hash
                                   http_upstream_keepalive/);

my @ports = map { 8081 + $_ } 0 .. 9;

sub config {
    my ($without) = @_;
    my $servers = join '', map { "        server 127.0.0.1:%%PORT_$_%%;\n" }
                           grep { !defined $without || $_ != $without } @ports;
    return <<"EOF";
worker_processes 1;
events { }
http {
    upstream chash {
        hash \$arg_k consistent;
$servers        keepalive 16;
    }
    upstream plain {
        hash \$arg_k;
$servers        keepalive 16;
    }
    upstream weighted {
        hash \$arg_k consistent;
        server 127.0.0.1:%%PORT_8081%% weight=3;
        server 127.0.0.1:%%PORT_8082%%;
        server 127.0.0.1:%%PORT_8099%%;
    }
    upstream iph {
        ip_hash;
$servers    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        proxy_http_version 1.1;
        proxy_set_header Connection "";

        location /chash/    { proxy_pass http://chash; }
        location /plain/    { proxy_pass http://plain; }
        location /weighted/ { proxy_pass http://weighted; }
        location /ip/       { proxy_pass http://iph; }
    }
}
EOF
}

for my $p (@ports) {
    $t->run_daemon(\&backend, port => $t->port($p), name => "s$p");
}
$t->wait_for_port($t->port($_)) for @ports;

$t->write_file('portico.conf', config());
$t->run;
$t->plan(15);

$t->expect_errors(qr/connect\(\) failed/);

# key => backend for keys 1..n
sub map_keys {
    my ($loc, $n, %o) = @_;
    my @r = http_keepalive([map { "/$loc/?k=key$_" } 1 .. $n], timeout => 20, %o);
    my %m;
    for my $i (1 .. $n) {
        my $p = parse_response($r[$i - 1]);
        $m{$i} = $p ? $p->{body} : 'none';
    }
    return \%m;
}

my $c1 = map_keys('chash', 1000);
my %per;
$per{$_}++ for values %$c1;
is(scalar(grep { $_ eq 'none' } values %$c1), 0, 'consistent: every key answered');
ok(scalar(keys %per) == 10 && !grep({ $_ < 40 } values %per),
   'consistent: keys spread over the 10 servers');

my $c1b = map_keys('chash', 1000);
is(scalar(grep { $c1->{$_} ne $c1b->{$_} } 1 .. 1000), 0, 'consistent: a key keeps its server');

my $p1 = map_keys('plain', 1000);
my $p1b = map_keys('plain', 1000);
is(scalar(grep { $p1->{$_} ne $p1b->{$_} } 1 .. 1000), 0, 'plain hash: a key keeps its server');

# one server removed from the config (its backend still runs): the one with
# the median share of the keys (the ports, and so the ring, differ from run
# to run)
my @by = sort { $per{$a} <=> $per{$b} || $a cmp $b } keys %per;
my ($gone) = $by[4] =~ /^s(\d+)$/;
$t->write_file('portico.conf', config($gone));
ok($t->reload, 'reloaded without one server');

my $c2 = map_keys('chash', 1000);
my $moved = grep { $c1->{$_} ne $c2->{$_} } 1 .. 1000;
my $owned = grep { $c1->{$_} eq "s$gone" } 1 .. 1000;
ok($moved <= 125, "consistent: removing 1 of 10 moved $moved of 1000 keys (<= 1/8)");
is($moved, $owned, 'consistent: only the removed server\'s keys moved');

my $p2 = map_keys('plain', 1000);
my $pmoved = grep { $p1->{$_} ne $p2->{$_} } 1 .. 1000;
ok($pmoved > 125, "plain hash: removing a server moves many keys ($pmoved), as nginx");

# a dead server: its keys go to the next point of the ring, others stay
my $w = map_keys('weighted', 200);
is(scalar(grep { $_ eq 'none' } values %$w), 0, 'weighted ring with a dead server: all answered');
ok(!grep({ $_ eq 's8099' } values %$w), 'the dead server\'s keys went elsewhere');

###############################################################################
# ip_hash

sub from {
    my ($addr, $n, $port) = @_;
    my @b;
    for (1 .. $n) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port // $t->port(8080),
                                      LocalAddr => $addr) or return 'none';
        my $r = http("GET /ip/ HTTP/1.0\r\nHost: x\r\n\r\n", socket => $s);
        push @b, http_body($r) // 'none';
    }
    return @b;
}

my @a = from('127.0.0.1', 5);
is(scalar(grep { $_ eq $a[0] } @a), 5, 'ip_hash: a client keeps its server');
is((from('127.0.0.77', 1))[0], $a[0], 'ip_hash: the same /24, the same server');
my %nets = map { ((from("127.$_.1.1", 1))[0] => 1) } 1 .. 20;
ok(keys(%nets) > 3, 'ip_hash: other networks spread (' . keys(%nets) . ' servers for 20)');

###############################################################################
# the same keys through nginx, when it is there

SKIP: {
    my ($nginx) = grep { -x } '/usr/sbin/nginx', '/usr/local/nginx/sbin/nginx';
    skip 'nginx not installed', 2 unless $nginx;

    my $d = $t->testdir . '/nginx';
    mkdir $d;
    mkdir "$d/logs";
    my $conf = config($gone);
    $conf =~ s/%%PORT_8080%%/%%PORT_8070%%/;
    $conf = "daemon off;\nmaster_process off;\nerror_log $d/error.log;\npid $d/nginx.pid;\n"
          . "user root;\n" . $conf;
    $conf =~ s/http \{/http {\n    access_log off;\n    client_body_temp_path $d;\n    proxy_temp_path $d;/;
    $t->write_file('nginx/nginx.conf', $conf);
    my $pid = fork;
    if ($pid == 0) {
        open STDERR, '>', "$d/stderr";
        exec $nginx, '-p', "$d/", '-c', "$d/nginx.conf";
        exit 1;
    }
    $t->wait_for_port($t->port(8070), 5);
    my $n1 = map_keys('chash', 300, port => $t->port(8070));
    my $n2 = map_keys('plain', 300, port => $t->port(8070));
    my $ipdiff = grep { (from("127.$_.3.1", 1, $t->port(8070)))[0] ne (from("127.$_.3.1", 1))[0] }
                 1 .. 30;
    kill 'TERM', $pid;
    waitpid $pid, 0;
    my $diff = grep { $n1->{$_} ne $c2->{$_} } 1 .. 300;
    $diff += grep { $n2->{$_} ne $p2->{$_} } 1 .. 300;
    is($diff, 0, 'hash and consistent hash: the same server as nginx for 600 keys');
    is($ipdiff, 0, 'ip_hash: the same server as nginx for 30 networks');
}
