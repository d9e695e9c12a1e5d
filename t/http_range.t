#!/usr/bin/perl

# Range requests on static files: single ranges (first-last, first-,
# -suffix, clamped ends), several ranges as multipart/byteranges, 416 with
# "Content-Range: bytes */LENGTH", headers that are ignored (another unit,
# too many ranges, ranges adding up to more than the file), If-Range with
# an entity-tag and with a date, HEAD, max_ranges, and sendfile off.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use POSIX qw(strftime);

my $t = Portico::Test->new;
my $d = $t->testdir;

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    types { text/plain txt; }
    access_log off;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        root %%TESTDIR%%/html;

        location /one/ {
            max_ranges 1;
            alias %%TESTDIR%%/html/;
        }
        location /copy/ {
            sendfile off;
            alias %%TESTDIR%%/html/;
        }
        location /on/ {
            sendfile on;
            alias %%TESTDIR%%/html/;
        }
    }
}
EOF

my $data = join '', map { chr(ord('a') + $_ % 26) } 0 .. 999;
$t->write_file('html/f.txt', $data);
$t->write_file('html/empty.txt', '');

$t->run;

my @st = stat("$d/html/f.txt");
my $etag = sprintf('"%x-%x"', $st[9], $st[7]);
my $lm = strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime $st[9]);

sub get {
    my ($path, @h) = @_;
    my $h = join '', map "$_\r\n", @h;
    return parse_response(http("GET $path HTTP/1.1\r\nHost: localhost\r\n$h"
        . "Connection: close\r\n\r\n"));
}

sub range { my ($spec, $path, @h) = @_; return get($path // '/f.txt', "Range: $spec", @h) }

###############################################################################
# one range

my $r = range('bytes=0-4');
is($r->{status}, 206, '0-4: 206');
is($r->{body}, 'abcde', '0-4: body');
is($r->{header}{'content-range'}, 'bytes 0-4/1000', '0-4: Content-Range');
is($r->{header}{'content-length'}, 5, '0-4: Content-Length');
is($r->{header}{'content-type'}, 'text/plain', '0-4: the type of the file');
ok(!defined $r->{header}{'accept-ranges'}, '206: no Accept-Ranges');

$r = range('bytes=995-');
is($r->{body}, substr($data, 995), 'first-: to the end');
is($r->{header}{'content-range'}, 'bytes 995-999/1000', 'first-: Content-Range');

$r = range('bytes=-3');
is($r->{body}, substr($data, -3), '-suffix: the last bytes');
is($r->{header}{'content-range'}, 'bytes 997-999/1000', '-suffix: Content-Range');

$r = range('bytes=-5000');
is($r->{body}, $data, 'a suffix longer than the file: all of it');
is($r->{status}, 206, 'a suffix longer than the file: still 206');

$r = range('bytes=990-2000');
is($r->{body}, substr($data, 990), 'an end past the file is clamped');
is($r->{header}{'content-range'}, 'bytes 990-999/1000', 'clamped Content-Range');

$r = range('bytes = 10-12');
is($r->{status}, 200, 'space before "=": not a byte range, whole file');

$r = range('BYTES=10-12');
is($r->{body}, 'klm', 'the unit is case-insensitive');

$r = range('bytes=10-12, 2000-3000');
is($r->{body}, 'klm', 'an unsatisfiable range among others is dropped');

###############################################################################
# not satisfiable

for my $spec ('bytes=1000-', 'bytes=1000-1001', 'bytes=-0', 'bytes=5-2', 'bytes=abc',
    'bytes=1-2,x')
{
    $r = range($spec);
    is($r->{status}, 416, "$spec: 416");
}

$r = range('bytes=1000-');
is($r->{header}{'content-range'}, 'bytes */1000', '416: Content-Range bytes */length');
like($r->{body}, qr/416 Requested Range Not Satisfiable/, '416: the error page');

$r = range('bytes=0-', '/empty.txt');
is($r->{status}, 416, 'empty file: nothing satisfiable');

###############################################################################
# ignored: the whole file

$r = range('items=0-4');
is($r->{status}, 200, 'another unit: 200');
is($r->{body}, $data, 'another unit: the whole file');
is($r->{header}{'accept-ranges'}, 'bytes', '200: Accept-Ranges: bytes');

$r = range('bytes=0-999,0-999');
is($r->{status}, 200, 'ranges adding up to more than the file: 200');

$r = range('bytes=0-1,3-4', '/one/f.txt');
is($r->{status}, 200, 'max_ranges 1 with two ranges: 200');
$r = range('bytes=3-4', '/one/f.txt');
is($r->{body}, 'de', 'max_ranges 1 with one range: 206');

###############################################################################
# several ranges

for my $loc ('', '/copy', '/on') {
    $r = range('bytes=0-1,10-12,-2', "$loc/f.txt");
    is($r->{status}, 206, "multipart$loc: 206");
    my ($ct) = ($r->{header}{'content-type'} // '') =~ m{^multipart/byteranges; boundary=(\S+)$};
    ok(defined $ct, "multipart$loc: Content-Type with a boundary");
    $ct //= 'none';
    is(length $r->{body}, $r->{header}{'content-length'}, "multipart$loc: Content-Length");

    my $exp = join('', map {
        my ($s, $e) = @$_;
        "\r\n--$ct\r\nContent-Type: text/plain\r\nContent-Range: bytes $s-$e/1000\r\n\r\n"
            . substr($data, $s, $e - $s + 1)
    } [0, 1], [10, 12], [998, 999]) . "\r\n--$ct--\r\n";
    is($r->{body}, $exp, "multipart$loc: parts");
}

###############################################################################
# If-Range

$r = range('bytes=0-1', undef, "If-Range: $etag");
is($r->{status}, 206, 'If-Range: the ETag: 206');
$r = range('bytes=0-1', undef, 'If-Range: "other"');
is($r->{status}, 200, 'If-Range: another tag: 200');
is($r->{body}, $data, 'If-Range: another tag: the whole file');
$r = range('bytes=0-1', undef, "If-Range: W/$etag");
is($r->{status}, 200, 'If-Range: a weak tag never matches');
$r = range('bytes=0-1', undef, "If-Range: $lm");
is($r->{status}, 206, 'If-Range: the Last-Modified date: 206');
$r = range('bytes=0-1', undef, 'If-Range: ' . strftime('%a, %d %b %Y %H:%M:%S GMT',
    gmtime($st[9] - 10)));
is($r->{status}, 200, 'If-Range: another date: 200');
$r = range('bytes=0-1', undef, 'If-Range: junk');
is($r->{status}, 200, 'If-Range: not a date: 200');

###############################################################################
# HEAD, and ranges with keepalive

$r = parse_response(http("HEAD /f.txt HTTP/1.1\r\nHost: localhost\r\nRange: bytes=0-9\r\n"
    . "Connection: close\r\n\r\n"));
is($r->{status}, 206, 'HEAD with a range: 206');
is($r->{header}{'content-length'}, 10, 'HEAD with a range: its length');
is($r->{body}, '', 'HEAD with a range: no body');

my @k = http_keepalive([
    "GET /f.txt HTTP/1.1\r\nHost: localhost\r\nRange: bytes=1-2\r\n\r\n",
    "GET /f.txt HTTP/1.1\r\nHost: localhost\r\nRange: bytes=5-1\r\n\r\n",
    "GET /copy/f.txt HTTP/1.1\r\nHost: localhost\r\nRange: bytes=0-0,2-2\r\n\r\n",
    "GET /f.txt HTTP/1.1\r\nHost: localhost\r\nRange: bytes=3-3\r\n\r\n",
]);
is(http_body($k[0]), 'bc', 'keepalive: a range');
is(http_status($k[1]), 416, 'keepalive: a 416');
like(http_body($k[2]) // '', qr/Content-Range: bytes 2-2\/1000\r\n\r\nc\r\n/,
    'keepalive: multipart');
is(http_body($k[3]), 'd', 'keepalive: the connection goes on');

$t->done_testing;
