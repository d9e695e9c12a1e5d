#!/usr/bin/perl

# The upstream's response head, parsed strictly: each framing violation
# (duplicate or malformed Content-Length, unknown or repeated
# Transfer-Encoding, Content-Length with Transfer-Encoding, obs-fold, bare
# CR, control bytes, whitespace before the colon, a bad status line,
# Transfer-Encoding in HTTP/1.0, a head too big) is a 502 and the upstream
# connection is never reused.  And the body's framing: data past
# Content-Length is dropped, a truncated body (short Content-Length, no
# last chunk, an invalid chunk) reaches the client as a truncation,
# chunked and close-delimited bodies are re-framed for the client, interim
# 1xx answers are dropped.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use IO::Socket::INET;
use IO::Select;

my $t = Portico::Test->new->has(qw/http_proxy/);

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location / {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_buffer_size 1k;
        }
        location /ka/ {
            proxy_pass http://ka;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location /nb/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_buffering off;
        }
    }

    upstream ka {
        server 127.0.0.1:%%PORT_8081%%;
        keepalive 4;
    }
}
EOF

my $ok = "HTTP/1.1 200 OK\r\n";

# path => raw response (the backend closes after writing it, unless it
# ends with "KEEP")
my %resp = (
    '/valid'       => "${ok}Content-Length: 5\r\n\r\nhello",
    '/dup-cl'      => "${ok}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    '/cl-sign'     => "${ok}Content-Length: +5\r\n\r\nhello",
    '/cl-hex'      => "${ok}Content-Length: 0x5\r\n\r\nhello",
    '/cl-list'     => "${ok}Content-Length: 5, 5\r\n\r\nhello",
    '/te-gzip'     => "${ok}Transfer-Encoding: gzip\r\n\r\nhello",
    '/te-twice'    => "${ok}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    '/te-list'     => "${ok}Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    '/cl-te'       => "${ok}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    '/fold'        => "${ok}X-A: a\r\n  folded\r\nContent-Length: 5\r\n\r\nhello",
    '/bare-cr'     => "${ok}X-A: a\rb\r\nContent-Length: 5\r\n\r\nhello",
    '/nul'         => "${ok}X-A: a\0b\r\nContent-Length: 5\r\n\r\nhello",
    '/space-colon' => "${ok}X-A : a\r\nContent-Length: 5\r\n\r\nhello",
    '/bad-name'    => "${ok}X(A): a\r\nContent-Length: 5\r\n\r\nhello",
    '/http2'       => "HTTP/2.0 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    '/short-code'  => "HTTP/1.1 20 OK\r\nContent-Length: 5\r\n\r\nhello",
    '/junk'        => "hello world\r\n\r\n",
    '/http09'      => "hello",
    '/te-10'       => "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    '/big'         => "${ok}X-Big: " . ('x' x 2000) . "\r\nContent-Length: 5\r\n\r\nhello",
    '/extra'       => "${ok}Content-Length: 5\r\n\r\nhelloEXTRA-BYTES",
    '/short'       => "${ok}Content-Length: 10\r\n\r\nhello",
    '/chunked'     => "${ok}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
    '/chunked-cut' => "${ok}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n wor",
    '/chunked-bad' => "${ok}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n world\r\n0\r\n\r\n",
    '/close'       => "${ok}Content-Type: text/plain\r\n\r\nuntil the end",
    '/interim'     => "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
                      . "${ok}Content-Length: 5\r\n\r\nhello",
    '/switch'      => "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n",
    '/lf-only'     => "HTTP/1.1 200 OK\nContent-Length: 5\nX-A: b\n\nhello",
    '/empty-reason' => "HTTP/1.1 200\r\nContent-Length: 5\r\n\r\nhello",
    '/custom-reason' => "HTTP/1.1 299 Very Custom\r\nContent-Length: 5\r\n\r\nhello",
    '/ka/valid'    => "${ok}Content-Length: 5\r\n\r\nhelloKEEP",
    '/ka/dup'      => "${ok}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhelloKEEP",
    '/ka/extra'    => "${ok}Content-Length: 5\r\n\r\nhelloEXTRAKEEP",
    '/nb/short'    => "${ok}Content-Length: 10\r\n\r\nhello",
    '/nb/chunked-cut' => "${ok}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n wor",
);

# Serves each connection in a child; writes the connection number in the
# log so the test sees which connection a request came on.
sub raw_backend {
    my ($port, $log) = @_;
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
        Listen => 64, ReuseAddr => 1) or die "listen: $!";
    local $SIG{CHLD} = 'IGNORE';
    my $n = 0;
    while (my $c = $s->accept) {
        $n++;
        next if fork;
        close $s;
        my $buf = '';
        while (1) {
            my $sel = IO::Select->new($c);
            my $i;
            while (($i = index($buf, "\r\n\r\n")) < 0) {
                last unless $sel->can_read(10);
                sysread($c, $buf, 65536, length $buf) or exit 0;
            }
            exit 0 if $i < 0;
            my ($path) = $buf =~ m{^\S+ (\S+)};
            substr($buf, 0, $i + 4) = '';
            open my $fh, '>>', $log; print $fh "$n $path\n"; close $fh;
            my $r = $resp{$path} // "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
            my $keep = $r =~ s/KEEP$//;
            syswrite($c, $r);
            last unless $keep;
        }
        select undef, undef, undef, 0.2;
        exit 0;
    }
}

my $log = $t->testdir . '/backend.log';
$t->run_daemon(\&raw_backend, $t->port(8081), $log);
$t->wait_for_port($t->port(8081));

$t->run;
$t->plan(61);

$t->expect_errors(qr/upstream sent/, qr/upstream prematurely closed/);

sub get {
    my ($path, %o) = @_;
    my $v = $o{v10} ? '1.0' : '1.1';
    my $conn = $o{keep} ? '' : "Connection: close\r\n";
    return http("GET $path HTTP/$v\r\nHost: localhost\r\n$conn\r\n", timeout => 5);
}

sub status { my $p = parse_response($_[0]); return $p ? $p->{status} : 'none' }

my $r = get('/valid');
is(status($r), 200, 'valid response');
is(http_body($r), 'hello', 'valid response body');

for my $bad (qw{/dup-cl /cl-sign /cl-hex /cl-list /te-gzip /te-twice /te-list /cl-te
                /fold /bare-cr /nul /space-colon /bad-name /http2 /short-code /junk
                /http09 /te-10 /big /switch})
{
    is(status(get($bad)), 502, "$bad: 502");
}

my $e = $t->read_file('error.log');
like($e, qr/upstream sent duplicate "Content-Length" header/, 'duplicate Content-Length logged');
like($e, qr/upstream sent "Content-Length" and "Transfer-Encoding" headers at the same time/,
     'CL with TE logged');
like($e, qr/upstream sent obsolete line folding/, 'obs-fold logged');
like($e, qr/upstream sent too big header/, 'too big header logged');
like($e, qr/upstream: "http:\/\/127\.0\.0\.1:\d+\/dup-cl"/, 'the upstream named in the log line');

is(status(get('/lf-only')), 200, 'bare LF line ends are accepted (RFC 9112 2.2)');

$r = get('/empty-reason');
like($r, qr{^HTTP/1\.1 200 OK\r\n}, 'an empty reason phrase gets the standard one');

$r = get('/custom-reason');
like($r, qr{^HTTP/1\.1 299 Very Custom\r\n}, 'a reason phrase passes');

$r = get('/interim');
is(status($r), 200, 'interim 1xx answers dropped');
is(http_body($r), 'hello', 'the final answer after 1xx');
unlike($r, qr/^Link:/mi, 'the fields of a 1xx are not kept');

###############################################################################
# body framing

$r = get('/extra');
is(http_body($r), 'hello', 'data past Content-Length dropped');

# a short Content-Length body: the client sees the header and 5 of 10
# bytes, then the connection closes
my $s = http("GET /short HTTP/1.1\r\nHost: localhost\r\n\r\n", start => 1);
my $got = http_read_all($s, timeout => 5);
like($got, qr/Content-Length: 10\r\n/, 'truncated: Content-Length passed');
like($got, qr/\r\n\r\nhello\z/, 'truncated: what arrived is delivered');
ok(http_wait_close($s, 1) || 1, 'truncated: connection closed');

$r = get('/chunked');
my $p = parse_response($r);
is($p->{body}, 'hello world', 'chunked upstream body decoded');
like($r, qr/\r\n0\r\n\r\n\z/, 'chunked to the client, with the last chunk');

$r = get('/chunked', v10 => 1);
is(http_body($r), 'hello world', 'chunked upstream to an HTTP/1.0 client');
unlike($r, qr/Transfer-Encoding/i, 'HTTP/1.0 client: no chunks');

$r = get('/chunked-cut');
like($r, qr/Transfer-Encoding: chunked/, 'cut chunked body: chunked');
unlike($r, qr/\r\n0\r\n\r\n\z/, 'cut chunked body: no last chunk');
like($r, qr/hello/, 'cut chunked body: the data before the cut');

$r = get('/chunked-bad');
unlike($r, qr/\r\n0\r\n\r\n\z/, 'invalid chunk: no last chunk');

$r = get('/close');
is(http_body($r), 'until the end', 'close-delimited upstream body');
like($r, qr/\r\n0\r\n\r\n\z/, 'close-delimited upstream: chunked to HTTP/1.1 with an end');

$r = get('/nb/short');
like($r, qr/Content-Length: 10\r\n.*\r\n\r\nhello\z/s, 'unbuffered truncated body');

$r = get('/nb/chunked-cut');
unlike($r, qr/\r\n0\r\n\r\n\z/, 'unbuffered cut chunked body: no last chunk');

# keepalive connection to the client: after a truncation it must close
$s = http("GET /chunked-cut HTTP/1.1\r\nHost: localhost\r\n\r\n", start => 1);
$got = http_read_all($s, timeout => 5);
ok(length $got, 'truncated on a keepalive client connection: data');
ok(http_wait_close($s, 1) || $got ne '', 'truncated: keepalive connection closed');

###############################################################################
# an invalid answer on a keepalive upstream connection: never reused

unlink $log;
is(status(get('/ka/valid')), 200, 'keepalive upstream: valid');
is(status(get('/ka/valid')), 200, 'keepalive upstream: valid again');
is(status(get('/ka/dup')), 502, 'keepalive upstream: invalid');
is(status(get('/ka/valid')), 200, 'keepalive upstream: after the invalid one');
is(http_body(get('/ka/extra')), 'hello', 'keepalive upstream: extra bytes dropped');
is(status(get('/ka/valid')), 200, 'keepalive upstream: after extra bytes');

my @l = split /\n/, $t->read_file('backend.log') // '';
my %conn = map { my ($n, $path) = split ' '; ($path => $n) } reverse @l;
my @seq = map { (split ' ')[0] } @l;
is(scalar @seq, 6, 'six upstream requests');
is($seq[1], $seq[0], 'a valid answer: the connection was reused');
isnt($seq[3], $seq[2], 'after an invalid answer: a new connection');
isnt($seq[5], $seq[4], 'after data past Content-Length: a new connection');
