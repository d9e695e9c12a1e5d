#!/usr/bin/perl

# Reload (SIGHUP) under keepalive load: ten reloads, each changing the
# response, must not cost a single failed request; a reload with a broken
# config logs [emerg] and leaves the old config serving.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Time::HiRes qw(time sleep);

my $t = Portico::Test->new->has(qw/http_rewrite/)->has_daemon('wrk');

my $conf = <<'EOF2';
worker_processes 2;
events {
    worker_connections 1024;
}
http {
    keepalive_timeout 60s;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { return 200 "vN"; }
    }
}
EOF2

sub conf { my ($v) = @_; (my $c = $conf) =~ s/"vN"/"$v"/; return $c }

# polls until GET / answers $want (bounded); returns the last body
sub wait_body {
    my ($want, $timeout) = @_;
    my $deadline = time + ($timeout // 5);
    my $b;
    while (time < $deadline) {
        $b = http_body(http_get('/', timeout => 2)) // '';
        return $b if $b eq $want;
        sleep 0.02;
    }
    return $b;
}

$t->write_file('portico.conf', conf('v0'));
$t->run;
$t->plan(12);

is(wait_body('v0'), 'v0', 'serving v0');

my $wrk = $t->wrk_start(connections => 32, threads => 2, duration => 300);

my (@no_swap, @no_body);
for my $i (1 .. 10) {
    my @before = $t->worker_pids;
    $t->write_file('portico.conf', conf("v$i"));
    my @new = $t->reload(timeout => 10);
    push @no_swap, $i unless @new == 2 && !grep { my $n = $_; grep { $_ == $n } @before } @new;
    my $b = wait_body("v$i");
    push @no_body, "$i ($b)" unless $b eq "v$i";
}
is("@no_swap", '', '10 reloads: each replaced both workers');
is("@no_body", '', '10 reloads: each new body served');

my $out = $t->wrk_finish($wrk);
my $w = wrk_parse($out);
ok(($w->{requests} // 0) > 1000, 'wrk made requests: ' . ($w->{requests} // 'none'))
    or diag($out);
is_deeply({ map { $_ => $w->{$_} } qw/connect read write timeout/ },
    { connect => 0, read => 0, write => 0, timeout => 0 }, 'wrk: no socket errors')
    or diag($out);
is($w->{non2xx3xx}, 0, 'wrk: no non-2xx/3xx responses') or diag($out);

# a broken config: [emerg] logged, old config and workers keep serving

my $bad = conf('broken');
$bad =~ s/(    keepalive_timeout 60s;\n)/$1    bogus_directive on;\n/;
my @bl = split /\n/, $bad;
my ($line) = grep { $bl[$_ - 1] =~ /bogus_directive/ } 1 .. @bl;
$t->expect_errors(qr/unknown directive "bogus_directive"/);

my @before = sort { $a <=> $b } $t->worker_pids;
my $master = $t->master_pid;
$t->write_file('portico.conf', $bad);
$t->signal('HUP');

my $dir = $t->testdir;
my $found;
for (1 .. 250) {
    last if $found = ($t->read_file('error.log') // '') =~
        /\[emerg\] .*unknown directive "bogus_directive" in \Q$dir\E\/portico\.conf:$line$/m;
    sleep 0.02;
}
ok($found, "broken reload: [emerg] unknown directive with portico.conf:$line");

sleep 0.5;
is(http_body(http_get('/')), 'v10', 'broken reload: old config still serves');
is_deeply([sort { $a <=> $b } $t->worker_pids], \@before, 'broken reload: old workers kept');
is($t->master_pid, $master, 'broken reload: same master');

# and a good reload after that works again

$t->write_file('portico.conf', conf('v11'));
my @new = $t->reload;
is(scalar @new, 2, 'reload after the broken one replaced the workers');
is(wait_body('v11'), 'v11', 'reload after the broken one: new body');
