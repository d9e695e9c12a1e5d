#!/usr/bin/perl

# geo: CIDR keys (longest prefix wins), default, include, delete, IPv4 and
# IPv6, IPv4-mapped addresses, the address from a variable ($arg_ip),
# ranges (split, shortened and cross-/16 ranges, delete), proxy with
# X-Forwarded-For (recursive or not, several header lines, a bad entry),
# the client address after realip, the client's own IPv6 address (skipped
# when ::1 cannot be bound), the answers of nginx for the same lookups
# (when /usr/sbin/nginx is installed), and the configuration errors and
# warnings with nginx's messages.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::IP;
use Portico::Test;

my $t = Portico::Test->new->has(qw/http_geo http_realip http_rewrite/);

my $ipv6 = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0, Listen => 1,
    Proto => 'tcp') ? 1 : 0;

$t->write_file('geo.inc', "127.0.1.0/24 inc;\n10.0.0.0/8 ten;\n");

# the blocks that look up $arg_ip, also given to nginx
my $lookups = <<'EOF';
    geo $arg_ip $a {
        default          def;
        10.0.0.0/8       ten;
        10.1.0.0/16      ten1;
        10.1.2.0/24      ten12;
        192.168.1.1      host;
        255.255.255.255  none;
        2001:db8::/32    doc;
        2001:db8:1::/48  doc1;
        ::/0             any6;
    }

    geo $arg_ip $nodef {
        10.0.0.0/8       ten;
    }

    geo $arg_ip $r {
        ranges;
        default                  rdef;
        10.0.0.0-10.0.255.255    a;
        10.0.1.0-10.0.1.255      b;
        10.0.0.0-10.0.0.9        c;
        10.1.255.0-10.2.0.255    d;
        10.3.0.0-10.3.0.255      e;
        delete 10.3.0.0-10.3.0.255;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location /a { return 200 "$a|$nodef|$r"; }
    }
EOF

my $v6 = $ipv6 ? "        listen [::1]:%%PORT_8082%%;\n" : '';

my $conf = <<"EOF";
worker_processes 1;
events { }
http {
$lookups
    geo \$g {
        default          def;
        127.0.0.0/8      lo8;
        127.0.0.1        lo1;
        include          %%TESTDIR%%/geo.inc;
        delete           10.0.0.0/8;
        ::1              v6one;
        ::/0             v6;
    }

    geo \$rg {
        default          def;
        127.0.0.0/8      lo;
        10.0.0.0/8       ten;
    }

    geo \$p {
        proxy            127.0.0.1;
        default          pdef;
        127.0.0.0/8      lo;
        10.0.0.0/8       ten;
        192.168.0.0/16   lan;
    }

    geo \$pr {
        proxy            127.0.0.0/8;
        proxy            192.168.0.0/16;
        proxy_recursive;
        default          pdef;
        127.0.0.0/8      lo;
        10.0.0.0/8       ten;
        192.168.0.0/16   lan;
    }

    geo \$pu {
        proxy            10.9.9.9;
        default          pdef;
        127.0.0.0/8      lo;
        10.0.0.0/8       ten;
    }

    geo \$arg_ip \$pa {
        proxy            10.9.9.9;
        default          pdef;
        10.0.0.0/8       ten;
        192.168.0.0/16   lan;
    }

    server {
        listen 127.0.0.1:%%PORT_8081%%;
$v6
        location /g { return 200 "\$g"; }
        location /p { return 200 "\$p|\$pr|\$pu|\$pa"; }
    }

    # realip at the server level: its POST_READ handler runs before return
    server {
        listen 127.0.0.1:%%PORT_8083%%;
        set_real_ip_from 127.0.0.1;
        location /rip { return 200 "\$rg"; }
    }
}
EOF

$t->write_file('portico.conf', $conf);
$t->run;
$t->plan(53);

sub get {
    my ($uri, %o) = @_;
    my $h = join '', map "$_\r\n", @{$o{headers} || []};
    return http_body(http("GET $uri HTTP/1.1\r\nHost: localhost\r\n$h"
        . "Connection: close\r\n\r\n", port => $o{port} // $t->port(8081), %o)) // 'none';
}

sub ip { return get("/a?ip=$_[0]", port => $t->port(8080)) }

###############################################################################
# CIDR keys, from $arg_ip

is(ip('10.5.5.5'), 'ten|ten|rdef', '10.0.0.0/8');
is(ip('10.1.5.5'), 'ten1|ten|rdef', 'longer prefix: 10.1.0.0/16');
is(ip('10.1.2.3'), 'ten12|ten|rdef', 'longest prefix: 10.1.2.0/24');
is((split /\|/, ip('192.168.1.1'))[0], 'host', 'a single address');
is((split /\|/, ip('192.168.1.2'))[0], 'def', 'default');
is(ip('11.0.0.1'), 'def||rdef', 'no default: ""');
is((split /\|/, ip('bogus'))[0], 'none', 'not an address: 255.255.255.255 is looked up');
is((split /\|/, ip(''))[0], 'none', 'empty: 255.255.255.255 is looked up');
is((split /\|/, ip('2001:db8:1::5'))[0], 'doc1', 'IPv6: the longest prefix');
is((split /\|/, ip('2001:db8:2::5'))[0], 'doc', 'IPv6: 2001:db8::/32');
is((split /\|/, ip('2001:dead::1'))[0], 'any6', 'IPv6: ::/0');
is(ip('::ffff:10.0.1.3'), 'ten|ten|b', 'IPv4-mapped IPv6: looked up as IPv4');
is((split /\|/, ip('10.1.2.3:80'))[0], 'none', 'a port is not an address here');

###############################################################################
# ranges

is((split /\|/, ip('10.0.0.5'))[2], 'c', 'ranges: a range at the start of another');
is((split /\|/, ip('10.0.0.10'))[2], 'a', 'ranges: the rest of the shortened range');
is((split /\|/, ip('10.0.1.7'))[2], 'b', 'ranges: a range inside another');
is((split /\|/, ip('10.0.2.0'))[2], 'a', 'ranges: the split range goes on after it');
is((split /\|/, ip('10.0.255.255'))[2], 'a', 'ranges: the last address');
is((split /\|/, ip('10.1.255.0'))[2], 'd', 'ranges: across a /16 boundary (first block)');
is((split /\|/, ip('10.2.0.255'))[2], 'd', 'ranges: across a /16 boundary (second block)');
is((split /\|/, ip('10.2.1.0'))[2], 'rdef', 'ranges: past the end');
is((split /\|/, ip('10.3.0.1'))[2], 'rdef', 'ranges: deleted');
is((split /\|/, ip('2001:db8::1'))[2], 'rdef', 'ranges: IPv6 gets the default');

###############################################################################
# the client address; include and delete

is(get('/g'), 'lo1', 'client 127.0.0.1: the /32, not 127.0.0.0/8');
is(get('/a?ip=127.0.0.1', port => $t->port(8080)), 'def||rdef', 'another geo, another table');
is(get('/rip', port => $t->port(8083)), 'lo', 'realip: no header, the connection address');
is(get('/rip', port => $t->port(8083), headers => ['X-Real-IP: 10.5.5.5']), 'ten',
    'realip: the address it set');
is(get('/rip', port => $t->port(8083), headers => ['X-Real-IP: 127.0.1.9']), 'lo',
    'realip: another address');

###############################################################################
# proxy and X-Forwarded-For

my $xff = 'X-Forwarded-For: 10.1.1.1, 192.168.5.5';
is(get('/p'), 'lo|lo|lo|pdef', 'no X-Forwarded-For: the client address');
is(get('/p', headers => [$xff]), 'lan|ten|lo|pdef',
    'trusted client: the last address; recursive: the first untrusted one');
is(get('/p', headers => ['X-Forwarded-For: 10.1.1.1', 'X-Forwarded-For: 192.168.5.5']),
    'lan|ten|lo|pdef', 'two header lines: the last line first');
is(get('/p', headers => ['X-Forwarded-For: 192.168.1.1,  10.2.2.2 ,']), 'ten|ten|lo|pdef',
    'spaces and a trailing comma');
is(get('/p', headers => ['X-Forwarded-For: junk']), 'lo|lo|lo|pdef',
    'an entry that is not an address: the client address stays');
is(get('/p', headers => ['X-Forwarded-For: 10.1.1.1, junk, 192.168.5.5']), 'lan|lan|lo|pdef',
    'recursive: stops at an entry that is not an address');
is(get('/p', headers => ['X-Forwarded-For: 10.7.7.7:8080']), 'ten|ten|lo|pdef',
    'an address with a port');
is(get('/p', headers => [('X-Forwarded-For: 10.1.1.1') x 40, 'X-Forwarded-For: 192.168.5.5']),
    'lan|ten|lo|pdef', '41 header lines: the last one still counts');
is(get('/p?ip=10.9.9.9', headers => ['X-Forwarded-For: 192.168.3.3']), 'lan|lan|lo|lan',
    'the address of the variable as the trusted proxy');
is(get('/p?ip=10.9.9.8', headers => ['X-Forwarded-For: 192.168.3.3']), 'lan|lan|lo|ten',
    'the address of the variable, not trusted');

###############################################################################
# the client's IPv6 address

SKIP: {
    skip 'no IPv6 on the loopback', 1 unless $ipv6;
    is(get('/g', addr => '::1', port => $t->port(8082)), 'v6one', 'client ::1');
}

###############################################################################
# nginx with the same lookups

SKIP: {
    my $nginx = '/usr/sbin/nginx';
    skip 'nginx not installed', 1 unless -x $nginx;

    my @ips = qw(10.5.5.5 10.1.5.5 10.1.2.3 10.1.2.255 10.1.3.0 192.168.1.1 192.168.1.2
        11.0.0.1 bogus 255.255.255.255 0.0.0.0 2001:db8:1::5 2001:db8:2::5 2001:dead::1
        ::ffff:10.1.2.3 ::ffff:192.168.1.1 ::1 10.1.2.3:80 [::1]:80 10.0.0.5 10.0.0.9
        10.0.0.10 10.0.1.0 10.0.1.255 10.0.2.0 10.0.255.255 10.1.0.0 10.1.254.255
        10.1.255.0 10.2.0.0 10.2.0.255 10.2.1.0 10.3.0.1 1.2.3 1.2.3.4.5 01.2.3.4);

    my @xff = ('10.1.1.1, 192.168.5.5', '192.168.1.1,  10.2.2.2 ,', 'junk', '',
        '10.1.1.1, junk, 192.168.5.5', '10.7.7.7:8080', '[2001:db8::1]:80', '2001:db8::1',
        ',10.1.1.1', '192.168.5.5, 127.0.0.5');
    my @cases = ((map { ["/a?ip=$_", 8080] } @ips),
        (map { ['/p', 8081, ["X-Forwarded-For: $_"]] } @xff),
        ['/p?ip=10.9.9.9', 8081, ['X-Forwarded-For: 192.168.3.3']],
        ['/p', 8081, ['X-Forwarded-For: 10.1.1.1', 'X-Forwarded-For: 192.168.5.5']],
        ['/p', 8081, ['X-Forwarded-For: 10.1.1.1', 'X-Forwarded-For: junk']],
        ['/g', 8081], ['/rip', 8083, ['X-Real-IP: 10.5.5.5']]);

    my $d = $t->testdir . '/nginx';
    mkdir $d;
    mkdir "$d/logs";
    (my $nconf = $conf) =~ s/%%PORT_80(\d\d)%%/%%PORT_80${\($1 - 10)}%%/g;
    $nconf =~ s/http \{/http {\n    access_log off;\n    client_body_temp_path $d;/;
    $t->write_file('nginx/nginx.conf', "daemon off;\nmaster_process off;\n"
        . "error_log $d/error.log;\npid $d/nginx.pid;\n$nconf");
    my $pid = fork;
    if ($pid == 0) {
        open STDERR, '>', "$d/stderr";
        exec $nginx, '-p', "$d/", '-e', "$d/error.log", '-c', "$d/nginx.conf";
        exit 1;
    }
    $t->wait_for_port($t->port(8073), 5);
    my @diff;
    for my $c (@cases) {
        my ($uri, $port, $h) = @$c;
        my $mine = get($uri, port => $t->port($port), headers => $h);
        my $theirs = get($uri, port => $t->port($port - 10), headers => $h);
        push @diff, "$uri @{$h || []}: portico $mine, nginx $theirs" if $mine ne $theirs;
    }
    kill 'TERM', $pid;
    waitpid $pid, 0;
    is(scalar @diff, 0, 'the same values as nginx for ' . @cases . ' lookups')
        or diag join "\n", @diff;
}

###############################################################################
# configuration errors and warnings, with nginx's messages

sub conf {
    my ($text) = @_;
    $t->write_file('bad.conf', "events { }\nhttp {\n$text\n}\n");
    my ($st, $out, $err) = $t->run_cmd3('-t', '-p', $t->testdir . '/', '-c', $t->path('bad.conf'));
    return (($st // -1) != 0 ? 'failed: ' : 'ok: ') . $err;
}

like(conf('geo $x { 10.0.0.0/33 a; }'), qr/^failed: .*invalid network "10.0.0.0\/33" in .*:3/s,
    'invalid network');
like(conf('geo $x { proxy 1.2.3.x; }'), qr/^failed: .*invalid network "1.2.3.x"/s,
    'invalid proxy');
like(conf('geo $x { 10.0.0.1/8 a; }'),
    qr/^ok: .*\[warn\] .*low address bits of 10.0.0.1\/8 are meaningless/s, 'host bits set');
like(conf('geo $x { 10.0.0.0/8 a; 10.0.0.0/16 b; 10.0.0.0/8 c; }'),
    qr/^ok: .*\[warn\] .*duplicate network "10.0.0.0\/8", value: "c", old value: "b"/s,
    'duplicate network (the old value as nginx finds it)');
like(conf('geo $x { delete 10.0.0.0/8; }'), qr/^ok: .*no network "10.0.0.0\/8" to delete/s,
    'delete of a network not there');
like(conf('geo $x { default a; ranges; }'),
    qr/^failed: .*the "ranges" directive must be the first directive inside "geo" block/s,
    'ranges after a network');
like(conf('geo $x { ranges; 10.0.0.0-10.0.0.255 a; 10.0.0.128-10.0.1.5 b; }'),
    qr/^failed: .*range "10.0.0.128-10.0.1.5" overlaps "10.0.0.0-10.0.0.255"/s,
    'overlapping ranges');
like(conf('geo $x { ranges; 10.0.0.5-10.0.0.1 a; }'),
    qr/^failed: .*invalid range "10.0.0.5-10.0.0.1"/s, 'range backwards');
like(conf('geo $x { ranges; 0.0.0.0-255.255.255.255 a; }'),
    qr/^failed: .*invalid range "0.0.0.0-255.255.255.255"/s, '255.255.255.255 in a range');
like(conf('geo $x { ranges; delete 10.0.0.1-10.0.0.5; }'),
    qr/^ok: .*no address range "10.0.0.1-10.0.0.5" to delete/s, 'delete of a range not there');
like(conf('geo $x { a b c; }'), qr/^failed: .*invalid number of the geo parameters/s,
    'three words');
like(conf('geo x { }'), qr/^failed: .*invalid variable name "x"/s, 'name without $');
like(conf('geo $remote_addr { }'), qr/^failed: .*the duplicate "remote_addr" variable/s,
    'a variable of another module');
