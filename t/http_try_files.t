#!/usr/bin/perl

# try_files: files and "dir/" tested under root and alias, the first that
# exists becomes the uri; else an internal redirect to the last uri (with
# its arguments), a named location, or "=CODE".  Not inherited from the
# server level.  A candidate leaving the root is skipped.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;

my $t = Portico::Test->new->has(qw/http_rewrite http_try_files/);

$t->write_file('html/file.txt', "file\n");
$t->write_file('html/dir/index.html', "dir index\n");
$t->write_file('html/cache/page.html', "cached page\n");
$t->write_file('html/page', "plain page\n");
$t->write_file('aliased/a.txt', "aliased a\n");
$t->write_file('secret.txt', "secret\n");

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        root %%TESTDIR%%/html;

        location / { try_files $uri $uri/ /fallback?from=$uri; }
        location /fallback { return 200 "fb uri=$uri args=$args"; }

        location /code/ { try_files $uri =404; }
        location /teapot/ { try_files $uri =418; }
        location /named/ { try_files $uri @nf; }
        location @nf { return 200 "nf uri=$uri"; }
        location /al/ { alias %%TESTDIR%%/aliased/; try_files $uri =404; }
        location /pre/ { try_files /cache/$arg_p.html /$arg_p =404; }
        location /unsafe/ { try_files /../$arg_p =403; }
        location /dironly/ { try_files /dir/ =404; }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        server_name localhost;
        root %%TESTDIR%%/html;
        try_files $uri /srvfb;

        location /loc/ { }
        location /srvfb { return 200 "server fallback"; }
    }
}
EOF

$t->run;
$t->plan(17);

sub get {
    my ($uri, %o) = @_;
    return http("GET $uri HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", %o);
}

my $r;

is(http_body(get('/file.txt')), "file\n", 'the first file exists');
$r = get('/dir');
is(http_status($r), 301, '"$uri/": a directory becomes the uri (then the slash redirect)');
is(http_body(get('/dir/')), "dir index\n", '"$uri/" for "/dir/": its index');
is(http_body(get('/nothing?x=1')), 'fb uri=/fallback args=from=/nothing',
    'nothing exists: internal redirect to the last uri, with its args');

is(http_status(get('/code/missing')), 404, '=404');
is(http_body(get('/code/../file.txt')), "file\n", 'normalized uri tried');
is(http_status(get('/teapot/missing')), 418, '=418');
is(http_body(get('/named/missing')), 'nf uri=/named/missing', 'named location');

is(http_body(get('/al/a.txt')), "aliased a\n", 'alias: mapped through the alias');
is(http_status(get('/al/b.txt')), 404, 'alias: missing');

is(http_body(get('/pre/x?p=page')), "cached page\n", 'a built candidate: the first');
is(http_body(get('/pre/x?p=file.txt')), "file\n", 'a built candidate: the second');
is(http_status(get('/unsafe/x?p=secret.txt')), 403, 'a candidate above the root is skipped');

$r = get('/dironly/x');
is(http_status($r), 301, 'a "dir/" candidate: the directory, without the slash, is the uri');
like(http_header($r, 'Location') // '', qr{/dir/$}, 'a "dir/" candidate: then the slash redirect');

is(http_body(get('/nothing', port => $t->port(8081))), 'server fallback',
    'server level: used when no location matches');
is(http_status(get('/loc/nothing', port => $t->port(8081))), 404,
    'server level: not inherited by locations');
