#!/usr/bin/perl

# The rewrite module: rewrite with last, break, redirect, permanent and no
# flag; URL replacements; the request's arguments appended, or not after a
# final "?"; captures escaped again where nginx does; the loop limit; set
# (with captures, uninitialized variables and their warning); if with every
# condition, in a server and in a location (where its block is a location
# of its own); break; rewrite_log.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;

my $t = Portico::Test->new->has(qw/http_rewrite/);

$t->write_file('html/other/f.txt', "other file\n");
$t->write_file('html/file.txt', "file\n");
$t->write_file('html/dir/x.txt', "x\n");
$t->write_file('html/run.sh', "#!/bin/sh\n");
chmod 0755, $t->path('html/run.sh');

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
error_log %%TESTDIR%%/error.log.notice notice;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        rewrite ^/srv/(.*)$ /new/$1;
        if ($http_x_srv) { return 200 "srv-if $http_x_srv"; }
        if ($http_x_srv_set) { set $from_srv "set in server"; }

        location /new/ { return 200 "new uri=$uri args=$args srv=$from_srv"; }

        location /old/ { rewrite ^/old/(.*)$ /new/$1 last; return 200 "not reached"; }

        location /chain/ {
            rewrite ^/chain/(.*)$ /chain2/$1;
            rewrite ^/chain2/(.*)$ /new/c-$1;
            return 200 "after chain uri=$uri";
        }
        location /chainloc/ {
            rewrite ^/chainloc/(.*)$ /chain2/$1;
            rewrite ^/chain2/(.*)$ /new/cl-$1;
        }

        location /brk/ {
            root %%TESTDIR%%/html;
            rewrite ^/brk/(.*)$ /other/$1 break;
            return 200 "not reached";
        }
        location /other/ { return 200 "wrong location"; }

        location /r/ { rewrite ^/r/(.*)$ /target/$1 redirect; }
        location /p/ { rewrite ^/p/(.*)$ /target/$1 permanent; }
        location /ext/ { rewrite ^/ext/(.*)$ http://example.com/$1; }
        location /exts/ { rewrite ^/exts/(.*)$ $scheme://example.com/$1 last; }
        location /noargs/ { rewrite ^/noargs/(.*)$ /new/$1? last; }
        location /withargs/ { rewrite ^/withargs/(.*)$ /new/$1?a=b last; }
        location /withargs2/ { rewrite ^/withargs2/(.*)$ /new/$1?a=b? last; }
        location /ra/ { rewrite ^/ra/(.*)$ /t?q=$1 redirect; }
        location /esc/ { rewrite ^/esc/(.*)$ /new/x?v=$1 last; }
        location /rdesc/ { rewrite ^/rdesc/(.*)$ http://example.com/$1 redirect; }
        location /nomatch/ { rewrite ^/nothing$ /new/ last; return 200 "no match"; }
        location /empty/ { rewrite ^/empty/(.*)$ $1 last; }

        location /loop1 { rewrite ^ /loop2 last; }
        location /loop2 { rewrite ^ /loop1 last; }

        location /set/ {
            set $foo "bar-$arg_x";
            set $foo "$foo!";
            return 200 $foo;
        }
        location ~ ^/setcap/(\w+)$ { set $v $1; return 200 "v=$v"; }
        location /setargs { set $args "a=1&b=$arg_x"; return 200 "$args b=$arg_b"; }
        location /uninit { return 200 "[$never_set]"; }
        location /uninit-quiet { uninitialized_variable_warn off; return 200 "[$quiet_var]"; }
        location /never { set $never_set 1; set $quiet_var 1; }

        location /ifvar {
            if ($arg_a) { return 200 "true"; }
            return 200 "false";
        }
        location /ifeq {
            if ($request_method = POST) { return 200 "post"; }
            if ($arg_v != "x") { return 200 "not x"; }
            return 200 "x";
        }
        location /ifre {
            if ($http_user_agent ~ "Mozilla/(\d+)\.(?<minor>\d+)") { return 200 "moz $1 $minor"; }
            if ($http_user_agent ~* ^curl/) { return 200 "curl"; }
            if ($http_user_agent !~ ^x) { return 200 "not x"; }
            if ( $http_user_agent !~* ^XY ) { return 200 "x but not xy"; }
            return 200 "xy";
        }
        location /iffile/ {
            if (-f %%TESTDIR%%/html/$arg_n) { return 200 "f"; }
            if (-d %%TESTDIR%%/html/$arg_n) { return 200 "d"; }
            return 200 "none";
        }
        location /iffile2/ {
            if (!-e %%TESTDIR%%/html/$arg_n) { return 200 "!e"; }
            if (!-f %%TESTDIR%%/html/$arg_n) { return 200 "!f"; }
            if (-x %%TESTDIR%%/html/$arg_n) { return 200 "x"; }
            if (!-x %%TESTDIR%%/html/$arg_n) { return 200 "!x"; }
            return 200 "none";
        }
        location /iffile3/ {
            if (!-d %%TESTDIR%%/html/$arg_n) { return 200 "!d"; }
            if (-e %%TESTDIR%%/html/$arg_n) { return 200 "e"; }
            return 200 "none";
        }
        location /ifloc {
            if ($arg_t) { error_page 404 =200 /new/from-if; }
            return 404;
        }
        location /ifbreak {
            if ($arg_b) { break; }
            return 200 "after";
        }
        location /ifrewrite {
            if ($arg_go) { rewrite ^ /new/went last; }
            return 200 "stayed";
        }
        location /breakrw {
            root %%TESTDIR%%/html;
            rewrite ^/breakrw(.*)$ /other$1;
            break;
            return 200 "not reached";
        }

        location /logme/ {
            rewrite_log on;
            rewrite ^/logme/(.*)$ /new/logged-$1 last;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        server_name canonical.test;

        location /abs-off { absolute_redirect off; rewrite ^ /target?a=1 redirect; }
        location /port-off { port_in_redirect off; rewrite ^ /target permanent; }
        location /sn-in { server_name_in_redirect on; rewrite ^ /target redirect; }
        location /ret { return 301 /returned; }
    }
}
EOF

$t->run;
$t->expect_errors(qr/rewrite or internal redirection cycle/);
$t->plan(67);

sub get {
    my ($uri, %o) = @_;
    my $h = join '', map "$_\r\n", @{$o{headers} || []};
    my $m = $o{method} // 'GET';
    return http("$m $uri HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n$h\r\n");
}
sub body { return http_body(get(@_)) // '' }

my $port = $t->port(8080);
my $r;

###############################################################################
# rewrite flags

is(body('/old/x/y?q=1'), 'new uri=/new/x/y args=q=1 srv=', 'last: new location, args kept');
is(body('/chain/z'), 'after chain uri=/new/c-z', 'no flag: the script goes on with the new uri');
is(body('/chainloc/z'), 'new uri=/new/cl-z args= srv=', 'no flag: then the location is searched again');
is(body('/srv/s1'), 'new uri=/new/s1 args= srv=', 'rewrite at the server level');
is(body('/brk/f.txt'), "other file\n", 'break: same location, new uri, script stops');

$r = get('/r/a/b?x=1');
is(http_status($r), 302, 'redirect: 302');
is(http_header($r, 'Location'), "http://localhost:$port/target/a/b?x=1", 'redirect: Location, args appended');

$r = get('/p/a');
is(http_status($r), 301, 'permanent: 301');
is(http_header($r, 'Location'), "http://localhost:$port/target/a", 'permanent: Location');

$r = get('/ext/a/b?x=1&y=2');
is(http_status($r), 302, 'http:// replacement: 302 without a flag');
is(http_header($r, 'Location'), 'http://example.com/a/b?x=1&y=2', 'http:// replacement: Location');

$r = get('/exts/z');
is(http_status($r), 302, '$scheme replacement: a redirect even with "last"');
is(http_header($r, 'Location'), 'http://example.com/z', '$scheme replacement: Location');

is(body('/noargs/n?x=1'), 'new uri=/new/n args= srv=', 'a final "?" drops the args');
is(body('/withargs/w?x=1'), 'new uri=/new/w args=a=b&x=1 srv=', 'replacement args, then the request\'s');
is(body('/withargs2/w?x=1'), 'new uri=/new/w args=a=b srv=', 'replacement args and a final "?"');

$r = get('/ra/abc?x=1');
is(http_header($r, 'Location'), "http://localhost:$port/t?q=abc&x=1", 'redirect with args: "&" joins');

is(body('/esc/a%20b%26c'), 'new uri=/new/x args=v=a%20b%26c srv=', 'a capture in the args is escaped again');
is(body('/esc/plain'), 'new uri=/new/x args=v=plain srv=', 'nothing to escape');
$r = get('/rdesc/a%20b%3Fc');
is(http_header($r, 'Location'), 'http://example.com/a%20b%3Fc', 'a capture in a redirect is escaped again');

is(body('/nomatch/x'), 'no match', 'no match: the script goes on');

$r = get('/empty/');
is(http_status($r), 500, 'a rewrite to an empty uri: 500');

$r = get('/loop1');
is(http_status($r), 500, 'a rewrite cycle ends with 500');
like($t->read_file('error.log.notice'), qr/rewrite or internal redirection cycle while processing "\/loop\d"/,
    'the cycle is logged');

###############################################################################
# set

is(body('/set/?x=7'), 'bar-7!', 'set, and set again from itself');
is(body('/setcap/abc'), 'v=abc', 'set from a capture');
is(body('/setargs?x=9'), 'a=1&b=9 b=9', 'set $args replaces the arguments');
is(body('/uninit'), '[]', 'an uninitialized variable is empty');
like($t->read_file('error.log.notice'), qr/\[warn\].*using uninitialized "never_set" variable/,
    'and warned about');
is(body('/uninit-quiet'), '[]', 'uninitialized_variable_warn off: empty');
unlike($t->read_file('error.log.notice'), qr/using uninitialized "quiet_var" variable/, 'and quiet');

###############################################################################
# if

is(body('/ifvar?a=1'), 'true', 'if ($var): set');
is(body('/ifvar?a=0'), 'false', 'if ($var): "0" is false');
is(body('/ifvar?a='), 'false', 'if ($var): empty is false');
is(body('/ifvar'), 'false', 'if ($var): missing is false');

is(body('/ifeq', method => 'POST'), 'post', 'if ($var = value)');
is(body('/ifeq?v=y'), 'not x', 'if ($var != value): true');
is(body('/ifeq?v=x'), 'x', 'if ($var != value): false');

is(body('/ifre', headers => ['User-Agent: Mozilla/5.12 (X11)']), 'moz 5 12',
    'if ($var ~ "regex"): captures, named too');
is(body('/ifre', headers => ['User-Agent: CURL/8.0']), 'curl', 'if ($var ~* regex)');
is(body('/ifre', headers => ['User-Agent: wget']), 'not x', 'if ($var !~ regex)');
is(body('/ifre', headers => ['User-Agent: xz']), 'x but not xy', 'if ( $var !~* regex ): spaced parentheses');
is(body('/ifre', headers => ['User-Agent: xY1']), 'xy', 'if: all false');

is(body('/iffile/?n=file.txt'), 'f', '-f on a file');
is(body('/iffile/?n=dir'), 'd', '-f false and -d true on a directory');
is(body('/iffile/?n=missing'), 'none', '-f and -d false on nothing');
is(body('/iffile2/?n=missing'), '!e', '!-e on nothing');
is(body('/iffile2/?n=dir'), '!f', '!-f on a directory');
is(body('/iffile2/?n=run.sh'), 'x', '-x on an executable');
is(body('/iffile2/?n=file.txt'), '!x', '!-x on a plain file');
is(body('/iffile3/?n=file.txt'), '!d', '!-d on a file');
is(body('/iffile3/?n=dir'), 'e', '-e on a directory');

is(body('/ifloc?t=1'), 'new uri=/new/from-if args= srv=',
    'if in a location: its block\'s settings (error_page) apply');
is(http_status(get('/ifloc')), 404, 'if false: the location\'s own settings');

is(http_status(get('/ifbreak?b=1')), 404, 'break inside if stops the script');
is(body('/ifbreak'), 'after', 'if false: the script goes on');
is(body('/ifrewrite?go=1'), 'new uri=/new/went args=go=1 srv=', 'rewrite ... last inside if');
is(body('/ifrewrite'), 'stayed', 'and not when false');
is(body('/breakrw/f.txt'), "other file\n", 'break after a rewrite without flag keeps the location');

is(body('/x', headers => ['X-Srv: yes']), 'srv-if yes', 'if at the server level');
is(body('/new/q', headers => ['X-Srv-Set: 1']), 'new uri=/new/q args= srv=set in server',
    'set inside a server-level if');

###############################################################################
# the Location of redirects

my $p2 = $t->port(8081);
sub loc {
    my ($uri, $host) = @_;
    return http_header(http("GET $uri HTTP/1.1\r\nHost: $host\r\nConnection: close\r\n\r\n",
        port => $p2), 'Location') // '';
}

is(loc('/abs-off', 'h.test'), '/target?a=1', 'absolute_redirect off: as written');
is(loc('/port-off', 'h.test'), 'http://h.test/target', 'port_in_redirect off: no port');
is(loc('/sn-in', 'h.test'), "http://canonical.test:$p2/target", 'server_name_in_redirect on');
is(loc('/ret', 'H.Test'), "http://h.test:$p2/returned", 'by default: the host and the port');

###############################################################################
# rewrite_log

body('/logme/abc');
my $log = $t->read_file('error.log.notice');
like($log, qr/\[notice\].*"\^\/logme\/\(\.\*\)\$" matches "\/logme\/abc"/, 'rewrite_log: the match');
like($log, qr/\[notice\].*rewritten data: "\/new\/logged-abc", args: ""/, 'rewrite_log: the result');
