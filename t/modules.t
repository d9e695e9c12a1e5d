#!/usr/bin/perl

# Binary side of the module list: -V names the compiled-in modules, and
# the behaviour agrees with it (with http_rewrite, "return" works; without
# it, "return" is an unknown directive).  Also -v, -h, -?, --help and a
# bad option.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;

my $t = Portico::Test->new;
my $dir = $t->testdir;

$t->write_file('portico.conf', <<'EOF2');
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / {
            return 200 "rewrite works";
        }
    }
}
EOF2

$t->plan(20);

# -V

my ($st, $out, $err) = $t->run_cmd3('-V');
is($st, 0, '-V exit status 0');
is($out, '', '-V prints nothing on stdout');
like($err, qr{\Aportico version: portico/0\.1\.0\n}, '-V first line is the version');
like($err, qr/^built by gcc /m, '-V compiler line');
like($err, qr/^built with OpenSSL \S+.* \(running with OpenSSL \S+.*\)$/m,
    '-V OpenSSL line');
like($err, qr/^configure arguments:.*$/m, '-V configure arguments line');
my ($last) = $err =~ /([^\n]*)\n?\z/;
like($last, qr/^modules: /, '-V last line is the module list');

my @mods = $t->modules;
ok(@mods && !grep(!/^pt_\w+_module$/, @mods), 'every module is named pt_*_module')
    or diag("modules: @mods");
my %seen;
is(join(' ', grep { $seen{$_}++ } @mods), '', 'no module listed twice');
ok((grep { $_ eq 'pt_core_module' } @mods) && (grep { $_ eq 'pt_errlog_module' } @mods),
    'core and errlog modules listed');
is($mods[0], 'pt_core_module', 'core module comes first');

# the list and the behaviour agree

my $rewrite = $t->has_module('http_rewrite');
if ($rewrite) {
    ok(1, 'pt_http_rewrite_module listed');
    ($st, $out) = $t->run_cmd('-t', '-p', "$dir/", '-c', "$dir/portico.conf",
        '-e', "$dir/cmd.log");
    is($st, 0, 'config with "return" passes -t');
    $t->run;
    my $r = http_get('/');
    is(http_status($r), 200, 'return: status');
    is(http_body($r), 'rewrite works', 'return: body');
    $t->stop;
} else {
    ok(1, 'pt_http_rewrite_module not listed');
    ($st, $out) = $t->run_cmd('-t', '-p', "$dir/", '-c', "$dir/portico.conf",
        '-e', "$dir/cmd.log");
    is($st, 1, 'config with "return" fails -t');
    like($out, qr/^portico: \[emerg\] unknown directive "return" in \Q$dir\E\/portico\.conf:6$/m,
        'return is an unknown directive');
    ok(!$t->wait_for_port($t->port(8080), 0.1), 'nothing listens');
}

# -v

($st, $out, $err) = $t->run_cmd3('-v');
is($st, 0, '-v exit status 0');
is($err, "portico version: portico/0.1.0\n", '-v prints the version only');

# -h, -?, --help

($st, $out, $err) = $t->run_cmd3('-h');
my $usage = $out . $err;
ok($st == 0
    && $usage =~ m{^portico version: portico/0\.1\.0$}m
    && $usage =~ /^Usage: portico \[-\?hvVtTq\] \[-s signal\] \[-p prefix\]$/m
    && !grep({ $usage !~ /^\s+-$_\b.*:/m } qw/v V t T q s p e c g/),
    '-h prints the usage with every option') or diag($usage);

my @same = map { my @r = $t->run_cmd3($_); "$r[0]|$r[1]|$r[2]" } '-?', '--help';
is_deeply(\@same, ["0|$out|$err", "0|$out|$err"], '-? and --help print the same as -h');

# a bad option

($st, $out) = $t->run_cmd('-Z');
ok($st == 1 && $out =~ /^portico: invalid option: "Z"$/m, 'unknown option: error, status 1')
    or diag("status $st: $out");
