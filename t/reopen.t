#!/usr/bin/perl

# USR1 reopens the log files: after the access log and the error log have
# been renamed away, USR1 makes the server create them anew at their
# configured paths, and the next request is logged into the new access
# log, in the combined format.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Portico::Test;
use POSIX qw(strftime);
use Time::HiRes qw(time sleep);

my $t = Portico::Test->new->has(qw/http_rewrite/);

$t->write_file('portico.conf', <<'EOF2');
worker_processes 2;
error_log %%TESTDIR%%/error.log info;
events { }
http {
    access_log %%TESTDIR%%/access.log combined;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location / { return 200 "hello"; }
    }
}
EOF2

$t->run;
$t->plan(11);

my $dir = $t->testdir;

sub get {
    my ($path) = @_;
    return http("GET $path HTTP/1.1\r\nHost: localhost\r\nUser-Agent: agent\r\n"
        . "Connection: close\r\n\r\n");
}

# polls a file until it matches (bounded); returns the match or ''
sub wait_line {
    my ($name, $re, $timeout) = @_;
    my $deadline = time + ($timeout // 3);
    while (time < $deadline) {
        my $c = $t->read_file($name) // '';
        return $1 if $c =~ /^($re)$/m;
        sleep 0.02;
    }
    return '';
}

my $date = qr{\[(\d\d)/(\w\w\w)/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-]\d{4})\]};
sub combined {
    my ($path) = @_;
    return qr{127\.0\.0\.1 - - $date "GET \Q$path\E HTTP/1\.1" 200 5 "-" "agent"};
}

is(http_body(get('/first')), 'hello', 'first request');
my $l1 = wait_line('access.log', combined('/first'));
ok($l1, 'first request logged in combined format') or diag($t->read_file('access.log'));

# the timestamp is the local time of the request, within a minute
my $now = time;
my @when = map { strftime('%d/%b/%Y:%H:%M', localtime($now + $_)) } -60, 0, 60;
my ($stamp) = $l1 =~ m{\[(\d\d/\w\w\w/\d{4}:\d\d:\d\d):\d\d [+-]\d{4}\]};
ok(defined $stamp && grep({ $_ eq $stamp } @when)
    && $l1 =~ / \Q@{[strftime('%z', localtime($now))]}\E\]/,
    "timestamp is now, with the local offset ($l1)");

rename "$dir/access.log", "$dir/access.log.1" or die "rename: $!";
rename "$dir/error.log", "$dir/error.log.1" or die "rename: $!";

# before USR1 the server still writes to the renamed file
get('/renamed');
ok(wait_line('access.log.1', combined('/renamed')), 'before USR1: logged into the renamed file');
ok(!-e "$dir/access.log", 'before USR1: no new access log');

$t->signal('USR1');

my $appeared = 0;
for (1 .. 150) {
    last if $appeared = -e "$dir/access.log" && -e "$dir/error.log";
    sleep 0.02;
}
ok($appeared, 'USR1: new access.log and error.log created');

# the workers reopen too: every one of them must write to the new file,
# so send enough fresh connections to reach both workers
sleep 0.3;
my $ok = grep { (http_body(get("/after$_")) // '') eq 'hello' } 1 .. 20;
is($ok, 20, '20 requests after USR1 answered');

my $new = $t->read_file('access.log') // '';
my $old = $t->read_file('access.log.1') // '';
my @new_lines = grep { /"GET \/after\d+ / } split /\n/, $new;
my $re = combined('/afterNN');
$re =~ s/afterNN/after\\d+/;
ok(@new_lines == 20 && !grep({ !/^$re$/ } @new_lines),
    '20 requests after USR1 in the new access log, combined format')
    or diag("new access.log:\n$new");
is(scalar(grep { /"GET \/after\d+ / } split /\n/, $old), 0, 'none of them in the old file');
ok($old =~ /"GET \/first / && $new !~ /"GET \/first /, 'earlier requests stay in the old file');

is(-s "$dir/error.log.1" ? 1 : 0, 1, 'old error log kept its content');
