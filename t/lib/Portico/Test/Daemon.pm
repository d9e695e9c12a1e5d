package Portico::Test::Daemon;

# Small HTTP/1.1 backend for tests, run with Portico::Test->run_daemon:
#
#   use Portico::Test::Daemon qw(http_daemon);
#   $t->run_daemon(\&http_daemon, port => $t->port(8081), handler => sub {
#       my ($req) = @_;      # { method, uri, version, headers => {lc => v}, body }
#       return (200, ['Content-Type: text/plain'], "hello $req->{uri}");
#   });
#   $t->wait_for_port($t->port(8081));
#
# The handler may also return one raw string, sent as is (the connection
# is then closed).  Each connection is served by its own forked process;
# keepalive is honoured; request bodies with Content-Length or chunked
# encoding are read.  Without a handler it answers 200 with
# "METHOD URI" as the body.  Every read is bounded (30 s idle).

use strict;
use warnings;

use Exporter 'import';
use IO::Select;
use IO::Socket::INET;
use POSIX ();

our @EXPORT_OK = qw(http_daemon read_request);

sub http_daemon {
    my (%o) = @_;
    my $server = IO::Socket::INET->new(
        LocalAddr => $o{addr} // '127.0.0.1',
        LocalPort => $o{port},
        Proto     => 'tcp',
        Listen    => 128,
        ReuseAddr => 1,
    ) or die "http_daemon: cannot listen on port $o{port}: $!\n";

    local $SIG{CHLD} = 'IGNORE';
    local $SIG{PIPE} = 'IGNORE';
    my $handler = $o{handler} // sub {
        my ($r) = @_;
        return (200, ['Content-Type: text/plain'], "$r->{method} $r->{uri}");
    };

    while (1) {
        my $c = $server->accept or next;
        my $pid = fork;
        if (!defined $pid) { close $c; next }
        if ($pid == 0) {
            close $server;
            eval { _serve($c, $handler) };
            POSIX::_exit(0);
        }
        close $c;
    }
}

sub _serve {
    my ($c, $handler) = @_;
    my $buf = '';
    while (1) {
        my $r = read_request($c, \$buf) or return;
        my @res = $handler->($r);
        if (@res == 1) {
            _write($c, $res[0]);
            return;
        }
        my ($status, $headers, $body) = @res;
        $body //= '';
        my $close = ($r->{version} eq '1.0' && ($r->{headers}{connection} // '') !~ /keep-alive/i)
            || ($r->{headers}{connection} // '') =~ /close/i;
        my @h = @{$headers || []};
        push @h, 'Content-Length: ' . length($body)
            unless grep /^(?:Content-Length|Transfer-Encoding):/i, @h;
        push @h, 'Connection: close' if $close;
        my $reason = { 200 => 'OK', 201 => 'Created', 204 => 'No Content',
            301 => 'Moved Permanently', 302 => 'Found', 304 => 'Not Modified',
            400 => 'Bad Request', 404 => 'Not Found', 500 => 'Internal Server Error',
            502 => 'Bad Gateway', 503 => 'Service Unavailable' }->{$status} // 'Status';
        my $head = "HTTP/1.1 $status $reason\r\n" . join('', map "$_\r\n", @h) . "\r\n";
        _write($c, $head . ($r->{method} eq 'HEAD' ? '' : $body)) or return;
        return if $close;
    }
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

# Reads one request from $c (leftover bytes in $$buf).  Returns
# { method, uri, version, headers => {lc name => value}, body } or undef on
# EOF / timeout / garbage.
sub read_request {
    my ($c, $buf, $timeout) = @_;
    $timeout //= 30;
    my $sel = IO::Select->new($c);
    my $more = sub {
        return 0 unless $sel->can_read($timeout);
        my $n = sysread($c, $$buf, 65536, length $$buf);
        return $n ? 1 : 0;
    };
    my $i;
    until (($i = index($$buf, "\r\n\r\n")) >= 0) { $more->() or return undef }
    my $head = substr($$buf, 0, $i);
    substr($$buf, 0, $i + 4) = '';
    my ($line, @lines) = split /\r\n/, $head;
    my ($method, $uri, $ver) = $line =~ m{^(\S+) (\S+) HTTP/(\d\.\d)$} or return undef;
    my %h;
    for (@lines) {
        my ($n, $v) = /^([^:]+):\s*(.*?)\s*$/ or next;
        $h{lc $n} = exists $h{lc $n} ? "$h{lc $n}, $v" : $v;
    }
    my $body = '';
    if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        while (1) {
            my $e;
            until (($e = index($$buf, "\r\n")) >= 0) { $more->() or return undef }
            my $sz = hex substr($$buf, 0, $e);
            if ($sz == 0) {
                substr($$buf, 0, $e + 2) = '';
                # trailer lines, then an empty line
                while (1) {
                    until (($e = index($$buf, "\r\n")) >= 0) { $more->() or return undef }
                    my $l = substr($$buf, 0, $e);
                    substr($$buf, 0, $e + 2) = '';
                    last if $l eq '';
                }
                last;
            }
            while (length $$buf < $e + 2 + $sz + 2) { $more->() or return undef }
            $body .= substr($$buf, $e + 2, $sz);
            substr($$buf, 0, $e + 2 + $sz + 2) = '';
        }
    } elsif (my $len = $h{'content-length'}) {
        while (length $$buf < $len) { $more->() or return undef }
        $body = substr($$buf, 0, $len);
        substr($$buf, 0, $len) = '';
    }
    return { method => $method, uri => $uri, version => $ver, headers => \%h, body => $body };
}

1;
