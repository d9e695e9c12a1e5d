#!/usr/bin/perl

# Directives that stock nginx.conf files carry: worker_cpu_affinity,
# worker_priority, worker_rlimit_core, working_directory, pcre_jit,
# timer_resolution, lock_file, load_module; server_names_hash_*,
# variables_hash_*, output_buffers, sendfile_max_chunk, read_ahead,
# msie_padding, msie_refresh, log_subrequest; proxy_headers_hash_*,
# proxy_socket_keepalive, proxy_send_lowat, proxy_bind.
#
# Each is accepted with valid arguments and rejected with nginx 1.22's
# message otherwise (the messages were taken from /usr/sbin/nginx -t).  The
# worker settings are observed in /proc, proxy_bind by the source address
# the backend sees, proxy_socket_keepalive by ss's keepalive timer, and a
# copy of Debian's stock /etc/nginx/nginx.conf passes "portico -t".

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use Portico::Test;

my $t = Portico::Test->new;
$t->has(qw(http_proxy http_rewrite));
my $dir = $t->testdir;

# Runs "-t" on a config file: (status, stderr).
sub conf_test {
    my ($conf) = @_;
    my ($st, $out, $err) = $t->run_cmd3('-t', '-p', "$dir/", '-c', $t->path($conf),
        '-e', "$dir/cmd.log");
    return ($st, $err);
}

# A config with $main in the main context, $http in http{} and $loc in a
# location; written to NAME and tested with -t.
sub try_conf {
    my ($name, $main, $http, $loc) = @_;
    $t->write_file($name, <<"EOF2");
$main
events { }
http {
    $http
    server {
        listen 127.0.0.1:%%PORT_8090%%;
        location / { $loc }
    }
}
EOF2
    return conf_test($name);
}

# -t fails with exactly this [emerg] message at the directive's line.
my $n_bad = 0;
sub rejects {
    my ($where, $text, $msg) = @_;
    my $name = 'bad' . $n_bad++ . '.conf';
    my ($st, $err) = try_conf($name, $where eq 'main' ? $text : '',
        $where eq 'http' ? $text : '', $where eq 'loc' ? $text : '');
    my $file = $t->path($name);
    ok($st == 1 && $err =~ /\[emerg\] \Q$msg\E in \Q$file\E:\d+$/m, "$where: $text")
        or diag("expected: $msg\ngot ($st):\n$err");
}

###############################################################################
# acceptance with -t

my ($st, $err) = try_conf('good.conf', <<'EOF2', <<'EOF3', <<'EOF4');
worker_cpu_affinity 0101 1010;
worker_priority +5;
worker_rlimit_core 10m;
working_directory /nonexistent-is-checked-by-the-worker;
pcre_jit off;
timer_resolution 100ms;
lock_file logs/nginx.lock;
load_module modules/ngx_http_geoip_module.so;
EOF2
server_names_hash_max_size 1024;
    server_names_hash_bucket_size 128;
    variables_hash_max_size 2048;
    variables_hash_bucket_size 128;
    output_buffers 4 64k;
    sendfile_max_chunk 1m;
    read_ahead 0;
    msie_padding off;
    msie_refresh on;
    log_subrequest on;
    proxy_headers_hash_max_size 1024;
    proxy_headers_hash_bucket_size 128;
    proxy_socket_keepalive on;
    proxy_bind 127.0.0.2;
EOF3
proxy_bind $remote_addr transparent; proxy_socket_keepalive off;
        sendfile_max_chunk 0; output_buffers 1 4k; read_ahead 512k;
        msie_padding on; msie_refresh off; log_subrequest off;
EOF4

my $good = $t->path('good.conf');
ok($st == 0, 'all directives accepted') or diag($err);
like($err, qr/\[warn\] the number of "worker_processes" is not equal to the number of "worker_cpu_affinity" masks, using last mask for remaining worker processes/,
    'worker_cpu_affinity: nginx warning for a mask count other than worker_processes');
like($err, qr{\[warn\] "load_module" ignored for "\Q$dir\E/modules/ngx_http_geoip_module\.so": portico has no dynamic modules, the module's directives must be compiled in with \./configure \("portico -V" lists the modules\) in \Q$good\E:8$}m,
    'load_module: warning names the file, the prefix-relative path resolved');

($st, $err) = try_conf('good2.conf',
    "worker_cpu_affinity auto 11;\nworker_priority -21;\n", '',
    'proxy_bind ::1; proxy_send_lowat 1k;');
ok($st == 0, 'auto with a mask, any priority number (nginx does not range it), IPv6 bind')
    or diag($err);
like($err, qr/\[warn\] "proxy_send_lowat" is not supported, ignored in /,
    'proxy_send_lowat: warns and is ignored, as nginx on Linux');

# a module loaded with load_module: its directives are not compiled in, so
# using one fails as unknown, the truthful outcome
($st, $err) = try_conf('load.conf', 'load_module modules/ngx_http_geoip_module.so;',
    'geoip_country /usr/share/GeoIP/GeoIP.dat;', '');
ok($st == 1 && $err =~ /\[emerg\] unknown directive "geoip_country" in /,
    'load_module: the module\'s directives stay unknown') or diag($err);

###############################################################################
# nginx's messages for bad arguments

rejects('main', 'worker_cpu_affinity 012;', 'invalid character "2" in "worker_cpu_affinity"');
rejects('main', 'worker_cpu_affinity auto auto;', 'invalid character "o" in "worker_cpu_affinity"');
rejects('main', 'worker_cpu_affinity auto 01 10;',
    'invalid number of arguments in "worker_cpu_affinity" directive');
rejects('main', 'worker_cpu_affinity ' . ('1' x 1025) . ';',
    '"worker_cpu_affinity" supports up to 1024 CPUs only');
rejects('main', 'worker_cpu_affinity 1; worker_cpu_affinity 1;',
    '"worker_cpu_affinity" directive is duplicate');
rejects('main', 'worker_cpu_affinity;',
    'invalid number of arguments in "worker_cpu_affinity" directive');
rejects('main', 'worker_priority x;', '"worker_priority" directive invalid number');
rejects('main', 'worker_priority -;', '"worker_priority" directive invalid number');
rejects('main', 'worker_priority 5; worker_priority 6;', '"worker_priority" directive is duplicate');
rejects('main', 'worker_rlimit_core x;', '"worker_rlimit_core" directive invalid value');
rejects('main', 'worker_rlimit_core -1;', '"worker_rlimit_core" directive invalid value');
rejects('main', 'worker_rlimit_core 5; worker_rlimit_core 5;',
    '"worker_rlimit_core" directive is duplicate');
rejects('main', 'working_directory /tmp; working_directory /tmp;',
    '"working_directory" directive is duplicate');
rejects('main', 'pcre_jit x;', 'invalid value "x" in "pcre_jit" directive, it must be "on" or "off"');
rejects('main', 'timer_resolution x;', '"timer_resolution" directive invalid value');
rejects('main', 'lock_file a; lock_file b;', '"lock_file" directive is duplicate');
rejects('main', 'load_module a b;', 'invalid number of arguments in "load_module" directive');
rejects('http', 'server_names_hash_max_size x;', '"server_names_hash_max_size" directive invalid number');
rejects('http', 'server_names_hash_bucket_size x;',
    '"server_names_hash_bucket_size" directive invalid number');
rejects('http', 'variables_hash_max_size x;', '"variables_hash_max_size" directive invalid number');
rejects('http', 'variables_hash_bucket_size x;', '"variables_hash_bucket_size" directive invalid number');
rejects('loc', 'server_names_hash_max_size 1024;',
    '"server_names_hash_max_size" directive is not allowed here');
rejects('loc', 'variables_hash_bucket_size 64;',
    '"variables_hash_bucket_size" directive is not allowed here');
rejects('loc', 'output_buffers 2;', 'invalid number of arguments in "output_buffers" directive');
rejects('http', 'output_buffers x 32k;', '"output_buffers" directive invalid value');
rejects('loc', 'output_buffers 0 32k;', '"output_buffers" directive invalid value');
rejects('loc', 'output_buffers 2 0;', '"output_buffers" directive invalid value');
rejects('loc', 'sendfile_max_chunk x;', '"sendfile_max_chunk" directive invalid value');
rejects('http', 'read_ahead x;', '"read_ahead" directive invalid value');
rejects('loc', 'msie_padding x;', 'invalid value "x" in "msie_padding" directive, it must be "on" or "off"');
rejects('loc', 'msie_refresh x;', 'invalid value "x" in "msie_refresh" directive, it must be "on" or "off"');
rejects('loc', 'log_subrequest x;', 'invalid value "x" in "log_subrequest" directive, it must be "on" or "off"');
rejects('loc', 'proxy_headers_hash_max_size x;', '"proxy_headers_hash_max_size" directive invalid number');
rejects('http', 'proxy_headers_hash_bucket_size x;',
    '"proxy_headers_hash_bucket_size" directive invalid number');
rejects('loc', 'proxy_socket_keepalive x;',
    'invalid value "x" in "proxy_socket_keepalive" directive, it must be "on" or "off"');
rejects('loc', 'proxy_send_lowat x;', '"proxy_send_lowat" directive invalid value');
rejects('loc', 'proxy_bind 127.0.0.2 x;', 'invalid parameter "x"');
rejects('loc', 'proxy_bind bad:addr:x;', 'invalid address "bad:addr:x"');
rejects('loc', 'proxy_bind localhost;', 'invalid address "localhost"');
rejects('http', 'proxy_bind [::1]:0;', 'invalid address "[::1]:0"');
rejects('loc', 'proxy_bind unix:/x;', 'invalid address "unix:/x"');
rejects('loc', 'proxy_bind off; proxy_bind off;', '"proxy_bind" directive is duplicate');
rejects('loc', 'proxy_bind a b c;', 'invalid number of arguments in "proxy_bind" directive');

###############################################################################
# Debian's stock /etc/nginx/nginx.conf (nginx 1.22), paths moved into the
# test directory.
# The modules-enabled folder holds a load_module line, as Debian's does.

$t->write_file('debian/modules-enabled/50-mod-http-echo.conf',
    "load_module modules/ngx_http_echo_module.so;\n");
$t->write_file('debian/mime.types', "types {\n    text/html html htm;\n}\n");
$t->write_file('debian/sites-enabled/default', <<'EOF2');
server {
	listen 127.0.0.1:%%PORT_8091%% default_server;
	root %%TESTDIR%%/debian/html;
	index index.html index.htm index.nginx-debian.html;
	server_name _;
	location / {
		try_files $uri $uri/ =404;
	}
}
EOF2
$t->write_file('debian/conf.d/.keep', '');
$t->write_file('debian/nginx.conf', <<'EOF2');
user www-data;
worker_processes auto;
pid %%TESTDIR%%/debian/nginx.pid;
error_log %%TESTDIR%%/debian/error-debian.log;
include %%TESTDIR%%/debian/modules-enabled/*.conf;

events {
	worker_connections 768;
	# multi_accept on;
}

http {

	##
	# Basic Settings
	##

	sendfile on;
	tcp_nopush on;
	types_hash_max_size 2048;
	# server_tokens off;

	# server_names_hash_bucket_size 64;
	# server_name_in_redirect off;

	include %%TESTDIR%%/debian/mime.types;
	default_type application/octet-stream;

	##
	# SSL Settings
	##

	ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; # Dropping SSLv3, ref: POODLE
	ssl_prefer_server_ciphers on;

	##
	# Logging Settings
	##

	access_log %%TESTDIR%%/debian/access.log;

	##
	# Gzip Settings
	##

	gzip on;

	# gzip_vary on;
	# gzip_proxied any;

	##
	# Virtual Host Configs
	##

	include %%TESTDIR%%/debian/conf.d/*.conf;
	include %%TESTDIR%%/debian/sites-enabled/*;
}
EOF2

SKIP: {
    skip 'http_ssl not compiled in (ssl_protocols)', 1 unless $t->has_module('http_ssl');
    skip 'http_gzip not compiled in (gzip)', 1 unless $t->has_module('http_gzip_filter');
    skip 'no www-data user for "user www-data" as root', 1
        if $> == 0 && !defined getpwnam('www-data');
    ($st, $err) = conf_test('debian/nginx.conf');
    ok($st == 0 && $err =~ /test is successful/, 'Debian stock nginx.conf passes -t')
        or diag($err);
}

###############################################################################
# running: worker settings seen in /proc, proxy_bind, socket keepalive

# CPUs this process may use; the workers pick among them
sub allowed_cpus {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/status" or return ();
    my ($list) = map { /^Cpus_allowed_list:\s*(\S+)/ ? $1 : () } <$fh>;
    return () unless defined $list;
    return map { /^(\d+)-(\d+)$/ ? ($1 .. $2) : $_ } split /,/, $list;
}

# the nice value: field 19 of /proc/PID/stat, counted after the comm field
sub nice_of {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return;
    my $s = <$fh>;
    $s =~ s/^.*\)\s+//s;
    return (split ' ', $s)[16];
}

sub core_limit {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/limits" or return '';
    my ($l) = grep { /^Max core file size/ } <$fh>;
    return join ' ', (split ' ', $l)[4, 5];
}

# worker_rlimit_core sets both limits: stay within an ordinary user's hard
# limit so that the worker may set it
my $core = 3 * 1024 * 1024;
my ($hard) = (core_limit($$) =~ /^\S+ (\S+)$/);
$core = $hard if $> != 0 && $hard ne 'unlimited' && $hard < $core;

my @cpus = allowed_cpus($$);
mkdir "$dir/wd";
chmod 0755, "$dir/wd";

# the backend answers with the source address it sees; /slow waits first
sub backend {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
        Listen => 32, ReuseAddr => 1) or die "backend: $!";
    local $SIG{CHLD} = 'IGNORE';
    while (my $c = $s->accept) {
        next if fork;
        my $buf = '';
        while ($buf !~ /\r\n\r\n/) {
            sysread($c, $buf, 4096, length $buf) or last;
        }
        sleep 2 if $buf =~ m{^GET /slow};
        my $b = $c->peerhost;
        print $c "HTTP/1.0 200 OK\r\nContent-Length: " . length($b) . "\r\n\r\n$b";
        close $c;
        POSIX::_exit(0);
    }
}

$t->run_daemon(\&backend, $t->port(8081));
$t->wait_for_port($t->port(8081), 5);

$t->write_file('data/big', 'x' x (1024 * 1024));

$t->write_file('portico.conf', <<"EOF2");
worker_processes 2;
worker_cpu_affinity auto;
worker_priority 5;
worker_rlimit_core $core;
working_directory %%TESTDIR%%/wd;
pcre_jit off;
timer_resolution 100ms;
lock_file logs/nginx.lock;
load_module modules/ngx_http_geoip_module.so;
error_log %%TESTDIR%%/error.log notice;

events { }

http {
    access_log off;
    server_names_hash_bucket_size 64;
    variables_hash_max_size 1024;
    output_buffers 2 32k;
    read_ahead 0;
    msie_padding on;
    log_subrequest off;
    proxy_headers_hash_max_size 512;

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        location /data/ {
            root %%TESTDIR%%;
            sendfile on;
            sendfile_max_chunk 16k;
        }

        location /data/small/ {
            alias %%TESTDIR%%/data/;
            sendfile off;
            output_buffers 1 4k;
        }

        location ~ ^/re(gex)?\$ {
            return 200 "regex \$1";
        }

        location /bind {
            proxy_bind 127.0.0.2;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /var {
            proxy_bind \$arg_src;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /nobind {
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /slow {
            proxy_socket_keepalive on;
            proxy_bind 127.0.0.4;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }
    }
}
EOF2

$t->expect_errors(qr/invalid local address "not-an-address"/);
$t->run;

my @w = $t->worker_pids;
is(scalar @w, 2, 'two workers');

my $log = $t->read_file('error.log');
my %cpu_of = map { $_->[0] => $_->[1] } map { [/(\d+)#\d+: sched_setaffinity\(\): using cpu #(\d+)/] }
    grep { /sched_setaffinity/ } split /\n/, $log;
my @want = sort { $a <=> $b } map { $cpus[$_ % @cpus] } 0 .. 1;
my @got = sort { $a <=> $b } map { $cpu_of{$_} // -1 } @w;
is("@got", "@want", "auto: worker i on the i-th allowed CPU (allowed: @cpus), logged at notice");
is(join(' ', map { my @c = allowed_cpus($_); "@c" } sort @w),
    join(' ', map { $cpu_of{$_} // -1 } sort @w),
    'auto: Cpus_allowed_list of each worker is its one CPU');

is(join(' ', map { nice_of($_) } @w), '5 5', 'worker_priority 5: nice 5 in /proc/PID/stat');
is(nice_of($t->master_pid), nice_of($$), 'master keeps its priority');
is(join(',', map { core_limit($_) } @w), join(',', ("$core $core") x 2),
    'worker_rlimit_core: soft and hard limit in /proc/PID/limits');
is(join(' ', map { readlink("/proc/$_/cwd") // '?' } @w), "$dir/wd $dir/wd",
    'working_directory: /proc/PID/cwd');
like($log, qr/\[warn\] \d+#\d+: "load_module" ignored for "\Q$dir\E\/modules\/ngx_http_geoip_module\.so"/,
    'load_module: warning in error.log at start');

my $r = http_get('/regex');
like($r, qr/^HTTP\/1\.1 200 .*regex gex$/s, 'pcre_jit off: regexes match (interpreter)');

$r = http_get('/data/big', timeout => 10);
ok(http_status($r) == 200 && length(http_body($r)) == 1024 * 1024
    && http_body($r) !~ /[^x]/, 'sendfile_max_chunk 16k: a 1 MB file arrives whole');

$r = http_get('/data/small/big', timeout => 10);
ok(http_status($r) == 200 && length(http_body($r)) == 1024 * 1024
    && http_body($r) !~ /[^x]/, 'output_buffers 1 4k, sendfile off: a 1 MB file arrives whole');

is(http_body(http_get('/bind')), '127.0.0.2', 'proxy_bind 127.0.0.2: the backend sees it');
is(http_body(http_get('/nobind')), '127.0.0.1', 'no proxy_bind: the default source');
is(http_body(http_get('/var?src=127.0.0.3')), '127.0.0.3', 'proxy_bind $arg_src');
is(http_body(http_get('/var')), '127.0.0.1', 'proxy_bind with an empty value: no bind');
is(http_body(http_get('/var?src=not-an-address')), '127.0.0.1',
    'proxy_bind with a bad value: logged, no bind');
like($t->read_file('error.log'), qr/\[error\] .*invalid local address "not-an-address"/,
    'bad proxy_bind value: nginx\'s error message');

# proxy_socket_keepalive: the upstream connection of a slow request shows
# ss's keepalive timer (the kernel arms it only with SO_KEEPALIVE)
SKIP: {
    my ($sst, $ssout) = (system('ss -V >/dev/null 2>&1'), '');
    skip 'no ss (iproute2) to see the keepalive timer', 2 if $sst != 0;

    my $port = $t->port(8081);
    my $s = http_connect(port => $t->port(8080));
    print $s "GET /slow HTTP/1.0\r\nHost: localhost\r\n\r\n";
    my $ss = '';
    for (1 .. 20) {
        select undef, undef, undef, 0.1;
        $ss = `ss -tno state established '( dport = :$port )' 2>&1`;
        last if $ss =~ /127\.0\.0\.4:/;
    }
    like($ss, qr/127\.0\.0\.4:\d+\s+127\.0\.0\.1:$port\s.*timer:\(keepalive,/,
        'proxy_socket_keepalive on: keepalive timer on the upstream connection') or diag($ss);
    my $body = http_body(http_read_all($s));
    is($body, '127.0.0.4', 'the slow request completes');
}

# masks: one per worker, the last one repeating; a reload applies them to
# the new workers
my $last = $cpus[-1];
my $mask = '1' . ('0' x $last);
my $conf = $t->read_file('portico.conf');
$conf =~ s/worker_cpu_affinity auto;/worker_cpu_affinity $mask;/ or die;
$conf =~ s/worker_priority 5;/worker_priority 7;/ or die;
$t->write_file('portico.conf', $conf);
my @new = $t->reload;
is(scalar @new, 2, 'reloaded');
is(join(' ', map { my @c = allowed_cpus($_); "@c" } @new), "$last $last",
    "mask $mask: every worker on CPU $last (the last mask repeats)");
is(join(' ', map { nice_of($_) } @new), '7 7', 'worker_priority after reload');

$t->stop;
$t->done_testing;
