#!/usr/bin/perl

# make install lays out sbin/, conf/ (never overwriting an operator's
# portico.conf), logs/ and the man pages under DESTDIR+PREFIX; make upgrade
# replaces the running master with the installed binary without a gap.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Time::HiRes qw(sleep time);

my $t = Portico::Test->new->has(qw/http_rewrite/);
my $repo = $t->repo;
my $mk = "$repo/objs/Makefile";

plan(skip_all => 'no objs/Makefile (run ./configure)') unless -f $mk;
plan(skip_all => 'make is missing') unless system('make --version >/dev/null 2>&1') == 0;

my $dir = $t->testdir;
my $root = "$dir/root";

# "-o build": the binary is already built; never relink during the test.
sub make {
    my (@args) = @_;
    my $out = `cd '$repo' && make -s -f objs/Makefile -o build @args 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = make('install', "DESTDIR=$root");
is($rc, 0, 'make install succeeds') or diag($out);

my ($prefix) = `grep '^PREFIX =' '$mk'` =~ /^PREFIX =\s*(\S+)/;
my $p = "$root$prefix";
$p =~ s{/$}{};

ok(-x "$p/sbin/portico", 'sbin/portico installed');
ok(-f "$p/conf/portico.conf" && -f "$p/conf/portico.conf.default", 'conf/portico.conf and .default');
ok(-f "$p/conf/mime.types", 'conf/mime.types');
ok(-d "$p/logs", 'logs/ created');
ok(-f "$p/man/man8/portico.8" && -f "$p/man/man5/portico.conf.5", 'man pages installed');

open my $fh, '>>', "$p/conf/portico.conf" or die;
print $fh "# operator's edit\n";
close $fh;

($rc, $out) = make('install', "DESTDIR=$root");
is($rc, 0, 'a second make install succeeds') or diag($out);
like($t->read_file("$p/conf/portico.conf") // '', qr/# operator's edit/,
     'an existing portico.conf is kept');
unlike($t->read_file("$p/conf/portico.conf.default") // '', qr/# operator's edit/,
       'the new one goes to portico.conf.default');

# make upgrade against a running instance (its pid file given explicitly).
$t->write_file('portico.conf', <<'EOF2');
worker_processes 1;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { return 200 "up"; }
    }
}
EOF2

$t->run;
my $old = $t->master_pid;

($rc, $out) = make('upgrade', "PID_PATH=$dir/portico.pid");
is($rc, 0, 'make upgrade succeeds') or diag($out);

ok($t->wait_exit($old, 10), 'the old master exits');
my $new = $t->master_pid;
ok($new && $new != $old, 'a new master owns the pid file');
like(http_get('/') // '', qr/up$/, 'the new master serves');

$t->done_testing;
