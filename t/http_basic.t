#!/usr/bin/perl

# The minimal HTTP path: "return" with a code, text or URL, default_type,
# Server and Date headers, the default 404 page, keepalive and its
# timeout, HTTP/1.0 closing, and the combined access log line.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use POSIX qw(strftime);
use Time::HiRes qw(time sleep);

my $t = Portico::Test->new->has(qw/http_rewrite/);

my $conf = <<'EOF2';
worker_processes 1;
events { }
http {
    default_type application/x-default;
    access_log %%TESTDIR%%/access.log combined;
    KEEPALIVE
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location /text  { return 200 "hello text"; }
        location /moved { return 301 http://example.com/new; }
        location /found { return 302 "https://example.com/other?x=1"; }
        location /code  { return 404; }
        location /teapot { return 418 "short and stout"; }
    }
}
EOF2

sub conf { my ($k) = @_; (my $c = $conf) =~ s/KEEPALIVE/$k/; return $c }

$t->write_file('portico.conf', conf('keepalive_timeout 30s;'));
$t->run;
$t->plan(36);

my $agent = 'basic-test/1.0';
sub get11 {
    my ($path, %o) = @_;
    return http("GET $path HTTP/1.1\r\nHost: localhost\r\nUser-Agent: $agent\r\n"
        . "Connection: close\r\n\r\n", %o);
}

###############################################################################
# return CODE "text"

my $r = get11('/text');
my $p = parse_response($r);
is($p->{status}, 200, 'return 200 text: status');
is($p->{reason}, 'OK', 'return 200 text: reason');
is($p->{body}, 'hello text', 'return 200 text: body');
is($p->{header}{'content-length'}, 10, 'return 200 text: Content-Length');
is($p->{header}{'content-type'}, 'application/x-default', 'Content-Type is default_type');
like($p->{header}{server} // '', qr{^portico(?:/\d+\.\d+\.\d+)?$}, 'Server: portico');

my $date = $p->{header}{date} // '';
like($date, qr/^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/,
    'Date: RFC 1123 format');
my $now = time;
ok(grep({ strftime('%a, %d %b %Y %H:%M', gmtime($now + $_)) eq substr($date, 0, 22) } -60, 0, 60),
    'Date: is now');

$r = get11('/teapot');
is(http_status($r), 418, 'return 418 text: status');
is(http_body($r), 'short and stout', 'return 418 text: body');

###############################################################################
# return CODE URL

$r = get11('/moved');
is(http_status($r), 301, 'return 301 URL: status');
is(http_header($r, 'Location'), 'http://example.com/new', 'return 301 URL: Location');
like(http_body($r), qr{<title>301 Moved Permanently</title>}, 'return 301 URL: HTML body');

$r = get11('/found');
is(http_status($r), 302, 'return 302 URL: status');
is(http_header($r, 'Location'), 'https://example.com/other?x=1', 'return 302 URL: Location');

###############################################################################
# errors: return CODE alone, and no location matching

$r = get11('/code');
is(http_status($r), 404, 'return 404: status');
like(http_body($r), qr{<title>404 Not Found</title>.*<h1>404 Not Found</h1>}s,
    'return 404: the default error page');

$r = get11('/nomatch');
$p = parse_response($r);
is($p->{status}, 404, 'no location matches: 404');
like($p->{header}{'content-type'} // '', qr{^text/html\b}, 'no location matches: text/html');
like($p->{body} // '', qr{<title>404 Not Found</title>.*<center><h1>404 Not Found</h1></center>}s,
    'no location matches: the default error page');
is(length($p->{body} // ''), $p->{header}{'content-length'} // -1,
    'no location matches: Content-Length matches the page');

###############################################################################
# keepalive

my @k = http_keepalive(["GET /text HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "GET /teapot HTTP/1.1\r\nHost: localhost\r\n\r\n"]);
ok(defined $k[0] && http_body($k[0]) eq 'hello text'
    && lc(http_header($k[0], 'Connection') // '') eq 'keep-alive',
    'keepalive: first response, Connection: keep-alive');
is(http_body($k[1]), 'short and stout', 'keepalive: second response on the same connection');

@k = http_keepalive([map "GET $_ HTTP/1.1\r\nHost: localhost\r\n\r\n", '/text', '/teapot', '/text'],
    pipeline => 1);
is(join('|', map { defined $_ ? http_body($_) : 'none' } @k),
    'hello text|short and stout|hello text', 'pipelined requests answered in order');

# HTTP/1.0 without keep-alive: answered, then closed at once

my $s = http_connect();
http_send($s, "GET /text HTTP/1.0\r\nHost: localhost\r\n\r\n");
$r = http_read_response($s);
is(http_body($r), 'hello text', 'HTTP/1.0: answered');
is(lc(http_header($r, 'Connection') // ''), 'close', 'HTTP/1.0: Connection: close');
my $t0 = time;
ok(http_wait_close($s, 1), 'HTTP/1.0: connection closed after the response');
close $s;

# Connection: close from an HTTP/1.1 client is honoured

$s = http_connect();
http_send($s, "GET /text HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
$r = http_read_response($s);
ok(lc(http_header($r, 'Connection') // '') eq 'close' && http_wait_close($s, 1),
    'HTTP/1.1 Connection: close: answered with close, then closed');
close $s;

###############################################################################
# access log, combined format

my $line;
for (1 .. 100) {
    ($line) = ($t->read_file('access.log') // '') =~ m{^(.*"GET /text HTTP/1\.1".*\Q$agent\E.*)$}m;
    last if $line;
    sleep 0.02;
}
like($line // '', qr{^127\.0\.0\.1 - - \[\d\d/\w\w\w/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET /text HTTP/1\.1" 200 10 "-" "\Q$agent\E"$},
    'access log: combined format line');

$t->stop;

###############################################################################
# keepalive_timeout 0: no keepalive at all

$t->write_file('portico.conf', conf('keepalive_timeout 0;'));
$t->run;

$s = http_connect();
http_send($s, "GET /text HTTP/1.1\r\nHost: localhost\r\n\r\n");
$r = http_read_response($s);
is(http_body($r), 'hello text', 'keepalive_timeout 0: answered');
is(lc(http_header($r, 'Connection') // ''), 'close', 'keepalive_timeout 0: Connection: close');
ok(http_wait_close($s, 1), 'keepalive_timeout 0: connection closed');
close $s;
$t->stop;

###############################################################################
# keepalive_timeout 1s: an idle connection is closed after about 1 s

$t->write_file('portico.conf', conf('keepalive_timeout 1s;'));
$t->run;

$s = http_connect();
http_send($s, "GET /text HTTP/1.1\r\nHost: localhost\r\n\r\n");
$r = http_read_response($s);
is(lc(http_header($r, 'Connection') // ''), 'keep-alive', 'keepalive_timeout 1s: keep-alive');
$t0 = time;
ok(!http_wait_close($s, 0.7), 'keepalive_timeout 1s: still open after 0.7 s');
ok(http_wait_close($s, 2.5), sprintf('keepalive_timeout 1s: closed after %.2f s', time - $t0));
close $s;

# a request in time keeps it going
$s = http_connect();
http_send($s, "GET /text HTTP/1.1\r\nHost: localhost\r\n\r\n");
http_read_response($s);
sleep 0.5;
http_send($s, "GET /teapot HTTP/1.1\r\nHost: localhost\r\n\r\n");
is(http_body(http_read_response($s)), 'short and stout',
    'keepalive_timeout 1s: second request after 0.5 s answered');
close $s;
