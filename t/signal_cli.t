#!/usr/bin/perl

# -s stop|quit|reopen|reload: the command line signals the master named in
# the pid file of the configuration, as nginx does.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Time::HiRes qw(sleep time);

my $t = Portico::Test->new->has(qw/http_rewrite/);

my $conf = <<'EOF2';
events { }
http {
    access_log %%TESTDIR%%/access.log;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { return 200 "BODY"; }
    }
}
EOF2

(my $v1 = $conf) =~ s/BODY/one/;
(my $v2 = $conf) =~ s/BODY/two/;
$t->write_file('portico.conf', $v1);
$t->run;
$t->plan(11);

my $dir = $t->testdir;
my @args = ('-p', "$dir/", '-c', "$dir/portico.conf", '-g', "pid $dir/portico.pid;");

like(http_get('/'), qr/one$/, 'first config');

sub wait_body {
    my ($want) = @_;
    my $deadline = time + 5;
    while (time < $deadline) {
        return 1 if (http_get('/') // '') =~ /\Q$want\E$/;
        sleep 0.05;
    }
    return 0;
}

$t->write_file('portico.conf', $v2);
my ($rc, $out) = $t->run_cmd(@args, '-s', 'reload');
is($rc, 0, '-s reload exits 0') or diag($out);
ok(wait_body('two'), '-s reload made the master read the new config');

rename "$dir/access.log", "$dir/access.log.old";
($rc, $out) = $t->run_cmd(@args, '-s', 'reopen');
is($rc, 0, '-s reopen exits 0') or diag($out);
my $deadline = time + 5;
while (time < $deadline && !-e "$dir/access.log") {
    http_get('/');
    sleep 0.05;
}
ok(-e "$dir/access.log", '-s reopen made a new access log');

($rc, $out) = $t->run_cmd('-p', "$dir/", '-c', "$dir/portico.conf",
                          '-g', "pid $dir/nothere.pid;", '-s', 'reload');
is($rc, 1, '-s with a missing pid file exits 1');
like($out, qr/\[error\] .*open\(\) "\Q$dir\E\/nothere\.pid" failed \(2: No such file or directory\)/,
     'and names the pid file');

($rc, $out) = $t->run_cmd(@args, '-s', 'bogus');
is($rc, 1, '-s with an unknown signal exits 1');
like($out, qr/invalid option: "-s bogus"/, 'and says so');

my $master = $t->master_pid;
($rc, $out) = $t->run_cmd(@args, '-s', 'quit');
is($rc, 0, '-s quit exits 0') or diag($out);
ok($t->wait_exit($master, 5), 'the master exits after -s quit');
