package Portico::Test::WebSocket;

# WebSocket frames for the tests that tunnel through the proxy
# (t/proxy_websocket.t, t/http_map.t):
#
#   use Portico::Test::WebSocket qw(ws_frame ws_read_frame);
#   syswrite($s, ws_frame('hello'));       # a masked text frame (client side)
#   my $buf = '';
#   my $payload = ws_read_frame($s, \$buf); # one unmasked frame's payload,
#                                           # undef on EOF or 5 s timeout
#
# Payloads are short (under 126 bytes): the tests need no more.

use strict;
use warnings;

use Exporter 'import';
use IO::Select;

our @EXPORT_OK = qw(ws_frame ws_read_frame);

sub ws_frame {
    my ($payload) = @_;
    my $mask = pack 'N', int rand 0xffffffff;
    my $m = $payload ^ substr($mask x (length($payload) / 4 + 1), 0, length $payload);
    return pack('CC', 0x81, 0x80 | length $payload) . $mask . $m;
}

sub ws_read_frame {
    my ($s, $buf) = @_;
    my $sel = IO::Select->new($s);
    while (length($$buf) < 2 || length($$buf) < 2 + (ord(substr($$buf, 1, 1)) & 0x7f)) {
        return undef unless $sel->can_read(5);
        my $n = sysread($s, $$buf, 4096, length $$buf);
        return undef unless $n;
    }
    my $len = ord(substr($$buf, 1, 1)) & 0x7f;
    my $payload = substr($$buf, 2, $len);
    substr($$buf, 0, 2 + $len) = '';
    return $payload;
}

1;
