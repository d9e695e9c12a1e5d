#!/usr/bin/perl

# Conditional requests on static files (RFC 9110 13.2.2): If-None-Match
# (weak comparison, "*", lists), If-Modified-Since (if_modified_since
# exact, before, off; dates that do not parse), If-Match (strong
# comparison) and If-Unmodified-Since give 412, the precedence between
# them, what a 304 keeps and drops, and "etag off".

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
    access_log off;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        root %%TESTDIR%%/html;

        location /before/ {
            if_modified_since before;
            alias %%TESTDIR%%/html/;
        }
        location /off/ {
            if_modified_since off;
            alias %%TESTDIR%%/html/;
        }
        location /noetag/ {
            etag off;
            alias %%TESTDIR%%/html/;
        }
        location /hdr/ {
            add_header X-Kept yes;
            expires 1h;
            alias %%TESTDIR%%/html/;
        }
    }
}
EOF

$t->write_file('html/f.html', "<p>conditional</p>\n");
utime(1600000000, 1600000000, "$d/html/f.html");

$t->run;

my $mtime = 1600000000;
my $etag = sprintf('"%x-%x"', $mtime, 19);
sub date { strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime $_[0]) }
my $lm = date($mtime);

sub get {
    my ($path, @h) = @_;
    my $method = 'GET';
    $method = shift @h if @h && $h[0] =~ /^(?:HEAD|POST|DELETE)$/;
    my $h = join '', map "$_\r\n", @h;
    return parse_response(http("$method $path HTTP/1.1\r\nHost: localhost\r\n$h"
        . "Connection: close\r\n\r\n"));
}

my $r = get('/f.html');
is($r->{header}{etag}, $etag, 'ETag');
is($r->{header}{'last-modified'}, $lm, 'Last-Modified');

###############################################################################
# If-None-Match

$r = get('/f.html', "If-None-Match: $etag");
is($r->{status}, 304, 'If-None-Match: the tag: 304');
is($r->{body}, '', '304: no body');
is($r->{header}{etag}, $etag, '304: ETag kept');
is($r->{header}{'last-modified'}, $lm, '304: Last-Modified kept');
ok(!defined $r->{header}{'content-length'}, '304: no Content-Length');
ok(!defined $r->{header}{'content-type'}, '304: no Content-Type');
ok(!defined $r->{header}{'accept-ranges'}, '304: no Accept-Ranges');

is(get('/f.html', "If-None-Match: W/$etag")->{status}, 304,
    'If-None-Match: the weak form matches (weak comparison)');
is(get('/f.html', 'If-None-Match: *')->{status}, 304, 'If-None-Match: *');
is(get('/f.html', "If-None-Match: \"a\", $etag")->{status}, 304,
    'If-None-Match: the tag in a list');
is(get('/f.html', "If-None-Match: \"a\",W/\"b\"")->{status}, 200,
    'If-None-Match: other tags: 200');
is(get('/f.html', 'HEAD', "If-None-Match: $etag")->{status}, 304, 'HEAD: 304');

# If-None-Match wins over If-Modified-Since
is(get('/f.html', 'If-None-Match: "other"', "If-Modified-Since: $lm")->{status}, 200,
    'If-None-Match without a match: If-Modified-Since is ignored');

###############################################################################
# If-Modified-Since

is(get('/f.html', "If-Modified-Since: $lm")->{status}, 304,
    'If-Modified-Since: the same date: 304');
is(get('/f.html', 'If-Modified-Since: ' . date($mtime + 100))->{status}, 200,
    'exact: a later date: 200');
is(get('/f.html', 'If-Modified-Since: ' . date($mtime - 100))->{status}, 200,
    'exact: an earlier date: 200');
is(get('/before/f.html', 'If-Modified-Since: ' . date($mtime + 100))->{status}, 304,
    'before: a later date: 304');
is(get('/before/f.html', 'If-Modified-Since: ' . date($mtime - 100))->{status}, 200,
    'before: an earlier date: 200');
is(get('/off/f.html', "If-Modified-Since: $lm")->{status}, 200, 'off: 200');
is(get('/f.html', 'If-Modified-Since: yesterday')->{status}, 200,
    'a date that does not parse is ignored');
is(get('/f.html', 'If-Modified-Since: Sunday, 13-Sep-20 12:26:40 GMT')->{status}, 304,
    'the RFC 850 date form');
is(get('/f.html', 'If-Modified-Since: Sun Sep 13 12:26:40 2020')->{status}, 304,
    'the asctime date form');

###############################################################################
# If-Match and If-Unmodified-Since: 412

is(get('/f.html', "If-Match: $etag")->{status}, 200, 'If-Match: the tag: 200');
is(get('/f.html', 'If-Match: *')->{status}, 200, 'If-Match: *');
$r = get('/f.html', 'If-Match: "other"');
is($r->{status}, 412, 'If-Match: another tag: 412');
like($r->{body}, qr/412 Precondition Failed/, '412: the error page');
ok(!defined $r->{header}{etag}, '412: no ETag of the file');
is(get('/f.html', "If-Match: W/$etag")->{status}, 412,
    'If-Match: a weak tag never matches (strong comparison)');

is(get('/f.html', "If-Unmodified-Since: $lm")->{status}, 200,
    'If-Unmodified-Since: the same date: 200');
is(get('/f.html', 'If-Unmodified-Since: ' . date($mtime - 100))->{status}, 412,
    'If-Unmodified-Since: an earlier date: 412');
is(get('/f.html', 'If-Unmodified-Since: junk')->{status}, 200,
    'If-Unmodified-Since: a date that does not parse is ignored');
is(get('/f.html', "If-Match: $etag", 'If-Unmodified-Since: ' . date($mtime - 100))
    ->{status}, 200, 'If-Match present: If-Unmodified-Since is ignored');
is(get('/f.html', 'If-Match: "x"', "If-None-Match: $etag")->{status}, 412,
    'If-Match is evaluated before If-None-Match');

###############################################################################
# etag off; 304 with add_header and expires

is(get('/noetag/f.html', "If-None-Match: $etag")->{status}, 200,
    'etag off: If-None-Match never matches');
is(get('/noetag/f.html', 'If-Match: *')->{status}, 200, 'etag off: If-Match * still');
is(get('/noetag/f.html', "If-Modified-Since: $lm")->{status}, 304,
    'etag off: If-Modified-Since works');

$r = get('/hdr/f.html', "If-None-Match: $etag");
is($r->{status}, 304, 'with add_header: 304');
is($r->{header}{'x-kept'}, 'yes', '304: add_header applies');
is($r->{header}{'cache-control'}, 'max-age=3600', '304: expires applies');

# keepalive: a 304 keeps the connection
my @k = http_keepalive(["GET /f.html HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: $etag\r\n\r\n",
    "/f.html"]);
is(http_status($k[0]), 304, 'keepalive: 304');
is(http_body($k[1]), "<p>conditional</p>\n", 'keepalive: next response after a 304');

$t->done_testing;
