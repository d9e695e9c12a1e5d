#!/usr/bin/perl

# add_header (statuses it applies to, "always", variables, empty values,
# inheritance only when a level has none, replacing ETag and
# Last-Modified) and expires (times, negative, epoch, max, off, modified,
# @daily, inheritance), server_tokens, on files and on "return".

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use POSIX qw(strftime);
use Time::Local qw(timegm);

my $t = Portico::Test->new->has(qw/http_rewrite/);
my $d = $t->testdir;

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    access_log off;
    add_header X-Http http-level;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        root %%TESTDIR%%/html;

        add_header X-Server server-level;
        add_header X-Server-Always yes always;

        location /inherit/ {
        }
        location /own/ {
            add_header X-Own "own value";
            add_header X-Uri $uri;
            add_header X-Empty $arg_none;
            add_header X-Two 1;
            add_header X-Two 2;
        }
        location /always/ {
            add_header X-Plain plain;
            add_header X-Always always always;
        }
        location = /always/404 {
            add_header X-Plain plain;
            add_header X-Always always always;
            return 404;
        }
        location = /r301 {
            add_header X-Redirect yes;
            return 301 /elsewhere;
        }
        location = /r500 {
            add_header X-Plain plain;
            return 500;
        }
        location /replace/ {
            add_header ETag '"mine"';
            add_header Last-Modified "Mon, 01 Jan 2001 00:00:00 GMT";
        }
        location /exp/ {
            expires 1h;
            location /exp/neg/ { expires -1; }
            location /exp/epoch/ { expires epoch; }
            location /exp/max/ { expires max; }
            location /exp/off/ { expires off; }
            location /exp/modified/ { expires modified +2d; }
            location /exp/daily/ { expires @3h30m; }
            location /exp/cc/ { add_header Cache-Control private; }
        }
        location = /exp404 {
            expires 1h;
            return 404;
        }
        location /tokens/ {
            server_tokens off;
        }
    }
}
EOF

for my $dir (qw(inherit own always replace exp exp/neg exp/epoch exp/max exp/off
    exp/modified exp/daily exp/cc tokens))
{
    $t->write_file("html/$dir/f.txt", "file");
}
utime(1600000000, 1600000000, "$d/html/exp/modified/f.txt");

$t->run;

# IMF-fixdate to epoch seconds
my %MON = (Jan => 0, Feb => 1, Mar => 2, Apr => 3, May => 4, Jun => 5, Jul => 6,
    Aug => 7, Sep => 8, Oct => 9, Nov => 10, Dec => 11);
sub str2time {
    my ($s) = @_;
    my ($dd, $mon, $y, $h, $m, $sec) = ($s // '')
        =~ /^\w{3}, (\d\d) (\w{3}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$/ or return undef;
    return timegm($sec, $m, $h, $dd, $MON{$mon}, $y);
}

sub get {
    my ($path) = @_;
    return parse_response(http("GET $path HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\n\r\n"));
}

sub vals {
    my ($r, $name) = @_;
    return join ',', map { $_->[1] } grep { lc $_->[0] eq lc $name } @{$r->{headers}};
}

###############################################################################
# add_header

my $r = get('/inherit/f.txt');
is($r->{header}{'x-server'}, 'server-level', 'inherited from the server');
ok(!defined $r->{header}{'x-http'}, 'the http level is replaced by the server level');

$r = get('/own/f.txt');
is($r->{header}{'x-own'}, 'own value', 'own add_header');
ok(!defined $r->{header}{'x-server'}, 'own add_header: none inherited');
is($r->{header}{'x-uri'}, '/own/f.txt', 'a variable in the value');
ok(!defined $r->{header}{'x-empty'}, 'an empty value adds nothing');
is(vals($r, 'X-Two'), '1,2', 'the same name twice: both, in order');

$r = get('/always/f.txt');
is($r->{header}{'x-plain'}, 'plain', '200: plain add_header');
is($r->{header}{'x-always'}, 'always', '200: always add_header');

$r = get('/always/missing');
is($r->{status}, 404, 'missing file: 404');
ok(!defined $r->{header}{'x-plain'}, '404: no plain add_header');
is($r->{header}{'x-always'}, 'always', '404: the "always" one');

$r = get('/always/404');
ok(!defined $r->{header}{'x-plain'} && $r->{header}{'x-always'} eq 'always',
    'return 404: only "always"');

$r = get('/r301');
is($r->{header}{'x-redirect'}, 'yes', '301: add_header applies');

$r = get('/r500');
ok(!defined $r->{header}{'x-plain'}, '500: add_header does not apply');
is($r->{header}{'x-server-always'}, undef, 'a location with its own list: none inherited');

$r = get('/nothing-here');
is($r->{header}{'x-server-always'}, 'yes', 'server level "always" on a 404');
ok(!defined $r->{header}{'x-server'}, 'server level plain one not on a 404');

$r = get('/replace/f.txt');
is(vals($r, 'ETag'), '"mine"', 'add_header ETag replaces the generated one');
is(vals($r, 'Last-Modified'), 'Mon, 01 Jan 2001 00:00:00 GMT',
    'add_header Last-Modified replaces the generated one');

###############################################################################
# expires

my $now = time;

sub near { my ($a, $b) = @_; return defined $a && abs($a - $b) <= 3 }

$r = get('/exp/f.txt');
is($r->{header}{'cache-control'}, 'max-age=3600', 'expires 1h: Cache-Control');
ok(near(str2time($r->{header}{expires}), $now + 3600), 'expires 1h: Expires');

$r = get('/exp/neg/f.txt');
is($r->{header}{'cache-control'}, 'no-cache', 'expires -1: no-cache');
ok(near(str2time($r->{header}{expires}), $now - 1), 'expires -1: Expires in the past');

$r = get('/exp/epoch/f.txt');
is($r->{header}{expires}, 'Thu, 01 Jan 1970 00:00:01 GMT', 'expires epoch: Expires');
is($r->{header}{'cache-control'}, 'no-cache', 'expires epoch: no-cache');

$r = get('/exp/max/f.txt');
is($r->{header}{expires}, 'Thu, 31 Dec 2037 23:55:55 GMT', 'expires max: Expires');
is($r->{header}{'cache-control'}, 'max-age=315360000', 'expires max: Cache-Control');

$r = get('/exp/off/f.txt');
ok(!defined $r->{header}{expires} && !defined $r->{header}{'cache-control'},
    'expires off: nothing');

$r = get('/exp/modified/f.txt');
is($r->{header}{expires}, strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime(1600000000 + 172800)),
    'expires modified: from Last-Modified');
is($r->{header}{'cache-control'}, 'no-cache', 'expires modified in the past: no-cache');

$r = get('/exp/daily/f.txt');
my $e = str2time($r->{header}{expires} // '') // 0;
my @g = gmtime $e;
ok($g[2] == 3 && $g[1] == 30 && $g[0] == 0 && $e > $now - 3 && $e <= $now + 86400,
    'expires @3h30m: the next 03:30 UTC');

$r = get('/exp/cc/f.txt');
is(vals($r, 'Cache-Control'), 'max-age=3600,private',
    'nested location: expires inherited, add_header its own');

$r = get('/exp404');
ok(!defined $r->{header}{expires}, 'expires: not on a 404');

###############################################################################
# server_tokens

like(get('/inherit/f.txt')->{header}{server}, qr{^portico/\d+\.\d+\.\d+$},
    'server_tokens on: the version');
$r = get('/tokens/missing');
is($r->{header}{server}, 'portico', 'server_tokens off: the name only');
unlike($r->{body}, qr{portico/\d}, 'server_tokens off: error page without the version');

###############################################################################
# configuration errors

$t->write_file('bad.conf', <<'EOF');
events { }
http { server { listen 127.0.0.1:%%PORT_8081%%; add_header X-A b never; } }
EOF
my (undef, $out) = $t->run_cmd('-t', '-p', "$d/", '-c', "$d/bad.conf");
like($out, qr/invalid parameter "never"/, 'add_header: bad parameter');

$t->write_file('bad.conf', <<'EOF');
events { }
http { server { listen 127.0.0.1:%%PORT_8081%%; expires @25h; } }
EOF
(undef, $out) = $t->run_cmd('-t', '-p', "$d/", '-c', "$d/bad.conf");
like($out, qr/daily time value must be less than 24 hours/, 'expires: bad daily time');

$t->done_testing;
