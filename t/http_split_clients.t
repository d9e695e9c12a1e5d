#!/usr/bin/perl

# split_clients: the group of 250 keys checked against a Perl copy of
# nginx's MurmurHash2 and slice arithmetic, and against nginx itself with
# the same config (when /usr/sbin/nginx is installed), so that A/B
# assignments carry over unchanged; a complex source string, no "*"
# (the rest gets ""), 100% in total, and the configuration errors with
# nginx's messages.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;

my $t = Portico::Test->new->has(qw/http_split_clients http_rewrite/);

my $http = <<'EOF';
    split_clients "${arg_k}AAA" $ab {
        0.5%    one;
        2.0%    two;
        47.5%   half;
        *       rest;
    }

    split_clients $arg_k $nostar {
        33.33%  a;
        33.33%  b;
        33.33%  c;
    }

    split_clients $arg_k $full {
        50%     x;
        50%     y;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { return 200 "$ab|$nostar|$full"; }
    }
EOF

$t->write_file('portico.conf', "worker_processes 1;\nevents { }\nhttp {\n$http}\n");
$t->run;
$t->plan(10);

my @keys = map { "key$_" } 1 .. 250;
push @keys, '', 'a', 'ab', 'abc', 'abcd', 'abcde', '10.0.0.1', 'x' x 100;
push @keys, 'u2465', 'u6088';   # hashes past 3 x 33.33%

sub values_of {
    my (%o) = @_;
    my %v;
    for my $k (@keys) {
        $v{$k} = http_body(http_get("/?k=$k", %o)) // 'none';
    }
    return \%v;
}

my $mine = values_of();

###############################################################################
# a Perl copy of nginx's ngx_murmur_hash2() and the slice bounds

sub murmur2 {
    my ($s) = @_;
    my $m = 0x5bd1e995;
    my $mul = sub {     # 32-bit multiply without overflowing Perl's integers
        my ($a, $b) = @_;
        return ((($a & 0xffff) * $b) + (((($a >> 16) * $b) & 0xffff) << 16)) & 0xffffffff;
    };
    my @d = unpack 'C*', $s;
    my $len = @d;
    my $h = $len & 0xffffffff;
    my $i = 0;
    while ($len - $i >= 4) {
        my $k = $d[$i] | ($d[$i + 1] << 8) | ($d[$i + 2] << 16) | ($d[$i + 3] << 24);
        $k = $mul->($k, $m);
        $k ^= $k >> 24;
        $k = $mul->($k, $m);
        $h = $mul->($h, $m);
        $h ^= $k;
        $i += 4;
    }
    my $rest = $len - $i;
    $h ^= $d[$i + 2] << 16 if $rest >= 3;
    $h ^= $d[$i + 1] << 8 if $rest >= 2;
    if ($rest >= 1) {
        $h ^= $d[$i];
        $h = $mul->($h, $m);
    }
    $h ^= $h >> 13;
    $h = $mul->($h, $m);
    $h ^= $h >> 15;
    return $h;
}

# [percent * 100 or 0 for "*", value] -> the value for a hash
sub pick {
    my ($hash, @parts) = @_;
    my $last = 0;
    for my $p (@parts) {
        my ($pc, $v) = @$p;
        if ($pc) {
            $last = ($last + int($pc * 0xffffffff / 10000)) & 0xffffffff;
            return $v if $hash < $last;
        } else {
            return $v;
        }
    }
    return '';
}

my $expected = 0;
for my $k (@keys) {
    my $want = join '|',
        pick(murmur2("${k}AAA"), [50, 'one'], [200, 'two'], [4750, 'half'], [0, 'rest']),
        pick(murmur2($k), [3333, 'a'], [3333, 'b'], [3333, 'c']),
        pick(murmur2($k), [5000, 'x'], [5000, 'y']);
    $expected++ if $mine->{$k} eq $want;
}
is($expected, scalar @keys, 'every key in the group MurmurHash2 gives (' . @keys . ' keys)');

my %groups;
$groups{(split /\|/, $mine->{$_})[0]}++ for @keys;
ok($groups{half} && $groups{rest} && $groups{two}, 'the groups are all used: '
    . join ', ', map { "$_=$groups{$_}" } sort keys %groups);
is(join(',', map { (split /\|/, $mine->{$_}, -1)[1] } 'u2465', 'u6088'), ',',
    'no "*": a hash past the slices gets ""');
is((grep { (split /\|/, $mine->{$_})[2] !~ /^[xy]$/ } @keys), 0, '100% in total: every key x or y');

###############################################################################
# the same keys through nginx

SKIP: {
    my $nginx = '/usr/sbin/nginx';
    skip 'nginx not installed', 1 unless -x $nginx;

    my $d = $t->testdir . '/nginx';
    mkdir $d;
    mkdir "$d/logs";
    (my $conf = $http) =~ s/%%PORT_8080%%/%%PORT_8070%%/;
    $t->write_file('nginx/nginx.conf', "daemon off;\nmaster_process off;\n"
        . "error_log $d/error.log;\npid $d/nginx.pid;\nevents { }\nhttp {\n"
        . "    access_log off;\n    client_body_temp_path $d;\n$conf}\n");
    my $pid = fork;
    if ($pid == 0) {
        open STDERR, '>', "$d/stderr";
        exec $nginx, '-p', "$d/", '-e', "$d/error.log", '-c', "$d/nginx.conf";
        exit 1;
    }
    $t->wait_for_port($t->port(8070), 5);
    my $theirs = values_of(port => $t->port(8070));
    kill 'TERM', $pid;
    waitpid $pid, 0;
    my @diff = grep { $theirs->{$_} ne $mine->{$_} } @keys;
    is(scalar @diff, 0, 'the same values as nginx for ' . @keys . ' keys')
        or diag join "\n", map { "$_: portico $mine->{$_}, nginx $theirs->{$_}" } @diff[0 .. 4];
}

###############################################################################
# configuration errors, with nginx's messages

sub conf_error {
    my ($text) = @_;
    $t->write_file('bad.conf', "events { }\nhttp {\n$text\n}\n");
    my ($st, $out, $err) = $t->run_cmd3('-t', '-p', $t->testdir . '/', '-c', $t->path('bad.conf'));
    return ($st // -1) != 0 ? $err : "accepted\n";
}

like(conf_error('split_clients $arg_a $x { 60% a; 50% b; }'),
    qr/percent total is greater than 100% in .*:3/, 'more than 100%');
like(conf_error('split_clients $arg_a $x { * a; 1% b; }'),
    qr/percent total is greater than 100%/, 'a percentage after "*"');
like(conf_error('split_clients $arg_a $x { 1.234% a; }'),
    qr/invalid percent value "1.234%"/, 'three decimals');
like(conf_error('split_clients $arg_a $x { 0% a; 50 b; }'),
    qr/invalid percent value "0%"/, 'zero percent');
like(conf_error('split_clients $arg_a x { * a; }'), qr/invalid variable name "x"/,
    'name without $');
