#!/usr/bin/perl

# X-Accel-Redirect (nginx 1.22 semantics): a backend's answer with the
# field is not sent; the request goes on, internally, at the field's uri
# (its args kept, the method made GET except HEAD) or named location.
# Only Content-Type, Set-Cookie, Content-Disposition, Cache-Control,
# Expires and Accept-Ranges of the backend's head are kept.  The field is
# ignored with proxy_ignore_headers X-Accel-Redirect; a redirect loop ends
# in a 500; an unsafe uri is a 404; a backend connection whose answer had
# no body stays in the keepalive cache.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::Test::Daemon qw(read_request);
use IO::Socket::INET;
use POSIX ();

my $t = Portico::Test->new->has(qw/http_proxy http_rewrite http_upstream_keepalive/);

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
error_log %%TESTDIR%%/warn.log warn;
events { }
http {
    upstream kept {
        server 127.0.0.1:%%PORT_8081%%;
        keepalive 4;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        root %%TESTDIR%%/html;

        location /app/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }
        location /ign/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/app/;
            proxy_ignore_headers X-Accel-Redirect;
        }
        location /ka/ {
            proxy_pass http://kept/app/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location /protected/ {
            internal;
        }
        location /echo {
            internal;
            return 200 "$request_method $uri $args\n";
        }
        location @named {
            return 200 "named $uri\n";
        }
    }
}
EOF

$t->write_file('html/protected/file.txt', "the protected file\n");

my $log = $t->testdir . '/backend.log';
$t->run_daemon(\&backend, $t->port(8081), $log);
$t->wait_for_port($t->port(8081));

$t->run;
$t->plan(28);

$t->expect_errors(qr/internal redirection cycle|unsafe URI/);

sub get {
    my ($path, $method) = @_;
    $method //= 'GET';
    return parse_response(http("$method $path HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\nContent-Length: 0\r\n\r\n"));
}

###############################################################################
# the protected download

my $r = get('/app/file');
is($r->{status}, 200, 'to an internal location: 200');
is($r->{body}, "the protected file\n", 'the file, not the backend body');
is($r->{header}{'content-type'}, 'application/x-custom', 'Content-Type kept');
is($r->{header}{'content-disposition'}, 'attachment; filename="f.txt"',
   'Content-Disposition kept');
is($r->{header}{'set-cookie'}, 'sess=1', 'Set-Cookie kept');
is($r->{header}{'cache-control'}, 'private', 'Cache-Control kept');
is($r->{header}{'expires'}, 'Thu, 01 Jan 2037 00:00:00 GMT', 'Expires kept');
ok(!exists $r->{header}{'x-other'}, 'another field is dropped');
ok(!exists $r->{header}{'x-accel-redirect'}, 'X-Accel-Redirect not sent');
isnt($r->{header}{'last-modified'}, 'Mon, 01 Jan 2001 00:00:00 GMT',
     'Last-Modified is the file\'s');
isnt($r->{header}{'etag'} // '', '"backend"', 'ETag is the file\'s');
is($r->{header}{'content-length'}, 19, 'Content-Length of the file');

is(get('/protected/file.txt')->{status}, 404, 'the internal location from outside: 404');

###############################################################################
# named location, args, method

$r = get('/app/named');
is($r->{body}, "named /app/named\n", 'to a named location');

$r = get('/app/args');
is($r->{body}, "GET /echo x=1&y=2\n", 'args after "?" kept');

$r = get('/app/args', 'POST');
is($r->{body}, "GET /echo x=1&y=2\n", 'POST becomes GET');

$r = get('/app/file', 'HEAD');
is($r->{status}, 200, 'HEAD: 200');
is($r->{header}{'content-length'}, 19, 'HEAD: the file\'s length');
is($r->{body}, '', 'HEAD: no body');

$r = get('/app/encoded');
is($r->{body}, "the protected file\n", '%XX in the uri decoded');

###############################################################################
# ignored, loop, unsafe

$r = get('/ign/file');
is($r->{body}, "backend body\n", 'proxy_ignore_headers X-Accel-Redirect: the backend body');
ok(!exists $r->{header}{'x-accel-redirect'}, 'ignored: the field is still hidden');

is(get('/app/loop')->{status}, 500, 'a redirect loop: 500');
like($t->read_file('warn.log'), qr/internal redirection cycle/, 'the loop is logged');

is(get('/app/unsafe')->{status}, 404, 'an unsafe uri: 404');
is(get('/app/blank')->{status}, 404, 'an empty value: 404');

###############################################################################
# keepalive: a backend answer without a body leaves the connection cached

my @r = map { get('/ka/empty') } 1 .. 2;
is(join(' ', map { $_->{body} } @r), "the protected file\n the protected file\n",
   'keepalive upstream: both redirected');
my @pids = map { (split ' ')[0] } grep { m{ /app/empty$} } split /\n/, $t->read_file('backend.log');
ok(@pids == 2 && $pids[0] == $pids[1], 'one backend connection for both');

###############################################################################

# Answers by the last path segment; one process per connection, with
# keepalive; logs "PID URI" for every request.
sub backend {
    my ($port, $log) = @_;
    my $ls = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
        Listen => 16, ReuseAddr => 1) or die "backend: $!";
    local $SIG{CHLD} = 'IGNORE';
    my %redirect = (
        file => '/protected/file.txt', named => '@named', args => '/echo?x=1&y=2',
        encoded => '/protected/%66ile.txt', loop => '/app/loop',
        unsafe => '/protected/../portico.conf', empty => '/protected/file.txt',
        blank => '',
    );
    while (my $c = $ls->accept) {
        if (fork) { close $c; next }
        my $buf = '';
        while (my $req = read_request($c, \$buf)) {
            open my $fh, '>>', $log; print $fh "$$ $req->{uri}\n"; close $fh;
            my ($what) = $req->{uri} =~ m{/(\w+)$};
            my $body = $what eq 'empty' || $req->{method} eq 'HEAD' ? '' : "backend body\n";
            syswrite $c, "HTTP/1.1 200 OK\r\n"
                . "X-Accel-Redirect: " . ($redirect{$what} // '/none') . "\r\n"
                . "Content-Type: application/x-custom\r\n"
                . "Content-Disposition: attachment; filename=\"f.txt\"\r\n"
                . "Set-Cookie: sess=1\r\n"
                . "Cache-Control: private\r\n"
                . "Expires: Thu, 01 Jan 2037 00:00:00 GMT\r\n"
                . "Last-Modified: Mon, 01 Jan 2001 00:00:00 GMT\r\n"
                . "ETag: \"backend\"\r\n"
                . "X-Other: yes\r\n"
                . "Content-Length: " . length($body) . "\r\n\r\n" . $body;
        }
        POSIX::_exit(0);
    }
}
