#!/usr/bin/perl

# Locations: "=" exact, prefix (longest wins, through a sorted table with
# parent links), "~" and "~*" regexes tried in order after the prefix
# search, "^~" stopping that search, captures $1..$9 and named captures,
# nested locations (prefix and regex, at every level), named @locations
# out of reach of requests, "internal", and the configuration errors.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;

my $t = Portico::Test->new->has(qw/http_rewrite/);

# Prefix names whose sort order puts non-prefixes between a name and its
# prefixes: "/t-" sorts between "/t" and "/t/", "/t/a" between "/t/" and
# "/t/b/", and so on.
my @tricky = qw(/t /t- /t-x /t/ /t/a /t/a- /t/a/ /t/a/b /t/ab /t/b/ /t0 /ta);
my $tricky = join "\n", map { "        location $_ { return 200 \"P:$_\"; }" } @tricky;

# Many locations: the lookup must stay right with a large table.
my $many = join "\n", map { "        location /m/$_/ { return 200 \"M:$_\"; }" } 1 .. 300;

$t->write_file('portico.conf', <<"EOF");
worker_processes 1;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;

        location / { return 200 "root"; }

        location = /exact { return 200 "exact"; }
        location /exact { return 200 "prefix-exact"; }
        location = / { return 200 "exact-root"; }

        location /a { return 200 "a"; }
        location /a/b { return 200 "a/b"; }
        location /a/b/c { return 200 "a/b/c"; }

        location /static/ { return 200 "static"; }
        location ^~ /img/ { return 200 "img-noregex"; }

        location ~ \\.php\$ { return 200 "php-first"; }
        location ~ \\.(php|html)\$ { return 200 "php-or-html"; }
        location ~* \\.(png|gif)\$ { return 200 "image-caseless"; }
        location ~ \\.jpg\$ { return 200 "jpg"; }

        location ~ ^/cap/(\\w+)/(\\d+)/(.*)\$ { return 200 "1=\$1 2=\$2 3=\$3 x=\$4."; }
        location ~ "^/many/(a)(b)(c)(d)(e)(f)(g)(h)(i)\$" { return 200 "\$9\$8\$1\$10"; }
        location ~ ^/user/(?<uname>[a-z]+)/(?<rest>.*)\$ { return 200 "user=\$uname rest=\$rest"; }
        location ~ ^/redir/(.+)\$ { return 301 /new/\$1; }

        location /n/ {
            location /n/a/ {
                location /n/a/deep/ { return 200 "n-a-deep"; }
                return 200 "n-a";
            }
            location ~ \\.txt\$ { return 200 "n-txt"; }
            return 200 "n";
        }

        location ^~ /nr/ {
            location ~ \\.txt\$ { return 200 "nr-txt"; }
            return 200 "nr";
        }
        location ~ \\.txt\$ { return 200 "txt"; }

        location ~ ^/rx/ {
            location ~ \\.css\$ { return 200 "rx-css"; }
            return 200 "rx";
        }

        location \@named { return 200 "named"; }

        location /int { internal; return 200 "internal"; }
        location /go-int { rewrite ^ /int last; }

$tricky
$many
    }
}
EOF

$t->run;
$t->plan(52);

sub body { my ($uri) = @_; return http_body(http_get($uri)) // '' }

###############################################################################
# exact and prefix

is(body('/exact'), 'exact', '= wins over the prefix of the same name');
is(body('/exactly'), 'prefix-exact', '= does not match a longer uri');
is(body('/'), 'exact-root', '= /');
is(body('/x'), 'root', 'prefix /');
is(body('/a'), 'a', 'prefix /a');
is(body('/a/b/x'), 'a/b', 'longest prefix wins');
is(body('/a/b/c/d'), 'a/b/c', 'longest prefix wins, three deep');
is(body('/ab'), 'a', 'a prefix need not end at a slash');

###############################################################################
# the sorted table and its parent links

is(body('/t.'), 'P:/t', '"/t." sorts after "/t-", whose parent "/t" matches');
is(body('/t-y'), 'P:/t-', '"/t-y": "/t-"');
is(body('/t-xz'), 'P:/t-x', '"/t-xz": "/t-x"');
is(body('/t/a.'), 'P:/t/a', '"/t/a.": past "/t/a-", up to "/t/a"');
is(body('/t/a/c'), 'P:/t/a/', '"/t/a/c": past "/t/a/b", up to "/t/a/"');
is(body('/t/aa'), 'P:/t/a', '"/t/aa": past "/t/a/b" and "/t/a/", up to "/t/a"');
is(body('/t/b'), 'P:/t/', '"/t/b": "/t/b/" is longer, "/t/" it is');
is(body('/t/c'), 'P:/t/', '"/t/c": past "/t/b/", up to "/t/"');
is(body('/t1'), 'P:/t', '"/t1": past "/t0", up to "/t"');
is(body('/tb'), 'P:/t', '"/tb": past "/ta", up to "/t"');
is(body('/s'), 'root', '"/s" sorts before every "/t"');
is(body('/m/1/'), 'M:1', '300 locations: the first');
is(body('/m/150/x'), 'M:150', '300 locations: one in the middle');
is(body('/m/300/'), 'M:300', '300 locations: the last');
is(body('/m/30'), 'root', '300 locations: "/m/30" matches none of them');

###############################################################################
# regexes

is(body('/x.php'), 'php-first', 'regexes are tried in order: the first wins');
is(body('/x.html'), 'php-or-html', 'the second regex');
is(body('/static/a.html'), 'php-or-html', 'a regex beats a matching prefix');
is(body('/static/a.css'), 'static', 'no regex: the prefix stands');
is(body('/img/a.jpg'), 'img-noregex', '^~ stops the regex search');
is(body('/x.PNG'), 'image-caseless', '~* ignores case');
is(body('/x.JPG'), 'root', '~ does not');
is(body('/cap/ab/12/rest/of'), '1=ab 2=12 3=rest/of x=.', 'captures $1..$3; unset $4 is empty');
is(body("/many/abcdefghi"), "ihaa0", '$9, and "$10" is $1 then "0"');
is(body('/user/bob/x/y'), 'user=bob rest=x/y', 'named captures are variables');

my $r = http_get('/redir/a/b');
is(http_status($r), 301, 'capture in a return URL: status');
like(http_header($r, 'Location') // '', qr{^http://localhost(:\d+)?/new/a/b$},
    'capture in a return URL: Location');

###############################################################################
# nesting

is(body('/n/x'), 'n', 'prefix with nested locations');
is(body('/n/a/x'), 'n-a', 'nested prefix');
is(body('/n/a/deep/x'), 'n-a-deep', 'nested two levels');
is(body('/n/b.txt'), 'n-txt', 'regex nested in a prefix location');
is(body('/n/a/b.txt'), 'n-txt', 'the regexes of a level beat its nested prefix');
is(body('/nr/a.txt'), 'nr-txt', '^~ skips the outer regexes, not the nested ones');
is(body('/other.txt'), 'txt', 'the outer regex elsewhere');
is(body('/rx/a'), 'rx', 'regex location');
is(body('/rx/a.css'), 'rx-css', 'regex nested in a regex location');

###############################################################################
# named and internal

is(body('/@named'), 'root', 'a named location never matches a request');
is(http_status(http_get('/int')), 404, 'internal: 404 from outside');
is(body('/go-int'), 'internal', 'internal: reachable by a rewrite');

###############################################################################
# configuration errors

sub conf_error {
    my ($text) = @_;
    $t->write_file('bad.conf', "events { }\nhttp { server { listen 127.0.0.1:%%PORT_8081%%; $text } }\n");
    my ($st, $out, $err) = $t->run_cmd3('-t', '-p', $t->testdir . '/', '-c', $t->path('bad.conf'));
    return ($st // -1) != 0 ? $err : "accepted\n";
}

like(conf_error('location /d { } location /d { }'), qr/duplicate location "\/d"/,
    'duplicate prefix location');
like(conf_error('location /o { location /p { } }'), qr/location "\/p" is outside location "\/o"/,
    'nested prefix outside its parent');
like(conf_error('location ~ ^/(a { }'),
    qr/pcre2_compile\(\) failed: missing closing parenthesis in "\^\/\(a" in \S+bad\.conf:2\n/,
    'a bad regex, the error at its end: nothing quoted after it (as nginx)');
like(conf_error('location ~ ^/a)b { }'),
    qr/pcre2_compile\(\) failed: unmatched closing parenthesis in "\^\/a\)b" at "\)b" in /,
    'a bad regex, the error inside it: the rest quoted');
like(conf_error('location /o { location @n { } }'), qr/named location "\@n" can be on the server level only/,
    'nested named location');
