#!/usr/bin/perl

# Access logs: the predefined "combined" format, log_format with
# escape=default|json|none and several strings, several access_log lines
# at one level, a level's own list replacing the inherited one,
# "access_log off", if=COND, buffer= with flush= and the flush on USR1,
# reopening on USR1 after a rename, and variables in the path.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Time::HiRes qw(sleep);

my $t = Portico::Test->new->has(qw/http_rewrite/);
my $d = $t->testdir;

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    log_format plain '$request_method $uri "$http_user_agent" $status';
    log_format js escape=json '{"ua":"$http_user_agent","miss":"$http_x_none",'
                              '"uri":"$uri"}';
    log_format raw escape=none '$http_user_agent';
    log_format short '$uri';

    access_log %%TESTDIR%%/combined.log;
    access_log %%TESTDIR%%/plain.log plain;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location / {
            return 200 "ok";
        }
        location /json {
            access_log %%TESTDIR%%/json.log js;
            access_log %%TESTDIR%%/raw.log raw;
            return 200 "ok";
        }
        location /off {
            access_log off;
            return 200 "ok";
        }
        location /cond {
            access_log %%TESTDIR%%/cond.log short if=$arg_log;
            return 200 "ok";
        }
        location /buf {
            access_log %%TESTDIR%%/buf.log short buffer=64k flush=1s;
            return 200 "ok";
        }
        location /bufusr1 {
            access_log %%TESTDIR%%/bufusr1.log short buffer=64k;
            return 200 "ok";
        }
        location /var {
            access_log %%TESTDIR%%/vlogs/$host-$arg_d.log short;
            return 200 "ok";
        }
    }
}
EOF

mkdir "$d/vlogs";
chmod 0777, "$d/vlogs";

$t->run;

sub get {
    my ($path, @h) = @_;
    my $h = join '', map "$_\r\n", @h;
    return http("GET $path HTTP/1.1\r\nHost: localhost\r\n$h"
        . "Connection: close\r\n\r\n");
}

sub slurp {
    my ($name) = @_;
    open my $fh, '<', "$d/$name" or return '';
    local $/;
    return scalar <$fh>;
}

###############################################################################
# combined and a second log at the same level

get('/x?a=1', 'User-Agent: agent/1.0', 'Referer: http://ref.example/');
sleep 0.3;

like(slurp('combined.log'), qr{^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET /x\?a=1 HTTP/1\.1" 200 2 "http://ref\.example/" "agent/1\.0"$}m,
    'combined: the nginx line');
like(slurp('plain.log'), qr{^GET /x "agent/1\.0" 200$}m, 'a second log at the same level');

###############################################################################
# escaping

get('/esc', "User-Agent: q\"b\\s\xc3\xa9");
sleep 0.3;
like(slurp('plain.log'), qr{^GET /esc "q\\x22b\\x5Cs\\xC3\\xA9" 200$}m,
    'escape=default: quote, backslash and non-ASCII as \\xHH');

get('/json', "User-Agent: q\"b\\s\xc3\xa9");
sleep 0.3;
is(slurp('json.log'), "{\"ua\":\"q\\\"b\\\\s\xc3\xa9\",\"miss\":\"\",\"uri\":\"/json\"}\n",
    'escape=json: quote and backslash escaped, a missing variable empty');
is(slurp('raw.log'), "q\"b\\s\xc3\xa9\n", 'escape=none: as it is');
unlike(slurp('plain.log'), qr{/json}, 'a location with its own logs: the inherited ones not written');

# a tab (allowed inside a field value) amid plain runs, at both ends too
get('/esc2', "User-Agent: \"long plain run\tthen more\\");
get('/json2', "User-Agent: \"long plain run\tthen more\\");
sleep 0.3;
like(slurp('plain.log'), qr{^GET /esc2 "\\x22long plain run\\x09then more\\x5C" 200$}m,
    'escape=default: a tab as \\x09, escapes at both ends of the value');
is((split /\n/, slurp('json.log'))[-1],
    '{"ua":"\\"long plain run\\tthen more\\\\","miss":"","uri":"/json2"}',
    'escape=json: a tab as \\t');

###############################################################################
# off and if=

get('/off');
get('/cond?log=1');
get('/cond?log=0');
get('/cond');
get('/cond2?log=yes');
sleep 0.3;
unlike(slurp('combined.log') . slurp('plain.log'), qr{/off}, 'access_log off');
is(slurp("cond.log"), "/cond\n/cond2\n", 'if=: only when the condition is not empty or "0"');

###############################################################################
# buffer= and flush=

get('/buf');
sleep 0.2;
is(slurp('buf.log'), '', 'buffer=: not written at once');
sleep 2;
is(slurp('buf.log'), "/buf\n", 'flush=1s: written after the flush time');

get('/bufusr1');
sleep 0.2;
is(slurp('bufusr1.log'), '', 'buffer= without flush=: kept');

###############################################################################
# USR1: flush, then reopen

rename "$d/plain.log", "$d/plain.log.1" or die "rename: $!";
$t->signal('USR1');
sleep 0.5;
is(slurp('bufusr1.log'), "/bufusr1\n", 'USR1 flushes the buffer');

get('/after-reopen');
sleep 0.3;
like(slurp('plain.log'), qr{^GET /after-reopen }m, 'USR1: a new file after the rename');
unlike(slurp('plain.log.1'), qr{after-reopen}, 'USR1: the renamed file is left alone');
my @st = stat("$d/plain.log");
ok(@st && ($st[2] & 0777) == 0644, 'the reopened file is 0644');

###############################################################################
# variables in the path

get('/var?d=one');
get('/var?d=two');
get('/var?d=one');
sleep 0.3;
is(slurp('vlogs/localhost-one.log'), "/var\n/var\n", 'a path with variables');
is(slurp('vlogs/localhost-two.log'), "/var\n", 'a path with variables: another file');

get('/var?d=/../../escaped');
sleep 0.3;
ok(!-e "$d/escaped.log" && !-e "$d/vlogs/localhost-/../../escaped.log",
    'a path climbing out with ".." is not written');
$t->expect_errors(qr/unsafe, not written/);

###############################################################################
# configuration errors

$t->write_file('bad.conf', <<'EOF');
events { }
http { access_log %%TESTDIR%%/x.log nosuch; server { listen 127.0.0.1:%%PORT_8081%%; } }
EOF
my (undef, $out) = $t->run_cmd('-t', '-p', "$d/", '-c', "$d/bad.conf");
like($out, qr/unknown log format "nosuch"/, 'unknown format');

$t->write_file('bad.conf', <<'EOF');
events { }
http { access_log %%TESTDIR%%/$host.log combined buffer=4k;
       server { listen 127.0.0.1:%%PORT_8081%%; } }
EOF
(undef, $out) = $t->run_cmd('-t', '-p', "$d/", '-c', "$d/bad.conf");
like($out, qr/buffered logs cannot have variables in name/, 'buffer= with variables');

$t->write_file('bad.conf', <<'EOF');
events { }
http { log_format f escape=xml '$uri'; server { listen 127.0.0.1:%%PORT_8081%%; } }
EOF
(undef, $out) = $t->run_cmd('-t', '-p', "$d/", '-c', "$d/bad.conf");
like($out, qr/unknown log format escaping "escape=xml"/, 'unknown escaping');

$t->done_testing;
