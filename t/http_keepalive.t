#!/usr/bin/perl

# Connection handling: pipelining (answers in request order, also when the
# requests arrive one byte at a time), keepalive_requests, keepalive_time,
# keepalive_timeout's header, keepalive_disable, client_header_timeout
# (408), send_timeout, lingering_close / lingering_timeout, and
# tcp_nopush with sendfile.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use IO::Select;
use Time::HiRes qw(time sleep);

my $t = Portico::Test->new->has(qw/http_rewrite http_echo/);

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    keepalive_timeout 30s 25;
    client_header_timeout 1s;
    client_max_body_size 8m;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location / { return 200 "r:$uri"; }
        location /echo { echo_request_body; }

        location /three {
            keepalive_requests 3;
            return 200 "three";
        }
        location /aged {
            keepalive_time 1s;
            return 200 "aged";
        }
        location /safari {
            keepalive_disable safari;
            return 200 "safari";
        }
        location /none {
            keepalive_disable none;
            return 200 "none";
        }
        location /send {
            send_timeout 1s;
            client_body_buffer_size 8m;
            echo_request_body;
        }
        location /nopush {
            sendfile on;
            tcp_nopush on;
            client_body_buffer_size 1k;
            echo_request_body;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        server_name localhost;
        keepalive_timeout 0;
        lingering_timeout 1s;
        lingering_time 3s;

        location / { return 200 "short"; }
        location /off {
            lingering_close off;
            return 200 "short";
        }
    }
}
EOF

$t->run;
$t->plan(29);

my $H = "Host: localhost\r\n";

###############################################################################
# pipelining

my @reqs = map { "GET /p$_ HTTP/1.1\r\n$H\r\n" } 1 .. 20;
my @r = http_keepalive(\@reqs, pipeline => 1);
is(join(',', map { defined $_ ? http_body($_) : 'none' } @r),
    join(',', map { "r:/p$_" } 1 .. 20), '20 pipelined requests answered in order');

my $all = join '', @reqs[0 .. 4],
    "POST /echo HTTP/1.1\r\n${H}Content-Length: 4\r\n\r\nbody",
    "POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n2\r\nch\r\n0\r\n\r\n",
    "GET /last HTTP/1.1\r\n${H}Connection: close\r\n\r\n";

my $s = http_connect();
for my $c (split //, $all) {
    http_send($s, $c) or last;
}
my @got;
while (defined(my $resp = http_read_response($s))) {
    push @got, http_body($resp);
}
close $s;
is(join(',', @got), 'r:/p1,r:/p2,r:/p3,r:/p4,r:/p5,body,ch,r:/last',
    'pipelined requests with bodies, sent one byte at a time');

# a head split at every position of a larger request
$s = http_connect();
my $big = "GET /split HTTP/1.1\r\n$H" . join('', map { "X-H$_: " . ('v' x 300) . "\r\n" } 1 .. 10)
    . "Connection: close\r\n\r\n";
http_send($s, substr($big, 0, 700));
sleep 0.1;
http_send($s, substr($big, 700, 1000));
sleep 0.1;
http_send($s, substr($big, 1700));
is(http_body(http_read_all($s)), 'r:/split', 'head across the large header buffer boundary');
close $s;

###############################################################################
# keepalive_requests, keepalive_time, keepalive_timeout's header

@r = http_keepalive([map { "GET /three HTTP/1.1\r\n$H\r\n" } 1 .. 4]);
is(join(',', map { defined $_ ? lc(http_header($_, 'Connection') // '') : 'none' } @r),
    'keep-alive,keep-alive,close,none', 'keepalive_requests 3: closed after the third');

$s = http_connect();
http_send($s, "GET /aged HTTP/1.1\r\n$H\r\n");
my $resp = http_read_response($s);
is(lc(http_header($resp, 'Connection') // ''), 'keep-alive', 'keepalive_time: young connection kept');
sleep 1.2;
http_send($s, "GET /aged HTTP/1.1\r\n$H\r\n");
$resp = http_read_response($s);
ok(lc(http_header($resp, 'Connection') // '') eq 'close' && http_wait_close($s, 2),
    'keepalive_time 1s: closed after a request on an older connection');
close $s;

$resp = http("GET / HTTP/1.1\r\n$H\r\n", timeout => 1);
is(http_header($resp, 'Keep-Alive'), 'timeout=25', 'keepalive_timeout header value');

###############################################################################
# keepalive_disable

my $msie6 = 'User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.0)';
my $msie6sv1 = 'User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)';
my $safari = 'User-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) '
    . 'AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.0 Safari/605.1.15';
my $chrome = 'User-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) '
    . 'AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';

sub conn_of {
    my ($req) = @_;
    my $s = http_connect();
    http_send($s, $req);
    my $r = http_read_response($s);
    close $s;
    return lc(http_header($r, 'Connection') // 'none');
}

is(conn_of("POST / HTTP/1.1\r\n$H$msie6\r\nContent-Length: 1\r\n\r\nx"), 'close',
    'keepalive_disable msie6 (default): POST from MSIE 6 closes');
is(conn_of("GET / HTTP/1.1\r\n$H$msie6\r\n\r\n"), 'keep-alive',
    'keepalive_disable msie6: GET from MSIE 6 kept');
is(conn_of("POST / HTTP/1.1\r\n$H$msie6sv1\r\nContent-Length: 1\r\n\r\nx"), 'keep-alive',
    'keepalive_disable msie6: MSIE 6 SV1 kept');
is(conn_of("GET /safari HTTP/1.1\r\n$H$safari\r\n\r\n"), 'close',
    'keepalive_disable safari: Safari closes');
is(conn_of("GET /safari HTTP/1.1\r\n$H$chrome\r\n\r\n"), 'keep-alive',
    'keepalive_disable safari: Chrome kept');
is(conn_of("GET / HTTP/1.1\r\n$H$safari\r\n\r\n"), 'keep-alive',
    'Safari kept where only msie6 is disabled');
is(conn_of("POST /none HTTP/1.1\r\n$H$msie6\r\nContent-Length: 1\r\n\r\nx"), 'keep-alive',
    'keepalive_disable none: MSIE 6 kept');

###############################################################################
# client_header_timeout

$s = http_connect();
http_send($s, "GET / HTTP/1.1\r\nHo");
my $t0 = time;
$resp = http_read_response($s, timeout => 5);
is(http_status($resp), 408, 'client_header_timeout: 408 for a head that stalls');
ok(http_wait_close($s, 2) && time - $t0 < 4, 'client_header_timeout: then closed');
close $s;

$s = http_connect();
$t0 = time;
my $buf = http_read_all($s, timeout => 5);
ok($buf eq '' && time - $t0 < 4, 'client_header_timeout: a silent connection closed quietly');
close $s;

$s = http_connect();
http_send($s, "GET / HTTP/1.1\r\n$H\r\n");
http_read_response($s);
sleep 1.5;
http_send($s, "GET /later HTTP/1.1\r\n$H\r\n");
is(http_body(http_read_response($s)), 'r:/later',
    'idle keepalive connection outlives client_header_timeout');
close $s;

###############################################################################
# send_timeout: the client stops reading a large answer

my $body = 'z' x (6 * 1024 * 1024);
$s = http_connect();
http_send($s, "POST /send HTTP/1.1\r\n${H}Content-Length: " . length($body) . "\r\n\r\n$body",
    timeout => 10);
sleep 3;
my $in = http_read_all($s, timeout => 5);
close $s;
ok(length($in) > 0 && length($in) < length($body),
    sprintf('send_timeout: closed with %d of %d bytes sent', length $in, length $body));

###############################################################################
# lingering close

# keepalive_timeout 0, a body the handler does not read: it is discarded
# in the background after the answer; once it is in, the connection is
# closed, with a lingering read (the client may still be sending) or not
my $p2 = $t->port(8081);

sub two_writes {
    my ($s) = @_;
    my $w1 = syswrite($s, 'x' x 100);
    sleep 0.25;
    my $w2 = syswrite($s, 'y' x 100);
    return ($w1, $w2);
}

$s = http_connect(port => $p2);
http_send($s, "POST / HTTP/1.1\r\n${H}Content-Length: 5000\r\n\r\n" . ('a' x 1000));
$resp = http_read_response($s);
is(http_body($resp), 'short', 'lingering: answered before the body is in');
http_send($s, 'a' x 4000);
ok(http_wait_close($s, 2), 'lingering: writing side shut down once the body is in');
sleep 0.25;
my ($w1, $w2) = two_writes($s);
ok($w1 && $w2, 'lingering: data sent afterwards is drained, not reset');
sleep 1.6;
($w1, $w2) = two_writes($s);
ok($w1 && !$w2, 'lingering_timeout 1s: closed after a silent second');
close $s;

$s = http_connect(port => $p2);
http_send($s, "POST /off HTTP/1.1\r\n${H}Content-Length: 5000\r\n\r\n" . ('a' x 1000));
$resp = http_read_response($s);
is(http_body($resp), 'short', 'lingering_close off: answered');
http_send($s, 'a' x 4000);
ok(http_wait_close($s, 2), 'lingering_close off: closed once the body is in');
sleep 0.25;
($w1, $w2) = two_writes($s);
ok($w1 && !$w2, 'lingering_close off: data sent afterwards is reset');
close $s;

# lingering_time bounds the whole drain
$s = http_connect(port => $p2);
http_send($s, "POST / HTTP/1.1\r\n${H}Content-Length: 10000000\r\n\r\n" . ('a' x 1000));
$resp = http_read_response($s);
$t0 = time;
my $reset = 0;
my $n;
while (time - $t0 < 6) {
    unless (http_send($s, 'd' x 1000, timeout => 0.5)) { $reset = 1; last }
    sleep 0.4;
    my $sel = IO::Select->new($s);
    if ($sel->can_read(0)) {
        $n = sysread($s, $buf, 10);
        if (!defined $n) { $reset = 1; last }
    }
}
my $took = time - $t0;
ok($reset && $took > 2 && $took < 5.5,
    sprintf('lingering_time 3s: a client that keeps sending is cut after %.1f s', $took));
close $s;

###############################################################################
# tcp_nopush with sendfile: a temp file answered with sendfile

$body = join '', map { chr(65 + $_ % 26) } 1 .. 50000;
@r = http_keepalive(["POST /nopush HTTP/1.1\r\n${H}Content-Length: 50000\r\n\r\n$body",
    "GET /after HTTP/1.1\r\n$H\r\n"]);
ok(defined $r[0] && http_body($r[0]) eq $body && http_header($r[0], 'X-Body') eq 'file',
    'tcp_nopush, sendfile: file body sent');
is(http_body($r[1] // ''), 'r:/after', 'tcp_nopush: the connection goes on after it');
