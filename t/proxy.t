#!/usr/bin/perl

# proxy_pass basics against a real backend: nginx's URI rules (with and
# without a URI part, regex and nested locations, after a rewrite, with
# variables, unix sockets), the request header (Host/Connection defaults,
# proxy_set_header inheritance only when a level sets none, empty values,
# hop-by-hop fields never forwarded, $proxy_add_x_forwarded_for,
# proxy_pass_request_headers), the response header (Server/Date replaced,
# proxy_hide_header, proxy_pass_header, hop-by-hop dropped), proxy_method,
# proxy_http_version, HEAD, proxy_redirect and the first seed config.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::Test::Daemon qw(http_daemon);

my $t = Portico::Test->new->has(qw/http_proxy http_rewrite/);

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        proxy_set_header X-Server-Level yes;

        location / {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }
        location /prefix/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/new/;
        }
        location /noslash {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/other;
        }
        location = /exact {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/target;
        }
        location ~ ^/regex/(.*)$ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }
        location /rw/ {
            rewrite ^/rw/(.*)$ /rewritten/$1 break;
            proxy_pass http://127.0.0.1:%%PORT_8081%%/ignored/;
        }
        location /var/ {
            set $target 127.0.0.1:%%PORT_8081%%;
            proxy_pass http://$target/fromvar$uri;
        }
        location /varnouri/ {
            set $target 127.0.0.1:%%PORT_8081%%;
            proxy_pass http://$target;
        }
        location /varname/ {
            set $target backend;
            proxy_pass http://$target;
        }
        location /unix/ {
            proxy_pass http://unix:%%TESTDIR%%/backend.sock:/u/;
        }
        location /hdr/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_set_header Host custom.example;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Proxy "$proxy_host|$proxy_port";
            proxy_set_header User-Agent "";
        }
        location /nohdr/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_pass_request_headers off;
        }
        location /method/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_method PUT;
            proxy_http_version 1.1;
        }
        location /resp/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_hide_header X-Secret;
            proxy_pass_header Server;
            add_header X-Cookie-B "$upstream_cookie_b";
            add_header X-Up-Public "$upstream_http_x_public";
            add_header X-Up-Addr "$upstream_addr";
        }
        location /byname/ {
            proxy_pass http://localhost:%%PORT_8081%%;
        }
        location /redir/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/r/;
        }
        location /redir-off/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/r/;
            proxy_redirect off;
        }
        location /redir-rule/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/r/;
            proxy_redirect http://backend.example/ http://$host/front/;
        }
        location /redir-re/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/r/;
            proxy_redirect ~^http://127\.0\.0\.1:\d+/r/(.*)$ http://$host/re/$1;
            proxy_redirect ~*^HTTP://BACKEND\.example/(?<rest>.*)$ http://$host/ci/$rest;
        }
        location /redir-first/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/r/;
            proxy_redirect ~/r/ http://first.example/;
            proxy_redirect ~^http://127 http://second.example/;
            proxy_redirect ~^http://backend\.EXAMPLE/ /never/;
        }
        location /group/ {
            proxy_pass http://backend;
        }
    }

    upstream backend {
        server 127.0.0.1:%%PORT_8081%%;
    }

    # the seed document's first config, with "listen 443 ssl" and the
    # certificates left to the TLS tests
    server {
        listen 127.0.0.1:%%PORT_8082%%;
        server_name api.example.com;
        location / {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
        }
    }
}
EOF

# The backend answers with what it got: the request line, then each header
# line as it arrived (names as sent, in order).
sub backend {
    my (%o) = @_;
    return http_daemon(%o, handler => sub {
        my ($r) = @_;
        my $raw = join '', map { "$_\n" } @{$r->{raw_headers} || []};
        my $body = "$r->{method} $r->{uri} HTTP/$r->{version}\n";
        for my $k (sort keys %{$r->{headers}}) {
            $body .= "$k: $r->{headers}{$k}\n";
        }
        if ($r->{uri} =~ m{^/r/}) {
            return (302, ['Location: http://127.0.0.1:' . $t->port(8081) . '/r/there',
                          'Refresh: 3; url=http://backend.example/x'], 'moved');
        }
        if ($r->{uri} =~ m{^/resp/}) {
            return (200, ['Server: backend/1.0', 'X-Secret: s3cret', 'X-Public: ok',
                          'Keep-Alive: timeout=5', 'Proxy-Connection: keep-alive',
                          'Connection: X-Private', 'X-Private: hop',
                          'Set-Cookie: a=1', 'Set-Cookie: b=2'], 'resp');
        }
        return (200, ['Content-Type: text/plain', 'X-Backend: yes'], $body);
    });
}

$t->run_daemon(\&backend, port => $t->port(8081));
$t->run_daemon(\&unix_backend, $t->testdir . '/backend.sock');
$t->wait_for_port($t->port(8081));
for (1 .. 50) { last if -S $t->testdir . '/backend.sock'; select undef, undef, undef, 0.1 }

$t->run;
$t->plan(60);

sub get {
    my ($path, %o) = @_;
    my $h = join '', map "$_\r\n", @{$o{headers} || []};
    my $host = $o{host} // 'localhost';
    my $m = $o{method} // 'GET';
    return parse_response(http("$m $path HTTP/1.1\r\nHost: $host\r\n${h}Connection: close\r\n\r\n",
                               port => $o{port}));
}

sub line { my ($p) = @_; return $p ? (split /\n/, $p->{body})[0] : '' }
sub hdr { my ($p, $n) = @_; return $p && $p->{body} =~ /^\Q$n\E: (.*)$/m ? $1 : undef }

###############################################################################
# URI rules

my $p = get('/plain/a%20b/../c?x=1&y=%41');
is(line($p), 'GET /plain/a%20b/../c?x=1&y=%41 HTTP/1.0',
   'no URI part: the request target goes as the client sent it');
is($p->{header}{'x-backend'}, 'yes', 'backend header passed');

$p = get('/prefix/sub/file?q=1');
is(line($p), 'GET /new/sub/file?q=1 HTTP/1.0', 'URI part replaces the location prefix');

$p = get('/prefix/a%20b/../x');
is(line($p), 'GET /new/x HTTP/1.0', 'with a URI part the normalized URI is used');

$p = get('/prefix/sp%20ace');
is(line($p), 'GET /new/sp%20ace HTTP/1.0', 'the normalized URI is escaped again');

$p = get('/noslash/rest');
is(line($p), 'GET /other/rest HTTP/1.0', 'prefix without slash replaced');

$p = get('/exact');
is(line($p), 'GET /target HTTP/1.0', 'exact location replaced');

$p = get('/regex/x/y?z=1');
is(line($p), 'GET /regex/x/y?z=1 HTTP/1.0', 'regex location: the URI passes unchanged');

$p = get('/rw/a/b?k=v');
is(line($p), 'GET /rewritten/a/b?k=v HTTP/1.0',
   'after rewrite ... break the rewritten URI goes, proxy_pass URI ignored');

$p = get('/var/x?y=1');
is(line($p), 'GET /fromvar/var/x HTTP/1.0', 'variables with a URI: used as is');

$p = get('/varnouri/a?b=c');
is(line($p), 'GET /varnouri/a?b=c HTTP/1.0', 'variables without a URI: the request URI');

$p = get('/varname/n');
is(line($p), 'GET /varname/n HTTP/1.0', 'variables naming an upstream group');

$p = get('/unix/x?y');
is(line($p), 'GET /u/x?y HTTP/1.0', 'unix socket with a URI part');
is(hdr($p, 'host'), 'localhost', 'unix socket: Host localhost');

$p = get('/group/g');
is(line($p), 'GET /group/g HTTP/1.0', 'named group');
is(hdr($p, 'host'), 'backend', 'named group: Host is the group name');

###############################################################################
# request header

$p = get('/plain', headers => ['X-Custom: 1', 'Connection: X-Drop', 'X-Drop: gone',
                               'Keep-Alive: 300', 'TE: trailers', 'Upgrade: foo',
                               'Proxy-Connection: keep-alive']);
is(hdr($p, 'host'), '127.0.0.1:' . $t->port(8081), 'default Host: $proxy_host');
is(hdr($p, 'connection'), 'close', 'default Connection: close');
is(hdr($p, 'x-custom'), '1', 'client header passed');
is(hdr($p, 'x-server-level'), 'yes', 'server-level proxy_set_header inherited');
is(hdr($p, 'x-drop'), undef, 'a field named by Connection is not forwarded');
is(hdr($p, 'keep-alive'), undef, 'Keep-Alive not forwarded');
is(hdr($p, 'te'), undef, 'TE not forwarded');
is(hdr($p, 'upgrade'), undef, 'Upgrade not forwarded');
is(hdr($p, 'proxy-connection'), undef, 'Proxy-Connection not forwarded');

$p = get('/hdr/x', headers => ['X-Forwarded-For: 10.1.1.1', 'User-Agent: ua']);
is(hdr($p, 'host'), 'custom.example', 'proxy_set_header Host overrides');
is(hdr($p, 'x-real-ip'), '127.0.0.1', 'X-Real-IP $remote_addr');
is(hdr($p, 'x-forwarded-for'), '10.1.1.1, 127.0.0.1', '$proxy_add_x_forwarded_for appends');
is(hdr($p, 'x-proxy'), '127.0.0.1:' . $t->port(8081) . '|' . $t->port(8081),
   '$proxy_host and $proxy_port');
is(hdr($p, 'user-agent'), undef, 'an empty value sends no field, nor the client\'s');
is(hdr($p, 'x-server-level'), undef, 'proxy_set_header at the level: no inheritance');
is(hdr($p, 'connection'), 'close', 'defaults still apply at that level');

$p = get('/hdr/y');
is(hdr($p, 'x-forwarded-for'), '127.0.0.1', '$proxy_add_x_forwarded_for without a header');

$p = get('/nohdr/', headers => ['X-Custom: 1']);
is(hdr($p, 'x-custom'), undef, 'proxy_pass_request_headers off');
is(hdr($p, 'host'), '127.0.0.1:' . $t->port(8081), 'proxy_pass_request_headers off keeps Host');

$p = get('/method/m');
is(line($p), 'PUT /method/m HTTP/1.1', 'proxy_method and proxy_http_version 1.1');

###############################################################################
# response header

$p = get('/resp/');
is($p->{header}{server}, 'backend/1.0', 'proxy_pass_header Server');
is($p->{header}{'x-secret'}, undef, 'proxy_hide_header');
is($p->{header}{'x-public'}, 'ok', 'other fields pass');
is($p->{header}{'keep-alive'}, undef, 'upstream Keep-Alive dropped');
is($p->{header}{'proxy-connection'}, undef, 'upstream Proxy-Connection dropped');
is($p->{header}{'x-private'}, undef, 'a field the upstream Connection names is dropped');
is(join(',', map { $_->[1] } grep { lc $_->[0] eq 'set-cookie' } @{$p->{headers}}),
   'a=1,b=2', 'repeated Set-Cookie kept');

is($p->{header}{'x-cookie-b'}, '2', '$upstream_cookie_NAME');
is($p->{header}{'x-up-public'}, 'ok', '$upstream_http_NAME');
is($p->{header}{'x-up-addr'}, '127.0.0.1:' . $t->port(8081), '$upstream_addr');

$p = get('/plain');
like($p->{header}{server}, qr/^portico/, 'upstream Server replaced by default');

$p = get('/byname/n');
is(line($p), 'GET /byname/n HTTP/1.0', 'a host name resolved at load: proxy_pass http://localhost');

$p = get('/plain', method => 'HEAD');
is($p->{status}, 200, 'HEAD status');
is($p->{body}, '', 'HEAD: no body');

###############################################################################
# proxy_redirect

$p = get('/redir/a');
is($p->{header}{location}, 'http://localhost:' . $t->port(8080) . '/redir/there',
   'proxy_redirect default: the proxy_pass URL becomes the location');
is($p->{header}{refresh}, '3; url=http://backend.example/x', 'Refresh without a match kept');

$p = get('/redir-off/a');
is($p->{header}{location}, 'http://127.0.0.1:' . $t->port(8081) . '/r/there',
   'proxy_redirect off');

$p = get('/redir-rule/a', host => 'front.example');
is($p->{header}{refresh}, '3; url=http://front.example/front/x', 'proxy_redirect FROM TO on Refresh');

$p = get('/redir-re/a', host => 'front.example');
is($p->{header}{location}, 'http://front.example/re/there',
   'proxy_redirect ~regex: the whole value replaced, with a capture and a variable');
is($p->{header}{refresh}, '3; url=http://front.example/ci/x',
   'proxy_redirect ~*regex on Refresh, with a named capture');

$p = get('/redir-first/a');
is($p->{header}{location}, 'http://first.example/', 'proxy_redirect: the first matching rule wins');
is($p->{header}{refresh}, '3; url=http://backend.example/x', 'proxy_redirect ~ is case-sensitive');

###############################################################################
# the seed config

$p = get('/seed?x', port => $t->port(8082), host => 'api.example.com');
is(hdr($p, 'host'), 'api.example.com', 'seed: Host $host');
is(hdr($p, 'x-real-ip'), '127.0.0.1', 'seed: X-Real-IP');

###############################################################################

sub unix_backend {
    my ($path) = @_;
    require IO::Socket::UNIX;
    unlink $path;
    my $s = IO::Socket::UNIX->new(Local => $path, Listen => 16) or die "unix: $!";
    chmod 0777, $path;
    while (my $c = $s->accept) {
        my $buf = '';
        my $r = Portico::Test::Daemon::read_request($c, \$buf) or next;
        my $body = "$r->{method} $r->{uri} HTTP/$r->{version}\n"
            . join('', map { "$_: $r->{headers}{$_}\n" } sort keys %{$r->{headers}});
        print $c "HTTP/1.1 200 OK\r\nContent-Length: " . length($body)
            . "\r\nConnection: close\r\n\r\n$body";
        close $c;
    }
}
