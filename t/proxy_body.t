#!/usr/bin/perl

# Request bodies through the proxy: Content-Length and chunked bodies
# (buffered: sent with their decoded length), a body large enough for the
# client body temp file, proxy_request_buffering off (streamed: the
# upstream has the head and the first bytes before the client sent the
# rest; a body of unknown length goes chunked over HTTP/1.1), proxy_set_body,
# proxy_pass_request_body off, Expect: 100-continue, and keepalive with the
# client after a proxied body.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::Test::Backend qw(backend);
use Digest::MD5 qw(md5_hex);
use IO::Select;
use Time::HiRes qw(time sleep);

my $t = Portico::Test->new->has(qw/http_proxy/);

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    client_max_body_size 10m;
    client_body_buffer_size 16k;

    upstream pair_s { server 127.0.0.1:%%PORT_8081%%; server 127.0.0.1:%%PORT_8083%%; }
    upstream pair_b { server 127.0.0.1:%%PORT_8081%%; server 127.0.0.1:%%PORT_8083%%; }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location / {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }
        location /stream/ {
            proxy_pass http://127.0.0.1:%%PORT_8082%%;
            proxy_request_buffering off;
            proxy_http_version 1.1;
        }
        location /stream10/ {
            proxy_pass http://127.0.0.1:%%PORT_8082%%;
            proxy_request_buffering off;
        }
        location /buffered/ {
            proxy_pass http://127.0.0.1:%%PORT_8082%%;
        }
        location /setbody/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_set_body "replaced $request_method";
        }
        location /nobody/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_pass_request_body off;
        }
        location /small/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            client_max_body_size 10;
        }
        location /sretry/ {
            proxy_pass http://pair_s;
            proxy_request_buffering off;
            proxy_http_version 1.1;
        }
        location /bretry/ {
            proxy_pass http://pair_b;
        }
    }
}
EOF

my $d = $t->testdir;
$t->run_daemon(\&backend, port => $t->port(8081), name => 'a');
$t->run_daemon(\&timing_backend, $t->port(8082), "$d/timing.log");
$t->run_daemon(\&backend, port => $t->port(8083), name => 'c');
$t->wait_for_port($t->port($_)) for 8081, 8082, 8083;

$t->run;
$t->plan(31);

$t->expect_errors(qr/upstream prematurely closed/, qr/recv\(\) failed/);

sub req {
    my ($raw, %o) = @_;
    return parse_response(http($raw, timeout => 10, %o)) // { status => 'none', header => {},
                                                               body => '' };
}

my $p = req("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 11\r\n\r\nhello world");
is($p->{status}, 200, 'POST with Content-Length');
is($p->{body}, 'hello world', 'body passed');
is($p->{header}{'x-cl'}, '11', 'Content-Length sent');

$p = req("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
         . "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
is($p->{body}, 'hello world', 'chunked body decoded');
is($p->{header}{'x-cl'}, '11', 'chunked body: sent with its length');
is($p->{header}{'x-te'}, '-', 'chunked body: no Transfer-Encoding upstream');

my $big = join '', map { sprintf "%08d\n", $_ } 1 .. 200000;
$p = req("PUT /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: "
         . length($big) . "\r\n\r\n$big", timeout => 20);
is($p->{header}{'x-body-length'}, length $big, 'a body past client_body_buffer_size (temp file)');
ok(md5_hex($p->{body}) eq md5_hex($big), 'the large body intact');

$p = req("POST /setbody/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc");
is($p->{body}, 'replaced POST', 'proxy_set_body');
is($p->{header}{'x-cl'}, '13', 'proxy_set_body: its length');

$p = req("POST /nobody/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc");
is($p->{body}, '', 'proxy_pass_request_body off: no body');
is($p->{header}{'x-cl'}, '-', 'proxy_pass_request_body off: no Content-Length');

$p = req("POST /small/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 100\r\n\r\n"
         . ('z' x 100));
is($p->{status}, 413, 'client_max_body_size: 413');

# Expect: 100-continue
my $s = http("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\n"
              . "Expect: 100-continue\r\n\r\n", start => 1);
my $sel = IO::Select->new($s);
my $buf = '';
sysread($s, $buf, 1000) if $sel->can_read(5);
like($buf, qr{^HTTP/1\.1 100 Continue\r\n\r\n}, 'Expect: 100-continue answered');
http_send($s, 'hello');
$buf = http_read_all($s);
is(http_body($buf), 'hello', 'the body after 100 Continue');

# keepalive: two POSTs and a GET on one connection
my @r = http_keepalive([
    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none",
    "POST /nobody/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\ntwo",
    "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n",
]);
is(http_body($r[0]), 'one', 'keepalive: first body');
is(http_body($r[1]), '', 'keepalive: body not passed');
is(http_status($r[2]), 200, 'keepalive: the next request after a discarded body');

###############################################################################
# streaming

# a PUT is retried on the next peer when its body was buffered, not once a
# streamed body went out
$p = req("PUT /bretry/a=reset/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
         . "Content-Length: 4\r\n\r\ndata");
is($p->{body}, 'data', 'buffered body: retried on the next peer');
$p = req("PUT /sretry/a=reset/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
         . "Content-Length: 4\r\n\r\ndata");
is($p->{status}, 502, 'streamed body: not sent to another peer');

sub timing_log {
    my @l = split /\n/, ($t->read_file('timing.log') // '');
    return map { [split ' '] } @l;
}

# the client sends the head and 10 bytes, waits, then sends the rest
sub slow_upload {
    my ($path, $te) = @_;
    unlink "$d/timing.log";
    my $head = $te
        ? "POST $path HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
        : "POST $path HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 20\r\n\r\n";
    my ($p1, $p2) = $te ? ("a\r\n0123456789\r\n", "a\r\nabcdefghij\r\n0\r\n\r\n")
                        : ('0123456789', 'abcdefghij');
    my $s = http($head . $p1, start => 1);
    sleep 1.5;
    my $sent = time;
    http_send($s, $p2);
    my $r = http_read_all($s, timeout => 10);
    return ($sent, $r);
}

my ($sent, $raw) = slow_upload('/stream/x');
my @l = timing_log();
ok(@l && $l[0][0] eq 'head' && $l[0][1] < $sent - 0.5,
   'request_buffering off: the upstream has the head before the client sent all');
ok(@l > 1 && $l[1][0] eq 'bytes' && $l[1][1] < $sent - 0.5, 'request_buffering off: and the first bytes');
is(http_body($raw), 'cl=20 te=- body=0123456789abcdefghij', 'streamed body complete');

($sent, $raw) = slow_upload('/stream/y', 1);
@l = timing_log();
ok(@l && $l[0][1] < $sent - 0.5, 'chunked, request_buffering off: streamed');
is(http_body($raw), 'cl=- te=chunked body=0123456789abcdefghij',
   'chunked, request_buffering off, HTTP/1.1: sent chunked');

($sent, $raw) = slow_upload('/stream10/z', 1);
@l = timing_log();
ok(@l && $l[0][1] >= $sent - 0.2, 'chunked over HTTP/1.0 upstream: buffered');
is(http_body($raw), 'cl=20 te=- body=0123456789abcdefghij', 'chunked over HTTP/1.0: with its length');

($sent, $raw) = slow_upload('/buffered/w');
@l = timing_log();
ok(@l && $l[0][1] >= $sent - 0.2, 'request_buffering on: the upstream gets it after the client');
is(http_body($raw), 'cl=20 te=- body=0123456789abcdefghij', 'buffered body complete');

# a streamed body larger than the body buffer
my $mid = 'q' x 300000;
$p = req("POST /stream/big HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: "
         . length($mid) . "\r\n\r\n$mid", timeout => 20);
is(length($p->{body}), length($mid) + length('cl=300000 te=- body='), 'large streamed body');

$p = req("POST /stream/big HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
         . join('', map { sprintf("%x\r\n%s\r\n", 1000, 'k' x 1000) } 1 .. 100) . "0\r\n\r\n",
         timeout => 20);
is($p->{body}, 'cl=- te=chunked body=' . ('k' x 100000), 'large streamed chunked body');

###############################################################################

# Logs "head TIME" when a request head arrived and "bytes TIME" at the
# first body bytes; answers with what it got.
sub timing_backend {
    my ($port, $log) = @_;
    my $ls = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
        Listen => 16, ReuseAddr => 1) or die "timing: $!";
    local $SIG{CHLD} = 'IGNORE';
    while (my $c = $ls->accept) {
        next if fork;
        my $buf = '';
        my $sel = IO::Select->new($c);
        my $note = sub {
            open my $fh, '>>', $log; printf $fh "%s %.3f\n", $_[0], time; close $fh;
        };
        my $i;
        while (($i = index($buf, "\r\n\r\n")) < 0) {
            $sel->can_read(10) or exit 0;
            sysread($c, $buf, 65536, length $buf) or exit 0;
        }
        $note->('head');
        my $head = substr($buf, 0, $i);
        substr($buf, 0, $i + 4) = '';
        my ($cl) = $head =~ /^Content-Length: (\d+)/mi;
        my $te = $head =~ /^Transfer-Encoding: chunked/mi ? 'chunked' : '-';
        my $noted = length $buf ? ($note->('bytes'), 1) : 0;
        my $body = '';
        if (defined $cl) {
            while (length $buf < $cl) {
                $sel->can_read(10) or exit 0;
                sysread($c, $buf, 65536, length $buf) or exit 0;
                $noted ||= ($note->('bytes'), 1);
            }
            $body = $buf;
        } else {
            # chunked: read until the last chunk
            while ($buf !~ /(?:^|\r\n)0\r\n\r\n\z/) {
                $sel->can_read(10) or exit 0;
                sysread($c, $buf, 65536, length $buf) or exit 0;
                $noted ||= ($note->('bytes'), 1);
            }
            while ($buf =~ s/^([0-9a-f]+)\r\n//i) {
                my $n = hex $1;
                last if $n == 0;
                $body .= substr($buf, 0, $n);
                substr($buf, 0, $n + 2) = '';
            }
        }
        my $out = 'cl=' . ($cl // '-') . " te=$te body=$body";
        syswrite $c, "HTTP/1.1 200 OK\r\nContent-Length: " . length($out)
            . "\r\nConnection: close\r\n\r\n$out";
        exit 0;
    }
}
