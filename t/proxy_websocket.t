#!/usr/bin/perl

# WebSocket (and any Upgrade) through the proxy: the client's Upgrade is
# passed with proxy_set_header, the 101 answer turns both connections into
# a two-way tunnel (frames echoed by a real WebSocket backend, data sent
# right after the request head kept), proxy_read_timeout is the tunnel's
# idle limit, and the tunnel ends when either side closes.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::Test::WebSocket qw(ws_frame ws_read_frame);
use Digest::SHA qw(sha1_base64);
use IO::Select;
use Time::HiRes qw(time sleep);

my $t = Portico::Test->new->has(qw/http_proxy/);

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location /ws/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 2s;
        }
        location /plain/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_http_version 1.1;
        }
    }
}
EOF

$t->run_daemon(\&ws_backend, $t->port(8081));
$t->wait_for_port($t->port(8081));

$t->run;
$t->plan(14);

my $key = 'dGhlIHNhbXBsZSBub25jZQ==';

sub upgrade {
    my ($path, $extra) = @_;
    my $s = http("GET $path HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                 . "Connection: Upgrade\r\nSec-WebSocket-Key: $key\r\n"
                 . "Sec-WebSocket-Version: 13\r\n\r\n" . ($extra // ''), start => 1);
    my $sel = IO::Select->new($s);
    my $buf = '';
    while (index($buf, "\r\n\r\n") < 0) {
        last unless $sel->can_read(5);
        sysread($s, $buf, 4096, length $buf) or last;
    }
    my $i = index($buf, "\r\n\r\n");
    my $head = $i >= 0 ? substr($buf, 0, $i + 4) : $buf;
    my $rest = $i >= 0 ? substr($buf, $i + 4) : '';
    return ($s, $head, $rest);
}

my ($s, $head, $rest) = upgrade('/ws/echo');
like($head, qr{^HTTP/1\.1 101 Switching Protocols\r\n}, '101 passed');
like($head, qr/^Upgrade: websocket\r$/mi, 'Upgrade header passed');
like($head, qr/^Connection: upgrade\r$/mi, 'Connection: upgrade');
my $accept = sha1_base64($key . '258EAFA5-E914-47DA-95CA-C5AB0DC85B11') . '=';
like($head, qr/^Sec-WebSocket-Accept: \Q$accept\E\r$/mi, 'the handshake answer passed');

http_send($s, ws_frame('hello'));
is(ws_read_frame($s, \$rest), 'hello', 'a frame echoed through the tunnel');
http_send($s, ws_frame('second') . ws_frame('third'));
is(ws_read_frame($s, \$rest), 'second', 'second frame');
is(ws_read_frame($s, \$rest), 'third', 'third frame');

# idle: more than proxy_read_timeout of silence in both directions closes
sleep 1.2;
http_send($s, ws_frame('still'));
is(ws_read_frame($s, \$rest), 'still', 'traffic keeps the tunnel open');
my $t0 = time;
ok(http_wait_close($s, 6), 'idle tunnel closed');
my $idle = time - $t0;
ok($idle > 1.5 && $idle < 4.5, sprintf('after proxy_read_timeout (%.1fs)', $idle));

# a frame sent right behind the request head is not lost
($s, $head, $rest) = upgrade('/ws/echo', ws_frame('early'));
like($head, qr{^HTTP/1\.1 101}, 'early data: 101');
is(ws_read_frame($s, \$rest), 'early', 'early data echoed');

# the backend closes: the tunnel ends
http_send($s, ws_frame('bye'));
ok(http_wait_close($s, 5), 'backend closed: the client connection closes');

# without proxy_set_header Upgrade the backend sees no upgrade: plain answer
($s, $head) = upgrade('/plain/echo');
like($head, qr{^HTTP/1\.1 200}, 'Upgrade not forwarded by default');

###############################################################################

sub ws_backend {
    my ($port) = @_;
    my $ls = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
        Listen => 16, ReuseAddr => 1) or die "ws: $!";
    local $SIG{CHLD} = 'IGNORE';
    while (my $c = $ls->accept) {
        next if fork;
        my $buf = '';
        my $sel = IO::Select->new($c);
        my $i;
        while (($i = index($buf, "\r\n\r\n")) < 0) {
            $sel->can_read(10) or exit 0;
            sysread($c, $buf, 4096, length $buf) or exit 0;
        }
        my $head = substr($buf, 0, $i);
        substr($buf, 0, $i + 4) = '';
        my ($k) = $head =~ /^Sec-WebSocket-Key: (\S+)/mi;
        if ($head !~ /^Upgrade: websocket/mi) {
            syswrite $c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno";
            exit 0;
        }
        my $acc = sha1_base64($k . '258EAFA5-E914-47DA-95CA-C5AB0DC85B11') . '=';
        syswrite $c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            . "Connection: Upgrade\r\nSec-WebSocket-Accept: $acc\r\n\r\n";
        while (1) {
            while (length($buf) < 6 || length($buf) < 6 + (ord(substr($buf, 1, 1)) & 0x7f)) {
                $sel->can_read(30) or exit 0;
                sysread($c, $buf, 4096, length $buf) or exit 0;
            }
            my $len = ord(substr($buf, 1, 1)) & 0x7f;
            my $mask = substr($buf, 2, 4);
            my $data = substr($buf, 6, $len) ^ substr($mask x ($len / 4 + 1), 0, $len);
            substr($buf, 0, 6 + $len) = '';
            exit 0 if $data eq 'bye';
            syswrite $c, pack('CC', 0x81, length $data) . $data;
        }
    }
}
