#!/usr/bin/perl

# Failures of a try and what follows: each failure mode maps to its status
# (refused, reset, closed, invalid: 502; connect, send and read timeouts:
# 504), proxy_next_upstream decides which go to the next peer (error,
# timeout, invalid_header, http_5xx, http_403/404/429, off), with its
# limits (proxy_next_upstream_tries, proxy_next_upstream_timeout), the
# non-idempotent rule, and no retry once bytes reached the client.  The
# $upstream_* variables list every try.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::Test::Backend qw(backend);
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

my $t = Portico::Test->new->has(qw/http_proxy/);

# Every location gets its own group, so each first try goes to its first
# peer (the round robin of one group moves on with every request).
my %loc = (
    ab500  => ['A B', 'proxy_next_upstream error http_500;'],
    ab     => ['A B', ''],
    ab5002 => ['A B', 'proxy_next_upstream error http_500;'],
    ab404  => ['A B', 'proxy_next_upstream http_404;'],
    ab429  => ['A B', 'proxy_next_upstream http_429 http_503;'],
    ab503  => ['A B', 'proxy_next_upstream http_429 http_503;'],
    abrst  => ['A B', ''],
    abinv  => ['A B', 'proxy_next_upstream invalid_header;'],
    aboff  => ['A B', 'proxy_next_upstream off;'],
    abtout => ['A B', ''],
    abnoto => ['A B', 'proxy_next_upstream error;'],
    abpost => ['A B', ''],
    abidem => ['A B', 'proxy_next_upstream error non_idempotent;'],
    abput  => ['A B', ''],
    abpatch => ['A B', ''],
    partial => ['A B', ''],
    retry  => ['DEAD A', ''],
    tries  => ['DEAD DEAD2 A', 'proxy_next_upstream_tries 2;'],
    ntimeout => ['HANG A', 'proxy_next_upstream_timeout 500ms;'],
);

my %addr = (A => '%%PORT_8081%%', B => '%%PORT_8082%%', DEAD => '%%PORT_8089%%',
            DEAD2 => '%%PORT_8088%%', HANG => '%%PORT_8090%%');
my ($ups, $locs) = ('', '');
for my $n (sort keys %loc) {
    my ($servers, $extra) = @{$loc{$n}};
    $ups .= "    upstream g_$n {\n"
        . join('', map { "        server 127.0.0.1:$addr{$_} max_fails=0;\n" } split ' ', $servers)
        . "    }\n";
    $locs .= "        location /$n/ { proxy_pass http://g_$n; $extra }\n";
}

$t->write_file('portico.conf', <<"EOF");
worker_processes 1;
events { }
http {
    log_format up '\$uri \$status [\$upstream_addr] [\$upstream_status] '
                  '[\$upstream_response_time] [\$upstream_connect_time] '
                  '[\$upstream_header_time] [\$upstream_response_length] '
                  '[\$upstream_bytes_received] [\$upstream_bytes_sent] '
                  '[\$upstream_http_x_backend] [\$upstream_cookie_c]';
    access_log %%TESTDIR%%/up.log up;

    client_max_body_size 0;

$ups
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        proxy_connect_timeout 1s;
        proxy_read_timeout 1s;
        proxy_send_timeout 1s;

        location /one/      { proxy_pass http://127.0.0.1:%%PORT_8081%%; }
        location /refused/  { proxy_pass http://127.0.0.1:%%PORT_8089%%; }
        location /hang/     { proxy_pass http://127.0.0.1:%%PORT_8090%%; }
        location /mute/     { proxy_pass http://127.0.0.1:%%PORT_8091%%; }
$locs
    }
}
EOF

my $d = $t->testdir;
$t->run_daemon(\&backend, port => $t->port(8081), name => 'a', log => "$d/a.log");
$t->run_daemon(\&backend, port => $t->port(8082), name => 'b', log => "$d/b.log");
$t->run_daemon(\&hang, $t->port(8090));
$t->run_daemon(\&mute, $t->port(8091));
$t->wait_for_port($t->port($_)) for 8081, 8082, 8091;
sleep 0.3;

$t->run;
$t->plan(52);

$t->expect_errors(qr/upstream/, qr/connect\(\)/, qr/recv\(\)/, qr/send/, qr/writev/);

sub req {
    my ($m, $path, $body) = @_;
    my $h = defined $body ? 'Content-Length: ' . length($body) . "\r\n" : '';
    my $raw = http("$m $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n$h\r\n"
                   . ($body // ''), timeout => 10);
    return parse_response($raw) // { status => 'none', body => '', header => {}, raw => $raw };
}
sub get { req('GET', @_) }

# the access log line of the last request for uri
sub logline {
    my ($uri) = @_;
    for (1 .. 20) {
        my @l = grep { index($_, "$uri ") == 0 } split /\n/, ($t->read_file('up.log') // '');
        return $l[-1] if @l;
        sleep 0.1;
    }
    return '';
}
sub field { my ($l, $n) = @_; my @f = $l =~ /\[([^\]]*)\]/g; return $f[$n] }

my $A = '127.0.0.1:' . $t->port(8081);
my $B = '127.0.0.1:' . $t->port(8082);
my $DEAD = '127.0.0.1:' . $t->port(8089);

###############################################################################
# failure modes, one peer

my $p = get('/one/x');
is($p->{status}, 200, 'one peer: 200');
my $l = logline('/one/x');
is(field($l, 0), $A, '$upstream_addr');
is(field($l, 1), '200', '$upstream_status');
like(field($l, 2), qr/^\d+\.\d{3}$/, '$upstream_response_time');
like(field($l, 3), qr/^\d+\.\d{3}$/, '$upstream_connect_time');
like(field($l, 4), qr/^\d+\.\d{3}$/, '$upstream_header_time');
is(field($l, 5), '1', '$upstream_response_length: body bytes');
ok(field($l, 6) > 50, '$upstream_bytes_received: head and body');
ok(field($l, 7) > 20, '$upstream_bytes_sent: the request');
is(field($l, 8), 'a', '$upstream_http_x_backend');

is(get('/refused/x')->{status}, 502, 'connection refused: 502');
like($t->read_file('error.log'), qr/connect\(\) failed \(111: Connection refused\) while connecting to upstream/,
     'refused: logged as nginx');
is(get('/one/reset')->{status}, 502, 'reset: 502');
is(get('/one/close')->{status}, 502, 'closed without an answer: 502');
like($t->read_file('error.log'), qr/upstream prematurely closed connection while reading response header/,
     'prematurely closed: logged');

my $t0 = time;
is(get('/hang/x')->{status}, 504, 'connect timeout: 504');
ok(time - $t0 < 5, 'connect timeout: proxy_connect_timeout bounds it');
like($t->read_file('error.log'), qr/upstream timed out \(110: Connection timed out\) while connecting to upstream/,
     'connect timeout logged');

is(get('/one/sleep/3')->{status}, 504, 'read timeout: 504');
like($t->read_file('error.log'), qr/upstream timed out .* while reading response header from upstream/,
     'read timeout logged');

$p = req('POST', '/mute/x', 'z' x (24 * 1024 * 1024));
is($p->{status}, 504, 'send timeout: 504');
like($t->read_file('error.log'), qr/upstream timed out .* while sending request to upstream/,
     'send timeout logged');

###############################################################################
# retries

$p = get('/retry/x');
is($p->{status}, 200, 'refused, then the next peer: 200');
is($p->{body}, 'a', 'the next peer answered');
$l = logline('/retry/x');
is(field($l, 0), "$DEAD, $A", '$upstream_addr lists both tries');
is(field($l, 1), '502, 200', '$upstream_status lists both');
like(field($l, 2), qr/^\d+\.\d{3}, \d+\.\d{3}$/, '$upstream_response_time lists both');
like(field($l, 3), qr/^(-|\d+\.\d{3}), \d+\.\d{3}$/, '$upstream_connect_time: "-" without a connection');
like(field($l, 4), qr/^-, \d+\.\d{3}$/, '$upstream_header_time: "-" without a head');

$p = get('/ab500/a=500/x');
is($p->{body}, 'b', 'http_500 in next_upstream: the next peer answers');
is(field(logline('/ab500/a=500/x'), 1), '500, 200', 'http_500: statuses listed');

$p = get('/ab/a=500/x');
is($p->{status}, 500, 'http_500 not in next_upstream: 500 passed');
is($p->{body}, 'a', 'http_500 not listed: the upstream\'s own page');

$p = get('/ab5002/a=500/b=500/x');
is($p->{status}, 500, 'every peer 500: the last answer goes to the client');
is($p->{body}, 'b', 'the last peer\'s answer');

is(get('/ab404/a=404/x')->{body}, 'b', 'http_404: next peer');
is(get('/ab429/a=429/x')->{body}, 'b', 'http_429: next peer');
is(get('/ab503/a=503/x')->{body}, 'b', 'http_503: next peer');

is(get('/abrst/a=reset/x')->{body}, 'b', 'error (reset) in the default mask: next peer');
is(get('/abinv/a=reset/x')->{status}, 502, 'error not in the mask: 502');
is(get('/aboff/a=close/x')->{status}, 502, 'proxy_next_upstream off: 502');

is(get('/abtout/a=sleep3/x')->{body}, 'b', 'read timeout in the default mask: next peer');
$t0 = time;
is(get('/abnoto/a=sleep3/x')->{status}, 504, 'timeout not in the mask: 504');

# non-idempotent: a POST that reached a peer is not sent to another one
is(req('POST', '/abpost/a=reset/x', 'data')->{status}, 502, 'POST not retried after it was sent');
is(req('POST', '/abidem/a=reset/x', 'data')->{body}, 'b', 'non_idempotent: POST retried');
is(req('PUT', '/abput/a=reset/x', 'data')->{body}, 'b', 'PUT (idempotent) retried');
is(req('PATCH', '/abpatch/a=reset/x', 'data')->{status}, 502, 'PATCH not retried');

# limits
$p = get('/tries/x');
is($p->{status}, 502, 'proxy_next_upstream_tries 2: the third peer is not tried');
is(field(logline('/tries/x'), 1), '502, 502', 'two tries');

$p = get('/ntimeout/y');
is($p->{status}, 504, 'proxy_next_upstream_timeout: no more tries after it');

# bytes reached the client: no retry, a visible truncation
my $raw = http("GET /partial/a=partial/x HTTP/1.1\r\nHost: localhost\r\n\r\n", timeout => 5);
like($raw, qr/Content-Length: 100\r\n.*\r\n\r\n0123456789\z/s,
     'partial answer: header and data, then the end');
unlike($raw, qr/X-Backend: b/, 'partial answer: not retried');

# the keepalive group in the other tests covers cached connections

###############################################################################

# A listener whose accept queue is full: connects to it hang.
sub hang {
    my ($port) = @_;
    my $ls = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
        Listen => 1, ReuseAddr => 1) or die "hang: $!";
    my @c = map { IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Blocking => 0) } 1 .. 4;
    sleep 1000;
}

# Accepts and never reads.
sub mute {
    my ($port) = @_;
    my $ls = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
        Listen => 16, ReuseAddr => 1) or die "mute: $!";
    my @c;
    while (my $c = $ls->accept) { push @c, $c }
}
