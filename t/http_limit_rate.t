#!/usr/bin/perl

# Response rate limits (nginx 1.22 semantics): limit_rate and
# limit_rate_after in the write filter (limit = rate * (now - start + 1) -
# sent, then a pause as long as the bytes sent take at the rate), set
# $limit_rate, the backend's X-Accel-Limit-Rate (unless ignored), and
# proxy_limit_rate, which slows the reading of a buffered backend answer.
#
# 1 MB at 500k (512000 bytes/s) goes in three sends at 0, 1 and 2 s; the
# bounds are generous for a loaded machine.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::Test::Daemon qw(read_request);
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time);

my $t = Portico::Test->new->has(qw/http_proxy http_rewrite/);

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
error_log %%TESTDIR%%/warn.log warn;
events { }
http {
    log_format up '$uri $upstream_response_time';
    access_log %%TESTDIR%%/up.log up;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        root %%TESTDIR%%/html;

        location /fast/ {
            alias %%TESTDIR%%/html/;
        }
        location /slow/ {
            alias %%TESTDIR%%/html/;
            limit_rate 500k;
        }
        location /after/ {
            alias %%TESTDIR%%/html/;
            limit_rate 250k;
            limit_rate_after 500k;
        }
        location /var/ {
            alias %%TESTDIR%%/html/;
            set $limit_rate 500k;
        }
        location /app/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }
        location /appign/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/app/;
            proxy_ignore_headers X-Accel-Limit-Rate;
        }
        location /appoff/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/app/;
            proxy_buffering off;
        }
        location /plr/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/app/;
            proxy_limit_rate 500k;
        }
    }
}
EOF

my $MB = 1048576;
$t->write_file('html/big', 'x' x $MB);

my $blog = $t->testdir . '/backend.log';
$t->run_daemon(\&backend, $t->port(8081), $blog);
$t->wait_for_port($t->port(8081));

$t->run;
$t->plan(19);

# Reads a whole response: (seconds, seconds until $mark body bytes, body).
sub timed {
    my ($path, $mark) = @_;
    my $s = http("GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n", start => 1);
    my $t0 = time;
    my ($buf, $at) = ('', undef);
    my $sel = IO::Select->new($s);
    while ($sel->can_read(10)) {
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
        if ($mark && !defined $at) {
            my $i = index($buf, "\r\n\r\n");
            $at = time - $t0 if $i >= 0 && length($buf) - $i - 4 >= $mark;
        }
    }
    my $d = time - $t0;
    my $i = index($buf, "\r\n\r\n");
    return ($d, $at, $i >= 0 ? substr($buf, $i + 4) : '');
}

sub between { my ($v, $lo, $hi) = @_; return defined $v && $v >= $lo && $v <= $hi }

###############################################################################
# limit_rate, limit_rate_after, $limit_rate

my ($d, $at, $body) = timed('/fast/big');
ok($d < 1.0, sprintf('no limit: fast (%.2fs)', $d));
is(length $body, $MB, 'no limit: the whole file');

($d, $at, $body) = timed('/slow/big');
ok(between($d, 1.4, 4), sprintf('limit_rate 500k: 1 MB in about 2 s (%.2fs)', $d));
is(length $body, $MB, 'limit_rate: the whole file');

($d, $at, $body) = timed('/after/big', 500 * 1024);
ok(defined $at && $at < 0.8, sprintf('limit_rate_after 500k: the first 500k at once (%.2fs)',
   $at // 99));
ok(between($d, 1.4, 4), sprintf('limit_rate_after: then 250k/s (%.2fs)', $d));
is(length $body, $MB, 'limit_rate_after: the whole file');

($d, $at, $body) = timed('/var/big');
ok(between($d, 1.4, 4), sprintf('set $limit_rate 500k (%.2fs)', $d));

###############################################################################
# X-Accel-Limit-Rate

($d, $at, $body) = timed('/app/xalr');
ok(between($d, 1.4, 4), sprintf('X-Accel-Limit-Rate: 512000 (%.2fs)', $d));
is(length $body, $MB, 'X-Accel-Limit-Rate: the whole body');

($d, $at, $body) = timed('/appoff/xalr');
ok(between($d, 1.4, 4), sprintf('X-Accel-Limit-Rate, proxy_buffering off (%.2fs)', $d));
is(length $body, $MB, 'X-Accel-Limit-Rate, proxy_buffering off: the whole body');

($d, $at, $body) = timed('/appign/xalr');
ok($d < 1.0, sprintf('proxy_ignore_headers X-Accel-Limit-Rate: fast (%.2fs)', $d));

###############################################################################
# proxy_limit_rate: the backend is read at 500k/s, the client is not limited

($d, $at, $body) = timed('/app/plain');
ok($d < 1.0, sprintf('backend, no limit: fast (%.2fs)', $d));
my $send0;
for (1 .. 40) {
    ($send0) = $t->read_file('backend.log') =~ m{^/app/plain ([\d.]+)$}m;
    last if defined $send0;
    select undef, undef, undef, 0.05;
}
ok(defined $send0 && $send0 < 0.7, sprintf('backend send, no limit (%.2fs)', $send0 // 99));

($d, $at, $body) = timed('/plr/plain');
is(length $body, $MB, 'proxy_limit_rate: the whole body');
ok(between($d, 1.4, 4), sprintf('proxy_limit_rate 500k: about 2 s (%.2fs)', $d));

# the backend logs once it sees the close, maybe after the client is done
my @sends;
for (1 .. 40) {
    @sends = $t->read_file('backend.log') =~ m{^/app/plain ([\d.]+)$}mg;
    last if @sends == 2;
    select undef, undef, undef, 0.05;
}
ok(@sends == 2 && $sends[1] > 0.7, sprintf('proxy_limit_rate: the backend\'s send is slowed (%.2fs)',
   $sends[1] // 0));

my ($urt) = $t->read_file('up.log') =~ m{^/plr/plain ([\d.]+)$}m;
ok(between($urt, 1.4, 4), sprintf('proxy_limit_rate: $upstream_response_time (%s)',
   $urt // '-'));

###############################################################################

# 1 MB answers; ".../xalr" with "X-Accel-Limit-Rate: 512000".  Logs "URI
# SECONDS", the time until portico had read the answer and closed.
sub backend {
    my ($port, $log) = @_;
    my $ls = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
        Listen => 16, ReuseAddr => 1) or die "backend: $!";
    local $SIG{CHLD} = 'IGNORE';
    while (my $c = $ls->accept) {
        if (fork) { close $c; next }
        my $buf = '';
        my $req = read_request($c, \$buf) or POSIX::_exit(0);
        my $xa = $req->{uri} =~ /xalr/ ? "X-Accel-Limit-Rate: 512000\r\n" : '';
        my $data = "HTTP/1.1 200 OK\r\n${xa}Content-Length: $MB\r\n"
                 . "Connection: close\r\n\r\n" . ('y' x $MB);
        my $t0 = time;
        while (length $data) {
            my $n = syswrite($c, $data) or last;
            substr($data, 0, $n) = '';
        }
        # the socket buffers hold much of 1 MB: the send is over when
        # portico has read it all and closes
        IO::Select->new($c)->can_read(10) and sysread($c, $buf, 1);
        my $d = time - $t0;
        open my $fh, '>>', $log; printf $fh "%s %.3f\n", $req->{uri}, $d; close $fh;
        POSIX::_exit(0);
    }
}
