#!/usr/bin/perl

# Virtual servers: server_name exact, "*.wildcard" (longest first),
# ".domain", "www.example.*", "~regex" (in order, after the wildcards, with
# captures usable as $1 and $name in the server), the default server of an
# address (default_server, else the first), the empty name, $server_name
# and $host (lower case, from an absolute request target first, then Host,
# then the server name).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;

my $t = Portico::Test->new->has(qw/http_rewrite/);

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name example.com www.example.com;
        return 200 "A sn=$server_name host=$host";
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name *.example.org;
        return 200 "B";
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name *.deep.example.org;
        return 200 "B-deep";
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name .example.net;
        return 200 "C sn=$server_name host=$host";
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name www.example.*;
        return 200 "D";
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name ~^(?<sub>[a-z]+)\.(?<dom>regex)\.test$;
        location / { return 200 "E sub=$sub dom=$dom 1=$1 2=$2 sn=$server_name"; }
        location ~ ^/loc/(\w+)$ { return 200 "E-loc 1=$1 sub=$sub"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name ~^(\d+)\.regex\.test$ ~example\.org$;
        return 200 "F 1=$1";
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name ~^\d+\.UPPER\.TEST$;
        return 200 "F2";
    }
    server {
        listen 127.0.0.1:%%PORT_8080%% default_server;
        server_name default.test;
        return 200 "G host=$host";
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name "";
        return 200 "H host=[$host]";
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        server_name first.test;
        return 200 "first host=$host";
    }
    server {
        listen 127.0.0.1:%%PORT_8081%%;
        server_name second.test;
        return 200 "second";
    }

    server {
        listen 127.0.0.1:%%PORT_8082%%;
        server_name ~^(?<num>\d+)\.single\.test$;
        return 200 "single num=$num";
    }
}
EOF

$t->run;
$t->plan(28);

sub req {
    my ($host, %o) = @_;
    my $path = $o{path} // '/';
    my $r = defined $host
        ? http("GET $path HTTP/1.1\r\nHost: $host\r\nConnection: close\r\n\r\n", %o)
        : http("GET $path HTTP/1.0\r\n\r\n", %o);
    return http_body($r) // '';
}

###############################################################################
# exact and wildcard names

is(req('example.com'), 'A sn=example.com host=example.com', 'exact name, $server_name, $host');
is(req('www.example.com'), 'A sn=example.com host=www.example.com',
    'exact beats "www.example.*"; $server_name is the first name');
is(req('WWW.Example.COM'), 'A sn=example.com host=www.example.com',
    'names ignore case; $host is lower case');
is(req('example.com:8080'), 'A sn=example.com host=example.com', 'the port is not part of the name');
is(req('example.com.'), 'A sn=example.com host=example.com', 'a trailing dot is not either');
is(req('a.example.org'), 'B', '*.example.org');
is(req('a.b.example.org'), 'B', '*.example.org: several labels');
is(req('a.deep.example.org'), 'B-deep', 'the longest "*." wildcard wins');
is(req('www.example.org'), 'B', '"*.example.org" beats "www.example.*"');
is(req('example.org'), 'F 1=', '"*.example.org" is not "example.org" (a regex takes it)');
is(req('example.net'), 'C sn=example.net host=example.net', '.example.net: the domain itself');
is(req('x.y.example.net'), 'C sn=example.net host=x.y.example.net', '.example.net: subdomains');
is(req('www.example.biz'), 'D', 'www.example.*');

###############################################################################
# regex names

is(req('abc.regex.test'), 'E sub=abc dom=regex 1=abc 2=regex sn=~^(?<sub>[a-z]+)\.(?<dom>regex)\.test$',
    'regex name: named and numbered captures; $server_name keeps the "~"');
is(req('abc.regex.test', path => '/loc/zz'), 'E-loc 1=zz sub=abc',
    'a location regex replaces $1, the named capture stays');
is(req('42.regex.test'), 'F 1=42', 'the first regex that matches, in config order');
is(req('7.Regex.Test'), 'F 1=7', 'the host is lower-cased before the regex');
is(req('5.upper.test'), 'F2', 'a regex name ignores case');
is(req('x.other.test'), 'G host=x.other.test', 'no name matches: the default_server');

###############################################################################
# default server, empty name, $host fallbacks

is(req(undef), 'H host=[]', 'no Host: the server named ""');
is(req(undef, port => $t->port(8081)), 'first host=first.test',
    'no Host, no "" name: the first server; $host is its name');
is(req('nothing.test', port => $t->port(8081)), 'first host=nothing.test',
    'without default_server the first server is the default');
is(req('second.test', port => $t->port(8081)), 'second', 'second server by name');

my $r = http("GET http://Abc.Example.NET/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n");
is(http_body($r), 'C sn=example.net host=abc.example.net',
    'absolute-form: the target host selects the server and is $host');

$r = http("GET http://example.com:8080/ HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n");
is(http_body($r), 'A sn=example.com host=example.com', 'absolute-form with a port');

is(req('123.single.test', port => $t->port(8082)), 'single num=123',
    'a lone server with a regex name still gets its captures');
is(req('other', port => $t->port(8082)), 'single num=', 'no match: the capture is empty');

###############################################################################
# configuration errors

sub conf_error {
    my ($names) = @_;
    $t->write_file('bad.conf', "events { }\nhttp { server { listen 127.0.0.1:%%PORT_8083%%;"
        . " server_name $names; } }\n");
    my ($st, $out, $err) = $t->run_cmd3('-t', '-p', $t->testdir . '/', '-c', $t->path('bad.conf'));
    return ($st // -1) != 0 ? $err : "accepted\n";
}

like(conf_error('~^(a'), qr/pcre2_compile\(\) failed: missing closing parenthesis/,
    'a bad regex name');
