#!/usr/bin/perl

# "error_log ... debug" is accepted by every build, but [debug] lines are
# written only by a --with-debug build (debug logging compiles away
# otherwise).  The build flavour is read from -V.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;

my $t = Portico::Test->new->has(qw/http_rewrite/);

$t->write_file('portico.conf', <<'EOF2');
error_log %%TESTDIR%%/error.log debug;
events { }
http {
    access_log off;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { return 200 "ok"; }
    }
}
EOF2

my (undef, $v) = $t->run_cmd('-V');
my $debug_build = $v =~ /configure arguments:.*--with-debug/;

$t->run;
$t->plan(2);

like(http_get('/'), qr/200 OK/, 'serves with error_log debug');

$t->stop;

my $log = $t->read_file('error.log') // '';
if ($debug_build) {
    like($log, qr/\[debug\] \d+#0: .*accept: 127\.0\.0\.1/,
         'a debug build writes [debug] lines');
} else {
    unlike($log, qr/\[debug\]/, 'a normal build writes no [debug] lines');
}
