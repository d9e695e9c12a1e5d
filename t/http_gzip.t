#!/usr/bin/perl

# The gzip filter (modules/http_gzip): static files, "return 200" and
# proxied responses compressed and decompressing to exactly the original,
# large bodies intact (also with small gzip_buffers and gzip_comp_level 9);
# Accept-Encoding variants, read strictly (gzip;q=0 and identity-only
# refuse); the statuses nginx compresses (200, 403, 404); gzip_types,
# gzip_min_length with known and unknown lengths, gzip_proxied with and
# without Via, gzip_vary, gzip_disable (regex and msie6),
# gzip_http_version; HEAD; a range request on a gzipped file (nginx: 200,
# whole body, no Accept-Ranges); the weak ETag; an already encoded upstream
# response passing unchanged; a streamed proxied response arriving piece by
# piece, each piece decodable before the backend sends the next (the
# filter's Z_SYNC_FLUSH); $gzip_ratio in the access log; config errors with
# nginx's messages.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::Test::Daemon qw(http_daemon);
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use IO::Socket::INET;
use IO::Select;
use Compress::Raw::Zlib;
use Time::HiRes qw(time sleep);

my $t = Portico::Test->new->has(qw/http_gzip_filter http_proxy/);
my $d = $t->testdir;

my $ret = 'return text, compressible, compressible, compressible, compressible.';

$t->write_file('portico.conf', <<"EOF");
worker_processes 1;
events { }
http {
    types { text/html html; text/plain txt; text/css css; application/octet-stream bin; }
    default_type text/plain;
    log_format gz '\$uri \$status \$gzip_ratio';
    access_log %%TESTDIR%%/gz.log gz;

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        root %%TESTDIR%%/html;

        gzip on;
        gzip_types text/plain;

        location / { }
        location /any/ { gzip_types *; alias %%TESTDIR%%/html/; }
        location /off/ { gzip off; alias %%TESTDIR%%/html/; }
        location /min/ { gzip_min_length 2000; alias %%TESTDIR%%/html/; }
        location /small/ {
            gzip_comp_level 9;
            gzip_buffers 2 1k;
            sendfile off;
            alias %%TESTDIR%%/html/;
        }

        location /ret { return 200 "$ret"; }
        location /short { return 200 "short"; }
        location /r403 { return 403 "$ret"; }
        location /r404 { return 404 "$ret"; }
        location /r500 { return 500 "$ret"; }
        location /r201 { return 201 "$ret"; }
        location /vary { gzip_vary on; return 200 "$ret"; }
        location /vshort { gzip_vary on; return 200 "short"; }
        location /disable { gzip_disable "bot\\d" msie6; return 200 "$ret"; }
        location /v10 { gzip_http_version 1.0; return 200 "$ret"; }

        location /px/any { gzip_proxied any; return 200 "$ret"; }
        location /px/expired { gzip_proxied expired; expires -1h; return 200 "$ret"; }
        location /px/future { gzip_proxied expired; expires 1h; return 200 "$ret"; }
        location /px/nocache {
            gzip_proxied no-cache;
            add_header Cache-Control "no-cache";
            return 200 "$ret";
        }
        location /px/auth {
            gzip_proxied auth;
            add_header Cache-Control "max-age=5";
            return 200 "$ret";
        }

        location /up/ { proxy_pass http://127.0.0.1:%%PORT_8081%%; }
        location /upmin/ {
            gzip_min_length 1000;
            proxy_pass http://127.0.0.1:%%PORT_8081%%/up/;
        }
        location /stream/ {
            proxy_pass http://127.0.0.1:%%PORT_8082%%;
            proxy_buffering off;
        }
    }
}
EOF

# Text that compresses, but not to nothing: lines of counters.
my $text1k = substr(join('', map { sprintf "line %05d of the file\n", $_ } 0 .. 99), 0, 1024);
my $big = join '', map { sprintf "%08d some words %d\n", $_, $_ * 7919 % 10007 } 0 .. 150000;
my $bin = join '', map { chr($_ * 31 % 256) } 0 .. 4095;

$t->write_file('html/t.txt', $text1k);
$t->write_file('html/big.txt', $big);
$t->write_file('html/f.html', "<html>$text1k</html>");
$t->write_file('html/f.css', "body { $text1k }");
$t->write_file('html/f.bin', $bin);

my $pregz;
{
    my $z = Compress::Raw::Zlib::Deflate->new(-WindowBits => WANT_GZIP, -AppendOutput => 1);
    $z->deflate($text1k, $pregz);
    $z->flush($pregz);
}

$t->run_daemon(\&http_daemon, port => $t->port(8081), handler => sub {
    my ($r) = @_;
    my $u = $r->{uri};
    return (200, ['Content-Type: text/plain'], $big) if $u =~ m{/big$};
    return (200, ['Content-Type: text/plain', 'Content-Encoding: gzip'], $pregz)
        if $u =~ m{/encoded$};
    return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nten bytes!"
        if $u =~ m{/nolen$};
    return (200, ['Content-Type: text/plain'], 'ten bytes!') if $u =~ m{/short$};
    return (200, ['Content-Type: image/png'], $bin) if $u =~ m{/png$};
    return (200, ['Content-Type: text/plain'], $text1k);
});
$t->run_daemon(\&streamer, $t->port(8082), $d);
$t->wait_for_port($t->port($_)) for 8081, 8082;

$t->run;

sub get {
    my ($path, @h) = @_;
    my %o = (method => 'GET', version => '1.1');
    %o = (%o, map { %$_ } grep { ref } @h);
    @h = grep { !ref } @h;
    my $raw = http("$o{method} $path HTTP/$o{version}\r\nHost: localhost\r\n"
        . ($o{version} eq '1.1' ? "Connection: close\r\n" : '')
        . join('', map "$_\r\n", @h) . "\r\n", timeout => 20);
    return parse_response($raw) // { status => 0, header => {}, body => '' };
}

sub gz { return get($_[0], 'Accept-Encoding: gzip', @_[1 .. $#_]) }

sub gunz {
    my ($in) = @_;
    my $out;
    gunzip(\$in => \$out) or return "gunzip failed: $GunzipError";
    return $out;
}

sub is_gzipped {
    my ($r, $orig, $name) = @_;
    is($r->{header}{'content-encoding'} // '', 'gzip', "$name: Content-Encoding gzip");
    ok(gunz($r->{body}) eq $orig, "$name: decompresses to the original")
        or diag(length($r->{body}) . ' bytes');
}

sub not_gzipped {
    my ($r, $orig, $name) = @_;
    ok(!defined $r->{header}{'content-encoding'}, "$name: not compressed");
    ok($r->{body} eq $orig, "$name: body as it is") if defined $orig;
}

# ---- what is compressed ----

my $r = gz('/t.txt');
is($r->{status}, 200, 'static: 200');
is_gzipped($r, $text1k, 'static 1 KiB');
ok(!defined $r->{header}{'content-length'}, 'static: no Content-Length');
is($r->{header}{'transfer-encoding'}, 'chunked', 'static: chunked');
like($r->{header}{etag} // '', qr{^W/"[0-9a-f]+-[0-9a-f]+"$}, 'static: the ETag turned weak');
ok(!defined $r->{header}{'accept-ranges'}, 'static: no Accept-Ranges');

$r = get('/t.txt');
like($r->{header}{etag} // '', qr{^"}, 'without gzip: strong ETag');
is($r->{header}{'accept-ranges'}, 'bytes', 'without gzip: Accept-Ranges');

is_gzipped(gz('/big.txt'), $big, 'static 3 MB');
is_gzipped(gz('/small/big.txt'), $big, 'level 9, 2 buffers of 1k, sendfile off');
is_gzipped(gz('/f.html'), "<html>$text1k</html>", 'text/html, always in gzip_types');
not_gzipped(gz('/f.css'), "body { $text1k }", 'text/css, not in gzip_types');
is_gzipped(gz('/any/f.bin'), $bin, 'gzip_types *');
not_gzipped(gz('/off/t.txt'), $text1k, 'gzip off');
is_gzipped(gz('/ret'), $ret, 'return 200');
not_gzipped(gz('/short'), 'short', 'shorter than gzip_min_length 20');
not_gzipped(gz('/min/t.txt'), $text1k, 'gzip_min_length 2000, 1 KiB file');
is_gzipped(gz('/min/big.txt'), $big, 'gzip_min_length 2000, large file');

$r = gz('/r403');
is($r->{status}, 403, 'status 403');
is_gzipped($r, $ret, 'status 403');
$r = gz('/r404');
is($r->{status}, 404, 'status 404');
is_gzipped($r, $ret, 'status 404');
not_gzipped(gz('/r500'), $ret, 'status 500');
not_gzipped(gz('/r201'), $ret, 'status 201');

# ---- Accept-Encoding ----

not_gzipped(get('/t.txt'), $text1k, 'no Accept-Encoding');
not_gzipped(get('/t.txt', 'Accept-Encoding: identity'), $text1k, 'identity');
not_gzipped(get('/t.txt', 'Accept-Encoding: gzip;q=0'), $text1k, 'gzip;q=0');
not_gzipped(get('/t.txt', 'Accept-Encoding: gzip; q=0.000, deflate'), $text1k,
    'gzip; q=0.000');
not_gzipped(get('/t.txt', 'Accept-Encoding: deflate'), $text1k, 'deflate only');
not_gzipped(get('/t.txt', 'Accept-Encoding: gzip;q=0, *'), $text1k, 'gzip;q=0 with *');
not_gzipped(get('/t.txt', 'Accept-Encoding: gzipx, br'), $text1k, 'gzipx is another coding');
not_gzipped(get('/t.txt', 'Accept-Encoding: '), $text1k, 'empty Accept-Encoding');
is_gzipped(get('/t.txt', 'Accept-Encoding: *'), $text1k, '*');
is_gzipped(get('/t.txt', 'Accept-Encoding: GZip'), $text1k, 'mixed case');
is_gzipped(get('/t.txt', 'Accept-Encoding: deflate, gzip;q=0.5, br'), $text1k,
    'gzip;q=0.5 in a list');
is_gzipped(get('/t.txt', 'Accept-Encoding: x-gzip'), $text1k, 'x-gzip');
is_gzipped(get('/t.txt', 'Accept-Encoding: identity;q=0, gzip;q=1.0'), $text1k, 'gzip;q=1.0');

# ---- HEAD, ranges ----

$r = gz('/t.txt', { method => 'HEAD' });
is($r->{status}, 200, 'HEAD: 200');
is($r->{header}{'content-encoding'}, 'gzip', 'HEAD: Content-Encoding as for GET');
ok(!defined $r->{header}{'content-length'}, 'HEAD: no Content-Length, as for GET');
is($r->{body}, '', 'HEAD: no body');

# nginx 1.22: the whole gzipped body, 200, no Accept-Ranges
$r = gz('/t.txt', 'Range: bytes=0-9');
is($r->{status}, 200, 'range on a gzipped file: 200');
ok(!defined $r->{header}{'content-range'}, 'range on a gzipped file: no Content-Range');
is_gzipped($r, $text1k, 'range on a gzipped file');
$r = get('/t.txt', 'Range: bytes=0-9');
is($r->{status}, 206, 'range without gzip: 206');
is($r->{body}, substr($text1k, 0, 10), 'range without gzip: the range');

# ---- gzip_vary, gzip_disable, gzip_http_version, gzip_proxied ----

$r = gz('/vary');
is($r->{header}{vary}, 'Accept-Encoding', 'gzip_vary: Vary');
$r = get('/vary');
is($r->{header}{vary}, 'Accept-Encoding', 'gzip_vary: Vary on the uncompressed answer too');
ok(!defined $r->{header}{'content-encoding'}, 'gzip_vary: uncompressed without Accept-Encoding');
ok(!defined gz('/vshort')->{header}{vary}, 'gzip_vary: no Vary when gzip would not apply');
ok(!defined gz('/ret')->{header}{vary}, 'gzip_vary off: no Vary');

not_gzipped(gz('/disable', 'User-Agent: Bot7/1.0'), $ret, 'gzip_disable regex, caseless');
is_gzipped(gz('/disable', 'User-Agent: bot/1.0'), $ret, 'gzip_disable regex not matching');
not_gzipped(gz('/disable', 'User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)'),
    $ret, 'gzip_disable msie6');
is_gzipped(gz('/disable', 'User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)'),
    $ret, 'gzip_disable msie6: SV1 is not disabled');

$r = gz('/ret', { version => '1.0' });
is($r->{status}, 200, 'HTTP/1.0: 200');
not_gzipped($r, $ret, 'gzip_http_version 1.1, HTTP/1.0 request');
is_gzipped(gz('/v10', { version => '1.0' }), $ret, 'gzip_http_version 1.0, HTTP/1.0 request');

not_gzipped(gz('/ret', 'Via: 1.1 proxy'), $ret, 'gzip_proxied off, with Via');
is_gzipped(gz('/px/any', 'Via: 1.1 proxy'), $ret, 'gzip_proxied any, with Via');
is_gzipped(gz('/px/expired', 'Via: 1.1 proxy'), $ret, 'gzip_proxied expired, expired');
not_gzipped(gz('/px/future', 'Via: 1.1 proxy'), $ret, 'gzip_proxied expired, not expired');
is_gzipped(gz('/px/future'), $ret, 'gzip_proxied expired, not expired, no Via');
is_gzipped(gz('/px/nocache', 'Via: 1.1 proxy'), $ret, 'gzip_proxied no-cache');
not_gzipped(gz('/px/auth', 'Via: 1.1 proxy'), $ret, 'gzip_proxied auth, no Authorization');
is_gzipped(gz('/px/auth', 'Via: 1.1 proxy', 'Authorization: Basic eDp5'), $ret,
    'gzip_proxied auth, Authorization');

# ---- proxied ----

is_gzipped(gz('/up/text'), $text1k, 'proxied');
is_gzipped(gz('/up/big'), $big, 'proxied 3 MB');
not_gzipped(gz('/up/png'), $bin, 'proxied image/png');
$r = gz('/up/encoded');
is($r->{header}{'content-encoding'}, 'gzip', 'already encoded: Content-Encoding kept');
ok($r->{body} eq $pregz, 'already encoded: body unchanged');
is($r->{header}{'content-length'}, length $pregz, 'already encoded: Content-Length kept');
not_gzipped(gz('/upmin/short'), 'ten bytes!', 'proxied, length known, below gzip_min_length');
is_gzipped(gz('/upmin/nolen'), 'ten bytes!',
    'proxied, length unknown: gzip_min_length does not apply');

# ---- streaming: each piece decodable before the next is sent ----

{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->port(8080))
        or die "connect: $!";
    syswrite $s, "GET /stream/ HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n"
        . "Connection: close\r\n\r\n";
    my ($inf) = Compress::Raw::Zlib::Inflate->new(-WindowBits => WANT_GZIP);
    my ($raw, $plain, $head, $chunks, $eof) = ('', '', undef, '', 0);
    my $sel = IO::Select->new($s);

    # reads what is there for up to $secs, decodes chunks and inflates
    my $pump = sub {
        my ($want, $secs) = @_;
        my $end = time + $secs;
        while (time < $end && !$eof && $plain ne $want) {
            next unless $sel->can_read(0.1);
            my $n = sysread $s, my $buf, 65536;
            $eof = 1, last unless $n;
            $raw .= $buf;
            if (!defined $head && (my $i = index $raw, "\r\n\r\n") >= 0) {
                $head = substr $raw, 0, $i + 4, '';
            }
            next unless defined $head;
            $chunks .= $raw;
            $raw = '';
            while ($chunks =~ /^([0-9a-f]+)\r\n/i && length($chunks) >= length($1) + 4 + hex $1) {
                my $size = hex $1;
                my $data = substr $chunks, length($1) + 2, $size;
                substr($chunks, 0, length($1) + 4 + $size) = '';
                my $out;
                $inf->inflate($data, $out);
                $plain .= $out // '';
            }
        }
    };

    my $want = '';
    for my $k (1 .. 3) {
        $want .= "piece $k " x 20 . "\n";
        $pump->($want, 5);
        is($plain, $want, "stream: piece $k decoded before the backend sends more");
        $t->write_file("go$k", '');
    }
    $pump->("never", 3);
    ok($eof, 'stream: the response ended');
    like($head // '', qr/Content-Encoding: gzip/, 'stream: compressed');
}

# ---- $gzip_ratio ----

$t->stop;

my $log = $t->read_file('gz.log');
like($log, qr{^/big\.txt 200 (\d+\.\d\d)$}m, '$gzip_ratio logged');
my ($ratio) = $log =~ m{^/big\.txt 200 (\S+)$}m;
ok($ratio && $ratio > 2, "\$gzip_ratio of big.txt is $ratio");
like($log, qr{^/short 200 -$}m, '$gzip_ratio "-" when not compressed');

# ---- config errors, nginx's messages ----

sub conf_error {
    my ($directive, $re, $name) = @_;
    $t->write_file('bad.conf', "events { }\nhttp { server { location / { $directive } } }\n");
    my ($st, $out) = $t->run_cmd('-t', '-p', "$d/", '-c', "$d/bad.conf");
    like($out, $re, $name);
}

conf_error('gzip maybe;', qr/invalid value "maybe" in "gzip" directive, it must be "on" or "off"/,
    'gzip: bad flag');
conf_error('gzip_comp_level 10;', qr/value must be between 1 and 9/, 'gzip_comp_level 10');
conf_error('gzip_comp_level 0;', qr/value must be between 1 and 9/, 'gzip_comp_level 0');
conf_error('gzip_http_version 2.0;', qr/invalid value "2.0"/, 'gzip_http_version 2.0');
conf_error('gzip_proxied bogus;', qr/invalid value "bogus"/, 'gzip_proxied bogus');
conf_error('gzip_buffers 4;', qr/invalid number of arguments in "gzip_buffers" directive/,
    'gzip_buffers one argument');
conf_error('gzip_buffers x 4k;', qr/"gzip_buffers" directive invalid value/, 'gzip_buffers x');
conf_error('gzip_min_length abc;', qr/"gzip_min_length" directive invalid value/,
    'gzip_min_length abc');
conf_error('gzip_disable "(";', qr/pcre2_compile\(\) failed: missing closing parenthesis in "\("/,
    'gzip_disable bad regex');
conf_error('gzip_types text/css text/css;', qr/\[warn\] duplicate MIME type "text\/css"/,
    'gzip_types duplicate');

$t->done_testing;

# A backend that sends a response in three pieces, each only once the test
# created the file goN (it has read the piece before), then closes.
sub streamer {
    my ($port, $dir) = @_;
    my $ls = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
        Listen => 16, ReuseAddr => 1) or die "streamer: $!";
    local $SIG{CHLD} = 'IGNORE';
    while (my $c = $ls->accept) {
        next if fork;
        my $buf = '';
        Portico::Test::Daemon::read_request($c, \$buf);
        syswrite $c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n";
        for my $k (1 .. 3) {
            syswrite $c, "piece $k " x 20 . "\n";
            my $end = time + 10;
            sleep 0.05 while !-e "$dir/go$k" && time < $end;
        }
        exit 0;
    }
}
