#!/usr/bin/perl

# The config parser and the directive setters under random mutations of
# valid configs: "portico -t" on each mutated file must exit 0 or 1, never
# die on a signal or a sanitizer report, and a 1 must come with an [emerg]
# line that says where ("in FILE:LINE" or "in command line").  Mutations
# (t/lib/Portico/ConfFuzz.pm) delete, duplicate, swap and copy tokens,
# insert the tokenizer's special bytes ({ } ; quotes $ ${ \ NUL and high
# bytes), give the seed's directives, and any directive of the tree
# spliced in, odd arguments (huge numbers, long tokens, broken addresses
# and regexes: the setters run in their own context), nest blocks deeply,
# truncate, flip bits and include the file from itself.  The seeds are
# representative configs of the other tests; each must still pass -t.
# Then the guards, exactly: includes nest at most 32 deep and blocks 64, an
# include of a FIFO does not block, and control bytes of a token are
# escaped in the error so it stays one line.
#
# Bounded: at most TEST_PORTICO_CONF_FUZZ_N mutations (500) and at most
# TEST_PORTICO_CONF_FUZZ_TIME seconds (20).  The random seed is
# TEST_PORTICO_CONF_FUZZ_SEED (fixed by default, so a failure reproduces);
# a failure prints the seed, the iteration, the mutations and the config.
# Run it with an ASan+UBSan binary (TEST_PORTICO_BINARY) too.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use POSIX ();
use Time::HiRes qw(time);
use Portico::Test;
use Portico::ConfFuzz;

my $t = Portico::Test->new;
my $dir = $t->testdir;

my $N = $ENV{TEST_PORTICO_CONF_FUZZ_N} // 500;
my $SECS = $ENV{TEST_PORTICO_CONF_FUZZ_TIME} // 20;
my $SEED = $ENV{TEST_PORTICO_CONF_FUZZ_SEED} // 20240611;

# a sanitizer build reports leaks at exit by default; -t frees by exiting
$ENV{ASAN_OPTIONS} //= 'detect_leaks=0';

###############################################################################
# seeds: representative configs of the other tests, trimmed

my %seeds;

$seeds{core} = <<'EOF';
worker_processes 2;
worker_rlimit_nofile 1024;
worker_shutdown_timeout 10s;
error_log %%TESTDIR%%/fz.log info;
pid %%TESTDIR%%/fz.pid;
events {
    worker_connections 64;
    multi_accept on;
    accept_mutex off;
}
http {
    default_type "text/plain";
    server {
        listen 127.0.0.1:%%PORT_8080%% default_server;
        listen 127.0.0.1:%%PORT_8081%% backlog=16;
        server_name localhost *.example.com ~^www\d+\.example\.net$;
        location / { return 200 'ok'; }
    }
}
EOF

$seeds{location} = <<'EOF';
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name localhost;
        location / { return 200 "root"; }
        location = /exact { return 200 "exact"; }
        location ^~ /img/ { return 200 "img-noregex"; }
        location ~ \.(php|html)$ { return 200 "php-or-html"; }
        location ~* \.(png|gif)$ { return 200 "image-caseless"; }
        location ~ ^/cap/(\w+)/(\d+)/(.*)$ { return 200 "1=$1 2=$2 3=$3"; }
        location ~ ^/user/(?<uname>[a-z]+)/(?<rest>.*)$ { return 200 "user=$uname rest=$rest"; }
        location /n/ {
            location /n/a/ {
                location /n/a/deep/ { return 200 "n-a-deep"; }
                return 200 "n-a";
            }
            location ~ \.txt$ { return 200 "n-txt"; }
            return 200 "n";
        }
        location @named { return 200 "named"; }
        location /int { internal; return 200 "internal"; }
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        server_name other.example;
        location / { return 404; }
    }
}
EOF

$seeds{rewrite} = <<'EOF';
worker_processes 1;
events { }
http {
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        rewrite ^/srv/(.*)$ /new/$1;
        if ($http_x_srv) { return 200 "srv-if $http_x_srv"; }
        location /new/ { return 200 "new uri=$uri args=$args"; }
        location /old/ { rewrite ^/old/(.*)$ /new/$1 last; return 200 "not reached"; }
        location /r/ { rewrite ^/r/(.*)$ /target/$1 redirect; }
        location /ext/ { rewrite ^/ext/(.*)$ http://example.com/$1 permanent; }
        location /noargs/ { rewrite ^/noargs/(.*)$ /new/$1? last; }
        location /set/ {
            set $foo "bar-$arg_x";
            set $foo "${foo}!";
            return 200 $foo;
        }
        location /ifre {
            if ($http_user_agent ~ "Mozilla/(\d+)\.(?<minor>\d+)") { return 200 "moz $1 $minor"; }
            if ($http_user_agent !~* ^curl/) { return 403; }
            if ($request_method = POST) { break; }
            if (-f %%TESTDIR%%/html/$arg_n) { return 200 "f"; }
            if (!-e $request_filename) { rewrite ^ /new/ last; }
            return 200 "xy";
        }
        location /q { uninitialized_variable_warn off; rewrite_log on; return 302 /new/; }
    }
}
EOF

$seeds{static} = <<'EOF';
events { }
http {
    types {
        text/html  html htm;
        image/png  png;
    }
    default_type application/octet-stream;
    log_format plain '$request_method $uri "$http_user_agent" $status';
    log_format js escape=json '{"ua":"$http_user_agent","uri":"$uri"}';
    access_log %%TESTDIR%%/access.log;
    sendfile on;
    keepalive_timeout 30s 20s;
    client_max_body_size 1m;
    large_client_header_buffers 4 8k;
    server_tokens off;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        root %%TESTDIR%%/html;
        index index.html index.htm;
        error_page 404 /404.html;
        error_page 500 502 =200 @fallback;
        set_real_ip_from 127.0.0.0/8;
        set_real_ip_from ::1;
        real_ip_header X-Forwarded-For;
        real_ip_recursive on;
        location / {
            try_files $uri $uri/ /index.html =404;
            expires 1h;
            add_header X-Test "yes $uri" always;
            access_log %%TESTDIR%%/plain.log plain buffer=4k flush=1s;
        }
        location /alias/ { alias %%TESTDIR%%/html/sub/; }
        location @fallback { return 200 "fallback"; }
        location /json { access_log %%TESTDIR%%/json.log js if=$arg_log; etag off; max_ranges 1; }
        location /limited { limit_rate 10k; limit_rate_after 1k; if_modified_since before; }
    }
}
EOF

$seeds{proxy} = <<'EOF';
events { }
http {
    upstream backend {
        server 127.0.0.1:%%PORT_8081%% weight=2 max_fails=3 fail_timeout=5s;
        server 127.0.0.1:%%PORT_8082%% backup;
        keepalive 8;
        keepalive_timeout 30s;
    }
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        proxy_set_header X-Server-Level yes;
        location / { proxy_pass http://backend; }
        location /prefix/ {
            proxy_pass http://127.0.0.1:%%PORT_8081%%/new/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_connect_timeout 2s;
            proxy_read_timeout 5s;
            proxy_buffers 8 4k;
            proxy_buffer_size 4k;
            proxy_next_upstream error timeout http_502;
            proxy_next_upstream_tries 2;
            proxy_redirect http://backend.example/ http://$host/front/;
            proxy_hide_header X-Secret;
        }
        location /var/ {
            set $target 127.0.0.1:%%PORT_8081%%;
            proxy_pass http://$target/fromvar$uri;
        }
        location /unix/ { proxy_pass http://unix:%%TESTDIR%%/backend.sock:/u/; }
    }
}
EOF

my %need = (rewrite => ['http_rewrite'], static => ['http_realip', 'http_try_files'],
    proxy => ['http_proxy', 'http_upstream_keepalive']);

for my $name (sort keys %need) {
    delete $seeds{$name} if grep { !$t->has_module($_) } @{$need{$name}};
}

if ($t->has_module('http_ssl') && -x '/usr/bin/openssl') {
    require Portico::SSL;
    Portico::SSL::ssl_self_signed($dir, 'rsa', cn => 'localhost', names => ['localhost']);
    $seeds{ssl} = <<'EOF';
events { }
http {
    ssl_session_cache shared:SSL:1m;
    ssl_session_timeout 10m;
    server {
        listen 127.0.0.1:%%PORT_8443%% ssl;
        ssl_certificate %%TESTDIR%%/rsa.crt;
        ssl_certificate_key %%TESTDIR%%/rsa.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers HIGH:!aNULL;
        ssl_prefer_server_ciphers on;
        location / { return 200 "tls $ssl_protocol"; }
    }
}
EOF
}

mkdir "$dir/html";

my @names = sort keys %seeds;
my @texts = map { $t->expand($seeds{$_}) } @names;

###############################################################################

$t->plan(scalar(@names) + 10);

# Runs -t on a file: (status, stderr+stdout).
sub conf_test {
    my ($file) = @_;
    return $t->run_cmd('-t', '-p', "$dir/", '-c', $file, '-e', "$dir/fz-cmd.log");
}

# Why an outcome of -t is wrong, or undef when it is right.
sub bad_outcome {
    my ($st, $out) = @_;
    return 'did not finish in 20 s' unless defined $st;
    return "sanitizer report" if $out =~ /AddressSanitizer|runtime error:|LeakSanitizer/;
    return "exited on signal " . ($st - 128) if $st > 128;
    return "exit status $st" unless $st == 0 || $st == 1;
    return undef if $st == 0;
    return 'status 1 without "test failed"'
        unless $out =~ /^portico: configuration file .* test failed$/m;
    return undef if $out =~ /\[emerg\] .* in (?:\S+:\d+|command line)$/m;
    # as in nginx, errors found after parsing have no line: about the config
    # as a whole, or about a file it names (log, certificate), quoted (the
    # closing quote may be cut off with a long name)
    return undef if $out =~ /^portico: \[emerg\] no "events" section in configuration$/m;
    return undef if $out =~ /^portico: \[emerg\] [^\n]*"\//m;
    # and OpenSSL's rejections name the call and its argument
    return undef if $out =~ /^portico: \[emerg\] [^\n]*\(SSL: /m;
    return 'status 1 without an [emerg] line saying where';
}

for my $i (0 .. $#names) {
    my $f = $t->write_file_raw("seed-$names[$i].conf", $texts[$i]);
    my ($st, $out) = conf_test($f);
    is($st, 0, "seed $names[$i] passes -t") or diag($out);
}

my $fz = Portico::ConfFuzz->new(seed => $SEED, self => 'fuzz.conf',
    directives => [Portico::ConfFuzz::directives($t->repo)]);

my $conf = "$dir/fuzz.conf";
my (%status, @failures);
my $deadline = time + $SECS;
my $runs = 0;

for my $iter (1 .. $N) {
    last if time > $deadline;
    my $k = int(rand(@texts));
    my ($text, $how) = $fz->mutate($texts[$k]);
    $t->write_file_raw($conf, $text);
    my ($st, $out) = conf_test($conf);
    $runs++;
    $status{$st // 'timeout'}++;

    my $why = bad_outcome($st, $out);
    next unless defined $why;

    push @failures, $why;
    diag("seed $SEED, iteration $iter, from seed config $names[$k]: $why\n"
        . "mutations: $how\n"
        . "output:\n" . Portico::ConfFuzz::show_config($out, 30) . "\n"
        . "config:\n" . Portico::ConfFuzz::show_config($text));
    # keep the failing config for the developer (where no glob of a
    # mutated include reaches it)
    $t->write_file_raw("failed/$iter.txt", $text);
    last if @failures >= 5;
}

my $summary = join ', ', map { "$_: $status{$_}" } sort keys %status;
note("seed $SEED: $runs mutated configs (exit status: $summary)");

ok($runs >= 50, "enough mutated configs ran in $SECS s ($runs)");
is(scalar(@failures), 0, "$runs mutated configs: exit 0 or 1, never a crash, "
    . "errors say where (seed $SEED)");
ok(($status{1} // 0) > $runs / 2, 'most mutated configs are rejected')
    or diag($summary);

###############################################################################
# the nesting guards, exactly

$t->write_file('self.conf', "include self.conf;\nevents { }\n");
my ($st, $out) = conf_test($t->path('self.conf'));
my $too_deep = qr/^portico: \[emerg\] include nesting too deep, more than 32 levels in \Q$dir\E/;
ok($st == 1 && $out =~ /$too_deep\/self.conf:1$/m,
    'an include of itself: "include nesting too deep" at the include line')
    or diag("status " . ($st // 'undef') . "\n$out");

$t->write_file('ping.conf', "events { }\nhttp {\n    include pong.conf;\n}\n");
$t->write_file('pong.conf', "server {\n}\ninclude ping-in-http.conf;\n");
$t->write_file('ping-in-http.conf', "include pong.conf;\n");
($st, $out) = conf_test($t->path('ping.conf'));
ok($st == 1 && $out =~ /$too_deep\/(?:pong|ping-in-http).conf:\d+$/m,
    'two files including each other: "include nesting too deep"')
    or diag("status " . ($st // 'undef') . "\n$out");

$t->write_file('deep.conf', "events { }\nhttp {\nserver {\n"
    . "location / {\n" x 100_000 . "}\n" x 100_000 . "}\n}\n");
($st, $out) = conf_test($t->path('deep.conf'));
ok($st == 1 && $out =~
    /^portico: \[emerg\] blocks nested too deep, more than 64 levels in \Q$dir\E\/deep.conf:66$/m,
    '100000 nested blocks: "blocks nested too deep" at the 65th level')
    or diag("status " . ($st // 'undef') . "\n$out");

# a FIFO nobody writes to reads as empty, rather than blocking the parser
POSIX::mkfifo("$dir/fifo/x.fifo", 0600) or die "mkfifo: $!" if mkdir "$dir/fifo";
$t->write_file('fifo.conf', "events { }\ninclude fifo/x.fifo;\n");
($st, $out) = conf_test($t->path('fifo.conf'));
is($st, 0, 'an include of a FIFO does not block') or diag($out);

# a value the setter accepts but the module cannot use: still file:line
$t->write_file('wc.conf', "events {\n    worker_connections 1;\n}\n");
($st, $out) = conf_test($t->path('wc.conf'));
ok($st == 1 && $out =~
    /^portico: \[emerg\] 1 worker_connections are not enough in \Q$dir\E\/wc.conf:2$/m,
    'worker_connections 1: the error names file and line') or diag($out);

# a token with control bytes: the error stays one line, the bytes escaped
$t->write_file_raw('ctl.conf', "events { }\nerror_log fz.log \"bo\ngus\x1b[2J\";\n");
($st, $out) = conf_test($t->path('ctl.conf'));
ok($st == 1 && $out =~
    /^portico: \[emerg\] invalid log level "bo\\x0agus\\x1b\[2J" in \Q$dir\E\/ctl.conf:3$/m,
    'control bytes of a token are escaped in the error') or diag($out);

$t->write_file('deep-ok.conf',
    "events { }\nhttp {\nserver {\nlisten 127.0.0.1:%%PORT_8080%%;\n"
    . "location / {\n" x 60 . "}\n" x 60 . "}\n}\n");
($st, $out) = conf_test($t->path('deep-ok.conf'));
is($st, 0, '62 nested blocks are fine') or diag($out);
