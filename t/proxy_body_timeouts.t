#!/usr/bin/perl

# Timeouts while a proxied body is relayed, buffered and unbuffered alike:
# a backend that stalls mid-body for longer than proxy_read_timeout ends
# the response early ("upstream timed out ... while reading upstream", the
# chunked answer without its last chunk), and a client that stops reading
# for longer than send_timeout is dropped ("client timed out").

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::Test::Backend qw(backend);
use Time::HiRes qw(time sleep);

my $t = Portico::Test->new->has(qw/http_proxy/);

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
error_log %%TESTDIR%%/error.log info;
events { }
http {
    access_log off;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location /on/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_read_timeout 1s;
        }
        location /off/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_buffering off;
            proxy_read_timeout 1s;
        }
        location /slowon/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_max_temp_file_size 0;
            send_timeout 1s;
        }
        location /slowoff/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_buffering off;
            send_timeout 1s;
        }
    }
}
EOF

$t->run_daemon(\&backend, port => $t->port(8081), name => 'a');
$t->wait_for_port($t->port(8081));

$t->run;
$t->plan(8);

sub count { my ($re) = @_; my @l = ($t->read_file('error.log') // '') =~ /$re/g; scalar @l }

###############################################################################
# the backend stalls mid-body: proxy_read_timeout ends the answer

for my $loc (qw(on off)) {
    my $before = count(qr/upstream timed out \(\d+: [^)]*\) while reading upstream/);
    my $t0 = time;
    my $r = http("GET /$loc/stream/3/3000 HTTP/1.1\r\nHost: localhost\r\n"
                 . "Connection: close\r\n\r\n", timeout => 10);
    my $took = time - $t0;
    ok($r =~ /piece 1\n/ && $r !~ /piece 2/ && $r !~ /\r\n0\r\n\r\n\z/ && $took < 2.9,
       sprintf('%s: a stalled backend ends the body early (%.1fs)', $loc, $took))
        or diag($r);
    sleep 0.2;
    is(count(qr/upstream timed out \(\d+: [^)]*\) while reading upstream/) - $before, 1,
       "$loc: the upstream timeout is logged");
}

###############################################################################
# the client stops reading: send_timeout drops it

for my $loc (qw(slowon slowoff)) {
    my $before = count(qr/\[info\].*client timed out/);
    my $size = 40000000;
    my $s = http("GET /$loc/big/$size HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                 start => 1);
    sleep 3;
    my $in = http_read_all($s, timeout => 10);
    close $s;
    ok(length($in) > 0 && length($in) < $size,
       sprintf('%s: a client that stops reading is dropped (%d bytes)', $loc, length $in));
    sleep 0.2;
    is(count(qr/\[info\].*client timed out/) - $before, 1, "$loc: the client timeout is logged");
}
