#!/usr/bin/perl

# Request bodies: Content-Length and chunked bodies read into memory or
# spilled to unlinked temp files (client_body_buffer_size,
# client_body_temp_path), streaming reads answered as chunked responses,
# Expect: 100-continue, client_body_timeout (408) and
# reset_timedout_connection, $request_body, and bodies discarded by
# handlers that do not read them, with keepalive and pipelining in sync.
# The echo_request_body handler (modules/http_echo) reads the bodies.

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
    log_format body '$request_uri [$request_body]';
    access_log %%TESTDIR%%/access.log body;
    client_body_buffer_size 4k;
    client_max_body_size 4m;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location /echo { echo_request_body; }
        location /stream { echo_request_body stream; }
        location /levels {
            client_body_temp_path %%TESTDIR%%/tmp/body 1 2;
            echo_request_body;
        }
        location /big {
            client_body_buffer_size 1m;
            echo_request_body;
        }
        location /unlimited {
            client_max_body_size 0;
            echo_request_body;
        }
        location /slow {
            client_body_timeout 1s;
            echo_request_body;
        }
        location /reset {
            client_body_timeout 1s;
            reset_timedout_connection on;
            echo_request_body;
        }
        location /nobuf11 {
            chunked_transfer_encoding off;
            echo_request_body stream;
        }
        location / { return 200 "not read"; }
    }
}
EOF

$t->run;
$t->plan(42);

ok(-d $t->path('tmp/body'), 'client_body_temp_path created at startup')
    or diag('no ' . $t->path('tmp/body'));

ok(-d $t->path('client_body_temp'), 'default client_body_temp under the prefix');

sub post {
    my ($uri, $body, %o) = @_;
    my $h = join '', map "$_\r\n", @{$o{headers} || []};
    my $len = $o{chunked} ? "Transfer-Encoding: chunked\r\n"
        : "Content-Length: " . length($body) . "\r\n";
    my $b = $o{chunked} ? chunk($body, $o{chunked}) : $body;
    my $v = $o{v10} ? '1.0' : '1.1';
    return http("POST $uri HTTP/$v\r\nHost: localhost\r\nConnection: close\r\n$len$h\r\n$b",
        %o);
}

# chunked encoding of $body in pieces of $size bytes
sub chunk {
    my ($body, $size) = @_;
    $size = 1000 if $size eq '1';
    my $out = '';
    for (my $i = 0; $i < length $body; $i += $size) {
        my $p = substr($body, $i, $size);
        $out .= sprintf("%x\r\n%s\r\n", length $p, $p);
    }
    return $out . "0\r\n\r\n";
}

sub rnd { join '', map { chr(int rand 256) } 1 .. $_[0] }

###############################################################################
# Content-Length

my $r = post('/echo', 'hello');
is(http_body($r), 'hello', 'small body: echoed');
is(http_header($r, 'X-Body'), 'memory', 'small body: in memory');

my $b3k = rnd(3000);
$r = post('/echo', $b3k);
ok(http_body($r) eq $b3k && http_header($r, 'X-Body') eq 'memory',
    'body larger than the header buffer, within client_body_buffer_size: memory');

my $b100k = rnd(100_000);
$r = post('/echo', $b100k);
ok(http_body($r) eq $b100k, 'body above client_body_buffer_size: echoed intact');
is(http_header($r, 'X-Body'), 'file', 'body above client_body_buffer_size: temp file');

opendir(my $dh, $t->path('client_body_temp'));
my @left = grep { !/^\./ } readdir $dh;
closedir $dh;
is(scalar @left, 0, 'temp file unlinked at once');

$r = post('/big', $b100k);
is(http_header($r, 'X-Body'), 'memory', 'client_body_buffer_size 1m: memory');

$r = post('/levels', $b100k);
ok(http_body($r) eq $b100k && http_header($r, 'X-Body') eq 'file',
    'temp file with levels: echoed');
my @files = grep { -f } glob($t->path('tmp/body') . '/*/*/*');
my @dirs = grep { -d } glob($t->path('tmp/body') . '/*/*');
ok(@dirs == 1 && @files == 0, 'levels 1 2: one level directory made, no file left')
    or diag("dirs: @dirs files: @files");
like($dirs[0] // '', qr{/body/\d/\d\d$}, 'levels 1 2: name digits');

$r = post('/echo', '');
ok(http_status($r) == 200 && http_body($r) eq '' && http_header($r, 'X-Body') eq 'empty',
    'empty body');

# split into pieces with pauses
$r = post('/echo', 'abcdefghij', split => [40, 70, 75, 80], sleep => 0.05);
is(http_body($r), 'abcdefghij', 'head and body in several packets');

###############################################################################
# chunked

$r = post('/echo', 'hello chunked', chunked => 4);
is(http_body($r), 'hello chunked', 'chunked body: decoded');

$r = post('/echo', $b100k, chunked => 7000);
ok(http_body($r) eq $b100k && http_header($r, 'X-Body') eq 'file',
    'chunked body above client_body_buffer_size: temp file, intact');

my $b20k = rnd(20_000);
$r = post('/echo', $b20k, chunked => 1);
ok(http_body($r) eq $b20k, 'chunked body, 1000-byte chunks');

$r = http("POST /echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    . "Transfer-Encoding: chunked\r\n\r\n"
    . "3;name=value;q=\"a;b\"\r\nabc\r\n" . "0002 \t;x\r\nde\r\n"
    . "0;last\r\nTrailer-A: 1\r\nTrailer-B: two words\r\n\r\n");
is(http_body($r), 'abcde', 'chunk extensions and trailers skipped');

my $req = "POST /echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    . "Transfer-Encoding: chunked\r\n\r\n" . chunk('byte by byte', 3);
my $s = http_connect();
for my $c (split //, $req) { http_send($s, $c); }
$r = http_read_all($s);
close $s;
is(http_body($r), 'byte by byte', 'chunked body sent one byte at a time');

$r = post('/echo', '', chunked => 1);
ok(http_status($r) == 200 && http_body($r) eq '', 'empty chunked body');

my $b2m = rnd(2 * 1024 * 1024);
$r = post('/unlimited', $b2m . $b2m . 'x', chunked => 65536);
is(length(http_body($r) // ''), 4 * 1024 * 1024 + 1,
    'client_max_body_size 0: a 4 MiB chunked body is read');

###############################################################################
# Expect: 100-continue

$s = http_connect();
http_send($s, "POST /echo HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
    . "Transfer-Encoding: chunked\r\n\r\n");
$r = http_read_response($s);
is(http_status($r), 100, '100 Continue for a chunked body');
http_send($s, chunk('after continue', 5));
is(http_body(http_read_response($s)), 'after continue', 'body read after 100 Continue');
close $s;

$r = http("POST /echo HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
    . "Content-Length: 4\r\nConnection: close\r\n\r\nbody");
ok($r !~ m{^HTTP/1\.1 100} && http_body($r) eq 'body',
    'no 100 Continue when the body came with the head');

$r = http("POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody");
ok($r !~ m{ 100 } && http_body($r) eq 'body', 'no 100 Continue for HTTP/1.0');

###############################################################################
# streaming: the chunked response filter carries the echo

$r = post('/stream', 'streamed', chunked => 3);
is(http_header($r, 'Transfer-Encoding'), 'chunked', 'stream: chunked response');
is(http_body($r), 'streamed', 'stream: body echoed');

$r = post('/stream', $b100k);
ok(http_body($r) eq $b100k, 'stream: 100 kB through a 4k buffer');

$r = post('/stream', 'ten', v10 => 1);
ok(!defined(http_header($r, 'Transfer-Encoding')) && http_body($r) eq 'ten'
    && lc(http_header($r, 'Connection') // '') eq 'close',
    'stream to HTTP/1.0: no chunks, delimited by the close');

$r = post('/nobuf11', 'plain');
ok(!defined(http_header($r, 'Transfer-Encoding')) && http_body($r) eq 'plain',
    'chunked_transfer_encoding off: delimited by the close');

# the answer starts before the body is complete
$s = http_connect();
http_send($s, "POST /stream HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nfirst");
my $got = '';
my $sel = IO::Select->new($s);
my $deadline = time + 5;
while ($got !~ /first/ && time < $deadline) {
    last unless $sel->can_read(1);
    sysread($s, $got, 4096, length $got) or last;
}
like($got, qr/\r\n5\r\nfirst\r\n/, 'stream: first piece answered before the rest arrives');
http_send($s, "after");
$r = http_read_response($s);
$got .= $r // '';
like($got, qr/after\r\n0\r\n\r\n$/, 'stream: rest and the last chunk follow');
close $s;

# large body streamed while the response is read concurrently
$s = http_connect();
my $out = "POST /stream HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    . "Content-Length: " . length($b2m) . "\r\n\r\n" . $b2m;
my $in = '';
my $rs = IO::Select->new($s);
$deadline = time + 20;
while (time < $deadline) {
    my ($rd, $wr) = IO::Select->select($rs, length $out ? $rs : undef, undef, 1);
    if ($wr && @$wr) {
        my $n = syswrite($s, $out, 65536);
        substr($out, 0, $n) = '' if $n;
    }
    if ($rd && @$rd) {
        my $n = sysread($s, $in, 65536, length $in);
        last unless $n;
    }
}
close $s;
ok(length($out) == 0 && http_body($in) eq $b2m, 'stream: 2 MiB sent and echoed at once');

###############################################################################
# client_body_timeout, reset_timedout_connection

$s = http_connect();
http_send($s, "POST /slow HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc");
my $t0 = time;
$r = http_read_response($s, timeout => 5);
is(http_status($r), 408, 'client_body_timeout: 408');
ok(http_wait_close($s, 3) && time - $t0 < 4.5, 'client_body_timeout: closed');
close $s;

$s = http_connect();
http_send($s, "POST /reset HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc");
$t0 = time;
my $buf = '';
my $sel2 = IO::Select->new($s);
my $n = $sel2->can_read(5) ? sysread($s, $buf, 4096) : -1;
ok(!defined $n && $!{ECONNRESET} && $buf eq '' && time - $t0 < 4.5,
    'reset_timedout_connection: no answer, the connection is reset')
    or diag("read: " . ($n // "undef: $!") . " [$buf]");
close $s;

###############################################################################
# bodies not read by the handler are discarded, keepalive stays in sync

my @k = http_keepalive([
    "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nGET /",
    "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
        . chunk('GET / HTTP/1.1', 2),
    "GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n"]);
ok(@k == 3 && !grep({ !defined $_ || http_body($_) ne 'not read' } @k),
    'unread bodies discarded: three answers on one connection');

@k = http_keepalive([
    "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3000\r\n\r\n" . ('G' x 3000),
    "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
        . chunk('one', 2),
    "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\ntwo",
    "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"], pipeline => 1);
is(join('|', map { defined $_ ? http_body($_) : 'none' } @k), 'not read|one|two|not read',
    'pipelined bodies, read and discarded, answered in order');

$r = http("POST / HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
    . "Content-Length: 3\r\nConnection: close\r\n\r\n", start => 1);
my $first = http_read_response($r);
http_send($r, 'abc');
my $second = http_read_response($r);
close $r;
ok(http_status($first) == 100 && http_body($second) eq 'not read',
    '100 Continue before a discarded body');

###############################################################################
# $request_body

my $log = '';
for (1 .. 50) {
    $log = $t->read_file('access.log') // '';
    last if $log =~ m{^/echo \[hello\]$}m;
    sleep 0.05;
}
like($log, qr{^/echo \[hello\]$}m, '$request_body logged for a body in memory');
like($log, qr{^/echo \[abcde\]$}m, '$request_body of a chunked body');
like($log, qr{^/levels \[-\]$}m, '$request_body empty for a body in a temp file');
