#!/usr/bin/perl

# proxy_cookie_domain, proxy_cookie_path and proxy_cookie_flags, as nginx
# 1.22: plain and "~" regex rules with captures and variables, the first
# match winning, a leading dot of the Domain value kept, attribute names in
# any case and with spaces, several Set-Cookie fields, inheritance (a level
# with rules replaces its parent's, "off" drops them), flags added, removed
# and SameSite corrected, and the config errors with nginx's messages.
# Every expected value here was taken from nginx 1.22 given the same
# fields.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::Test::Daemon qw(http_daemon);

my $t = Portico::Test->new->has(qw/http_proxy/);

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        proxy_cookie_domain example.com front.net;
        proxy_cookie_path /one /1;

        location /std/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }
        location /var/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_cookie_domain .example.com $host;
            proxy_cookie_path ~^/one(.*)$ /x$1;
        }
        location /order/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_cookie_domain ~^(.*)\.example\.com$ $1.front;
            proxy_cookie_domain example.com "";
            proxy_cookie_path ~*^/ONE/ /i/;
            proxy_cookie_path / /root/;
        }
        location /off/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_cookie_domain off;
        }
        location /alloff/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_cookie_domain off;
            proxy_cookie_path off;
        }
        location /nested/ {
            proxy_cookie_path /one /nested;
            location /nested/in/ {
                proxy_pass http://127.0.0.1:%%PORT_8081%%;
            }
        }
        location /flags/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_cookie_flags ~^[ab]$ secure httponly samesite=lax;
            proxy_cookie_flags d nosecure samesite=strict;
            proxy_cookie_flags e nohttponly nosamesite;
        }
        location /order-flags/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_cookie_flags a nosecure secure samesite=none;
            proxy_cookie_flags b nosamesite samesite=none samesite=lax;
            proxy_cookie_flags ~. httponly;
        }
        location /odd/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
            proxy_cookie_domain a.com b.com;
            proxy_cookie_flags $arg_n secure $arg_f;
        }
    }
}
EOF

# The Set-Cookie fields of each set, as the backend sends them.
my %sets = (
    std => [
        'a=1; Domain=.Example.COM; Path=/one/two',
        'b=2;domain = example.com ;  PATH = /one ; HttpOnly',
        'c=3',
        'd=4; Path=/other; Domain=other.org',
        'nothing',
        'e=5; domain=sub.example.com; path=/One',
    ],
    flags => [
        'A=1; secure',
        'b=2;HttpOnly ; samesite=Lax',
        'd=4; Secure; SameSite=none',
        'e=5; httponly; SameSite=lax; secure',
        'f=1 ;x',
    ],
    order => [
        'a=1; Secure',
        'b=1; secure; samesite=strict',
        'B=1',
        'A=2',
    ],
    odd => [
        'X=1;; Domain=a.com;domain=.A.com; Domain;',
        'nokey; Domain=a.com',
        '=v; Domain=a.com',
        "y=1;\tDomain=a.com",
        'z=1; Domain=a.com ; ',
        'w= 1 ; Domain=  ; Path =',
    ],
);

# The set is the last segment of the path.
$t->run_daemon(sub {
    my (%o) = @_;
    return http_daemon(%o, handler => sub {
        my ($r) = @_;
        my ($set) = $r->{uri} =~ m{/(\w+)(?:\?.*)?$};
        return (200, [map "Set-Cookie: $_", @{$sets{$set // ''} || []}], 'ok');
    });
}, port => $t->port(8081));
$t->wait_for_port($t->port(8081));

$t->run;
$t->plan(22);

# The Set-Cookie values of a response, in order and byte for byte.
sub cookies {
    my ($path, $host) = @_;
    my $raw = http("GET $path HTTP/1.0\r\nHost: " . ($host // 'localhost') . "\r\n\r\n");
    my ($head) = split /\r\n\r\n/, $raw // '', 2;
    return [map { /^Set-Cookie: (.*)$/i ? $1 : () } split /\r\n/, $head // ''];
}

is_deeply(cookies('/std/std'), [
    'a=1; Domain=.front.net; Path=/1/two',
    'b=2; domain=front.net; PATH=/1; HttpOnly',
    'c=3',
    'd=4; Path=/other; Domain=other.org',
    'nothing',
    'e=5; domain=sub.example.com; path=/One',
], 'server-level rules inherited: domain caseless and whole, path a case-sensitive '
   . 'prefix, attribute names in any case and with spaces, others untouched');

is_deeply(cookies('/var/std', 'h.test'), [
    'a=1; Domain=.h.test; Path=/x/two',
    'b=2; domain=h.test; PATH=/x; HttpOnly',
    'c=3',
    'd=4; Path=/other; Domain=other.org',
    'nothing',
    'e=5; domain=sub.example.com; path=/One',
], 'variables in the replacement, a regex path with a capture, a leading dot in the rule');

is_deeply(cookies('/order/std'), [
    'a=1; Domain=.front; Path=/i/',
    'b=2; domain=; PATH=/root/one; HttpOnly',
    'c=3',
    'd=4; Path=/root/other; Domain=other.org',
    'nothing',
    'e=5; domain=sub.front; path=/root/One',
], 'first match wins; a regex replaces the whole value; ~* caseless; empty replacement');

is_deeply(cookies('/off/std'), [
    'a=1; Domain=.Example.COM; Path=/1/two',
    'b=2; domain=example.com; PATH=/1; HttpOnly',
    'c=3',
    'd=4; Path=/other; Domain=other.org',
    'nothing',
    'e=5; domain=sub.example.com; path=/One',
], 'proxy_cookie_domain off: the paths still inherited');

is_deeply(cookies('/alloff/std'), $sets{std}, 'both off: the fields byte for byte');

is_deeply(cookies('/nested/in/std'), [
    'a=1; Domain=.front.net; Path=/nested/two',
    'b=2; domain=front.net; PATH=/nested; HttpOnly',
    'c=3',
    'd=4; Path=/other; Domain=other.org',
    'nothing',
    'e=5; domain=sub.example.com; path=/One',
], 'a level with rules replaces its parent\'s, and passes them to a nested location');

is_deeply(cookies('/flags/flags'), [
    'A=1; secure; HttpOnly; SameSite=Lax',
    'b=2; HttpOnly; samesite=Lax; Secure',
    'd=4; SameSite=Strict',
    'e=5; secure',
    'f=1 ;x',
], 'flags: a caseless regex name, added, kept, removed, SameSite corrected');

is_deeply(cookies('/flags/std'), [
    'a=1; Domain=.front.net; Path=/1/two; Secure; HttpOnly; SameSite=Lax',
    'b=2; domain=front.net; PATH=/1; HttpOnly; Secure; SameSite=Lax',
    'c=3',
    'd=4; Path=/other; Domain=other.org; SameSite=Strict',
    'nothing',
    'e=5; domain=sub.example.com; path=/One',
], 'flags with the inherited domain and path rules');

is_deeply(cookies('/order-flags/order'), [
    'a=1; Secure; SameSite=None',
    'b=1; secure; SameSite=Lax; SameSite=None',
    'B=1; SameSite=Lax',
    'A=2; Secure; SameSite=None',
], 'flags: the first rule naming the cookie (caseless) wins; secure over nosecure');

is_deeply(cookies('/odd/odd?n=x&f=samesite=none'), [
    'X=1; ; Domain=b.com; domain=.b.com; Domain; ; Secure; SameSite=None',
    'nokey; Domain=a.com',
    '=v; Domain=b.com',
    "y=1;\tDomain=a.com",
    'z=1; Domain=b.com; ',
    'w= 1 ; Domain=  ; Path =',
], 'odd fields: every Domain, empty attributes, no "=" first, a tab, variables in flags');

is_deeply(cookies('/odd/odd?n=nokey&f=bogus'), [
    'X=1; ; Domain=b.com; domain=.b.com; Domain; ',
    'nokey; Domain=a.com',
    '=v; Domain=b.com',
    "y=1;\tDomain=a.com",
    'z=1; Domain=b.com; ',
    'w= 1 ; Domain=  ; Path =',
], 'an unknown flag from a variable is ignored');

###############################################################################
# configuration errors, with nginx's messages

sub conf_error {
    my ($text) = @_;
    $t->write_file('bad.conf', "events { }\nhttp {\n server {\n  location / {\n"
                   . "   proxy_pass http://127.0.0.1:1;\n   $text\n  }\n }\n}\n");
    my ($st, $out, $err) = $t->run_cmd3('-t', '-p', $t->testdir . '/', '-c', $t->path('bad.conf'),
                                        '-e', $t->path('bad.log'));
    return ($st // -1) != 0 ? $err : "accepted\n";
}

like(conf_error('proxy_cookie_domain off; proxy_cookie_domain a b;'),
     qr/"proxy_cookie_domain" directive is duplicate in .*:6/, 'a rule after off');
like(conf_error('proxy_cookie_path a b; proxy_cookie_path off;'),
     qr/"proxy_cookie_path" directive is duplicate/, 'off after a rule');
like(conf_error('proxy_cookie_domain a;'), qr/invalid parameter "a"/, 'one argument not off');
like(conf_error('proxy_cookie_domain ~*a b;'),
     qr/pcre2_compile\(\) failed: quantifier does not follow a repeatable item in "\*a"/,
     'domain regexes are caseless already: ~* is a "*" regex');
like(conf_error('proxy_cookie_path ~(b c;'),
     qr/pcre2_compile\(\) failed: missing closing parenthesis in "\(b"/, 'a bad path regex');
like(conf_error('proxy_cookie_flags off; proxy_cookie_flags a secure;'),
     qr/"proxy_cookie_flags" directive is duplicate/, 'flags after off');
like(conf_error('proxy_cookie_flags a;'), qr/invalid parameter "a"/, 'flags: a name alone');
like(conf_error('proxy_cookie_flags a secure httponly samesite=lax nosecure;'),
     qr/invalid number of arguments in "proxy_cookie_flags" directive/, 'flags: four flags');
is(conf_error('proxy_cookie_flags a SECURE bogus; proxy_cookie_domain "" x;'), "accepted\n",
   'flags are checked per request, as nginx');

# proxy_redirect's regex form shares the rules (t/proxy.t tests it at work)
like(conf_error('proxy_redirect ~(a b;'),
     qr/pcre2_compile\(\) failed: missing closing parenthesis in "\(a"/, 'a bad redirect regex');
like(conf_error('proxy_redirect off; proxy_redirect a b;'),
     qr/"proxy_redirect" directive is duplicate/, 'a redirect rule after off');

$t->done_testing;
