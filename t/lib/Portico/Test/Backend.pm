package Portico::Test::Backend;

# Backends for the proxy and upstream tests (t/proxy_*.t, t/upstream_*.t),
# run with Portico::Test->run_daemon:
#
#   use Portico::Test::Backend qw(backend);
#   $t->run_daemon(\&backend, port => $t->port(8081), name => 'a',
#                  log => $t->testdir . '/a.log');
#
# Each connection is served by its own forked process, with keepalive (an
# HTTP/1.1 request without "Connection: close").  Every request appends a
# line "NAME PID METHOD URI" to the log (so a test counts requests per
# backend, and the PID tells the connection).  What it answers depends on
# the path (anything before these is ignored, so "/x/status/500" works):
#
#   .../status/NNN      status NNN, body NAME
#   .../sleep/SECS      waits, then 200
#   .../close           closes without an answer
#   .../reset           closes with a reset (SO_LINGER 0)
#   .../partial         a head with Content-Length 100, 10 bytes, close
#   .../stream/N/MS     chunked: N pieces "piece K\n", MS ms apart
#   .../big/BYTES       200 with BYTES bytes of body
#   .../pattern/LINES   200 with LINES lines "%08d\n" (a body whose order
#                       shows), written in pieces of 64 KiB
#   .../echo            200 with the request body
#   anything else       200, body NAME
#
# ".../closeafter/N" closes without an answer the connection's requests
# after the Nth (a keepalive connection the backend dropped).
#
# A segment "/NAME=ACTION" applies to backend NAME only, ACTION being a
# status ("/a=500"), "close", "reset", "partial" or "sleepSECS"
# ("/a=sleep2"); the other backends ignore the segment.
#
# Answers carry "X-Backend: NAME" and "X-Pid: PID".

use strict;
use warnings;

use Exporter 'import';
use IO::Socket::INET;
use POSIX ();
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes qw(sleep);
use Portico::Test::Daemon qw(read_request);

our @EXPORT_OK = qw(backend);

sub backend {
    my (%o) = @_;
    my $server = IO::Socket::INET->new(
        LocalAddr => $o{addr} // '127.0.0.1',
        LocalPort => $o{port},
        Proto     => 'tcp',
        Listen    => 256,
        ReuseAddr => 1,
    ) or die "backend: cannot listen on port $o{port}: $!\n";

    local $SIG{CHLD} = 'IGNORE';
    local $SIG{PIPE} = 'IGNORE';

    while (1) {
        my $c = $server->accept or next;
        my $pid = fork;
        if (!defined $pid) { close $c; next }
        if ($pid == 0) {
            close $server;
            eval { _serve($c, \%o) };
            POSIX::_exit(0);
        }
        close $c;
    }
}

sub _log {
    my ($o, $r) = @_;
    return unless $o->{log};
    open my $fh, '>>', $o->{log} or return;
    syswrite $fh, "$o->{name} $$ $r->{method} $r->{uri}\n";
    close $fh;
}

sub _write {
    my ($c, $data) = @_;
    while (length $data) {
        my $n = syswrite($c, $data);
        return 0 unless $n;
        substr($data, 0, $n) = '';
    }
    return 1;
}

sub _answer {
    my ($c, $status, $body, $close, @h) = @_;
    return _write($c, "HTTP/1.1 $status Status\r\n" . join('', map "$_\r\n", @h)
        . 'Content-Length: ' . length($body) . "\r\n"
        . ($close ? "Connection: close\r\n" : '') . "\r\n" . $body);
}

sub _serve {
    my ($c, $o) = @_;
    my $buf = '';
    my $name = $o->{name} // 'backend';
    my $nreq = 0;
    while (1) {
        my $r = read_request($c, \$buf) or return;
        _log($o, $r);
        $nreq++;
        my $u = $r->{uri};
        return if $u =~ m{/closeafter/(\d+)} && $nreq > $1;
        my $close = ($r->{headers}{connection} // '') =~ /close/i || $r->{version} eq '1.0';
        my @h = ("X-Backend: $name", "X-Pid: $$");

        if ($u =~ m{/\Q$name\E=(\w+)}) {
            my $a = $1;
            $u = $a =~ /^\d{3}$/ ? "/status/$a"
               : $a =~ /^sleep([\d.]+)$/ ? "/sleep/$1"
               : "/$a";
        } else {
            $u =~ s{/\w+=[\w.]+}{}g;
        }

        if ($u =~ m{/close(?:\?|$)}) {
            return;
        }
        if ($u =~ m{/reset(?:\?|$)}) {
            setsockopt($c, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
            close $c;
            return;
        }
        if ($u =~ m{/partial(?:\?|$)}) {
            _write($c, "HTTP/1.1 200 OK\r\nX-Backend: $name\r\nContent-Length: 100\r\n\r\n0123456789");
            sleep 0.2;
            return;
        }
        if ($u =~ m{/sleep/([\d.]+)}) {
            sleep $1;
        }
        if ($u =~ m{/stream/(\d+)/(\d+)}) {
            my ($n, $ms) = ($1, $2);
            _write($c, "HTTP/1.1 200 OK\r\nX-Backend: $name\r\nTransfer-Encoding: chunked\r\n"
                . ($close ? "Connection: close\r\n" : '') . "\r\n") or return;
            for my $k (1 .. $n) {
                my $piece = "piece $k\n";
                _write($c, sprintf("%x\r\n%s\r\n", length $piece, $piece)) or return;
                sleep $ms / 1000 if $k < $n;
            }
            _write($c, "0\r\n\r\n") or return;
            return if $close;
            next;
        }
        if ($u =~ m{/status/(\d{3})}) {
            _answer($c, $1, $name, $close, @h) or return;
            return if $close;
            next;
        }
        if ($u =~ m{/big/(\d+)}) {
            _answer($c, 200, 'x' x $1, $close, @h) or return;
            return if $close;
            next;
        }
        if ($u =~ m{/pattern/(\d+)}) {
            my $n = $1;
            _write($c, "HTTP/1.1 200 OK\r\nX-Backend: $name\r\nContent-Length: "
                . ($n * 9) . "\r\n" . ($close ? "Connection: close\r\n" : '') . "\r\n")
                or return;
            my $out = '';
            for my $i (1 .. $n) {
                $out .= sprintf("%08d\n", $i);
                if (length $out >= 65536) { _write($c, $out) or return; $out = '' }
            }
            _write($c, $out) or return;
            return if $close;
            next;
        }
        if ($u =~ m{/echo(?:\?|$)}) {
            _answer($c, 200, $r->{body}, $close, @h,
                    'X-Body-Length: ' . length($r->{body}),
                    'X-TE: ' . ($r->{headers}{'transfer-encoding'} // '-'),
                    'X-CL: ' . ($r->{headers}{'content-length'} // '-')) or return;
            return if $close;
            next;
        }
        _answer($c, 200, $name, $close, @h) or return;
        return if $close;
    }
}

1;
