#!/usr/bin/perl

# The variables of the HTTP engine: request line and uri parts, headers
# and cookies, arguments, addresses and ports, names, times, counters,
# $request_id, $document_root / $realpath_root, and the response ones
# ($status, $bytes_sent, $sent_http_*) seen through the access log.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Sys::Hostname;
use Time::HiRes qw(time);

my $t = Portico::Test->new->has(qw/http_rewrite/);
my $d = $t->testdir;

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    log_format vars escape=none 'uri=$uri status=$status body=$body_bytes_sent bytes=$bytes_sent '
        'len=$request_length time=$request_time ct=$sent_http_content_type '
        'cl=$sent_http_content_length lm=$sent_http_last_modified '
        'etag=$sent_http_etag conn=$sent_http_connection xa=$sent_http_x_a '
        'msec=$msec local=$time_local iso=$time_iso8601 rid=$request_id '
        'none=$sent_http_x_none';
    access_log %%TESTDIR%%/access.log vars;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost alias.example;
        root %%TESTDIR%%/html;

        location = /req {
            return 200 "$request_method|$request_uri|$uri|$document_uri|$args|$query_string|$is_args|$request|$server_protocol|$scheme|$https|";
        }
        location = /addr {
            return 200 "$remote_addr|$remote_port|$server_addr|$server_port|$server_name|$host|$hostname|$binary_remote_addr";
        }
        location = /hdr {
            return 200 "$http_user_agent|$http_x_custom_header|$http_cookie|$cookie_a|$cookie_b|$cookie_missing|$content_length|$content_type|$http_x_multi";
        }
        location = /arg {
            return 200 "$arg_a|$arg_b|$arg_empty|$arg_missing|$arg_A";
        }
        location = /conn {
            return 200 "$connection|$connection_requests|$pid";
        }
        location = /id {
            return 200 "$request_id|$request_id";
        }
        location /docroot/ {
            alias %%TESTDIR%%/html/;
            add_header X-Root $document_root;
            add_header X-Real $realpath_root;
        }
        location /file/ {
            add_header X-A "hello";
        }
        location /slow/ {
            limit_rate 50k;
            add_header X-Rate $limit_rate;
            alias %%TESTDIR%%/html/file/;
        }
        location /unlimited/ {
            limit_rate 50k;
            set $limit_rate 0;
            add_header X-Rate $limit_rate;
            alias %%TESTDIR%%/html/file/;
        }
        location /setrate/ {
            set $limit_rate 40k;
            add_header X-Rate $limit_rate;
            alias %%TESTDIR%%/html/file/;
        }
        location /after/ {
            limit_rate 10k;
            limit_rate_after 1m;
            alias %%TESTDIR%%/html/file/;
        }
    }
}
EOF

$t->write_file('html/file/f.txt', 'twelve bytes');
$t->write_file('html/x', 'x');
my $big = 'r' x 150000;
$t->write_file('html/file/big', $big);

$t->run;

my $port = $t->port(8080);

sub body {
    my ($req) = @_;
    return http_body(http($req));
}

###############################################################################
# the request

my $b = body("GET /req?x=1&y=%20 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
is($b, "GET|/req?x=1&y=%20|/req|/req|x=1&y=%20|x=1&y=%20|?|GET /req?x=1&y=%20 HTTP/1.1|HTTP/1.1|http||",
    'request line variables');

$b = body("GET /%72eq HTTP/1.0\r\nHost: localhost\r\n\r\n");
is($b, "GET|/%72eq|/req|/req||||GET /%72eq HTTP/1.0|HTTP/1.0|http||",
    'decoded $uri, raw $request_uri, empty $args and $is_args');

$b = body("HEAD /req HTTP/1.0\r\n\r\n");
is($b, '', 'HEAD: no body');

###############################################################################
# addresses and names

$b = body("GET /addr HTTP/1.1\r\nHost: Alias.Example:$port\r\nConnection: close\r\n\r\n");
my @v = split /\|/, $b // '', 8;
is($v[0], '127.0.0.1', '$remote_addr');
like($v[1], qr/^\d+$/, '$remote_port');
ok($v[1] != $port, '$remote_port is the client side');
is($v[2], '127.0.0.1', '$server_addr');
is($v[3], $port, '$server_port');
is($v[4], 'localhost', '$server_name: the first name');
is($v[5], 'alias.example', '$host: lower case, without the port');
is($v[6], hostname(), '$hostname');
is($v[7], pack('C4', 127, 0, 0, 1), '$binary_remote_addr');

$b = body("GET /addr HTTP/1.0\r\n\r\n");
is((split /\|/, $b // '')[5], 'localhost', '$host without a Host: the server name');

###############################################################################
# headers, cookies, arguments

$b = body("POST /hdr HTTP/1.1\r\nHost: localhost\r\nUser-Agent: vars/1\r\n"
    . "X-Custom-Header: custom\r\nCookie: a=1; b=two\r\nCookie: c=3\r\n"
    . "Content-Type: text/x-test\r\nContent-Length: 4\r\nX-Multi: one\r\nX-Multi: two\r\n"
    . "Connection: close\r\n\r\nbody");
is($b, 'vars/1|custom|a=1; b=two; c=3|1|two||4|text/x-test|one, two',
    'headers, joined cookies and repeated fields, $cookie_NAME, body headers');

$b = body("GET /arg?a=1&b=%41&empty=&A=upper HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\n\r\n");
is($b, '1|%41|||1', '$arg_NAME: raw values; names match without case, as nginx');

###############################################################################
# counters

my @k = http_keepalive(['/conn', '/conn', '/conn']);
my @c = map { [split /\|/, http_body($_) // ''] } @k;
ok($c[0][0] =~ /^\d+$/ && $c[0][0] == $c[2][0], '$connection: same on one connection');
is(join(',', map { $_->[1] } @c), '1,2,3', '$connection_requests counts');
my ($worker) = $t->worker_pids;
is($c[0][2], $worker, '$pid: the worker');

my $c2 = [split /\|/, body("GET /conn HTTP/1.0\r\n\r\n") // ''];
ok($c2->[0] != $c[0][0], '$connection: another connection, another number');

###############################################################################
# $request_id

my @ids = map { [split /\|/, body("GET /id HTTP/1.0\r\n\r\n") // ''] } 1 .. 20;
like($ids[0][0], qr/^[0-9a-f]{32}$/, '$request_id: 32 hex digits');
is($ids[0][0], $ids[0][1], '$request_id: the same within a request');
my %seen = map { $_->[0] => 1 } @ids;
is(scalar keys %seen, 20, '$request_id: a new one for every request');

###############################################################################
# document root

my $r = parse_response(http("GET /docroot/x HTTP/1.0\r\n\r\n"));
is($r->{header}{'x-root'}, "$d/html/", '$document_root of an alias');
is($r->{header}{'x-real'}, "$d/html", '$realpath_root');

###############################################################################
# $limit_rate and limit_rate

for my $case (['/slow/big', '51200', 1], ['/unlimited/big', '0', 0],
    ['/setrate/big', '40960', 1], ['/after/big', '10240', 0])
{
    my ($path, $rate, $slow) = @$case;
    my $start = time;
    my $resp = parse_response(http("GET $path HTTP/1.0\r\n\r\n", timeout => 20));
    my $took = time - $start;
    ok(defined $resp && $resp->{body} eq $big, "$path: the whole file");
    is($resp->{header}{'x-rate'}, $rate, "$path: \$limit_rate") unless $path =~ /after/;
    if ($slow) {
        ok($took >= 1.0, "$path: paced (took " . sprintf('%.2f', $took) . 's)');
    } else {
        ok($took < 1.0, "$path: not paced (took " . sprintf('%.2f', $took) . 's)');
    }
}

###############################################################################
# response variables, through the access log

my $req = "GET /file/f.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
my $raw = http($req);
body("GET /missing HTTP/1.0\r\n\r\n");

select undef, undef, undef, 0.3;
my @lines = split /\n/, $t->read_file('access.log');
my ($l) = grep { m{^uri=/file/f\.txt } } @lines;
$l //= '';

like($l, qr/ status=200 body=12 /, '$status, $body_bytes_sent');
my ($bytes) = $l =~ / bytes=(\d+) /;
is($bytes, length($raw), '$bytes_sent: header and body');
like($l, qr/ len=\Q${\ length $req}\E /, '$request_length');
like($l, qr/ time=\d+\.\d{3} /, '$request_time');
like($l, qr/ cl=12 /, '$sent_http_content_length');
like($l, qr/ lm=\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT /, '$sent_http_last_modified');
like($l, qr/ etag="[0-9a-f]+-c" /, '$sent_http_etag');
like($l, qr/ conn=close /, '$sent_http_connection');
like($l, qr/ xa=hello /, '$sent_http_x_a (add_header)');
like($l, qr/ msec=\d+\.\d{3} /, '$msec');
like($l, qr{ local=\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4} }, '$time_local');
like($l, qr/ iso=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d /, '$time_iso8601');
like($l, qr/ rid=[0-9a-f]{32} /, '$request_id in the log');
like($l, qr/ none=-$/, 'a missing header: "-"');

my ($l404) = grep { m{^uri=/missing status=404 } } @lines;
ok(defined $l404, '$status of a 404');

$t->done_testing;
