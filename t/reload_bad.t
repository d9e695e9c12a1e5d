#!/usr/bin/perl

# A reload with a broken config never takes down a running server: with a
# config that includes itself, one nesting blocks 100000 deep, one that
# includes a FIFO, one listening on a port in use (fine for -t, fails when
# applied), and thirty times a randomly mutated config (t/lib/Portico/ConfFuzz.pm) that
# "portico -t" rejects is written and the master gets HUP; after each, the
# master logs that the reconfiguration failed, stays the same process, keeps
# its workers, and requests are served by the old config.  Then the good
# config, changed, is restored and a last HUP applies it.
#
# The random seed is TEST_PORTICO_RELOAD_FUZZ_SEED (fixed by default, so a
# failure reproduces); a failure prints the seed, the mutations and the
# config.  Run it with an ASan+UBSan binary (TEST_PORTICO_BINARY) too: the
# master parses every broken config itself.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);
use Portico::Test;
use Portico::ConfFuzz;

my $t = Portico::Test->new->has(qw/http_rewrite/);
my $dir = $t->testdir;

my $SEED = $ENV{TEST_PORTICO_RELOAD_FUZZ_SEED} // 4242;
my $ROUNDS = 30;

$ENV{ASAN_OPTIONS} //= 'detect_leaks=0';

my $good = <<'EOF';
worker_processes 2;
error_log %%TESTDIR%%/error.log notice;
events {
    worker_connections 128;
}
http {
    default_type text/plain;
    log_format short '$uri $status';
    access_log %%TESTDIR%%/access.log short;
    keepalive_timeout 30s;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        root %%TESTDIR%%/html;
        index index.html;
        location / { return 200 "BODY"; }
        location /static/ { add_header X-Static yes; expires 1h; }
        location /rw/ { rewrite ^/rw/(.*)$ /new/$1 last; }
        location /new/ {
            set $v "n-$1";
            if ($arg_x ~ ^(\d+)$) { return 200 "new x=$1"; }
            return 200 "new $uri";
        }
        location ~ ^/cap/(?<name>\w+)$ { return 200 "cap $name"; }
        location = /exact { error_page 404 = @named; return 404; }
        location @named { return 200 "named"; }
    }
}
EOF

sub good { my ($b) = @_; (my $c = $good) =~ s/"BODY"/"$b"/; return $t->expand($c) }

mkdir "$dir/html";
mkdir "$dir/html/static";
$t->write_file('html/static/a.txt', "static a\n");

$t->write_file('portico.conf', good('v0'));
$t->run;
$t->plan(8);

# the broken configs are meant to make [emerg] lines, nothing worse
$t->expect_errors(qr/\[emerg\]/);

my $master = $t->master_pid;
my @workers = sort { $a <=> $b } $t->worker_pids;
is(scalar @workers, 2, 'two workers');

# Checks the old config serves; the reasons it does not, or ''.
sub serving {
    my ($want) = @_;
    my @why;
    my $b = http_body(http_get('/', timeout => 3)) // '(none)';
    push @why, "GET / gave \"$b\"" unless $b eq $want;
    $b = http_body(http_get('/rw/abc?x=12', timeout => 3)) // '(none)';
    push @why, "GET /rw/abc?x=12 gave \"$b\"" unless $b eq 'new x=12';
    $b = http_body(http_get('/static/a.txt', timeout => 3)) // '(none)';
    push @why, "GET /static/a.txt gave \"$b\"" unless $b eq "static a\n";
    return join '; ', @why;
}

is(serving('v0'), '', 'serving the good config');

sub count_failed {
    my $log = $t->read_file('error.log') // '';
    return scalar(() = $log =~ /reconfiguration failed, the current configuration stays/g);
}

# -t on a candidate: true if it is rejected cleanly (status 1)
sub rejected {
    my ($file) = @_;
    my ($st) = $t->run_cmd('-t', '-q', '-p', "$dir/", '-c', $file, '-e', "$dir/cand.log");
    return defined $st && $st == 1;
}

my $fz = Portico::ConfFuzz->new(seed => $SEED, self => 'portico.conf', long_max => 20_000,
    directives => [Portico::ConfFuzz::directives($t->repo)]);
my $base = good('v0');
my (@problems, $rounds);

# first the two that recurse (an include of itself, blocks nested deep),
# one that could block (an include of a FIFO nobody writes to) and one
# that fails only when applied
POSIX::mkfifo("$dir/fifo.conf", 0600) or die "mkfifo: $!";
my $busy = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1,
    ReuseAddr => 0) or die "listen: $!";
my $busy_port = $busy->sockport;
my @fixed = (
    ["include portico.conf", "include portico.conf;\n$base"],
    ["100000 nested locations", $base =~ s/(location \/ \{)/
        "location \/n\/ {\n" x 100_000 . "}\n" x 100_000 . $1/er],
    ["include fifo.conf", "include fifo.conf;\n$base\nbroken_after_the_fifo;\n"],
    # valid for -t, but the new port cannot be bound: fails at apply time
    ["listen on a port in use", $base =~ s/(listen [^;]*;)/$1\n        listen 127.0.0.1:$busy_port;/r],
);

for my $round (1 - @fixed .. $ROUNDS) {
    # a mutation that -t rejects: a valid one would legitimately change
    # what the server does
    my ($text, $how);
    if ($round <= 0) {
        ($how, $text) = @{$fixed[$round + @fixed - 1]};
    }
    for (1 .. ($round <= 0 ? 0 : 50)) {
        ($text, $how) = $fz->mutate($base);
        $t->write_file_raw('candidate.conf', $text);
        last if rejected($t->path('candidate.conf'));
        undef $text;
    }
    next unless defined $text;
    $rounds++ if $round > 0;

    my $failed = count_failed();
    $t->write_file_raw('portico.conf', $text);
    $t->signal('HUP', $master);

    my $deadline = time + 10;
    sleep 0.02 while count_failed() == $failed && time < $deadline && $t->alive($master);

    my @why;
    push @why, 'the master died (status ' . ($t->exit_code($master) // 'unknown') . ')'
        unless $t->alive($master);
    push @why, 'no "reconfiguration failed" in 10 s' if count_failed() == $failed;
    my @now = sort { $a <=> $b } $t->worker_pids($master);
    push @why, "workers @workers became @now" unless "@now" eq "@workers";
    my $s = serving('v0');
    push @why, $s if $s;
    next unless @why;

    push @problems, $round;
    diag("seed $SEED, round $round: " . join('; ', @why) . "\n"
        . "mutations: $how\nconfig:\n" . Portico::ConfFuzz::show_config($text));
    $t->write_file_raw("failed/$round.txt", $text);
    last unless $t->alive($master);
}

is($rounds, $ROUNDS, "$ROUNDS rejected mutations found");
is("@problems", '', "$ROUNDS + 4 reloads with a broken config: master, workers and "
    . "old config unharmed (seed $SEED)");
is($t->master_pid, $master, 'the same master');

# the good config again, changed: the next reload applies it

$t->write_file('portico.conf', good('v1'));
my @new = $t->reload(timeout => 10);
is(scalar @new, 2, 'a good reload after the broken ones replaced the workers');
my $deadline = time + 5;
my $s;
sleep 0.05 while ($s = serving('v1')) && time < $deadline;
is($s, '', 'the new config serves');
ok(-s $t->path('access.log'), 'requests were logged');
