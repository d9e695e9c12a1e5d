#!/usr/bin/perl

# Response buffering: with proxy_buffering off (or "X-Accel-Buffering: no")
# a slow backend's first bytes reach the client before its last ones are
# sent; with it on, a slow client makes the response spill into a temp file
# (proxy_temp_path, limited by proxy_max_temp_file_size) so the backend is
# released early; large bodies arrive intact and in order either way, with
# small buffers too.

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
error_log %%TESTDIR%%/warn.log warn;
events { }
http {
    log_format up '$uri $status $upstream_response_time $request_time';
    access_log %%TESTDIR%%/up.log up;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location /on/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }
        location /off/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_buffering off;
        }
        location /small/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_buffer_size 1k;
            proxy_buffers 4 1k;
            proxy_busy_buffers_size 2k;
            proxy_temp_path %%TESTDIR%%/ptemp 1 2;
        }
        location /smalloff/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_buffering off;
            proxy_buffer_size 1k;
        }
        location /notemp/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_buffers 4 4k;
            proxy_max_temp_file_size 0;
        }
        location /limited/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_buffers 4 4k;
            proxy_max_temp_file_size 64k;
            proxy_temp_path %%TESTDIR%%/ptemp2;
        }
        location /xaccel/ {
            proxy_pass http://127.0.0.1:%%PORT_8082%%;
        }
        location /xaccel-ignored/ {
            proxy_pass http://127.0.0.1:%%PORT_8082%%;
            proxy_ignore_headers X-Accel-Buffering;
        }
    }
}
EOF

$t->run_daemon(\&backend, port => $t->port(8081), name => 'a');
$t->run_daemon(\&xaccel, $t->port(8082));
$t->wait_for_port($t->port($_)) for 8081, 8082;

$t->run;
$t->plan(24);

$t->expect_errors(qr/buffered to a temporary file/);

my $pattern_md5;
sub pattern { my ($n) = @_; return join '', map { sprintf("%08d\n", $_) } 1 .. $n }

# Reads a response and notes when "piece 1" and the end arrived.
sub timed {
    my ($path) = @_;
    my $s = http("GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                 start => 1);
    my $t0 = time;
    my ($first, $buf) = (undef, '');
    my $sel = IO::Select->new($s);
    while ($sel->can_read(10)) {
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
        $first //= time - $t0 if $buf =~ /piece 1\n/;
    }
    return ($first // 99, time - $t0, $buf);
}

###############################################################################
# streaming

my ($first, $all, $raw) = timed('/off/stream/5/400');
ok($first < 1.0, sprintf('buffering off: the first piece arrives at once (%.2fs)', $first));
ok($all >= 1.5, sprintf('buffering off: the last after the backend sent it (%.2fs)', $all));
is(http_body($raw), join('', map { "piece $_\n" } 1 .. 5), 'buffering off: the body');

($first, $all, $raw) = timed('/smalloff/stream/5/400');
ok($first < 1.0, 'buffering off, small buffer: streams');

($first, $all, $raw) = timed('/on/stream/3/300');
is(http_body($raw), join('', map { "piece $_\n" } 1 .. 3), 'buffering on: the body');

($first, $all, $raw) = timed('/xaccel/');
ok($first < 1.0, sprintf('X-Accel-Buffering: no streams (%.2fs)', $first));
unlike($raw, qr/X-Accel-Buffering/i, 'X-Accel-Buffering hidden');

($first, $all, $raw) = timed('/xaccel-ignored/');
is(http_body($raw), join('', map { "piece $_\n" } 1 .. 5),
   'proxy_ignore_headers X-Accel-Buffering: the body still arrives');

###############################################################################
# large bodies, intact

for my $loc (qw(on off small smalloff notemp limited)) {
    my $r = http("GET /$loc/pattern/200000 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                 timeout => 20);
    my $b = http_body($r) // '';
    ok(length($b) == 1800000 && md5_hex($b) eq md5_hex(pattern(200000)),
       "/$loc/: 1.8 MB body intact and in order");
}

###############################################################################
# a slow client: temp file spill, and the backend is released early

sub slow_client {
    my ($path, $pause) = @_;
    my $s = http("GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                 start => 1);
    sleep $pause;
    my $buf = http_read_all($s, timeout => 20);
    return $buf;
}

my $r = slow_client('/small/pattern/400000', 2);
is(length(http_body($r) // ''), 3600000, 'slow client: the whole body');
ok(md5_hex(http_body($r) // '') eq md5_hex(pattern(400000)), 'slow client: intact');
like($t->read_file('warn.log'), qr/an upstream response is buffered to a temporary file/,
     'spilled to a temp file');
ok(-d $t->testdir . '/ptemp', 'proxy_temp_path created');

# 40 MB, more than the sockets hold: the upstream part ends long before
# the client finishes when a temp file takes the rest, not without one
$r = slow_client('/small/big/40000000', 2);
is(length(http_body($r) // ''), 40000000, 'slow client, 40 MB: the whole body');
my ($line) = grep { m{^/small/big/40000000 } } split /\n/, $t->read_file('up.log');
my (undef, undef, $urt, $rt) = split ' ', $line // '';
ok(defined $urt && $urt < 1.5, "upstream released early ($urt s, request $rt s)");

$r = slow_client('/notemp/big/40000000', 2);
is(length(http_body($r) // ''), 40000000, 'proxy_max_temp_file_size 0: the whole body');
($line) = grep { m{^/notemp/big/40000000 } } split /\n/, $t->read_file('up.log');
(undef, undef, $urt) = split ' ', $line // '';
ok(defined $urt && $urt >= 1.5, "max_temp_file_size 0: the upstream waits for the client ($urt s)");

$r = slow_client('/limited/pattern/400000', 1.5);
ok(md5_hex(http_body($r) // '') eq md5_hex(pattern(400000)),
   'proxy_max_temp_file_size 64k: the body intact');

my @files = glob($t->testdir . '/ptemp/*/*/*');
is(scalar(@files), 0, 'temp files are removed');

###############################################################################

# Streams with "X-Accel-Buffering: no": 5 small pieces, 400 ms apart.
sub xaccel {
    my ($port) = @_;
    my $ls = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
        Listen => 16, ReuseAddr => 1) or die "xaccel: $!";
    local $SIG{CHLD} = 'IGNORE';
    while (my $c = $ls->accept) {
        next if fork;
        my $buf = '';
        Portico::Test::Daemon::read_request($c, \$buf);
        syswrite $c, "HTTP/1.1 200 OK\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n";
        for my $k (1 .. 5) {
            syswrite $c, "piece $k\n";
            sleep 0.4 if $k < 5;
        }
        exit 0;
    }
}
