#!/usr/bin/perl

# Configuration testing: -t, -T and -q on good and bad configs, errors
# with nginx's exact messages and file:line, includes with globs resolved
# against the config file's directory, quoted strings with escapes, and
# -g directives.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;

my $t = Portico::Test->new;
my $dir = $t->testdir;

# 1-based number of the first line of $text containing $needle.
sub line_of {
    my ($text, $needle) = @_;
    my @l = split /\n/, $text;
    for my $i (0 .. $#l) { return $i + 1 if index($l[$i], $needle) >= 0 }
    die "\"$needle\" not in config";
}

# Line number the parser is on at end of file (one past the last newline).
sub eof_line { my ($text) = @_; return ($text =~ tr/\n//) + 1 }

# Runs "-t" (plus other flags, or -T instead) on a config:
# (status, stdout, stderr).
sub conf_test {
    my ($conf, @flags) = @_;
    push @flags, '-t' unless grep { $_ eq '-t' || $_ eq '-T' } @flags;
    return $t->run_cmd3(@flags, '-p', "$dir/", '-c', $t->path($conf),
        '-e', "$dir/cmd.log");
}

my $n_bad = 0;

# Checks that -t fails with exactly this error line and status 1 (2 tests).
sub fails_with {
    my ($conf, $msg, $desc, @flags) = @_;
    my ($st, $out, $err) = conf_test($conf, @flags);
    my $file = $t->path($conf);
    ok($err =~ /^\Q$msg\E$/m, "$desc: message")
        or diag("expected: $msg\ngot stderr:\n$err");
    ok($st == 1 && $err =~ /^portico: configuration file \Q$file\E test failed$/m,
        "$desc: status 1, test failed") or diag("status: $st\n$err");
}

###############################################################################
# a good config: include glob relative to the config's folder, quoted tokens

my $good = <<'EOF2';
# a comment; with "quotes" and { braces }
"worker_processes" '2';
worker_rlimit_nofile 1024;

events {
    worker_connections 64;
}

include conf.d/*.conf;
EOF2
$t->write_file('conf/good.conf', $good);

my $inc_a = "worker_shutdown_timeout 10s;\n";
my $inc_b = "http {\n    default_type \"text/plain\";\n}\n";
$t->write_file('conf/conf.d/a.conf', $inc_a);
$t->write_file('conf/conf.d/b.conf', $inc_b);
$t->write_file('conf/conf.d/readme.txt', "not a config;\n");
# a decoy where a prefix-relative include would look
$t->write_file('conf.d/decoy.conf', "decoy_directive on;\n");

my $gf = "$dir/conf/good.conf";

$t->plan(48);

my ($st, $out, $err) = conf_test('conf/good.conf');
is($st, 0, '-t good: status 0');
is($out, '', '-t good: nothing on stdout');
is($err, "portico: the configuration file $gf syntax is ok\n"
    . "portico: configuration file $gf test is successful\n",
    '-t good: syntax ok, test is successful');

($st, $out, $err) = conf_test('conf/good.conf', '-t', '-q');
is($st, 0, '-t -q good: status 0');
is($out . $err, '', '-t -q good: no output at all');

# -T dumps every file read, main first, then includes in glob order

($st, $out, $err) = conf_test('conf/good.conf', '-T');
is($st, 0, '-T good: status 0');
like($err, qr/^portico: configuration file \Q$gf\E test is successful$/m,
    '-T good: success message on stderr');
my @heads = $out =~ /^# configuration file (.*):$/mg;
is_deeply(\@heads, [$gf, "$dir/conf/conf.d/a.conf", "$dir/conf/conf.d/b.conf"],
    '-T: one header per file read, in order');
my @parts = split /^# configuration file .*:\n/m, $out;
shift @parts;
s/\n*\z/\n/ for @parts;
is_deeply(\@parts, [$good, $inc_a, $inc_b], '-T: each file\'s text follows its header');

###############################################################################
# errors, each with its file:line

my $c;

$c = "events { }\n\nfoo bar;\n";
$t->write_file('unknown.conf', $c);
fails_with('unknown.conf',
    "portico: [emerg] unknown directive \"foo\" in $dir/unknown.conf:" . line_of($c, 'foo'),
    'unknown directive');

$c = "events { }\nhttp {\n    server {\n        listen 127.0.0.1:%%PORT_8080%%;\n"
    . "        bar_baz 1;\n    }\n}\n";
$t->write_file('unknown2.conf', $c);
fails_with('unknown2.conf',
    "portico: [emerg] unknown directive \"bar_baz\" in $dir/unknown2.conf:" . line_of($c, 'bar_baz'),
    'unknown directive inside a server block');

$c = "events { }\nlisten 127.0.0.1:%%PORT_8080%%;\n";
$t->write_file('context.conf', $c);
fails_with('context.conf',
    "portico: [emerg] \"listen\" directive is not allowed here in $dir/context.conf:"
    . line_of($c, 'listen'), 'listen in the main context');

$c = "events {\n    worker_processes 2;\n}\n";
$t->write_file('context2.conf', $c);
fails_with('context2.conf',
    "portico: [emerg] \"worker_processes\" directive is not allowed here in $dir/context2.conf:"
    . line_of($c, 'worker_processes'), 'worker_processes in events');

$c = "events { }\n\n\nworker_processes 1 2;\n";
$t->write_file('args.conf', $c);
fails_with('args.conf',
    "portico: [emerg] invalid number of arguments in \"worker_processes\" directive in "
    . "$dir/args.conf:" . line_of($c, 'worker_processes'), 'too many arguments');

$c = "events {\n    worker_connections;\n}\n";
$t->write_file('args2.conf', $c);
fails_with('args2.conf',
    "portico: [emerg] invalid number of arguments in \"worker_connections\" directive in "
    . "$dir/args2.conf:" . line_of($c, 'worker_connections'), 'missing argument');

$c = "events { }\n\ninclude missing.conf;\n";
$t->write_file('include.conf', $c);
fails_with('include.conf',
    "portico: [emerg] open() \"$dir/missing.conf\" failed (2: No such file or directory) in "
    . "$dir/include.conf:" . line_of($c, 'include'), 'missing include file');

$c = "worker_processes 1;\nevents {\n    worker_connections 64;\n";
$t->write_file('block.conf', $c);
fails_with('block.conf',
    "portico: [emerg] unexpected end of file, expecting \"}\" in $dir/block.conf:"
    . eof_line($c), 'unterminated block');

$c = "events { }\nerror_log \"abc;\n\n";
$t->write_file('quote.conf', $c);
fails_with('quote.conf',
    "portico: [emerg] unexpected end of file, expecting \";\" or \"}\" in $dir/quote.conf:"
    . eof_line($c), 'unterminated quote');

$c = "events { }\n\"fo\\\"o\" 1;\n";
$t->write_file('escape.conf', $c);
fails_with('escape.conf',
    "portico: [emerg] unknown directive \"fo\"o\" in $dir/escape.conf:2",
    'escaped quote inside a quoted directive name');

# an error inside a file included by a glob names that file and its line

$t->write_file('bad_inc/main.conf', "events { }\ninclude inc/*.conf;\n");
$t->write_file('bad_inc/inc/1.conf', "worker_rlimit_nofile 512;\n");
$t->write_file('bad_inc/inc/2.conf', "\n# two\nworker_shutdown_timeout 1s;\nno_such_thing;\n");
fails_with('bad_inc/main.conf',
    "portico: [emerg] unknown directive \"no_such_thing\" in $dir/bad_inc/inc/2.conf:4",
    'error in an included file');

# a glob that matches nothing is not an error

$t->write_file('noglob.conf', "events { }\ninclude nothing/*.conf;\n");
($st) = conf_test('noglob.conf');
is($st, 0, 'include glob matching no file is fine');

# the main config itself missing

($st, $out, $err) = conf_test('nope.conf');
ok($st == 1 && $err =~ /^portico: \[emerg\] open\(\) "\Q$dir\E\/nope\.conf" failed \(2: No such file or directory\)$/m,
    'missing main config file') or diag("status $st: $err");

# -q still prints errors

($st, $out, $err) = conf_test('unknown.conf', '-q');
ok($st == 1 && $err =~ /^portico: \[emerg\] unknown directive "foo" in /m, '-t -q bad: error printed')
    or diag("status $st: $err");

# -T on a bad config dumps nothing

($st, $out, $err) = conf_test('unknown.conf', '-T');
is($st, 1, '-T bad: status 1');
is($out, '', '-T bad: nothing dumped');

###############################################################################
# -g

$t->write_file('g.conf', "events { }\n\nworker_processes 1;\n");
$t->write_file('g2.conf', "events { }\n");

($st, $out, $err) = conf_test('g2.conf', '-g', 'worker_processes 2;');
is($st, 0, '-g good: status 0');

fails_with('g2.conf', 'portico: [emerg] unknown directive "foo" in command line',
    '-g unknown directive', '-g', 'foo 1;');
fails_with('g2.conf', 'portico: [emerg] unexpected end of parameter, expecting ";" in command line',
    '-g missing semicolon', '-g', 'worker_processes 2');
fails_with('g2.conf', 'portico: [emerg] "listen" directive is not allowed here in command line',
    '-g directive of another context', '-g', 'listen 80;');
fails_with('g.conf',
    "portico: [emerg] \"worker_processes\" directive is duplicate in $dir/g.conf:3",
    '-g duplicate of a config directive', '-g', 'worker_processes 2;');

# -g takes effect in the main context of a running instance

$t->write_file('portico.conf', <<'EOF2');
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location /d { return 200 "a\"b\\c\td\x\n"; }
        location /s { return 200 'it\'s "x"'; }
    }
}
EOF2

SKIP: {
    skip 'no http_rewrite', 3 unless $t->has_module('http_rewrite');

    $t->run(globals => "daemon off; pid $dir/portico.pid; worker_processes 3;");
    my @w = $t->wait_workers(3, 5);
    is(scalar @w, 3, '-g "worker_processes 3" gives 3 workers');

    is(http_body(http_get('/d')), "a\"b\\c\td\\x\n",
        'double quotes: \\" \\\\ \\t \\n unescaped, other \\x kept');
    is(http_body(http_get('/s')), "it's \"x\"", 'single quotes: \\\' unescaped');
    $t->stop;
}
