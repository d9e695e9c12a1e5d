#!/usr/bin/perl

# Configuration errors of proxy_pass, upstream {} and the balancers, each
# reported as nginx words it, with file and line: duplicate groups, ports
# on named groups, unknown or unsupported server parameters, groups
# without servers, names that do not resolve, proxy_pass with a URI in a
# regex location, buffer sizes that do not fit, "backup" with hash,
# ip_hash and random, a zone too small.  And the valid forms pass -t.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;

my $t = Portico::Test->new->has(qw/http_proxy http_upstream_hash http_upstream_ip_hash
                                   http_upstream_random http_upstream_zone
                                   http_upstream_least_conn http_upstream_keepalive/);
my $d = $t->testdir;

# -t on an http {} body; returns the output
sub check {
    my ($body) = @_;
    $t->write_file('check.conf', "events { }\nhttp {\n$body\n}\n");
    my ($st, $out) = $t->run_cmd('-t', '-p', "$d/", '-c', "$d/check.conf",
                                 '-e', "$d/check.log");
    return ($st, $out // '');
}

sub bad {
    my ($body, $re, $name) = @_;
    my ($st, $out) = check($body);
    ok($st && $out =~ $re, $name) or diag($out);
}

my $srv = 'server { listen 127.0.0.1:%%PORT_8080%%; location / { proxy_pass http://u; } }';

$t->plan(23);

my ($st, $out) = check(<<'EOF');
    upstream u {
        least_conn;
        server 127.0.0.1:1 weight=2 max_fails=3 fail_timeout=30s max_conns=10;
        server 127.0.0.2:1 backup;
        server 127.0.0.3:1 down;
        zone shared 64k;
        keepalive 8;
        keepalive_requests 100;
        keepalive_time 10m;
        keepalive_timeout 5s;
    }
    upstream h { hash $request_uri consistent; server 127.0.0.1:2; server 127.0.0.1:3; zone shared; }
    upstream i { ip_hash; server 127.0.0.1:2; server localhost:3; }
    upstream r { random two least_conn; server 127.0.0.1:2; server 127.0.0.1:3; }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { proxy_pass http://u; }
        location /h/ { proxy_pass http://h/x/; proxy_redirect default; }
        location ~ \.php$ { proxy_pass http://i; }
        location /v/ { proxy_pass http://$host$request_uri; }
        location /u/ { proxy_pass http://unix:/tmp/x.sock:/; }
    }
EOF
is($st, 0, 'every valid form passes -t') or diag($out);

bad("upstream u { server 127.0.0.1:1; } upstream u { server 127.0.0.1:2; } $srv",
    qr/duplicate upstream "u" in .*check\.conf:3/, 'duplicate upstream');
bad("upstream u { server 127.0.0.1:1; } "
    . 'server { listen 127.0.0.1:%%PORT_8080%%; location / { proxy_pass http://u:8080; } }',
    qr/upstream "u" may not have port 8080/, 'a group named with a port');
bad("upstream u { server 127.0.0.1:1 weight=0; } $srv",
    qr/invalid parameter "weight=0"/, 'weight=0');
bad("upstream u { server 127.0.0.1:1 bogus=1; } $srv",
    qr/invalid parameter "bogus=1"/, 'unknown server parameter');
bad("upstream u { } $srv", qr/no servers are inside upstream/, 'empty group');
bad("upstream u { server no-such-host.invalid:80; } $srv",
    qr/host not found in upstream "no-such-host\.invalid:80"/, 'unresolvable server');
bad('server { listen 127.0.0.1:%%PORT_8080%%; location / { proxy_pass http://no-such-host.invalid; } }',
    qr/host not found in upstream "no-such-host\.invalid"/, 'unresolvable proxy_pass host');
bad('server { listen 127.0.0.1:%%PORT_8080%%; location ~ ^/x { proxy_pass http://127.0.0.1:1/y; } }',
    qr/"proxy_pass" cannot have URI part in location given by regular expression/,
    'URI part in a regex location');
bad('server { listen 127.0.0.1:%%PORT_8080%%; location / { proxy_pass ftp://x; } }',
    qr/invalid URL prefix in "ftp:\/\/x"/, 'not http://');
bad("upstream u { server 127.0.0.1:1; server 127.0.0.1:2 backup; hash \$uri; } $srv",
    qr/"backup" servers are not supported by "hash"/, 'hash after a backup server');
bad("upstream u { server 127.0.0.1:1; server 127.0.0.1:2 backup; hash \$uri consistent; } "
    . $srv,
    qr/"backup" servers are not supported by "hash" in upstream "u" in .*check\.conf:\d+/,
    'consistent hash after a backup server');
bad("upstream u { server 127.0.0.1:1; server 127.0.0.1:2 backup; ip_hash; } "
    . $srv,
    qr/"backup" servers are not supported by "ip_hash" in upstream "u" in .*check\.conf:\d+/,
    'ip_hash after a backup server');
bad("upstream u { server 127.0.0.1:1; server 127.0.0.1:2 backup; random two; } "
    . $srv,
    qr/"backup" servers are not supported by "random" in upstream "u" in .*check\.conf:\d+/,
    'random after a backup server');
bad("upstream u { server 127.0.0.1:1; hash \$uri bogus; } $srv",
    qr/invalid parameter "bogus"/, 'hash with an unknown parameter');
{
    my ($st, $out) = check("upstream u { server 127.0.0.1:1; least_conn; ip_hash; } $srv");
    ok(!$st && $out =~ /\[warn\].*load balancing method redefined/,
       'a second balancing method: a warning, the config passes') or diag($out);
}
bad("upstream u { server 127.0.0.1:1; ip_hash; server 127.0.0.1:2 backup; } $srv",
    qr/balancing method does not support parameter "backup"/, 'backup after ip_hash');
bad("upstream u { random; server 127.0.0.1:1; server 127.0.0.1:2 backup; } $srv",
    qr/balancing method does not support parameter "backup"/, 'backup after random');
bad("upstream u { zone z 4k; server 127.0.0.1:1; } $srv", qr/zone "z" is too small/,
    'zone too small');
bad("upstream u { server 127.0.0.1:1; keepalive 0; } $srv", qr/invalid value "0"/,
    'keepalive 0');
bad('server { listen 127.0.0.1:%%PORT_8080%%; location / { proxy_pass http://127.0.0.1:1; '
    . 'proxy_buffers 2 4k; proxy_busy_buffers_size 16k; } }',
    qr/"proxy_busy_buffers_size" must be less than the size of all "proxy_buffers" minus one buffer/,
    'busy buffers too large');
bad('server { listen 127.0.0.1:%%PORT_8080%%; location / { proxy_pass http://127.0.0.1:1; '
    . 'proxy_http_version 2.0; } }', qr/invalid value "2\.0"/, 'proxy_http_version 2.0');
bad('server { listen 127.0.0.1:%%PORT_8080%%; location / { proxy_pass http://127.0.0.1:1; '
    . 'proxy_next_upstream error bogus; } }', qr/invalid value "bogus"/,
    'proxy_next_upstream with an unknown value');
