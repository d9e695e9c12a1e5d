#!/usr/bin/perl

# map: exact keys (case-insensitive), default, the empty key, "\" escaping,
# regex keys in order (~ and ~*) with numbered and named captures, values
# with variables, include, hostnames with head and tail wildcards, a
# complex source string, volatile against cached, a map that uses itself
# (nginx 1.22 gives the same answers on these configs), the WebSocket
# proxying config of nginx's documentation end to end, and the
# configuration errors with nginx's messages.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::Test::WebSocket qw(ws_frame ws_read_frame);
use Digest::SHA qw(sha1_base64);
use IO::Select;
use IO::Socket::INET;

my $t = Portico::Test->new->has(qw/http_map http_rewrite http_proxy/);

$t->write_file('inc.map', "fromfile INC;\n~^inc(\\d) \"inc-\$1\";\n");

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    map $arg_k $exact {
        default    dflt;
        foo        FOO;
        ""         EMPTY;
        \default   escaped;
        ~^re(\d+)$ "re-$1";
        ~*^CI(?<tail>.*)$ "ci-$tail";
        ~^re       second;
        withvar    "v-$arg_x";
        include    %%TESTDIR%%/inc.map;
    }

    map $arg_k $nodefault {
        a  A;
    }

    map $host $hn {
        hostnames;
        default          none;
        example.com      exact;
        *.example.com    star;
        *.a.example.com  deeper;
        .example.org     dot;
        www.example.*    tail;
        ~^re\.           regex;
    }

    map $uri$is_args$args $cx {
        default   none;
        /c?q=1    both;
    }

    # cycles: nginx 1.22 gives up after 100 levels and takes "" instead
    map $cycle $cycle  { default a; }
    map $arg_a $cyclev { default $cyclev; }

    map $uri $cached   { default D; /a A; /b B; }
    map $uri $volatile { volatile; default D; /a A; /b B; }

    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }

    upstream backend {
        server 127.0.0.1:%%PORT_8081%%;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location /e { return 200 "[$exact]"; }
        location /n { return 200 "[$nodefault]"; }
        location /h { return 200 "[$hn]"; }
        location /c { return 200 "[$cx]"; }
        location /cycle { return 200 "[$cycle][$cyclev]"; }
        location /hdr {
            add_header X-Map $exact;
            return 204;
        }

        location /a {
            set $b1 $cached;
            set $b2 $volatile;
            rewrite ^ /b;
        }
        location /b { return 200 "[$b1 $cached $b2 $volatile]"; }

        location /ws/ {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
        }
    }
}
EOF

$t->run_daemon(\&ws_backend, $t->port(8081));
$t->wait_for_port($t->port(8081));

$t->run;
$t->plan(48);

sub body {
    my ($uri, %o) = @_;
    return http_body(http_get($uri, %o));
}

# exact keys, default, empty key, escaping
is(body('/e?k=foo'), '[FOO]', 'exact key');
is(body('/e?k=FOO'), '[FOO]', 'exact keys are case-insensitive');
is(body('/e?k=zzz'), '[dflt]', 'default');
is(body('/e'), '[EMPTY]', 'empty string (absent argument): the "" key');
is(body('/e?k='), '[EMPTY]', 'empty string (empty argument): the "" key');
is(body('/e?k=default'), '[escaped]', '\default is the key "default"');
is(body('/n?k=zzz'), '[]', 'no default: empty');
is(body('/n?k=a'), '[A]', 'no default: a key still matches');

# regexes in order, captures, values with variables, include
is(body('/e?k=re12'), '[re-12]', 'regex with a numbered capture');
is(body('/e?k=rex'), '[second]', 'regexes tried in order');
is(body('/e?k=cIabc'), '[ci-abc]', '~* is case-insensitive, named capture');
is(body('/e?k=withvar&x=7'), '[v-7]', 'value with a variable');
is(body('/e?k=fromfile'), '[INC]', 'exact key from an included file');
is(body('/e?k=inc5'), '[inc-5]', 'regex from an included file');
is(http_header(http_get('/hdr?k=foo'), 'X-Map'), 'FOO', 'the variable in add_header');

# hostnames
sub host { return body('/h', host => $_[0]) }
is(host('example.com'), '[exact]', 'hostnames: exact');
is(host('EXAMPLE.COM.'), '[exact]', 'hostnames: case and final dot ignored');
is(host('x.example.com'), '[star]', 'hostnames: *.example.com');
is(host('a.example.com'), '[star]', 'hostnames: *.a.example.com needs a subdomain');
is(host('b.a.example.com'), '[deeper]', 'hostnames: the most specific wildcard');
is(host('example.org'), '[dot]', 'hostnames: .example.org matches the domain');
is(host('x.y.example.org'), '[dot]', 'hostnames: .example.org matches subdomains');
is(host('www.example.net'), '[tail]', 'hostnames: www.example.*');
is(host('www.example'), '[none]', 'hostnames: www.example.* needs a suffix');
is(host('re.foo'), '[regex]', 'hostnames: regex after the wildcards');
is(host('other'), '[none]', 'hostnames: default');

# a complex source string
is(body('/c?q=1'), '[both]', 'source $uri$is_args$args');
is(body('/c?q=2'), '[none]', 'source $uri$is_args$args, no match');

# cached: the value of the first use stays after the uri changed;
# volatile: evaluated again (nginx 1.22 answers the same)
is(body('/a'), '[A A A B]', 'cached vs volatile across a rewrite');

# a map that uses itself: an error line, no crash, nginx's answer
is(body('/cycle'), '[a][]', 'a cycle of maps ends');
like($t->read_file('error.log'), qr/\[error\].*cycle while evaluating variable "cycle"/,
    'the cycle logged');

###############################################################################
# WebSocket, nginx's documented config

my $key = 'dGhlIHNhbXBsZSBub25jZQ==';

my $s = http("GET /ws/echo HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
             . "Connection: Upgrade\r\nSec-WebSocket-Key: $key\r\n"
             . "Sec-WebSocket-Version: 13\r\n\r\n", start => 1);
my ($head, $rest) = read_head($s);
like($head, qr{^HTTP/1\.1 101 }, 'websocket: 101 through the proxy');
like($head, qr/^X-Seen-Connection: upgrade\r$/mi, 'websocket: Connection: upgrade upstream');
my $accept = sha1_base64($key . '258EAFA5-E914-47DA-95CA-C5AB0DC85B11') . '=';
like($head, qr/^Sec-WebSocket-Accept: \Q$accept\E\r$/mi, 'websocket: handshake answer');
http_send($s, ws_frame('hello'));
is(ws_read_frame($s, \$rest), 'hello', 'websocket: frame echoed');
close $s;

my $r = http_get('/ws/plain');
like($r, qr{^HTTP/1\.1 200}, 'plain request through the same location');
is(http_body($r), 'connection=close', 'plain request: Connection: close upstream');

###############################################################################
# configuration errors, with nginx's messages

sub conf_error {
    my ($text) = @_;
    $t->write_file('bad.conf', "events { }\nhttp {\n$text\n}\n");
    my ($st, $out, $err) = $t->run_cmd3('-t', '-p', $t->testdir . '/', '-c', $t->path('bad.conf'));
    return ($st // -1) != 0 ? $err : "accepted\n";
}

like(conf_error('map $a $x { foo 1; FOO 2; }'), qr/conflicting parameter "foo" in .*:3/,
    'duplicate key');
like(conf_error('map $a $x { default 1; default 2; }'), qr/duplicate default map parameter/,
    'duplicate default');
like(conf_error('map $a $x { ~(a 1; }'),
    qr/pcre2_compile\(\) failed: missing closing parenthesis in "\(a"/, 'invalid regex');
like(conf_error('map $a $uri { a 1; }'), qr/the duplicate "uri" variable/,
    'variable of another module');
like(conf_error('map $a $x { a 1;'), qr/unexpected end of file, expecting "\}"/, 'missing }');
like(conf_error('map $a $x { a 1 2; }'), qr/invalid number of the map parameters/,
    'three words on a line');
like(conf_error('map $a x { a 1; }'), qr/invalid variable name "x"/, 'name without $');
like(conf_error("map \$a \$x { hostnames;\n a*b.com 1; }"),
    qr/invalid hostname or wildcard "a\*b.com" in .*:4/, 'bad wildcard');
like(conf_error('map $a $x { hostnames; .example.com 1; example.com 2; }'),
    qr/conflicting parameter "example.com"/, '.example.com includes example.com');
like(conf_error("map \$a \$x { a 1; }\nmap_hash_max_size 10;"),
    qr/"map_hash_max_size" directive is duplicate/, 'map_hash_max_size after a map');
like(conf_error('map_hash_bucket_size 32; map $a $x { ' . ('a' x 70) . ' 1; }'),
    qr/could not build map_hash, you should increase map_hash_bucket_size: 64/,
    'a key longer than a bucket');

###############################################################################

sub read_head {
    my ($s) = @_;
    my $sel = IO::Select->new($s);
    my $buf = '';
    while (index($buf, "\r\n\r\n") < 0) {
        last unless $sel->can_read(5);
        sysread($s, $buf, 4096, length $buf) or last;
    }
    my $i = index($buf, "\r\n\r\n");
    return $i >= 0 ? (substr($buf, 0, $i + 4), substr($buf, $i + 4)) : ($buf, '');
}

# A WebSocket echo backend that reports the Connection header it received:
# in a header of its 101, or as the body of a plain answer.
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
        my ($conn) = $head =~ /^Connection: *([^\r\n]*)/mi;
        $conn //= '';
        my ($k) = $head =~ /^Sec-WebSocket-Key: (\S+)/mi;
        if ($head !~ /^Upgrade: websocket/mi) {
            my $body = "connection=$conn";
            syswrite $c, "HTTP/1.1 200 OK\r\nContent-Length: " . length($body)
                . "\r\nConnection: close\r\n\r\n$body";
            exit 0;
        }
        my $acc = sha1_base64($k . '258EAFA5-E914-47DA-95CA-C5AB0DC85B11') . '=';
        syswrite $c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            . "Connection: Upgrade\r\nX-Seen-Connection: $conn\r\n"
            . "Sec-WebSocket-Accept: $acc\r\n\r\n";
        while (1) {
            while (length($buf) < 6 || length($buf) < 6 + (ord(substr($buf, 1, 1)) & 0x7f)) {
                $sel->can_read(10) or exit 0;
                sysread($c, $buf, 4096, length $buf) or exit 0;
            }
            my $len = ord(substr($buf, 1, 1)) & 0x7f;
            my $mask = substr($buf, 2, 4);
            my $data = substr($buf, 6, $len) ^ substr($mask x ($len / 4 + 1), 0, $len);
            substr($buf, 0, 6 + $len) = '';
            syswrite $c, pack('CC', 0x81, length $data) . $data;
        }
    }
}
