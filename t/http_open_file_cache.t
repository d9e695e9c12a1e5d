#!/usr/bin/perl

# open_file_cache, open_file_cache_valid, _min_uses and _errors: a file
# replaced by rename() or deleted is still served from the cached
# descriptor within open_file_cache_valid and looked up again after it; a
# missing file's 404 is cached only with open_file_cache_errors on; a
# descriptor is kept only after min_uses lookups; max bounds the entries
# (least recently used evicted) and the worker's open descriptors; index
# and try_files go through the cache too; a large response keeps its
# descriptor while its entry is evicted or invalidated, arrives intact, and
# the descriptor is closed after it; bad arguments fail "-t" with nginx's
# messages.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Digest::MD5 qw(md5_hex);
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_RCVBUF inet_aton pack_sockaddr_in);
use Time::HiRes qw(sleep time);

my $t = Portico::Test->new->has(qw/http_try_files/);
my $d = $t->testdir;

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    access_log off;
    open_file_cache max=64 inactive=60s;
    open_file_cache_valid 1s;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        root %%TESTDIR%%/html;

        location /errors/ {
            open_file_cache_errors on;
        }
        location /off/ {
            open_file_cache off;
        }
        location /min2/ {
            open_file_cache max=16;
            open_file_cache_valid 60s;
            open_file_cache_min_uses 2;
        }
        location /max2/ {
            open_file_cache max=2;
            open_file_cache_valid 1m;
        }
        location /tf/ {
            open_file_cache_errors on;
            try_files $uri /tf-fallback;
        }
        location = /tf-fallback {
            return 200 "fallback";
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%% sndbuf=8k;
        server_name localhost;
        root %%TESTDIR%%/html;

        location /big/ {
            open_file_cache max=4;
            sendfile on;
        }
        location /bigc/ {
            alias %%TESTDIR%%/html/big/;
            open_file_cache max=1;
            open_file_cache_valid 60s;
            sendfile off;
        }
    }
}
EOF

# The one-second scenarios use fresh names on each try (see in_one_second).
$t->write_file("html/big/other.txt", "other\n");

my $big = join('', map { sprintf '%07d,', $_ } 0 .. 524287);    # 4 MiB
$t->write_file_raw('html/big/big.bin', $big);

$t->run;
$t->plan(44);

my $port2 = $t->port(8081);
my ($worker) = $t->worker_pids;

sub get {
    my ($path, %o) = @_;
    return parse_response(http("GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n", %o));
}

sub body {
    my $r = get(@_);
    return defined $r ? "$r->{status} $r->{body}" : 'no response';
}

# Replaces a file the way deployments do: a new file renamed over it.
sub replace {
    my ($name, $content) = @_;
    $t->write_file_raw("$name.tmp", $content);
    rename($t->path("$name.tmp"), $t->path($name)) or die "rename $name: $!";
}

# Sleeps until the wall clock is $s plus a little (the server's cached
# clock is the same clock, read once per event loop iteration).
sub sleep_until {
    my ($s) = @_;
    my $left = $s - time;
    sleep($left) if $left > 0;
}

# With open_file_cache_valid 1s an entry is trusted while the second it was
# checked in lasts.  Runs $code->($try) from just after a second starts, and
# again (with a new $try, so new file names) if it did not finish within
# that second.  Returns ($start second, what $code returned).
sub in_one_second {
    my ($code) = @_;
    for my $try (1 .. 5) {
        sleep_until(int(time) + 1.02);
        my $start = int time;
        my @res = $code->($try);
        return ($start, @res) if int(time) == $start;
    }
    die "could not run within one second in 5 tries\n";
}

# The worker's open descriptors, as names.
sub worker_fds {
    my @fds;
    opendir my $dh, "/proc/$worker/fd" or die "/proc/$worker/fd: $!";
    for my $fd (grep /^\d+$/, readdir $dh) {
        push @fds, readlink("/proc/$worker/fd/$fd") // '?';
    }
    closedir $dh;
    return @fds;
}

###############################################################################
# (1) rename(), (2) unlink, (3) errors on and off, index and try_files:
# within one second (inside open_file_cache_valid 1s) the cached answer,
# after it the file as it is now

my ($start, @within) = in_one_second(sub {
    my ($n) = @_;

    $t->write_file("html/r$n.txt", "old content\n");
    $t->write_file("html/off/r$n.txt", "old content\n");
    $t->write_file("html/d$n.txt", "doomed\n");
    $t->write_file("html/ix$n/index.html", "index page\n");

    my @r = (body("/r$n.txt"), body("/off/r$n.txt"), body("/d$n.txt"),
        body("/errors/m$n.txt"), body("/m$n.txt"), body("/tf/m$n.txt"),
        body("/ix$n/"));

    replace("html/r$n.txt", "the new content\n");
    replace("html/off/r$n.txt", "the new content\n");
    unlink $t->path("html/d$n.txt") or die "unlink: $!";
    $t->write_file("html/errors/m$n.txt", "now here\n");
    $t->write_file("html/m$n.txt", "now here\n");
    $t->write_file("html/tf/m$n.txt", "now here\n");
    unlink $t->path("html/ix$n/index.html") or die "unlink: $!";

    push @r, body("/r$n.txt"), body("/off/r$n.txt"), body("/d$n.txt"),
        body("/errors/m$n.txt"), body("/m$n.txt"), body("/tf/m$n.txt"),
        body("/ix$n/");

    return ($n, @r);
});

my $n = shift @within;

is($within[0], "200 old content\n", 'rename: first request');
is($within[7], "200 old content\n", 'rename: old content within valid (cached fd)');
is($within[8], "200 the new content\n", 'rename: open_file_cache off sees the new file at once');
is($within[2], "200 doomed\n", 'unlink: first request');
is($within[9], "200 doomed\n", 'unlink: still served within valid (cached fd)');
like($within[3], qr/^404 /, 'errors on: missing file 404');
like($within[10], qr/^404 /, 'errors on: the 404 is cached within valid');
like($within[4], qr/^404 /, 'errors off: missing file 404');
is($within[11], "200 now here\n", 'errors off: not cached, the new file at once');
is($within[5], "200 fallback", 'try_files: missing file, fallback');
is($within[12], "200 fallback", 'try_files: its cached miss holds within valid');
is($within[6], "200 index page\n", 'index: first request');
is($within[13], "200 index page\n", 'index: removed index.html served within valid');

sleep_until($start + 1.05);

is(body("/r$n.txt"), "200 the new content\n", 'rename: the new content after valid');
like(body("/d$n.txt"), qr/^404 /, 'unlink: 404 after valid');
is(body("/errors/m$n.txt"), "200 now here\n", 'errors on: the file after valid');
is(body("/tf/m$n.txt"), "200 now here\n", 'try_files: the file after valid');
like(body("/ix$n/"), qr/^403 /, 'index: gone after valid, directory index forbidden');

###############################################################################
# (4) min_uses 2 (valid 60s): a descriptor is kept only from the second use

$t->write_file('html/min2/once.txt', "old\n");
$t->write_file('html/min2/twice.txt', "old\n");

is(body('/min2/once.txt'), "200 old\n", 'min_uses: one use');
replace('html/min2/once.txt', "new\n");
is(body('/min2/once.txt'), "200 new\n", 'min_uses: after one use nothing was kept');

body('/min2/twice.txt');
is(body('/min2/twice.txt'), "200 old\n", 'min_uses: two uses');
replace('html/min2/twice.txt', "new\n");
is(body('/min2/twice.txt'), "200 old\n", 'min_uses: after two uses the descriptor is kept');

###############################################################################
# (5) max=2: the least recently used entry goes, and the descriptors stay
# bounded over many files

$t->write_file("html/max2/f$_.txt", "old $_\n") for 1 .. 3;

body("/max2/f$_.txt") for 1 .. 3;           # f1 evicted by f3
replace("html/max2/f$_.txt", "new $_\n") for 1 .. 3;

is(body('/max2/f3.txt'), "200 old 3\n", 'max=2: a recent entry is kept');
is(body('/max2/f1.txt'), "200 new 1\n", 'max=2: the least recently used was evicted');
is(body('/max2/f3.txt'), "200 old 3\n", 'max=2: f3 still kept (f2 went for f1)');
is(body('/max2/f2.txt'), "200 new 2\n", 'max=2: f2 was evicted for f1');

$t->write_file("html/max2/many$_.txt", "file $_\n") for 1 .. 40;

my $fds0 = () = worker_fds();
my @paths = map { "/max2/many" . (1 + $_ % 40) . ".txt" } 0 .. 199;
my @resp = http_keepalive(\@paths, timeout => 10);
my $good = grep { defined $_ && http_status($_) == 200 } @resp;
is($good, 200, '200 requests over 40 files through max=2');

sleep 0.3;    # the server notices the close of the keepalive connection
my $fds1 = () = worker_fds();
cmp_ok($fds1, '<=', $fds0 + 1, 'open descriptors bounded (max=2 holds two at most)')
    or diag("before $fds0, after $fds1: " . join(' ', worker_fds()));

###############################################################################
# (6) a large file to slow readers: its entry invalidated (/big/, valid 1s)
# or evicted (/bigc/, max=1) while it is sent; the response is complete and
# intact, and the descriptor is closed afterwards

# A connection that reads nothing yet, with a small receive buffer, so the
# server blocks with most of the file unsent.
sub slow_get {
    my ($path) = @_;
    my $s = IO::Socket::INET->new(Proto => 'tcp') or die "socket: $!";
    setsockopt($s, SOL_SOCKET, SO_RCVBUF, 4096) or die "SO_RCVBUF: $!";
    connect($s, pack_sockaddr_in($port2, inet_aton('127.0.0.1'))) or die "connect: $!";
    http_send($s, "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n") or die "send: $!";
    return $s;
}

my $bigs = grep { m{/big/big\.bin} } worker_fds();

my $s1 = slow_get('/big/big.bin');
my $s2 = slow_get('/bigc/big.bin');
sleep 0.5;

my $held = grep { m{/big/big\.bin} } worker_fds();
is($held, $bigs + 2, 'the big file is held open by both responses');

my $checked = int time;
replace('html/big/big.bin', 'n' x 100000);

is(body('/bigc/other.txt', port => $port2), "200 other\n", 'max=1: another file evicts big.bin');

sleep_until($checked + 1.05);
my $r = get('/big/big.bin', port => $port2, timeout => 10);
ok($r && $r->{status} == 200 && $r->{body} eq 'n' x 100000,
    'after valid: the new big.bin, while the old is still being sent');

my $r1 = parse_response(http_read_all($s1, timeout => 20));
my $r2 = parse_response(http_read_all($s2, timeout => 20));
close $s1;
close $s2;

ok($r1 && length($r1->{body}) == length($big) && md5_hex($r1->{body}) eq md5_hex($big),
    'sendfile: the whole old file, intact');
ok($r2 && length($r2->{body}) == length($big) && md5_hex($r2->{body}) eq md5_hex($big),
    'sendfile off: the whole old file, intact');

sleep 0.3;
my @left = grep { m{/big/big\.bin \(deleted\)} } worker_fds();
is(scalar @left, 0, 'the replaced file is closed once its responses are sent')
    or diag(join ' ', worker_fds());

###############################################################################
# (7) bad arguments: "-t" fails with nginx's messages

sub conf_error {
    my ($directive) = @_;
    my $c = "events { }\nhttp {\n    $directive\n}\n";
    $t->write_file('bad.conf', $c);
    my ($st, $out, $err) = $t->run_cmd3('-t', '-p', "$d/", '-c', $t->path('bad.conf'),
        '-e', "$d/cmd.log");
    my ($msg) = $err =~ /^portico: \[emerg\] (.*) in \Q$d\E\/bad\.conf:3$/m;
    return ($st // -1) . ' ' . ($msg // "no message: $err");
}

is(conf_error('open_file_cache max=0;'),
    '1 invalid "open_file_cache" parameter "max=0"', 'max=0');
is(conf_error('open_file_cache foo;'),
    '1 invalid "open_file_cache" parameter "foo"', 'an unknown parameter');
is(conf_error('open_file_cache max=10 inactive=1x;'),
    '1 invalid "open_file_cache" parameter "inactive=1x"', 'a bad inactive time');
is(conf_error('open_file_cache inactive=10s;'),
    '1 "open_file_cache" must have the "max" parameter', 'no max');
is(conf_error('open_file_cache_valid 1x;'),
    '1 "open_file_cache_valid" directive invalid value', 'a bad valid time');
is(conf_error('open_file_cache_min_uses x;'),
    '1 "open_file_cache_min_uses" directive invalid number', 'a bad min_uses');
is(conf_error('open_file_cache_errors maybe;'),
    '1 invalid value "maybe" in "open_file_cache_errors" directive, it must be "on" or "off"',
    'a bad errors flag');
is(conf_error('open_file_cache max=10; open_file_cache off;'),
    '1 "open_file_cache" directive is duplicate', 'twice at one level');

# nginx's open_file_cache_events (kqueue only) is accepted, as nginx on Linux
$t->write_file('events.conf', "events { }\nhttp {\n    open_file_cache max=10;\n"
    . "    open_file_cache_events on;\n}\n");
my ($est) = $t->run_cmd3('-t', '-p', "$d/", '-c', $t->path('events.conf'), '-e', "$d/cmd.log");
is($est, 0, 'open_file_cache_events on: accepted');
is(conf_error('open_file_cache_events maybe;'),
    '1 invalid value "maybe" in "open_file_cache_events" directive, it must be "on" or "off"',
    'a bad events flag');
