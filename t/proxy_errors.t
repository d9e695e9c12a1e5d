#!/usr/bin/perl

# proxy_intercept_errors: an upstream error status that an error_page of
# the location handles is answered by that page; without a matching
# error_page, or with the directive off, the upstream's own page passes.  A client that goes away
# while the upstream works ends the request (499) and the upstream
# connection; with proxy_ignore_client_abort the upstream's work finishes.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::Test::Backend qw(backend);
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);

my $t = Portico::Test->new->has(qw/http_proxy http_rewrite/);

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    log_format st '$uri $status $upstream_status';
    access_log %%TESTDIR%%/access.log st;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location /icpt/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_intercept_errors on;
            error_page 404 = /custom404;
            error_page 500 502 /custom5xx;
        }
        location /plain/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            error_page 404 /custom404;
        }
        location = /custom404 { return 200 "custom not found"; }
        location = /custom5xx { return 200 "custom server error"; }

        location /slow/ {
            proxy_pass http://127.0.0.1:%%PORT_8082%%;
        }
        location /slowignore/ {
            proxy_pass http://127.0.0.1:%%PORT_8082%%;
            proxy_ignore_client_abort on;
        }
    }
}
EOF

$t->run_daemon(\&backend, port => $t->port(8081), name => 'a');
$t->run_daemon(\&watch, $t->port(8082), $t->testdir . '/watch.log');
$t->wait_for_port($t->port($_)) for 8081, 8082;

$t->run;
$t->plan(13);

sub get { return parse_response(http_get($_[0])) }

my $p = get('/icpt/status/404');
is($p->{status}, 200, 'intercepted 404: the error_page with "=" answers 200');
is($p->{body}, 'custom not found', 'intercepted 404: the custom page');

$p = get('/icpt/status/500');
is($p->{status}, 500, 'intercepted 500: the status stays');
is($p->{body}, 'custom server error', 'intercepted 500: the custom page');

$p = get('/icpt/status/503');
is($p->{status}, 503, 'no error_page for 503: the upstream answer passes');
is($p->{body}, 'a', 'no error_page for 503: the upstream body');

$p = get('/plain/status/404');
is($p->{body}, 'a', 'proxy_intercept_errors off: the upstream\'s page');

$p = get('/icpt/status/200');
is($p->{body}, 'a', 'a 200 is never intercepted');

###############################################################################
# the client goes away

sub abort_after {
    my ($path, $wait) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->port(8080))
        or return;
    print $s "GET $path HTTP/1.1\r\nHost: x\r\n\r\n";
    sleep $wait;
    close $s;
}

abort_after('/slow/2', 0.5);
sleep 0.5;
my $w = $t->read_file('watch.log') // '';
like($w, qr{^closed /slow/2 after 0\.[3-9]}m, 'client gone: the upstream connection closed at once');
sleep 0.3;
like($t->read_file('access.log'), qr{^/slow/2 499 }m, 'client gone: 499 logged');

abort_after('/slowignore/1.5', 0.3);
sleep 2;
$w = $t->read_file('watch.log') // '';
like($w, qr{^answered /slowignore/1\.5}m, 'proxy_ignore_client_abort: the upstream finished');
unlike($w, qr{^closed /slowignore}m, 'proxy_ignore_client_abort: not closed early');
like($t->read_file('access.log'), qr{^/slowignore/1\.5 \d+ 200}m,
     'proxy_ignore_client_abort: the upstream answer was read');

###############################################################################

# Answers /slow/SECS after SECS, or notes when the proxy closed first.
sub watch {
    my ($port, $log) = @_;
    my $ls = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
        Listen => 16, ReuseAddr => 1) or die "watch: $!";
    local $SIG{CHLD} = 'IGNORE';
    local $SIG{PIPE} = 'IGNORE';
    while (my $c = $ls->accept) {
        next if fork;
        my $buf = '';
        my $r = Portico::Test::Daemon::read_request($c, \$buf) or exit 0;
        my ($secs) = $r->{uri} =~ m{/([\d.]+)$};
        my $t0 = time;
        my $sel = IO::Select->new($c);
        my $note = sub {
            open my $fh, '>>', $log;
            printf $fh "%s %s after %.2f\n", $_[0], $r->{uri}, time - $t0;
            close $fh;
        };
        if ($sel->can_read($secs)) {
            my $n = sysread($c, $buf, 10);
            if (!$n) { $note->('closed'); exit 0 }
        }
        syswrite $c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        $note->('answered');
        exit 0;
    }
}
