#!/usr/bin/perl

# The request parser as a security boundary: every request the HTTP/1.1
# engine must refuse is sent over a raw socket, and the answer must carry
# the exact status and be followed by the server closing the connection.
# Then the edge cases it must accept: OPTIONS *, absolute-form targets
# whose host wins over Host, underscores in header names, URI
# normalization ($uri against $request_uri), and bad input fed one byte at
# a time.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Time::HiRes qw(time);

my $t = Portico::Test->new->has(qw/http_rewrite http_echo/);

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    client_max_body_size 1k;
    keepalive_timeout 30s;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name a.test;

        location / { return 200 "A $uri|$request_uri|$args"; }
        location /echo { echo_request_body; }
        location /under { return 200 "[$http_x_a_b]"; }
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name b.test;

        location / { return 200 "B $host"; }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        server_name c.test;
        underscores_in_headers on;
        merge_slashes off;

        location / { return 200 "C $uri"; }
        location /under { return 200 "[$http_x_a_b]"; }
    }
}
EOF

$t->run;

my $H = "Host: a.test\r\n";
my $long = 'x' x 9000;

# [ name, raw request, status, optional page text ]
my @reject = (
    # Host
    ['HTTP/1.1 without Host', "GET / HTTP/1.1\r\n\r\n", 400],
    ['duplicate Host', "GET / HTTP/1.1\r\n${H}Host: b.test\r\n\r\n", 400],
    ['duplicate Host, same value', "GET / HTTP/1.1\r\n$H$H\r\n", 400],
    ['empty Host', "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400],
    ['Host with a non-numeric port', "GET / HTTP/1.1\r\nHost: a.test:8x\r\n\r\n", 400],
    ['Host with a port above 65535', "GET / HTTP/1.1\r\nHost: a.test:65536\r\n\r\n", 400],
    ['Host with a space', "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400],
    ['Host with a slash', "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400],
    ['Host with userinfo', "GET / HTTP/1.1\r\nHost: u\@a.test\r\n\r\n", 400],
    ['Host with ".."', "GET / HTTP/1.1\r\nHost: a..test\r\n\r\n", 400],
    ['Host with an unclosed IP literal', "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400],
    ['Host with a percent', "GET / HTTP/1.1\r\nHost: a%2ftest\r\n\r\n", 400],

    # Content-Length
    ['duplicate Content-Length', "POST / HTTP/1.1\r\n${H}Content-Length: 1\r\n"
        . "Content-Length: 1\r\n\r\nx", 400],
    ['differing Content-Length', "POST / HTTP/1.1\r\n${H}Content-Length: 1\r\n"
        . "Content-Length: 2\r\n\r\nxx", 400],
    ['Content-Length as a list', "POST / HTTP/1.1\r\n${H}Content-Length: 1, 1\r\n\r\nx", 400],
    ['Content-Length with a plus sign', "POST / HTTP/1.1\r\n${H}Content-Length: +1\r\n\r\nx", 400],
    ['Content-Length with a minus sign', "POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n", 400],
    ['Content-Length with an inner space', "POST / HTTP/1.1\r\n${H}Content-Length: 1 0\r\n\r\n", 400],
    ['Content-Length in hex', "POST / HTTP/1.1\r\n${H}Content-Length: 0x1\r\n\r\nx", 400],
    ['Content-Length empty', "POST / HTTP/1.1\r\n${H}Content-Length:\r\n\r\n", 400],
    ['Content-Length overflowing', "POST / HTTP/1.1\r\n${H}"
        . "Content-Length: 99999999999999999999\r\n\r\n", 400],

    # Transfer-Encoding
    ['Transfer-Encoding with Content-Length', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400],
    ['Transfer-Encoding in HTTP/1.0', "POST /echo HTTP/1.0\r\n$H"
        . "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
    ['chunked twice in one field', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400],
    ['chunked twice in two fields', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
    ['chunked not last', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400],
    ['chunked not last, two fields', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n", 400],
    ['chunked with parameters', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n", 400],
    ['empty Transfer-Encoding', "POST /echo HTTP/1.1\r\n${H}Transfer-Encoding:\r\n\r\n", 400],
    ['malformed Transfer-Encoding', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n", 400],
    ['unknown coding gzip', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: gzip\r\n\r\n", 501],
    ['unknown coding before chunked', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501],
    ['identity coding', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: identity\r\n\r\n", 501],

    # line syntax
    ['obs-fold', "GET / HTTP/1.1\r\n${H}X-A: 1\r\n continued\r\n\r\n", 400],
    ['obs-fold with a tab', "GET / HTTP/1.1\r\n${H}X-A: 1\r\n\tcontinued\r\n\r\n", 400],
    ['whitespace before the first header', "GET / HTTP/1.1\r\n ${H}\r\n", 400],
    ['bare CR in the request line', "GET /\r HTTP/1.1\r\n$H\r\n", 400],
    ['bare CR after the version', "GET / HTTP/1.1\rX\n$H\r\n", 400],
    ['bare CR in a header value', "GET / HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n", 400],
    ['bare CR ending a header', "GET / HTTP/1.1\r\n${H}X-A: a\r\r\n\r\n", 400],
    ['bare CR in a header name', "GET / HTTP/1.1\r\n${H}X\rA: a\r\n\r\n", 400],
    ['bare CR ending the head', "GET / HTTP/1.1\r\n$H\rX", 400],
    ['NUL in the target', "GET /a\0b HTTP/1.1\r\n$H\r\n", 400],
    ['NUL in the method', "G\0T / HTTP/1.1\r\n$H\r\n", 400],
    ['NUL in a header value', "GET / HTTP/1.1\r\n${H}X-A: a\0b\r\n\r\n", 400],
    ['NUL in a header name', "GET / HTTP/1.1\r\n${H}X\0A: a\r\n\r\n", 400],
    ['control byte in the target', "GET /a\x01b HTTP/1.1\r\n$H\r\n", 400],
    ['DEL in the target', "GET /a\x7f HTTP/1.1\r\n$H\r\n", 400],
    ['ESC in the query', "GET /?a=\x1b HTTP/1.1\r\n$H\r\n", 400],
    ['control byte in a header value', "GET / HTTP/1.1\r\n${H}X-A: \x08\r\n\r\n", 400],
    ['DEL in a header value', "GET / HTTP/1.1\r\n${H}X-A: a\x7f\r\n\r\n", 400],
    ['space in a header name', "GET / HTTP/1.1\r\n${H}Bad Name: x\r\n\r\n", 400],
    ['space before the colon', "GET / HTTP/1.1\r\n${H}X-A : x\r\n\r\n", 400],
    ['tab before the colon', "GET / HTTP/1.1\r\n${H}X-A\t: x\r\n\r\n", 400],
    ['space before the colon of Host', "GET / HTTP/1.1\r\nHost : a.test\r\n\r\n", 400],
    ['non-token byte in a header name', "GET / HTTP/1.1\r\n${H}X(A): x\r\n\r\n", 400],
    ['non-ASCII byte in a header name', "GET / HTTP/1.1\r\n${H}X\xe9: x\r\n\r\n", 400],
    ['empty header name', "GET / HTTP/1.1\r\n$H: x\r\n\r\n", 400],
    ['header line without a colon', "GET / HTTP/1.1\r\n${H}NoColon\r\n\r\n", 400],

    # request line
    ['lower-case method', "get / HTTP/1.1\r\n$H\r\n", 400],
    ['method with a non-token byte', "G\@T / HTTP/1.1\r\n$H\r\n", 400],
    ['method followed by a tab', "GET\t/ HTTP/1.1\r\n$H\r\n", 400],
    ['leading space', " GET / HTTP/1.1\r\n$H\r\n", 400],
    ['two spaces after the method', "GET  / HTTP/1.1\r\n$H\r\n", 400],
    ['two spaces after the target', "GET /  HTTP/1.1\r\n$H\r\n", 400],
    ['space after the version', "GET / HTTP/1.1 \r\n$H\r\n", 400],
    ['lower-case protocol', "GET / http/1.1\r\n$H\r\n", 400],
    ['version without a minor', "GET / HTTP/1\r\n$H\r\n", 400],
    ['two-digit minor version', "GET / HTTP/1.10\r\n$H\r\n", 400],
    ['asterisk-form for GET', "GET * HTTP/1.1\r\n$H\r\n", 400],
    ['CONNECT authority-form', "CONNECT a.test:443 HTTP/1.1\r\n$H\r\n", 400],
    ['absolute-form with a bad host', "GET http://a b/ HTTP/1.1\r\n$H\r\n", 400],
    ['absolute-form with userinfo', "GET http://u\@a.test/ HTTP/1.1\r\n$H\r\n", 400],
    ['absolute-form with a huge port', "GET http://a.test:99999/ HTTP/1.1\r\n$H\r\n", 400],
    ['absolute-form with another scheme', "GET ftp://a.test/ HTTP/1.1\r\n$H\r\n", 400],
    ['absolute-form without a host', "GET http:///x HTTP/1.1\r\n$H\r\n", 400],
    ['HTTP/0.9 request', "GET /\r\n", 400],
    ['HTTP/0.9 request with a query', "GET /?a=1\r\n", 400],

    # methods
    ['TRACE', "TRACE / HTTP/1.1\r\n$H\r\n", 405],
    ['TRACE in HTTP/1.0', "TRACE / HTTP/1.0\r\n\r\n", 405],

    # versions
    ['HTTP/2.0', "GET / HTTP/2.0\r\n$H\r\n", 505],
    ['HTTP/1.2', "GET / HTTP/1.2\r\n$H\r\n", 505],
    ['HTTP/0.9 spelled out', "GET / HTTP/0.9\r\n$H\r\n", 505],
    ['HTTP/3.0', "GET / HTTP/3.0\r\n$H\r\n", 505],

    # Expect
    ['unknown expectation', "POST /echo HTTP/1.1\r\n${H}Expect: teapot\r\n"
        . "Content-Length: 1\r\n\r\nx", 417],
    ['100-continue with another expectation', "POST /echo HTTP/1.1\r\n$H"
        . "Expect: 100-continue, x\r\nContent-Length: 1\r\n\r\nx", 417],

    # URI
    ['path above the root', "GET /../etc/passwd HTTP/1.1\r\n$H\r\n", 400],
    ['path above the root, deeper', "GET /a/../../b HTTP/1.1\r\n$H\r\n", 400],
    ['encoded dot segments above the root', "GET /%2e%2e/x HTTP/1.1\r\n$H\r\n", 400],
    ['encoded slash and dots above the root', "GET /a%2f..%2f..%2fb HTTP/1.1\r\n$H\r\n", 400],
    ['encoded NUL', "GET /a%00b HTTP/1.1\r\n$H\r\n", 400],
    ['bad percent escape', "GET /a%zz HTTP/1.1\r\n$H\r\n", 400],
    ['truncated percent escape', "GET /a%4 HTTP/1.1\r\n$H\r\n", 400],

    # limits: large_client_header_buffers 4 8k
    ['request line too long', "GET /$long HTTP/1.1\r\n$H\r\n", 414],
    ['header line too long', "GET / HTTP/1.1\r\n${H}X-Long: $long\r\n\r\n", 400,
        'Request Header Or Cookie Too Large'],
    ['too many headers', "GET / HTTP/1.1\r\n$H"
        . join('', map { "X-H$_: " . ('v' x 4000) . "\r\n" } 1 .. 10) . "\r\n", 400,
        'Request Header Or Cookie Too Large'],

    # bodies: client_max_body_size 1k
    ['Content-Length above client_max_body_size', "POST /echo HTTP/1.1\r\n$H"
        . "Content-Length: 2048\r\n\r\n", 413],
    ['chunked body above client_max_body_size', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: chunked\r\n\r\n800\r\n" . ('x' x 2048) . "\r\n0\r\n\r\n", 413],
    ['chunk size not hex', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400],
    ['chunk size overflowing', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n", 400],
    ['chunk size with a sign', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n", 400],
    ['chunk framing with bare LF', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n", 400],
    ['chunk data not followed by CRLF', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX0\r\n\r\n", 400],
    ['chunk extension too long', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: chunked\r\n\r\n5;" . ('e' x 5000) . "\r\nhello\r\n0\r\n\r\n", 400],
    ['malformed chunk extension', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: chunked\r\n\r\n5;=x\r\nhello\r\n0\r\n\r\n", 400],
    ['obs-fold in the trailer', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\n folded\r\n\r\n", 400],
    ['trailer section too long', "POST /echo HTTP/1.1\r\n$H"
        . "Transfer-Encoding: chunked\r\n\r\n0\r\nT: " . ('t' x 9000) . "\r\n\r\n", 400],
    ['bad chunked body not read by the handler', "POST / HTTP/1.1\r\n$H"
        . "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400],
);

my %also = (
    'bare CR in the request line' => 1,     # byte by byte too
    'obs-fold' => 1,
    'duplicate Content-Length' => 1,
    'chunked not last' => 1,
    'HTTP/2.0' => 1,
    'TRACE' => 1,
    'chunk framing with bare LF' => 1,
);

$t->plan(scalar(@reject) + scalar(keys %also) + 21);

# Sends $req, reads one response; returns (status, closed, raw).  A split
# of 1 sends it one byte at a time.
sub exchange {
    my ($req, %o) = @_;
    my $s = http_connect() or return (undef, 0, '');
    if ($o{bytewise}) {
        for my $c (split //, $req) {
            last unless http_send($s, $c);
            select(undef, undef, undef, 0.002);
        }
    } else {
        http_send($s, $req);
    }
    my $r = http_read_response($s, timeout => 10);
    my $closed = defined $r && http_wait_close($s, 10);
    close $s;
    return (defined $r ? http_status($r) : undef, $closed, $r // '');
}

for my $c (@reject) {
    my ($name, $req, $code, $page) = @$c;
    my ($status, $closed, $raw) = exchange($req);
    my $ok = defined $status && $status == $code && $closed
        && (!$page || index($raw, $page) >= 0);
    ok($ok, "$name: $code and closed")
        or diag(sprintf "got %s, %s; response: %s", $status // 'no response',
            $closed ? 'closed' : 'not closed', substr($raw, 0, 200));

    next unless $also{$name};
    ($status, $closed) = exchange($req, bytewise => 1);
    ok(defined $status && $status == $code && $closed,
        "$name, one byte at a time: $code and closed")
        or diag("got " . ($status // 'no response'));
}

###############################################################################
# accepted edge cases

my ($status, $closed, $raw) = exchange("GET /\r\n");
like($raw, qr{^HTTP/1\.1 400 }, 'HTTP/0.9 is refused in HTTP/1.1 form');

# OPTIONS *: the server itself, with Allow, on a connection kept open
my $s = http_connect();
http_send($s, "OPTIONS * HTTP/1.1\r\n$H\r\n");
my $r = http_read_response($s);
is(http_status($r), 200, 'OPTIONS *: 200');
like(http_header($r, 'Allow') // '', qr/\bGET\b.*\bOPTIONS\b/, 'OPTIONS *: Allow');
is(http_header($r, 'Content-Length'), '0', 'OPTIONS *: empty body');
http_send($s, "GET /x HTTP/1.1\r\n$H\r\n");
like(http_read_response($s) // '', qr/A \/x\|/, 'OPTIONS *: connection kept for the next request');
close $s;

# absolute-form: its host wins over Host
$r = http("GET http://b.test/p HTTP/1.1\r\n${H}Connection: close\r\n\r\n");
is(http_body($r), 'B b.test', 'absolute-form target: its host chooses the server');
$r = http("GET HTTP://B.TEST:8080 HTTP/1.1\r\n${H}Connection: close\r\n\r\n");
is(http_body($r), 'B b.test', 'absolute-form: scheme and host any case, port, empty path');
$r = http("GET http://a.test/a%20b?q=1 HTTP/1.1\r\nHost: b.test\r\nConnection: close\r\n\r\n");
is(http_body($r), 'A /a b|/a%20b?q=1|q=1', 'absolute-form: $uri, $request_uri, $args');
$r = http("GET http://a.test/ HTTP/1.0\r\n\r\n");
is(http_status($r), 200, 'absolute-form in HTTP/1.0 without Host');

# URI normalization: $uri is decoded and resolved, $request_uri as sent
$r = http("GET /a/./b/../c//d%41?x=%41 HTTP/1.1\r\n${H}Connection: close\r\n\r\n");
is(http_body($r), 'A /a/c/dA|/a/./b/../c//d%41?x=%41|x=%41', '$uri normalized, $request_uri original');
$r = http("GET /a/%2e%2E/b HTTP/1.1\r\n${H}Connection: close\r\n\r\n");
is(http_body($r), 'A /b|/a/%2e%2E/b|', 'encoded dot segments resolved');
$r = http("GET //x//y HTTP/1.1\r\nHost: c.test\r\nConnection: close\r\n\r\n",
    port => $t->port(8081));
is(http_body($r), 'C //x//y', 'merge_slashes off keeps the slashes');

# header names with underscores: dropped unless underscores_in_headers
$r = http("GET /under HTTP/1.1\r\n${H}X_A_B: v\r\nConnection: close\r\n\r\n");
is(http_body($r), '[]', 'underscore header dropped by default');
$r = http("GET /under HTTP/1.1\r\nHost: c.test\r\nX_A_B: v\r\nConnection: close\r\n\r\n",
    port => $t->port(8081));
is(http_body($r), '[v]', 'underscore header kept with underscores_in_headers on');
$r = http("GET /under HTTP/1.1\r\n${H}X-A-B: w\r\nConnection: close\r\n\r\n");
is(http_body($r), '[w]', 'dashed header seen as $http_x_a_b');

# other invalid-but-token header names are ignored (ignore_invalid_headers)
$r = http("GET / HTTP/1.1\r\n${H}X!Y: 1\r\nConnection: close\r\n\r\n");
is(http_status($r), 200, 'header name with "!" ignored, request served');

# a bare LF ends a head line (RFC 9112 2.2), HTTP/1.0 needs no Host
$r = http("GET /lf HTTP/1.1\nHost: a.test\nConnection: close\n\n");
is(http_body($r), 'A /lf|/lf|', 'bare LF line ends in the head');
$r = http("GET /ten HTTP/1.0\r\n\r\n");
is(http_status($r), 200, 'HTTP/1.0 without Host');

# Expect: ignored in HTTP/1.0; 100-continue honoured in HTTP/1.1
$r = http("POST /echo HTTP/1.0\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\nhi");
is(http_body($r), 'hi', 'Expect ignored in HTTP/1.0');

$s = http_connect();
http_send($s, "POST /echo HTTP/1.1\r\n${H}Expect: 100-Continue\r\nContent-Length: 5\r\n\r\n");
$r = http_read_response($s);
is(http_status($r), 100, 'Expect: 100-continue answered with 100 before the body');
http_send($s, "hello");
is(http_body(http_read_response($s)), 'hello', '... and the body is read after it');
close $s;
