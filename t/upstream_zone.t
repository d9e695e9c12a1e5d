#!/usr/bin/perl

# zone NAME SIZE: the peers' state lives in shared memory, seen and updated
# by every worker: with two workers the round robin goes on across them, a
# failed peer is tried once in all (not once per worker), max_conns counts
# every worker's connections.  The state survives a reload that keeps the
# zone's name and size (also when the server list changes: the remaining
# servers keep theirs), and starts afresh with a new size.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::Test::Backend qw(backend);
use Time::HiRes qw(time sleep);

my $t = Portico::Test->new->has(qw/http_proxy http_upstream_zone/);

sub config {
    my (%o) = @_;
    my $size = $o{size} // '64k';
    my $extra = $o{extra} // '';
    return <<"EOF";
worker_processes 2;
events { }
http {
    log_format w '\$pid \$uri \$upstream_addr';
    access_log %%TESTDIR%%/access.log w;

    upstream rr   { zone z1 $size; server 127.0.0.1:%%PORT_8081%%; server 127.0.0.1:%%PORT_8082%%; }
    upstream norr { server 127.0.0.1:%%PORT_8081%%; server 127.0.0.1:%%PORT_8082%%; }
    upstream dead { zone z1; server 127.0.0.1:%%PORT_8089%% max_fails=1 fail_timeout=60s;
                    server 127.0.0.1:%%PORT_8081%%; $extra }
    upstream nodead { server 127.0.0.1:%%PORT_8088%% max_fails=1 fail_timeout=60s;
                      server 127.0.0.1:%%PORT_8081%%; }
    upstream conns { zone z2 64k; server 127.0.0.1:%%PORT_8081%% max_conns=1;
                     server 127.0.0.1:%%PORT_8082%% backup; }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location /rr/     { proxy_pass http://rr; }
        location /norr/   { proxy_pass http://norr; }
        location /dead/   { proxy_pass http://dead; }
        location /nodead/ { proxy_pass http://nodead; }
        location /conns/  { proxy_pass http://conns; }
    }
}
EOF
}

$t->write_file('portico.conf', config());

$t->run_daemon(\&backend, port => $t->port(8081), name => 'a');
$t->run_daemon(\&backend, port => $t->port(8082), name => 'b');
$t->wait_for_port($t->port($_)) for 8081, 8082;

$t->run;
$t->plan(14);

$t->expect_errors(qr/connect\(\) failed/);

# one request per connection: the kernel spreads them over the workers
sub each_conn {
    my ($path, $n) = @_;
    return map { http_body(http_get($path)) // 'none' } 1 .. $n;
}
sub workers_used {
    my ($uri) = @_;
    my %w = map { (split ' ')[0] => 1 } grep { (split ' ')[1] eq $uri }
            split /\n/, ($t->read_file('access.log') // '');
    return scalar keys %w;
}
sub failures {
    my ($port) = @_;
    my @l = grep { /connect\(\) failed.*:$port\// } split /\n/, $t->read_file('error.log');
    return scalar @l;
}

my @b = each_conn('/rr/', 30);
is(join('', @b), 'ab' x 15, 'zone: the round robin goes on across the workers');
is(workers_used('/rr/'), 2, 'both workers served');
@b = each_conn('/norr/', 30);
isnt(join('', @b), 'ab' x 15, 'no zone: each worker has its own round robin');

@b = each_conn('/dead/', 30);
is(scalar(grep { $_ eq 'a' } @b), 30, 'zone: every request answered');
is(failures($t->port(8089)), 1, 'zone: the dead peer was tried once, by all workers');
is(workers_used('/dead/'), 2, 'both workers served');

# without a zone each worker learns it for itself
@b = each_conn('/nodead/', 30);
is(failures($t->port(8088)), workers_used('/nodead/'), 'no zone: tried once per worker');

# max_conns over all workers
my @s = map { http("GET /conns/a=sleep1.5/$_ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                   start => 1) } 1 .. 6;
my %n;
$n{http_body(http_read_all($_, timeout => 10)) // 'none'}++ for @s;
is($n{a} // 0, 1, 'zone: max_conns=1 over both workers: one request on the peer');
is($n{b} // 0, 5, 'the others on the backup');

###############################################################################
# reload: the state stays

my @w = $t->reload;
ok(@w, 'reloaded');
@b = each_conn('/dead/', 20);
is(failures($t->port(8089)), 1, 'after a reload: the dead peer still known dead');

$t->write_file('portico.conf', config(extra => 'server 127.0.0.1:%%PORT_8082%%;'));
@w = $t->reload;
@b = each_conn('/dead/', 20);
is(failures($t->port(8089)), 1, 'a server added: the others keep their state');
ok((grep { $_ eq 'b' } @b) > 0, 'and the new server takes requests');

$t->write_file('portico.conf', config(size => '128k'));
@w = $t->reload;
@b = each_conn('/dead/', 20);
is(failures($t->port(8089)), 2, 'a new zone size: fresh state, the dead peer tried again');
