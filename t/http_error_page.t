#!/usr/bin/perl

# error_page: to a uri (internal redirect, GET, the error status kept), with
# its arguments, "=CODE" and "=" for the status, to a named location, to a
# URL (302 or the "=3xx" given), inheritance and overriding,
# recursive_error_pages, the internal redirect loop limit, and "internal"
# locations (404 from outside, reachable by error_page).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;

my $t = Portico::Test->new->has(qw/http_rewrite/);

$t->write_file('html/404.html', "custom 404\n");
$t->write_file('html/50x.html', "custom 50x\n");
$t->write_file('html/errpages/403.html', "custom 403\n");

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        root %%TESTDIR%%/html;

        error_page 404 /404.html;
        error_page 500 502 503 504 /50x.html;

        location / { }
        location /fail { return 503; }
        location /broken { return 500; }

        location /own {
            error_page 404 /show?from=own;
            return 404;
        }
        location /show { return 200 "show method=$request_method uri=$uri args=$args"; }

        location /eq200 { error_page 404 =200 /show; return 404; }
        location /eq { error_page 404 = /made; return 404; }
        location /made { return 201 "made"; }
        location /named { error_page 404 @fallback; return 404; }
        location @fallback { return 200 "fallback uri=$uri"; }
        location /url { error_page 403 http://example.com/forbidden?x=1; return 403; }
        location /url301 { error_page 404 =301 http://example.com/nf; return 404; }
        location /url404 { error_page 404 =404 http://example.com/nf; return 404; }
        location /vars { error_page 404 /show?code=$status&a=$arg_a; return 404; }

        location /r1 { error_page 404 /r2; return 404; }
        location /r2 { error_page 404 /r3; return 404; }
        location /r3 { return 200 "r3"; }

        location /q1 { recursive_error_pages on; error_page 404 /q2; return 404; }
        location /q2 { recursive_error_pages on; error_page 404 /q3; return 404; }
        location /q3 { return 200 "q3"; }

        location /loopy { recursive_error_pages on; error_page 404 /loopy; return 404; }
        location /nonamed { error_page 404 @nothere; return 404; }

        location /errpages/ { internal; }
        location /priv { error_page 403 /errpages/403.html; return 403; }
        location /textret { return 404 "text is not an error page"; }
    }
}
EOF

$t->run;
$t->expect_errors(qr/rewrite or internal redirection cycle/, qr/could not find named location/);
$t->plan(37);

sub get {
    my ($uri, %o) = @_;
    my $m = $o{method} // 'GET';
    my $b = $o{body} // '';
    my $cl = length $b ? "Content-Length: " . length($b) . "\r\n" : '';
    return http("$m $uri HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n$cl\r\n$b");
}

my $r;

$r = get('/missing');
is(http_status($r), 404, 'error_page to a file: the status stays');
is(http_body($r), "custom 404\n", 'error_page to a file: its body');

$r = get('/fail');
is(http_status($r), 503, 'one page for several codes: 503');
is(http_body($r), "custom 50x\n", 'one page for several codes: body');
is(http_body(get('/broken')), "custom 50x\n", 'one page for several codes: 500');

$r = get('/own');
is(http_status($r), 404, 'a location\'s own error_page replaces the server\'s');
is(http_body($r), 'show method=GET uri=/show args=from=own', 'the page\'s arguments');

$r = get('/own', method => 'POST', body => 'abc');
is(http_body($r), 'show method=GET uri=/show args=from=own', 'the method becomes GET');
$r = http("HEAD /own HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
like($r, qr{^HTTP/1\.1 404 }, 'HEAD stays HEAD (status)');
unlike($r, qr/show method/, 'HEAD stays HEAD (no body)');

$r = get('/eq200');
is(http_status($r), 200, '=200');
is(http_body($r), 'show method=GET uri=/show args=', '=200: the page');

$r = get('/eq');
is(http_status($r), 201, '"=": the page\'s own status');
is(http_body($r), 'made', '"=": the page\'s body');

$r = get('/named');
is(http_status($r), 404, 'named location: the status stays');
is(http_body($r), 'fallback uri=/named', 'named location: runs with the uri unchanged');

$r = get('/url');
is(http_status($r), 302, 'URL: 302');
is(http_header($r, 'Location'), 'http://example.com/forbidden?x=1', 'URL: Location');
$r = get('/url301');
is(http_status($r), 301, 'URL with =301');
is(http_header($r, 'Location'), 'http://example.com/nf', 'URL with =301: Location');
is(http_status(get('/url404')), 302, 'URL with a non-redirect code: 302');

$r = get('/vars?a=q');
is(http_body($r), 'show method=GET uri=/show args=code=404&a=q', 'a page with variables');

$r = get('/r1');
is(http_status($r), 404, 'not recursive: the second error is final');
like(http_body($r), qr/<h1>404 Not Found<\/h1>/, 'not recursive: the built-in page');

$r = get('/q1');
is(http_status($r), 404, 'recursive_error_pages: the status of the first error');
is(http_body($r), 'q3', 'recursive_error_pages: the page of the last');

$r = get('/loopy');
is(http_status($r), 500, 'an error page loop ends with 500');
like($t->read_file('error.log'),
    qr/rewrite or internal redirection cycle while internally redirecting to "\/loopy"/,
    'the loop is logged');

is(http_status(get('/nonamed')), 500, 'a missing named location: 500');

$r = get('/errpages/403.html');
is(http_status($r), 404, 'internal location: 404 from outside');
is(http_body($r), "custom 404\n", 'internal location: and the 404 page');
$r = get('/priv');
is(http_status($r), 403, 'internal location as an error page: status');
is(http_body($r), "custom 403\n", 'internal location as an error page: body');

# Internal redirects hold a reference to the request: the connection must
# stay in step for the next request.
my @r = http_keepalive(['/missing', '/named', '/own', '/q1', '/eq', '/url', '/file-after']);
is(join(' ', map { http_status($_) // 'none' } @r), '404 404 404 404 201 302 404',
    'error pages on one keepalive connection');
is(http_body($r[6]), "custom 404\n", 'the last of them is complete');

$r = get('/textret');
is(http_status($r), 404, 'return with a text is not an error');
is(http_body($r), 'text is not an error page', 'no error page then');
