#!/usr/bin/perl

# Failover under load: three backends, continuous GETs (wrk), one backend
# killed and later restarted.  No client request may fail: requests that
# were on the dead backend (not yet answered) and connections cached to it
# go to the others; after fail_timeout the restarted backend gets its
# share again.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::Test::Backend qw(backend);
use Time::HiRes qw(time sleep);

my $t = Portico::Test->new->has(qw/http_proxy http_upstream_keepalive/)->has_daemon('wrk');

$t->write_file('portico.conf', <<'EOF');
worker_processes 2;
events { worker_connections 1024; }
http {
    access_log off;

    upstream pool {
        server 127.0.0.1:%%PORT_8081%% fail_timeout=1s;
        server 127.0.0.1:%%PORT_8082%% fail_timeout=1s;
        server 127.0.0.1:%%PORT_8083%% fail_timeout=1s;
        keepalive 8;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / {
            proxy_pass http://pool;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF

my $d = $t->testdir;
$t->run_daemon(\&backend, port => $t->port(8081), name => 'a');
my $bpid = $t->run_daemon(\&backend, port => $t->port(8082), name => 'b', log => "$d/b1.log");
$t->run_daemon(\&backend, port => $t->port(8083), name => 'c');
$t->wait_for_port($t->port($_)) for 8081, 8082, 8083;

$t->run;
$t->plan(4);

$t->expect_errors(qr/connect\(\) failed/, qr/upstream prematurely closed/, qr/recv\(\) failed/);

my $w = $t->wrk_start(url => '/', connections => 8, threads => 2, duration => 8);

sleep 2;
kill 'KILL', -$bpid, $bpid;                    # b and its connections die
$t->wait_exit($bpid, 2);
sleep 2.5;
$t->run_daemon(\&backend, port => $t->port(8082), name => 'b', log => "$d/b2.log");
$t->wait_for_port($t->port(8082));
sleep 3;                                        # past fail_timeout

my $out = $t->wrk_finish($w);
my $r = wrk_parse($out);

ok(($r->{requests} // 0) > 200, "wrk made requests (" . ($r->{requests} // 0) . ")")
    or diag($out);
is($r->{non2xx3xx}, 0, 'no failed response');
is($r->{errors}, 0, 'no socket error') or diag($out);

my @b2 = split /\n/, ($t->read_file('b2.log') // '');
ok(@b2 > 10, 'the restarted backend got requests again (' . scalar(@b2) . ')');
