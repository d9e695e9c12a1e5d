#!/usr/bin/perl

# error_log in http, server and location blocks, as nginx: the innermost
# level that has one receives the request's errors; levels inherit.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Time::HiRes qw(sleep);

my $t = Portico::Test->new;

$t->write_file('portico.conf', <<'EOF2');
error_log %%TESTDIR%%/error.log;
events { }
http {
    access_log off;
    error_log %%TESTDIR%%/http.log info;
    root %%TESTDIR%%/html;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name one;
        error_log %%TESTDIR%%/server.log;

        location /loc/ {
            error_log %%TESTDIR%%/location.log warn;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name two;
    }
}
EOF2

mkdir $t->testdir . '/html';

$t->run;
$t->plan(8);

like(http_get('/loc/missing', host => 'one'), qr/404/, 'location: 404');
like(http_get('/missing-server', host => 'one'), qr/404/, 'server: 404');
like(http_get('/missing-http', host => 'two'), qr/404/, 'http level: 404');

sleep 0.3;

my $loc = $t->read_file('location.log') // '';
my $srv = $t->read_file('server.log') // '';
my $http = $t->read_file('http.log') // '';
my $main = $t->read_file('error.log') // '';

like($loc, qr/\[error\].*"\Q@{[$t->testdir]}\E\/html\/loc\/missing" failed \(2: No such file/,
     'the location log gets the location\'s error');
unlike($srv, qr{/loc/missing}, 'not the server log');
like($srv, qr{missing-server" failed}, 'the server log gets the server\'s error');
like($http, qr{missing-http" failed}, 'a server without error_log inherits http\'s');
unlike($main, qr{missing-(server|http)|loc/missing}, 'the main log gets none of them');
