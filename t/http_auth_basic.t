#!/usr/bin/perl

# HTTP Basic authentication (auth_basic, auth_basic_user_file) and
# $remote_user, with nginx 1.22's semantics: every password format nginx
# reads (crypt() DES, $1$, $5$, $6$, $y$; $apr1$; {PLAIN}, {SHA}, {SSHA}),
# the user file syntax (comments, blank lines, CRLF, a ":comment" field,
# the first line of a user wins, no final newline), 401 with the realm as
# written, the error log lines and levels, "off" in a nested location,
# variables in the file name, satisfy any / all with allow and deny,
# limit_except, a file edited between requests, a missing file (403), the
# Authorization header parsing (scheme case, strict base64, the first
# colon splits) and the configuration errors.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MIME::Base64 qw(encode_base64);
use Digest::SHA qw(sha1);
use Portico::Test;

my $t = Portico::Test->new->has(qw/http_auth_basic http_access http_rewrite/);

# A password hash from "openssl passwd", or undef when it cannot make one.
sub openssl_passwd {
    my ($opt, $salt, $pw) = @_;
    my $h = `openssl passwd $opt -salt $salt '$pw' 2>/dev/null`;
    return undef unless defined $h && $h =~ /^\$/;
    chomp $h;
    return $h;
}

sub sha_b64 { encode_base64(sha1($_[0]), '') }
sub ssha { my ($pw, $salt) = @_; encode_base64(sha1($pw . $salt) . $salt, '') }

my %hash = (
    des => crypt('despassw', 'ab'),
    md5 => openssl_passwd('-1', 'saltsalt', 'md5-pw'),
    sha256 => openssl_passwd('-5', 'saltsalt', 'sha256-pw'),
    sha512 => openssl_passwd('-6', 'saltsalt', 'sha512-pw'),
    apr1 => openssl_passwd('-apr1', 'abcdefgh', 'apr1-pw'),
    apr1short => openssl_passwd('-apr1', 'ab', 'apr1-short'),
    plain => '{PLAIN}plain-pw',
    sha => '{SHA}' . sha_b64('sha-pw'),
    ssha => '{SSHA}' . ssha('ssha-pw', "s\x00lt\xff"),
    colon => '{SHA}' . sha_b64('a:b:c'),
    empty => '{PLAIN}',
);

# yescrypt where libcrypt knows it (Debian 11 and later)
my $yes = crypt('yes-pw', '$y$j9T$F5Jx5fExrKuPp53xLKQ..1$');
$hash{yescrypt} = $yes if defined $yes && $yes =~ /^\$y\$/;

$t->write_file('htpasswd', join '',
    "# a comment line\n",
    "\n",
    "   \n",
    (map { "$_:$hash{$_}\n" } grep { defined $hash{$_} } sort keys %hash),
    "commented:{PLAIN}cpw:the comment field\n",
    "crlf:{PLAIN}crlf-pw\r\n",
    "#hidden:{PLAIN}hidden-pw\n",
    "dup:{PLAIN}first\n",
    "dup:{PLAIN}second\n",
    "\xc3\xa9t\xc3\xa9:{PLAIN}utf8-pw\n",
    "last:{PLAIN}last-pw");

$t->write_file('ht_one', "one:{PLAIN}one-pw\n");
$t->write_file('ht_two', "two:{PLAIN}two-pw\n");
$t->write_file('changing', "ch:{PLAIN}old-pw\n");

$t->write_file('portico.conf', <<'EOF');
worker_processes 1;
events { }
http {
    log_format auth '$remote_user|$status|$uri';

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        root %%TESTDIR%%/html;
        error_log %%TESTDIR%%/auth.log info;
        access_log %%TESTDIR%%/access.log auth;

        location /a/ {
            auth_basic "Restricted area";
            auth_basic_user_file htpasswd;

            location /a/off/ { auth_basic off; }
        }

        location /q/ {
            auth_basic 'say "hi" there';
            auth_basic_user_file %%TESTDIR%%/htpasswd;
        }

        location /realm_var/ {
            auth_basic "realm of $host";
            auth_basic_user_file htpasswd;
        }

        location /var_off/ {
            auth_basic $arg_realm;
            auth_basic_user_file htpasswd;
        }

        location /file_var/ {
            auth_basic "files";
            auth_basic_user_file ht_$arg_f;
        }

        location /no_file/ { auth_basic "nothing to check against"; }

        location /changing/ {
            auth_basic "changing";
            auth_basic_user_file changing;
        }

        location /missing/ {
            auth_basic "missing";
            auth_basic_user_file does_not_exist;
        }

        location /any/ {
            satisfy any;
            allow 127.0.0.1;
            deny all;
            auth_basic "any";
            auth_basic_user_file htpasswd;
        }

        location /any_deny/ {
            satisfy any;
            deny all;
            auth_basic "any deny";
            auth_basic_user_file htpasswd;
        }

        location /all_deny/ {
            deny all;
            auth_basic "all deny";
            auth_basic_user_file htpasswd;
        }

        location /all_allow/ {
            allow 127.0.0.1;
            deny all;
            auth_basic "all allow";
            auth_basic_user_file htpasswd;
        }

        location /le/ {
            limit_except GET {
                auth_basic "writers";
                auth_basic_user_file htpasswd;
            }
        }

        location /user/ { return 200 "[$remote_user]"; }
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
        root %%TESTDIR%%/html;

        auth_basic "server level";
        auth_basic_user_file htpasswd;

        location / { }
        location /open/ { auth_basic off; }
    }
}
EOF

for my $d (qw/a a\/off q realm_var var_off file_var no_file changing missing any any_deny
    all_deny all_allow le open/)
{
    $t->write_file("html/$d/f", "file $d");
}
$t->write_file('html/f', 'file');

$t->run;

# The raw response to METHOD PATH with an Authorization header (undef:
# none; an array: user and password; a string: the header value).
sub req {
    my ($path, $auth, %o) = @_;
    my $m = $o{method} // 'GET';
    my $h = '';
    if (ref $auth) {
        $h = 'Authorization: Basic ' . encode_base64(join(':', @$auth), '') . "\r\n";
    } elsif (defined $auth) {
        $h = "Authorization: $auth\r\n";
    }
    my $body = $m eq 'POST' ? "Content-Length: 0\r\n" : '';
    return http("$m $path HTTP/1.1\r\nHost: localhost\r\n$h$body"
        . "Connection: close\r\n\r\n", %o) // '';
}

sub status { http_status(req(@_)) // 'none' }

sub log_has {
    my ($file, $re) = @_;
    for (1 .. 20) {
        return 1 if ($t->read_file($file) // '') =~ $re;
        select undef, undef, undef, 0.05;
    }
    return 0;
}

###############################################################################
# the password formats

my %pw = (des => 'despassw', md5 => 'md5-pw', sha256 => 'sha256-pw', sha512 => 'sha512-pw',
    apr1 => 'apr1-pw', apr1short => 'apr1-short', plain => 'plain-pw', sha => 'sha-pw',
    ssha => 'ssha-pw', yescrypt => 'yes-pw');

for my $u (sort keys %pw) {
    SKIP: {
        skip "no $u hash here", 2 unless defined $hash{$u};
        is(status('/a/f', [$u, $pw{$u}]), 200, "$u: the right password");
        is(status('/a/f', [$u, 'x' . $pw{$u}]), 401, "$u: a wrong password");
    }
}

is(status('/a/f', ['des', 'despassword']), 200,
    'DES crypt() reads 8 characters of the password (as nginx)');
is(status('/a/f', ['colon', 'a:b:c']), 200, 'the first colon splits: the password has colons');
is(status('/a/f', ['empty', '']), 200, 'an empty password');
is(status('/a/f', ['empty', 'x']), 401, 'an empty password: another is wrong');
is(status('/a/f', ['ssha', 'ssha-px']), 401, '{SSHA}: a wrong password');

###############################################################################
# the user file

is(status('/a/f', ['commented', 'cpw']), 200, 'a ":comment" after the hash');
is(status('/a/f', ['crlf', 'crlf-pw']), 200, 'a CRLF line');
is(status('/a/f', ['#hidden', 'hidden-pw']), 401, 'a "#" line is a comment');
is(status('/a/f', ['dup', 'first']), 200, 'a user twice: the first line wins');
is(status('/a/f', ['dup', 'second']), 401, 'a user twice: the second line is not read');
is(status('/a/f', ["\xc3\xa9t\xc3\xa9", 'utf8-pw']), 200, 'a UTF-8 user name');
is(status('/a/f', ['last', 'last-pw']), 200, 'the last line, without a newline');
is(status('/a/f', ['las', 'last-pw']), 401, 'a prefix of a user name is another user');
is(status('/a/f', ['lastx', 'last-pw']), 401, 'a longer user name is another user');

###############################################################################
# the 401 and the log lines

{
    my $raw = req('/a/f');
    is(http_status($raw), 401, 'no credentials: 401');
    is(http_header($raw, 'WWW-Authenticate'), 'Basic realm="Restricted area"',
        'WWW-Authenticate: Basic realm="..."');
    like(http_body($raw), qr{<title>401 Authorization Required</title>}, 'the built-in 401 page');

    ok(log_has('auth.log', qr{\[info\] \d+#\d+: \*\d+ no user/password was provided for basic }
        . qr{authentication, client: 127\.0\.0\.1, server: localhost, request: "GET /a/f }),
        'info: no user/password was provided for basic authentication');

    $raw = req('/a/f', ['nobody', 'x']);
    is(http_status($raw), 401, 'unknown user: 401');
    is(http_header($raw, 'WWW-Authenticate'), 'Basic realm="Restricted area"',
        'unknown user: the challenge');
    my $file = $t->path('htpasswd');
    ok(log_has('auth.log', qr{\[error\] .*user "nobody" was not found in "\Q$file\E", client: }), 'error: user "x" was not found in "FILE" (absolute)');

    $raw = req('/a/f', ['plain', 'wrong']);
    is(http_status($raw), 401, 'wrong password: 401');
    ok(log_has('auth.log', qr{\[error\] .*user "plain": password mismatch, client: 127\.0\.0\.1}),
        'error: user "x": password mismatch');
}

is(http_header(req('/q/f'), 'WWW-Authenticate'), 'Basic realm="say "hi" there"',
    'a realm with quotes is put as written (as nginx)');
is(http_header(req('/realm_var/f'), 'WWW-Authenticate'), 'Basic realm="realm of localhost"',
    'a realm with variables');

###############################################################################
# off, variables, levels

is(status('/a/off/f'), 200, 'auth_basic off in a nested location');
is(status('/var_off/f?realm=off'), 200, 'a realm that evaluates to "off" turns it off');
is(status('/var_off/f?realm=on'), 401, 'a realm from a variable');
is(status('/no_file/f'), 200, 'auth_basic without a user file: no check (as nginx)');
is(status('/f', undef, port => $t->port(8081)), 401, 'server level');
is(status('/f', ['plain', 'plain-pw'], port => $t->port(8081)), 200,
    'server level, with credentials');
is(status('/open/f', undef, port => $t->port(8081)), 200, 'server level, off in a location');

is(status('/file_var/f?f=one', ['one', 'one-pw']), 200, 'variables in the file name: one');
is(status('/file_var/f?f=two', ['two', 'two-pw']), 200, 'variables in the file name: two');
is(status('/file_var/f?f=two', ['one', 'one-pw']), 401, 'variables in the file name: not there');

###############################################################################
# the file is read per request

is(status('/changing/f', ['ch', 'old-pw']), 200, 'before the edit: the old password');
$t->write_file('changing', "# edited\nch:{PLAIN}new-pw\nother:{PLAIN}o\n");
is(status('/changing/f', ['ch', 'old-pw']), 401, 'after the edit: the old password fails');
is(status('/changing/f', ['ch', 'new-pw']), 200, 'after the edit: the new password');
is(status('/changing/f', ['other', 'o']), 200, 'after the edit: a new user');
rename $t->path('ht_one'), $t->path('changing.new');
$t->write_file('changing.new', "ch:{PLAIN}renamed-pw\n");
rename $t->path('changing.new'), $t->path('changing');
is(status('/changing/f', ['ch', 'renamed-pw']), 200, 'a file renamed over it');

###############################################################################
# a missing file: 403, as nginx

{
    is(status('/missing/f', ['plain', 'plain-pw']), 403, 'a missing user file: 403');
    is(status('/missing/f'), 401, 'a missing user file, no credentials: 401 first');
    my $file = $t->path('does_not_exist');
    ok(log_has('auth.log', qr{\[error\] .*open\(\) "\Q$file\E" failed \(2: No such file}),
        'error: open() "FILE" failed (relative to the configuration directory)');
}

###############################################################################
# satisfy, allow and deny

is(status('/any/f'), 200, 'satisfy any: allow 127.0.0.1 admits without credentials');
is(status('/any/f', ['plain', 'wrong']), 200, 'satisfy any: allowed despite a wrong password');
is(status('/any_deny/f'), 401, 'satisfy any, deny all: 401 (over the 403)');
is(http_header(req('/any_deny/f'), 'WWW-Authenticate'), 'Basic realm="any deny"',
    'satisfy any, deny all: the challenge');
is(status('/any_deny/f', ['plain', 'plain-pw']), 200, 'satisfy any, deny all: the password admits');
is(status('/all_deny/f', ['plain', 'plain-pw']), 403, 'satisfy all, deny all: 403 with a password');
is(status('/all_allow/f'), 401, 'satisfy all, allowed address: the password is still asked');
is(status('/all_allow/f', ['plain', 'plain-pw']), 200, 'satisfy all: both pass');

###############################################################################
# limit_except

is(status('/le/f'), 200, 'limit_except GET: GET without credentials');
is(status('/le/f', undef, method => 'POST'), 401, 'limit_except GET: POST asks');
is(status('/le/f', ['plain', 'plain-pw'], method => 'POST'), 405,
    'limit_except GET: POST with credentials reaches the static 405');

###############################################################################
# the Authorization header and $remote_user

my $u1 = encode_base64('u1:pw', '');    # dTE6cHc=

my @hdr = (
    ["Basic $u1", '[u1]', 'Basic'],
    ["bAsIc $u1", '[u1]', 'the scheme without case'],
    ["Basic    $u1", '[u1]', 'spaces after the scheme'],
    ['Basic dTE6cHc', '[u1]', 'base64 without padding (as nginx)'],
    ['Basic ' . encode_base64('a:b:c', ''), '[a]', 'the user ends at the first colon'],
    ['Basic ' . encode_base64('ab:', ''), '[ab]', 'an empty password'],
    ["Basic ${u1}x", '[]', 'bytes after the padding: malformed'],
    ['Basic dTE6cHc==', '[]', 'too much padding: malformed'],
    ['Basic dTE6c=Hc=', '[]', 'padding inside: malformed'],
    ['Basic dTE6cH!c', '[]', 'a character outside base64: malformed'],
    ['Basic dTE6c', '[]', 'a lone final base64 character: malformed'],
    ['Basic ' . encode_base64('nocolon', ''), '[]', 'no colon: no user'],
    ['Basic ' . encode_base64(':pw', ''), '[]', 'an empty user: no user'],
    ['Basic', '[]', 'the scheme alone'],
    ['Basic ', '[]', 'the scheme and a space'],
    ["Bearer $u1", '[]', 'another scheme'],
    ["Basicx $u1", '[]', 'a longer scheme name'],
    ["Digest username=\"u1\"", '[]', 'Digest'],
);

for my $h (@hdr) {
    is(http_body(req('/user/', $h->[0])), $h->[1], "\$remote_user: $h->[2]");
}
is(http_body(req('/user/')), '[]', '$remote_user: no header');

is(status('/a/f', "Basic " . encode_base64('plain:plain-pw', '') . "x"), 401,
    'malformed base64: 401');
is(status('/a/f', "basic " . encode_base64('plain:plain-pw', '')), 200,
    'the scheme without case: 200');
is(status('/a/f', "Bearer " . encode_base64('plain:plain-pw', '')), 401, 'another scheme: 401');
is(status('/a/f', "Basic " . encode_base64('plain', '')), 401, 'no colon: 401');
{
    my $raw = http("GET /a/f HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic $u1\r\n"
        . "Authorization: Basic $u1\r\nConnection: close\r\n\r\n");
    is(http_status($raw), 400, 'two Authorization headers: 400');
}

# the access log
select undef, undef, undef, 0.2;
{
    my $log = $t->read_file('access.log') // '';
    like($log, qr{^plain\|200\|/a/f$}m, 'access log: $remote_user of an admitted request');
    like($log, qr{^nobody\|401\|/a/f$}m, 'access log: $remote_user of a refused request');
    like($log, qr{^-\|401\|/a/f$}m, 'access log: "-" without credentials');
}

###############################################################################
# configuration errors

sub conf_test {
    my ($body) = @_;
    $t->write_file('bad.conf', <<"EOF");
events { }
http { server { listen 127.0.0.1:%%PORT_8085%%; $body } }
EOF
    my ($st, $out) = $t->run_cmd('-t', '-p', $t->testdir . '/', '-c', $t->path('bad.conf'));
    return ($st, $out // '');
}

my @bad = (
    ['auth_basic;', qr/invalid number of arguments in "auth_basic" directive/],
    ['auth_basic a b;', qr/invalid number of arguments in "auth_basic" directive/],
    ['auth_basic_user_file;', qr/invalid number of arguments in "auth_basic_user_file" directive/],
    ['auth_basic a; auth_basic b;', qr/"auth_basic" directive is duplicate/],
    ['auth_basic_user_file a; auth_basic_user_file b;',
        qr/"auth_basic_user_file" directive is duplicate/],
    ['location / { if ($uri) { auth_basic a; } }', qr/"auth_basic" directive is not allowed here/],
    ['auth_basic $no_such_variable;', qr/unknown "no_such_variable" variable/],
    ['auth_basic_user_file /x/$no_such_variable;', qr/unknown "no_such_variable" variable/],
);

for my $b (@bad) {
    my ($st, $out) = conf_test($b->[0]);
    ok($st && $out =~ $b->[1], "-t fails: $b->[0]") or diag $out;
}

{
    my ($st, $out) = conf_test('auth_basic off; auth_basic_user_file /nonexistent; '
        . 'location / { limit_except GET { auth_basic x; auth_basic_user_file y; } }');
    ok(defined $st && $st == 0, '-t passes: a missing file is no configuration error')
        or diag $out;
}

$t->done_testing;
