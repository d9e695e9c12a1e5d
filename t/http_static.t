#!/usr/bin/perl

# Static files: root, alias, index, types {} and the shipped mime.types,
# default_type, HEAD, Last-Modified and ETag, the 301 to a directory's
# slash form, 403 and 404 (log_not_found), a directory without an index,
# POST and other methods, no way out of the root by any encoding of
# "..", symbolic links, sendfile on and off over keepalive, $document_root
# and $realpath_root, and a sparse file larger than 4 GiB.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use POSIX qw(strftime);

my $t = Portico::Test->new;
my $d = $t->testdir;

# the shipped mime.types, included relative to the config's folder
{
    open my $in, '<', $t->repo . '/conf/mime.types' or die "mime.types: $!";
    local $/;
    my $text = <$in>;
    $t->write_file_raw('mime.types', $text);
}

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    include mime.types;
    default_type application/x-default;
    access_log off;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        root %%TESTDIR%%/html;

        location /types/ {
            types { text/x-custom cst CsT2; }
        }
        location /idx/ {
            index missing.html second.html;
        }
        location /absidx/ {
            index nothere.html /fallback.txt;
        }
        location /alias/ {
            alias %%TESTDIR%%/other/;
        }
        location = /exact {
            alias %%TESTDIR%%/other/exact.txt;
        }
        location /nolog/ {
            log_not_found off;
        }
        location /nosendfile/ {
            sendfile off;
            alias %%TESTDIR%%/html/;
        }
        location /sendfile/ {
            sendfile on;
            alias %%TESTDIR%%/html/;
        }
        location /vars/ {
            root %%TESTDIR%%/link;
            add_header X-Root $document_root;
            add_header X-Real $realpath_root;
            add_header X-File $request_filename;
        }
        location /noetag/ {
            etag off;
        }
        location ~ ^/re/(.+)\.text$ {
            alias %%TESTDIR%%/other/$1.txt;
        }
        location /argroot/ {
            root %%TESTDIR%%/html/$arg_d;
        }
    }
}
EOF

$t->write_file('html/index.html', "root index\n");
$t->write_file('html/file.txt', "0123456789");
$t->write_file('html/page.html', "<p>page</p>\n");
$t->write_file('html/style.CSS', "body{}");
$t->write_file('html/noext', "no extension");
$t->write_file('html/a b.txt', "with a space");
$t->write_file('html/pct%.txt', "percent");
$t->write_file('html/dir/index.html', "dir index\n");
$t->write_file('html/idx/second.html', "second\n");
$t->write_file('html/absidx/x', "x");
$t->write_file('html/fallback.txt', "fallback\n");
$t->write_file('html/types/f.cst', "custom");
$t->write_file('html/types/f.cst2', "custom2");
$t->write_file('html/types/f.html', "types replace the inherited list");
$t->write_file('html/noidx/file', "x");
$t->write_file('html/nolog/x', "x");
$t->write_file('html/noetag/f.txt', "no etag");
$t->write_file('html/secret.txt', "secret");
$t->write_file('other/a.txt', "from the alias");
$t->write_file('html/argroot/file.txt', "argroot");
$t->write_file('other/exact.txt', "exact alias");
$t->write_file('outside.txt', "outside the root");
$t->write_file('realroot/vars/v.txt', "via a link");
symlink("$d/realroot", "$d/link") or die "symlink: $!";
symlink("$d/html/file.txt", "$d/html/link.txt") or die "symlink: $!";
chmod 0000, "$d/html/secret.txt";

my $big = join('', map { sprintf '%07d,', $_ } 0 .. 399999) . 'END';
$t->write_file('html/big.bin', $big);

$t->run;

my $port = $t->port(8080);

sub get {
    my ($path, @h) = @_;
    my $h = join '', map "$_\r\n", @h;
    return parse_response(http("GET $path HTTP/1.1\r\nHost: localhost\r\n$h"
        . "Connection: close\r\n\r\n"));
}

sub req {
    my ($method, $path) = @_;
    return parse_response(http("$method $path HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\n\r\n"));
}

###############################################################################
# a file

my $r = get('/file.txt');
is($r->{status}, 200, 'file: 200');
is($r->{body}, '0123456789', 'file: body');
is($r->{header}{'content-length'}, 10, 'file: Content-Length');
is($r->{header}{'content-type'}, 'text/plain', 'file: type from mime.types');
is($r->{header}{'accept-ranges'}, 'bytes', 'file: Accept-Ranges');

my @st = stat("$d/html/file.txt");
is($r->{header}{'last-modified'}, strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime $st[9]),
    'file: Last-Modified is the mtime');
is($r->{header}{etag}, sprintf('"%x-%x"', $st[9], $st[7]), 'file: ETag "mtime-size" in hex');

is(get('/page.html')->{header}{'content-type'}, 'text/html', 'html: text/html');
is(get('/style.CSS')->{header}{'content-type'}, 'text/css', 'extension matched without case');
is(get('/noext')->{header}{'content-type'}, 'application/x-default',
    'no extension: default_type');
is(get('/a%20b.txt')->{body}, 'with a space', 'percent-encoded space in the name');
is(get('/pct%25.txt')->{body}, 'percent', 'percent-encoded "%" in the name');

# types {} of a location replaces the inherited list
is(get('/types/f.cst')->{header}{'content-type'}, 'text/x-custom', 'types {}: own type');
is(get('/types/f.cst2')->{header}{'content-type'}, 'text/x-custom',
    'types {}: extensions lower-cased');
is(get('/types/f.html')->{header}{'content-type'}, 'application/x-default',
    'types {}: the inherited list is replaced');

# HEAD
$r = req('HEAD', '/file.txt');
is($r->{status}, 200, 'HEAD: 200');
is($r->{header}{'content-length'}, 10, 'HEAD: Content-Length of the file');
is($r->{body}, '', 'HEAD: no body');

# etag off
$r = get('/noetag/f.txt');
ok($r->{status} == 200 && !defined $r->{header}{etag}, 'etag off: no ETag');

###############################################################################
# directories and index

$r = get('/');
is($r->{body}, "root index\n", 'index.html of /');

$r = get('/dir');
is($r->{status}, 301, 'directory without slash: 301');
is($r->{header}{location}, "http://localhost:$port/dir/", 'directory: absolute Location');

$r = get('/dir?a=1&b=2');
is($r->{header}{location}, "http://localhost:$port/dir/?a=1&b=2",
    'directory: the query is kept');

$r = get('/dir/');
is($r->{body}, "dir index\n", 'directory: its index.html');

$r = get('/idx/');
is($r->{body}, "second\n", 'index: the first name that exists');

$r = get('/absidx/');
is($r->{body}, "fallback\n", 'index: an absolute last name is a redirect');

$r = get('/noidx/');
is($r->{status}, 403, 'directory without index: 403');

$r = get('/nodir/');
is($r->{status}, 404, 'missing directory: 404');

###############################################################################
# errors

$r = get('/missing.txt');
is($r->{status}, 404, 'missing file: 404');

$r = get('/nolog/missing');
is($r->{status}, 404, 'log_not_found off: 404');

$r = get('/secret.txt');
is($r->{status}, 403, 'unreadable file: 403');

$r = get('/file.txt/sub');
is($r->{status}, 404, 'a file used as a directory: 404');

$r = req('POST', '/file.txt');
is($r->{status}, 405, 'POST to a file: 405');
$r = req('POST', '/missing.txt');
is($r->{status}, 404, 'POST to a missing file: 404');
$r = req('DELETE', '/file.txt');
is($r->{status}, 405, 'DELETE: 405');

###############################################################################
# alias

is(get('/alias/a.txt')->{body}, 'from the alias', 'alias: prefix replaced');
is(get('/exact')->{body}, 'exact alias', 'alias in an exact location');
$r = get('/alias/missing');
is($r->{status}, 404, 'alias: missing file 404');

###############################################################################
# no way out of the root

for my $u ('/../outside.txt', '/%2e%2e/outside.txt', '/%2E%2e/outside.txt',
    '/dir/../../outside.txt', '/dir/%2e%2e/%2e%2e/outside.txt',
    '/dir%2f..%2f..%2foutside.txt', '/alias/../../outside.txt',
    '/alias/%2e%2e/%2e%2e/outside.txt', '/./../outside.txt')
{
    my $raw = http("GET $u HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    my $s = http_status($raw) // 0;
    ok(($s == 400 || $s == 404) && ($raw // '') !~ /outside the root/,
        "escape attempt $u: $s");
}

is(get('/dir/../file.txt')->{body}, '0123456789', 'a ".." inside the root resolves');
is(get('/alias/%2e/a.txt')->{body}, 'from the alias', 'an encoded "." resolves');
is(get('/re/a.text')->{body}, 'from the alias', 'alias in a regex location, with a capture');
is(get('/re/missing.text')->{status}, 404, 'alias in a regex location: missing file');
is(get('/argroot/file.txt?d=.')->{body}, 'argroot', 'a root with a variable');
is(get('/argroot/outside.txt?d=../..')->{status}, 500,
    'a root whose variable climbs out: refused');
like(get('/file.txt%00')->{status}, qr/^40[04]$/, 'an encoded NUL is refused');

# symbolic links inside the root are followed
is(get('/link.txt')->{body}, '0123456789', 'a symlink in the root is followed');

###############################################################################
# variables of files

$r = get('/vars/v.txt');
is($r->{body}, 'via a link', 'root through a symlink');
is($r->{header}{'x-root'}, "$d/link", '$document_root');
is($r->{header}{'x-real'}, "$d/realroot", '$realpath_root resolves the link');
is($r->{header}{'x-file'}, "$d/link/vars/v.txt", '$request_filename');

###############################################################################
# sendfile on and off, over keepalive

for my $mode ('sendfile', 'nosendfile') {
    my @k = http_keepalive(["/$mode/big.bin", "/$mode/file.txt", "/$mode/big.bin"]);
    ok(defined $k[0] && http_body($k[0]) eq $big, "$mode: big file");
    is(http_body($k[1]), '0123456789', "$mode: small file on the same connection");
    ok(defined $k[2] && http_body($k[2]) eq $big, "$mode: big file again");
}

# a slow reader of a big file through the copy filter
{
    my $s = http("GET /nosendfile/big.bin HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\n\r\n", start => 1);
    select undef, undef, undef, 0.5;
    my $raw = http_read_all($s, timeout => 10);
    ok(defined $raw && http_body($raw) eq $big, 'sendfile off: slow reader gets it all');
}

###############################################################################
# more than 4 GiB: a sparse file

SKIP: {
    my $ok = open my $fh, '>', "$d/html/huge.bin";
    $ok &&= truncate($fh, 5 * 1024 ** 3 + 10);
    $ok &&= seek($fh, 4 * 1024 ** 3, 0) && print($fh 'FOURGIB') && close($fh);
    skip 'no sparse file', 5 unless $ok;

    $r = req('HEAD', '/huge.bin');
    is($r->{header}{'content-length'}, 5 * 1024 ** 3 + 10, '> 4 GiB: Content-Length');

    $r = get('/huge.bin', 'Range: bytes=4294967296-4294967302');
    is($r->{status}, 206, '> 4 GiB: range past 4 GiB');
    is($r->{body}, 'FOURGIB', '> 4 GiB: the bytes past 4 GiB');
    is($r->{header}{'content-range'}, 'bytes 4294967296-4294967302/5368709130',
        '> 4 GiB: Content-Range');

    $r = get('/huge.bin', 'Range: bytes=-4');
    is(length($r->{body} // ''), 4, '> 4 GiB: suffix range');
}

###############################################################################
# the error log

my $log = $t->read_file('error.log');
like($log, qr{open\(\) "\Q$d\E/html/missing.txt" failed \(2: No such file or directory\)},
    'missing file logged');
unlike($log, qr{nolog/missing}, 'log_not_found off: not logged');
like($log, qr{open\(\) "\Q$d\E/html/secret.txt" failed \(13: Permission denied\)},
    'unreadable file logged');
like($log, qr{directory index of "\Q$d\E/html/noidx/" is forbidden},
    'directory without index logged');
like($log, qr{"\Q$d\E/html/nodir/" is not found}, 'missing directory logged');

$t->done_testing;
