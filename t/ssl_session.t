#!/usr/bin/perl

# TLS session resumption across workers and reloads.  Two workers, many
# connections: every resumption attempt must succeed, wherever the
# connection lands.
#   - by id: ssl_session_cache shared:NAME:SIZE (TLSv1.2 ids and TLSv1.3
#     stateful tickets), surviving a reload
#   - by ticket without configured keys: one key shared by all workers,
#     kept across reloads
#   - by ticket with ssl_session_ticket_key files: rotation across reloads
#     (the first key encrypts, all decrypt; a removed key's tickets fail)
#   - off: never resumed

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use Portico::SSL;

my $t = Portico::Test->new->has(qw/http_ssl http_rewrite/)->has_daemon('openssl');
my $d = $t->testdir;

ssl_self_signed($d, 'rsa');
ssl_ticket_key($d, 'k1.key', 80);
ssl_ticket_key($d, 'k2.key', 48);

my $conf = <<'EOF2';
worker_processes 2;
error_log %%TESTDIR%%/error.log info;
events { }
http {
    access_log off;
    ssl_certificate rsa.crt;
    ssl_certificate_key rsa.key;

    server {
        listen 127.0.0.1:%%PORT_8443%% ssl;
        ssl_session_cache shared:SSL:1m;
        ssl_session_tickets off;
        location / { return 200 "pid=$pid reused=$ssl_session_reused\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8444%% ssl;
        ssl_session_cache off;
        location / { return 200 "pid=$pid reused=$ssl_session_reused\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8445%% ssl;
        ssl_session_cache off;
        ssl_session_tickets off;
        location / { return 200 "pid=$pid reused=$ssl_session_reused\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8446%% ssl;
        KEYS
        location / { return 200 "pid=$pid reused=$ssl_session_reused\n"; }
    }
}
EOF2

sub conf {
    my ($keys) = @_;
    (my $c = $conf) =~ s/KEYS/$keys/;
    return $c;
}

$t->write_file('portico.conf', conf('ssl_session_ticket_key k1.key;'));
$t->run;
$t->plan(23);

# One connection with openssl s_client: resumes the session in file $in
# (if any), saves the newest session to $out (if any).  Returns (1 if
# resumed, the worker's pid).
sub conn {
    my ($port, $ver, $in, $out) = @_;
    my @a = ("-$ver", '-ign_eof');
    push @a, '-sess_in', "$d/$in" if $in;
    push @a, '-sess_out', "$d/$out" if $out;
    my $o = s_client(port => $port, args => \@a, input => "GET / HTTP/1.0\r\n\r\n");
    my ($pid) = $o =~ /pid=(\d+)/;
    my $reused = ($o =~ /^Reused, /m && $o =~ /reused=r/m) ? 1 : 0;
    return ($reused, $pid // 0);
}

# n resumptions of one session (chained for TLSv1.3, whose tickets are
# renewed): (failed attempts, number of distinct workers that resumed)
sub resume_many {
    my ($port, $ver, $n, $file) = @_;
    $file //= "s-$port-$ver.pem";
    conn($port, $ver, undef, $file);
    my ($fail, %pids) = (0);
    for (1 .. $n) {
        my ($r, $pid) = conn($port, $ver, $file, $ver eq 'tls1_3' ? $file : undef);
        $fail++ unless $r;
        $pids{$pid}++ if $r;
    }
    return ($fail, scalar keys %pids);
}

my $p_cache = $t->port(8443);
my $p_ticket = $t->port(8444);
my $p_off = $t->port(8445);
my $p_keys = $t->port(8446);

for my $case ([$p_cache, 'tls1_2', 'shared cache, TLSv1.2 session ids'],
              [$p_cache, 'tls1_3', 'shared cache, TLSv1.3 stateful tickets'],
              [$p_ticket, 'tls1_2', 'tickets with the default key, TLSv1.2'],
              [$p_ticket, 'tls1_3', 'tickets with the default key, TLSv1.3'])
{
    my ($fail, $workers) = resume_many($case->[0], $case->[1], 24);
    is($fail, 0, "$case->[2]: every one of 24 resumptions succeeded");
    is($workers, 2, "$case->[2]: resumed on both workers");
}

# TLSv1.3 clients use each ticket once (RFC 8446 C.4), as wrk and browsers
# do: a resumption must bring a new ticket, or every other connection is
# a full handshake
for my $port ($p_ticket, $p_keys) {
    unlink "$d/r1.pem", "$d/r2.pem";
    conn($port, 'tls1_3', undef, 'r1.pem');
    conn($port, 'tls1_3', 'r1.pem', 'r2.pem');
    ok(-s "$d/r2.pem" && (conn($port, 'tls1_3', 'r2.pem'))[0],
        "TLSv1.3 ticket renewed on resumption (port $port)");
}

my ($fail) = resume_many($p_off, 'tls1_2', 4);
is($fail, 4, 'ssl_session_cache off, no tickets: never resumed');

###############################################################################
# across reloads

conn($p_cache, 'tls1_2', undef, 'before-cache.pem');
conn($p_ticket, 'tls1_2', undef, 'before-ticket.pem');
conn($p_ticket, 'tls1_3', undef, 'before-ticket13.pem');
conn($p_keys, 'tls1_2', undef, 'k1.pem');
is((conn($p_keys, 'tls1_2', 'k1.pem'))[0], 1, 'ticket key k1: resumed');

# rotation: k2 encrypts now, k1 still decrypts (and its tickets are renewed)
$t->write_file('portico.conf', conf('ssl_session_ticket_key k2.key; ssl_session_ticket_key k1.key;'));
$t->reload(timeout => 10);

my @r;
push @r, (conn($p_cache, 'tls1_2', 'before-cache.pem'))[0] for 1 .. 4;
is("@r", '1 1 1 1', 'shared cache: sessions from before the reload resume after it');
@r = ();
push @r, (conn($p_ticket, 'tls1_2', 'before-ticket.pem'))[0] for 1 .. 4;
is("@r", '1 1 1 1', 'default ticket key: tickets from before the reload resume after it');
is((conn($p_ticket, 'tls1_3', 'before-ticket13.pem'))[0], 1,
    'default ticket key, TLSv1.3: resumed after the reload');

is((conn($p_keys, 'tls1_2', 'k1.pem'))[0], 1,
    'k1 ticket resumed after rotation to k2 (k1 still decrypts)');
conn($p_keys, 'tls1_2', undef, 'k2.pem');
is((conn($p_keys, 'tls1_2', 'k2.pem'))[0], 1, 'new ticket (encrypted with k2) resumed');

# k1 removed: its tickets fail, k2's work
$t->write_file('portico.conf', conf('ssl_session_ticket_key k2.key;'));
$t->reload(timeout => 10);

is((conn($p_keys, 'tls1_2', 'k1.pem'))[0], 0, 'k1 removed: its ticket is not resumed');
is((conn($p_keys, 'tls1_2', 'k2.pem'))[0], 1, 'k2 ticket still resumed');

($fail, my $workers) = resume_many($p_keys, 'tls1_3', 12);
is($fail, 0, 'configured key, TLSv1.3: every resumption succeeded');

($fail, $workers) = resume_many($p_cache, 'tls1_2', 12);
is($fail, 0, 'after two reloads: shared cache resumptions all succeed');
is($workers, 2, 'after two reloads: on both workers');

($fail, $workers) = resume_many($p_ticket, 'tls1_3', 12);
is($fail, 0, 'after two reloads: ticket resumptions all succeed');

$t->stop;
