package Portico::Test;

# Test harness for portico: starts the real binary in a temporary prefix,
# hands out free ports, talks HTTP over raw sockets, and checks the error
# log for unexpected alerts when the test ends.
#
#   use lib 't/lib';
#   use Portico::Test;
#
#   my $t = Portico::Test->new->has(qw/http_rewrite/);
#   $t->write_file('portico.conf', <<'EOF');
#   events { }
#   http { server { listen 127.0.0.1:%%PORT_8080%%; location / { return 200 "hi"; } } }
#   EOF
#   $t->run;
#   $t->plan(1);                  # plans 1 + 1: the last test is "no alerts in error.log"
#   like(http_get('/'), qr/hi$/, 'body');
#
# Environment:
#   TEST_PORTICO_BINARY   binary to test (default: <repo>/objs/portico)
#   TEST_PORTICO_LEAVE    keep the temporary directory (its path is printed)
#   TEST_PORTICO_CATLOG   print error.log at the end of the test
#
# Every wait in this file is bounded; nothing here blocks forever.

use strict;
use warnings;

use Test::More ();
use Exporter 'import';
use Cwd qw(abs_path getcwd);
use Errno ();
use File::Basename qw(dirname);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use IO::Socket::IP;
use POSIX qw(:sys_wait_h);
use Socket qw(SOL_SOCKET SO_REUSEADDR);
use Time::HiRes qw(sleep time);

our @EXPORT = qw(
    http http_get http_keepalive
    http_connect http_send http_read_response http_read_all http_wait_close
    parse_response http_status http_header http_headers http_body
    wrk_parse
);

our $VERSION = '0.1';

$SIG{PIPE} = 'IGNORE';

# The repository root is the directory above t/, found from this file's path.
my $REPO = abs_path(File::Spec->catdir(dirname(__FILE__), '..', '..', '..'));

# Objects still alive, stopped in END (before Test::Builder's own END, which
# was compiled earlier and so runs later).
my @INSTANCES;
my $CURRENT;    # the last object created: default port source for http_*
my $MAIN_PID = $$;

###############################################################################
# construction, skipping, planning

sub new {
    my ($class, %opts) = @_;

    my $dir = tempdir('portico-test-XXXXXX', TMPDIR => 1,
        CLEANUP => !$ENV{TEST_PORTICO_LEAVE});
    chmod 0755, $dir or die "chmod $dir: $!";
    $dir = abs_path($dir);

    my $self = bless {
        _testdir   => $dir,
        _binary    => $ENV{TEST_PORTICO_BINARY} || "$REPO/objs/portico",
        _ports     => {},        # placeholder number => real port
        _used      => {},        # real ports handed out in this test
        _expect    => [],        # expected error log patterns
        _daemons   => [],        # pids from run_daemon / wrk_start
        _seen      => {},        # pid => starttime of every process we saw
        _planned   => 0,
        _checked   => 0,
        _wrk_n     => 0,
    }, $class;

    Test::More::diag("testdir: $dir") if $ENV{TEST_PORTICO_LEAVE};

    # the default prefix-relative log directory, as in an installed prefix
    mkdir "$dir/logs", 0755;

    _become_subreaper();

    push @INSTANCES, $self;
    $CURRENT = $self;
    return $self;
}

# Orphans of our processes (a new master after USR2 whose old master has
# exited, workers of a killed master) are re-parented to the test process,
# so they can be reaped and never linger as zombies under an init that does
# not reap.  Linux only; silently skipped elsewhere.
my $SUBREAPER;
sub _become_subreaper {
    return if $SUBREAPER++;
    eval {
        local $SIG{__WARN__} = sub {};
        require 'syscall.ph';
        # PR_SET_CHILD_SUBREAPER = 36
        syscall(&SYS_prctl, 36, 1, 0, 0, 0);
    };
}

# Exit statuses of reaped children, by pid (process-wide: waitpid(-1)
# reaps for every object).
my %REAPED;

# Reaps every exited child without blocking (orphans adopted as subreaper
# included), remembering their status.
sub _reap {
    while ((my $pid = waitpid(-1, WNOHANG)) > 0) {
        $REAPED{$pid} = $?;
    }
}

sub testdir { $_[0]{_testdir} }
sub binary  { $_[0]{_binary} }
sub repo    { $REPO }

# Skips the whole test unless every named module is compiled in.  A name
# "http_rewrite" means "pt_http_rewrite_module"; full names are accepted too.
sub has {
    my ($self, @names) = @_;
    my %mods = map { $_ => 1 } $self->modules;
    for my $n (@names) {
        my $full = $n =~ /^pt_\w+_module$/ ? $n : "pt_${n}_module";
        next if $mods{$full};
        Test::More::plan(skip_all => "$n not compiled in");
    }
    return $self;
}

# True if the named module is compiled in (no skipping).
sub has_module {
    my ($self, $n) = @_;
    my $full = $n =~ /^pt_\w+_module$/ ? $n : "pt_${n}_module";
    return scalar grep { $_ eq $full } $self->modules;
}

# Module names from the last line of "portico -V" ("modules: a b c").
sub modules {
    my ($self) = @_;
    unless ($self->{_modules}) {
        $self->_check_binary;
        my (undef, $out) = $self->run_cmd('-V');
        my ($line) = $out =~ /^modules:[ \t]*(.*)$/m;
        die "no \"modules:\" line in \"portico -V\" output:\n$out"
            unless defined $line;
        $self->{_modules} = [split ' ', $line];
    }
    return @{$self->{_modules}};
}

# Skips the whole test unless every named program is found in PATH.
sub has_daemon {
    my ($self, @progs) = @_;
    for my $p (@progs) {
        next if _which($p);
        Test::More::plan(skip_all => "$p not found");
    }
    return $self;
}

# Plans N tests plus the final "no alerts in error.log" check.
sub plan {
    my ($self, $n) = @_;
    $self->{_planned} = 1;
    Test::More::plan(tests => $n + 1);
    return $self;
}

# For tests that count as they go: stops everything, runs the error log
# check, then calls Test::More::done_testing.
sub done_testing {
    my ($self) = @_;
    $self->stop;
    $self->stop_daemons;
    $self->check_errors;
    Test::More::done_testing();
}

sub _which {
    my ($p) = @_;
    return $p if $p =~ m{/} && -x $p;
    for my $d (split /:/, $ENV{PATH} || '/usr/bin:/bin') {
        return "$d/$p" if -x "$d/$p" && !-d _;
    }
    return undef;
}

sub _check_binary {
    my ($self) = @_;
    die "portico binary not found or not executable: $self->{_binary}\n"
        . "(build it with ./configure && make, or set TEST_PORTICO_BINARY)\n"
        unless -x $self->{_binary};
}

###############################################################################
# files and ports

# Writes a file into the test dir (relative names) or anywhere (absolute),
# creating directories, after expanding %%PORT_NNNN%% and %%TESTDIR%%.
sub write_file {
    my ($self, $name, $content) = @_;
    return $self->write_file_raw($name, $self->expand($content));
}

sub write_file_expand { my $self = shift; return $self->write_file(@_) }

# Writes bytes as they are.
sub write_file_raw {
    my ($self, $name, $content) = @_;
    my $path = $self->path($name);
    my $dir = dirname($path);
    _mkpath($dir);
    open my $fh, '>', $path or die "open $path: $!";
    binmode $fh;
    print $fh $content;
    close $fh or die "close $path: $!";
    return $path;
}

sub read_file {
    my ($self, $name) = @_;
    my $path = $self->path($name);
    open my $fh, '<', $path or return undef;
    binmode $fh;
    local $/;
    my $c = <$fh>;
    return defined $c ? $c : '';
}

# Absolute path of a name inside the test dir.
sub path {
    my ($self, $name) = @_;
    return $name if File::Spec->file_name_is_absolute($name);
    return "$self->{_testdir}/$name";
}

sub _mkpath {
    my ($dir) = @_;
    return if -d $dir;
    _mkpath(dirname($dir));
    mkdir $dir or $!{EEXIST} or die "mkdir $dir: $!";
    chmod 0755, $dir;
}

sub expand {
    my ($self, $text) = @_;
    $text =~ s/%%PORT_(\d+)%%/$self->port($1)/ge;
    $text =~ s/%%TESTDIR%%/$self->{_testdir}/g;
    return $text;
}

# Real port for a placeholder number; allocated on first use by binding
# port 0 on 127.0.0.1.  A port is never handed out twice in one test.
sub port {
    my ($self, $n) = @_;
    return $self->{_ports}{$n} //= $self->_free_port;
}

sub _free_port {
    my ($self) = @_;
    for (1 .. 100) {
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
            Proto => 'tcp', Listen => 1, ReuseAddr => 0)
            or die "cannot bind a free port: $!";
        my $p = $s->sockport;
        close $s;
        next if $self->{_used}{$p}++;
        return $p;
    }
    die "cannot find a free port";
}

###############################################################################
# running the binary

# Standard command line for the config file: -p TESTDIR/ -c TESTDIR/CONF.
sub _std_args {
    my ($self, %o) = @_;
    my $dir = $self->{_testdir};
    my $conf = $self->path($o{conf} // 'portico.conf');
    my $globals = $o{globals} // "daemon off; pid $dir/portico.pid;";
    $globals = $self->expand($globals);
    return ('-p', "$dir/", '-c', $conf,
        '-e', $self->path($o{error_log} // 'error.log'), '-g', $globals);
}

# Starts the master process (our child).  Options:
#   conf => 'portico.conf', globals => 'daemon off; pid ...;',
#   ports => [...] (override the listen ports to wait for),
#   workers => N (override the number of workers to wait for; 0: don't),
#   timeout => 5.
# Waits until the pid file exists, every listen port of the config accepts
# connections, and the workers are up.  Dies with the logs otherwise.
sub run {
    my ($self, %o) = @_;

    $self->_check_binary;
    die "portico is already running (pid $self->{_child})\n"
        if $self->{_child} && $self->_alive($self->{_child});

    my @args = $self->_std_args(%o);
    my $globals = $args[-1];
    my $dir = $self->{_testdir};

    my ($pid_path) = $globals =~ /(?:^|;)\s*pid\s+("[^"]*"|\S+?)\s*;/;
    $pid_path =~ s/^"(.*)"$/$1/ if defined $pid_path;
    $pid_path = $self->path($pid_path) if defined $pid_path;
    $self->{_pid_path} = $pid_path;
    unlink $pid_path if defined $pid_path;

    my $conf = $self->path($o{conf} // 'portico.conf');
    my $conf_text = $self->_conf_text($conf, 0) . "\n$globals\n";

    my @ports = $o{ports} ? @{$o{ports}} : _listen_ports($conf_text);
    my $workers = $o{workers} // _expected_workers($conf_text);
    my $timeout = $o{timeout} // 5;

    my $pid = $self->_spawn([$self->{_binary}, @args],
        "$dir/stderr.log", append => 1);
    $self->{_child} = $pid;
    $self->_remember($pid);

    my $deadline = time + $timeout;
    my $fail = sub {
        my ($why) = @_;
        my $log = $self->_tail('error.log', 40) . $self->_tail('stderr.log', 20);
        $self->_kill_tree($pid);
        die "portico did not start: $why\n$log";
    };

    # pid file
    if (defined $pid_path) {
        until (-s $pid_path) {
            $fail->("exited with status " . $self->_status_str($pid))
                unless $self->_alive($pid);
            $fail->("no pid file $pid_path") if time > $deadline;
            sleep 0.02;
        }
    }

    $self->_remember($self->_read_pid($pid_path) // $pid) if defined $pid_path;

    # listening ports
    for my $p (@ports) {
        until (_can_connect($p->[0], $p->[1])) {
            $fail->("exited with status " . $self->_status_str($pid))
                unless $self->_alive($pid);
            $fail->("port $p->[0]:$p->[1] does not accept connections")
                if time > $deadline;
            sleep 0.02;
        }
    }

    # workers (not fatal: tests about workers check the count themselves)
    if ($workers) {
        my $m = $self->master_pid;
        while (time < $deadline) {
            last if $self->worker_pids($m) >= $workers;
            sleep 0.02;
        }
    }

    return $self;
}

# Tries to start an instance that is expected to fail (e.g. bind error).
# Same options as run(); default error log "run_fail.log" (not checked for
# alerts: failing is the point) and default pid file "run_fail.pid".
# Returns (exit status, stderr+stdout).  If the process is still running
# after the timeout (default 10 s) it and its children are killed and the
# status is undef.
sub run_fail {
    my ($self, %o) = @_;
    my $dir = $self->{_testdir};
    $o{error_log} //= 'run_fail.log';
    $o{globals} //= "daemon off; pid $dir/run_fail.pid;";
    my @args = $self->_std_args(%o);
    my $out = "$dir/run_fail.out";
    my $pid = $self->_spawn([$self->{_binary}, @args], $out);
    $self->_remember($pid);

    my $deadline = time + ($o{timeout} // 10);
    while (time < $deadline) {
        unless ($self->_alive($pid)) {
            return ($self->_exit_code($pid), $self->read_file($out));
        }
        sleep 0.05;
    }
    $self->_kill_tree($pid);
    return (undef, $self->read_file($out));
}

# Runs the binary with exactly these arguments; returns (exit status,
# stdout and stderr interleaved).  Bounded: killed after 20 s.
sub run_cmd {
    my ($self, @args) = @_;
    my $out = "$self->{_testdir}/run_cmd.out";
    my $pid = $self->_spawn([$self->{_binary}, @args], $out);
    my $st = $self->_wait_cmd($pid, 20);
    return ($st, $self->read_file($out));
}

# Same, returning (exit status, stdout, stderr) separately.
sub run_cmd3 {
    my ($self, @args) = @_;
    my $o = "$self->{_testdir}/run_cmd.stdout";
    my $e = "$self->{_testdir}/run_cmd.stderr";
    my $pid = $self->_spawn([$self->{_binary}, @args], $o, stderr => $e);
    my $st = $self->_wait_cmd($pid, 20);
    return ($st, $self->read_file($o), $self->read_file($e));
}

sub _wait_cmd {
    my ($self, $pid, $timeout) = @_;
    my $deadline = time + $timeout;
    while (time < $deadline) {
        return $self->_exit_code($pid) unless $self->_alive($pid);
        sleep 0.01;
    }
    $self->_kill_tree($pid);
    Test::More::diag("command did not finish in $timeout s, killed");
    return undef;
}

# fork + exec; stdin from /dev/null, stdout to $out, stderr to $opts{stderr}
# or $out.  The child never runs our END blocks.
sub _spawn {
    my ($self, $cmd, $out, %opts) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        eval {
            open STDIN, '<', '/dev/null' or die "stdin: $!";
            my $mode = $opts{append} ? '>>' : '>';
            open STDOUT, $mode, $out or die "open $out: $!";
            if ($opts{stderr}) {
                open STDERR, $mode, $opts{stderr} or die "open $opts{stderr}: $!";
            } else {
                open STDERR, '>&', \*STDOUT or die "dup: $!";
            }
            chdir $opts{chdir} if $opts{chdir};
            exec { $cmd->[0] } @$cmd or die "exec $cmd->[0]: $!";
        };
        print STDERR $@;
        POSIX::_exit(127);
    }
    delete $REAPED{$pid};
    return $pid;
}

# Text of a config file and the files it includes (for finding the listen
# ports and worker count; a rough scan, not a parser).  Relative includes
# are resolved against the main config file's directory, as the binary does.
sub _conf_text {
    my ($self, $file, $depth, $base) = @_;
    return '' if $depth > 8;
    $base //= dirname($file);
    open my $fh, '<', $file or return '';
    local $/;
    my $text = <$fh> // '';
    close $fh;
    my $all = $text;
    while ($text =~ /(?:^|[;{}\s])include\s+("[^"]*"|'[^']*'|[^\s;]+)\s*;/g) {
        (my $pat = $1) =~ s/^["'](.*)["']$/$1/;
        $pat = "$base/$pat" unless $pat =~ m{^/};
        for my $f (sort glob $pat) {
            $all .= "\n" . $self->_conf_text($f, $depth + 1, $base);
        }
    }
    return $all;
}

# [host, port] pairs from "listen" directives.
sub _listen_ports {
    my ($text) = @_;
    my (@r, %seen);
    $text =~ s/#[^\n]*//g;
    while ($text =~ /(?:^|[;{}\s])listen\s+("[^"]*"|[^\s;]+)/g) {
        (my $a = $1) =~ s/"//g;
        next if $a =~ /^unix:/;
        my ($host, $port);
        if ($a =~ /^\[([^\]]+)\]:(\d+)$/) { ($host, $port) = ($1, $2) }
        elsif ($a =~ /^([^:]+):(\d+)$/)   { ($host, $port) = ($1, $2) }
        elsif ($a =~ /^(\d+)$/)           { ($host, $port) = ('127.0.0.1', $1) }
        else { next }
        $host = '127.0.0.1' if $host eq '*' || $host eq '0.0.0.0' || $host eq 'localhost';
        $host = '::1' if $host eq '::';
        push @r, [$host, $port] unless $seen{"$host $port"}++;
    }
    return @r;
}

sub _expected_workers {
    my ($text) = @_;
    $text =~ s/#[^\n]*//g;
    return 0 if $text =~ /(?:^|[;{}\s])master_process\s+off\s*;/;
    my @n = $text =~ /(?:^|[;{}\s])worker_processes\s+(\w+)\s*;/g;
    return 1 unless @n;
    my $n = $n[-1];
    return ncpus() if $n eq 'auto';
    return $n =~ /^\d+$/ ? $n : 1;
}

# Number of online CPUs (what "worker_processes auto" should pick).
sub ncpus {
    my $n = `getconf _NPROCESSORS_ONLN 2>/dev/null`;
    return $n =~ /^(\d+)/ ? $1 : 1 if defined $n;
    return 1;
}

sub _can_connect {
    my ($host, $port) = @_;
    my $s = IO::Socket::IP->new(PeerHost => $host, PeerPort => $port,
        Proto => 'tcp', Timeout => 1);
    return 0 unless $s;
    close $s;
    return 1;
}

# Waits (bounded) until host:port accepts TCP connections.
sub wait_for_port {
    my ($self, $port, $timeout, $host) = @_;
    my $deadline = time + ($timeout // 5);
    while (time < $deadline) {
        return 1 if _can_connect($host // '127.0.0.1', $port);
        sleep 0.02;
    }
    return 0;
}

###############################################################################
# processes

# Pid of the current master: the pid file if it names a live process,
# else the process we started.
sub master_pid {
    my ($self) = @_;
    my $p = $self->_read_pid($self->{_pid_path});
    return $p if $p && $self->_alive($p) && $self->_ours($p);
    return $self->{_child};
}

# True if a pid is a process of this test's server: our child, a process
# seen before with the same start time, or one whose command line names
# the test dir or whose executable is the binary.  Guards against stale
# pid files naming a recycled pid.
sub _ours {
    my ($self, $pid) = @_;
    return 1 if $self->{_child} && $pid == $self->{_child};
    return 1 if $self->_same_process($pid);
    my $ok = index(_cmdline($pid), $self->{_testdir}) >= 0;
    unless ($ok) {
        my $exe = readlink "/proc/$pid/exe";
        if (defined $exe) {
            $exe =~ s/ \(deleted\)$//;
            $ok = $exe eq (abs_path($self->{_binary}) // '');
        }
    }
    $self->_remember($pid) if $ok;
    return $ok;
}

# The process run() started (the first master; differs from master_pid
# after a binary upgrade).
sub child_pid { $_[0]{_child} }

# Pid from "<pid file>.oldbin", if any.
sub oldbin_pid {
    my ($self) = @_;
    return undef unless defined $self->{_pid_path};
    return $self->_read_pid("$self->{_pid_path}.oldbin");
}

sub pid_path { $_[0]{_pid_path} }

sub _read_pid {
    my ($self, $path) = @_;
    return undef unless defined $path;
    open my $fh, '<', $path or return undef;
    my $l = <$fh>;
    close $fh;
    return defined $l && $l =~ /^\s*(\d+)/ ? $1 : undef;
}

# /proc/PID/stat fields after the command name: (state, ppid, ..., starttime)
sub _stat {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return;
    my $l = <$fh>;
    close $fh;
    return unless defined $l && $l =~ /\)\s+(.*)$/s;
    my @f = split ' ', $1;
    # $f[0] state, $f[1] ppid, $f[19] starttime (field 22 overall)
    return { state => $f[0], ppid => $f[1], start => $f[19] };
}

sub _cmdline {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/cmdline" or return '';
    local $/;
    my $c = <$fh> // '';
    $c =~ s/\0+$//;
    $c =~ s/\0/ /g;
    return $c;
}

# Children of a process (default: the current master), without zombies.
sub children {
    my ($self, $parent) = @_;
    return () unless $parent;
    my @r;
    opendir my $d, '/proc' or return ();
    for my $pid (grep /^\d+$/, readdir $d) {
        my $st = _stat($pid) or next;
        next unless $st->{ppid} == $parent && $st->{state} ne 'Z';
        push @r, $pid;
    }
    closedir $d;
    return sort { $a <=> $b } @r;
}

# Worker processes of a master (default: the current master): its live
# children, without processes that are masters themselves (a new master
# after USR2 is a child of the old one).
sub worker_pids {
    my ($self, $master) = @_;
    $master //= $self->master_pid;
    return () unless $master;
    my %masters = map { $_ => 1 } grep defined,
        $self->_read_pid($self->{_pid_path}), $self->oldbin_pid;
    my @w;
    for my $pid ($self->children($master)) {
        next if $masters{$pid};
        my $cmd = _cmdline($pid);
        next if $cmd =~ /master process|cache (?:manager|loader)/;
        next if $self->children($pid);        # a master, not a worker
        $self->_remember($pid);
        push @w, $pid;
    }
    return @w;
}

# Waits until the master (default: current) has exactly $n workers.  In
# list context returns them (empty on timeout); in scalar context returns
# true on success (also for $n == 0).
sub wait_workers {
    my ($self, $n, $timeout, $master) = @_;
    my $deadline = time + ($timeout // 5);
    while (1) {
        my @w = $self->worker_pids($master);
        return wantarray ? @w : 1 if @w == $n;
        return wantarray ? () : 0 if time > $deadline;
        sleep 0.02;
    }
}

# True while a process exists and is not a zombie.  Reaps our own children.
sub alive { my ($self, $pid) = @_; return $self->_alive($pid) }

sub _alive {
    my ($self, $pid) = @_;
    return 0 unless $pid;
    _reap();
    return 0 if exists $REAPED{$pid};
    my $st = _stat($pid) or return 0;
    return 1 if $st->{state} ne 'Z';
    # it exited after the _reap() above: reap it now, so that its exit
    # status is known to whoever saw it die
    _reap();
    return 0;
}

# Waits until a process is gone; true on success.
sub wait_exit {
    my ($self, $pid, $timeout) = @_;
    $pid //= $self->master_pid;
    my $deadline = time + ($timeout // 5);
    while ($self->_alive($pid)) {
        return 0 if time > $deadline;
        sleep 0.01;
    }
    return 1;
}

# Exit code of a reaped child: the status, or 128 + signal.
sub exit_code { my ($self, $pid) = @_; return $self->_exit_code($pid // $self->{_child}) }

sub _exit_code {
    my ($self, $pid) = @_;
    my $s = $REAPED{$pid};
    return undef unless defined $s;
    return $s & 127 ? 128 + ($s & 127) : $s >> 8;
}

sub _status_str {
    my ($self, $pid) = @_;
    my $c = $self->_exit_code($pid);
    return defined $c ? $c : 'unknown';
}

# Remembers pid + start time so stop() can kill leftovers without hitting a
# recycled pid.
sub _remember {
    my ($self, $pid) = @_;
    my $st = _stat($pid) or return;
    delete $REAPED{$pid} if $st->{state} ne 'Z';    # a recycled pid
    $self->{_seen}{$pid} = $st->{start};
}

sub _same_process {
    my ($self, $pid) = @_;
    my $st = _stat($pid) or return 0;
    return 0 if $st->{state} eq 'Z';
    return defined $self->{_seen}{$pid} && $self->{_seen}{$pid} eq $st->{start};
}

# Sends a signal (name or number) to the master, or to the given pid;
# false (with a diagnostic) if that fails.
sub signal {
    my ($self, $sig, $pid) = @_;
    $sig =~ s/^SIG//;
    $pid //= $self->master_pid;
    unless ($pid && kill($sig, $pid)) {
        Test::More::diag("cannot send SIG$sig to " . ($pid // 'no process') . ": $!");
        return 0;
    }
    return 1;
}

# HUP, then waits until the worker set has been replaced: every old worker
# has exited and $opts{workers} (default: as many as before) new ones run.
# Returns the new worker pids, or an empty list on timeout (10 s).
sub reload {
    my ($self, %o) = @_;
    my $m = $self->master_pid;
    my @old = $self->worker_pids($m);
    my $n = $o{workers} // scalar @old;
    my %old = map { $_ => 1 } @old;
    $self->signal('HUP', $m) or return ();
    my $deadline = time + ($o{timeout} // 10);
    while (time < $deadline) {
        my @w = $self->worker_pids($m);
        my @new = grep { !$old{$_} } @w;
        my $old_left = grep { $self->_alive($_) } @old;
        return @new if !$old_left && @new == $n && @w == $n;
        sleep 0.02;
    }
    return ();
}

# Graceful stop of everything started by run(): QUIT to every master (pid
# file, .oldbin, our child), wait up to $timeout (10 s), then TERM, then
# KILL, then kill leftover workers we saw.  Returns true if the masters
# exited by themselves after QUIT.
sub stop {
    my ($self, %o) = @_;
    return 1 unless $$ == $MAIN_PID;
    my @m = grep { $_ && $self->_alive($_) && $self->_ours($_) }
        $self->{_child}, $self->_read_pid($self->{_pid_path}), $self->oldbin_pid;
    my %m = map { $_ => 1 } @m;
    @m = keys %m;
    return 1 unless @m;

    $self->_remember($_) for @m, map { $self->worker_pids($_) } @m;

    my $graceful = 1;
    for my $sig ('QUIT', 'TERM', 'KILL') {
        kill $sig, grep { $self->_alive($_) } @m;
        my $deadline = time + ($sig eq 'QUIT' ? ($o{timeout} // 10) : 3);
        while (grep { $self->_alive($_) } @m) {
            last if time > $deadline;
            sleep 0.02;
        }
        last unless grep { $self->_alive($_) } @m;
        $graceful = 0;
        Test::More::diag("portico did not exit after SIG$sig") if $sig ne 'KILL';
    }

    # orphaned workers of a killed master
    for my $pid (keys %{$self->{_seen}}) {
        next unless $self->_same_process($pid);
        next if $self->_is_daemon($pid);
        kill 'KILL', $pid;
    }
    return $graceful;
}

sub _is_daemon {
    my ($self, $pid) = @_;
    return scalar grep { $_ == $pid } @{$self->{_daemons}};
}

sub _kill_tree {
    my ($self, $pid) = @_;
    my @kids = $self->children($pid);
    push @kids, map { $self->children($_) } @kids;
    kill 'KILL', $pid, @kids;
    $self->wait_exit($pid, 3);
}

###############################################################################
# helper daemons

# Forks a Perl function (e.g. an HTTP backend) as its own process group;
# it is killed when the test ends.  Returns the pid.
sub run_daemon {
    my ($self, $code, @args) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        setpgrp(0, 0);
        open STDIN, '<', '/dev/null';
        my $ok = eval { $code->(@args); 1 };
        print STDERR "daemon: $@" unless $ok;
        POSIX::_exit($ok ? 0 : 1);
    }
    delete $REAPED{$pid};
    push @{$self->{_daemons}}, $pid;
    return $pid;
}

# Kills every daemon (and its process group), bounded.
sub stop_daemons {
    my ($self) = @_;
    return unless $$ == $MAIN_PID;
    for my $pid (@{$self->{_daemons}}) {
        next unless $self->_alive($pid);
        kill 'TERM', -$pid;
        kill 'TERM', $pid;
        unless ($self->wait_exit($pid, 2)) {
            kill 'KILL', -$pid;
            kill 'KILL', $pid;
            $self->wait_exit($pid, 2);
        }
    }
    $self->{_daemons} = [];
}

###############################################################################
# wrk

# Starts wrk in the background; output goes to TESTDIR/wrk-N.log.
#   $t->wrk_start(url => '/', port => N, connections => 32, threads => 2,
#                 duration => 120, args => [...])
# Returns a handle for wrk_finish.
sub wrk_start {
    my ($self, %o) = @_;
    my $port = $o{port} // $self->port(8080);
    my $url = $o{url} // '/';
    $url = "http://127.0.0.1:$port$url" if $url =~ m{^/};
    my $n = ++$self->{_wrk_n};
    my $out = "$self->{_testdir}/wrk-$n.log";
    my @cmd = (_which('wrk') // 'wrk',
        '-c', $o{connections} // 32, '-t', $o{threads} // 2,
        '-d', ($o{duration} // 120) . 's', @{$o{args} || []}, $url);
    my $pid = $self->_spawn(\@cmd, $out);
    push @{$self->{_daemons}}, $pid;
    sleep($o{warmup} // 0.5);
    return { pid => $pid, out => $out };
}

# Stops wrk with SIGINT (it then prints its summary); returns the output.
sub wrk_finish {
    my ($self, $h) = @_;
    kill 'INT', $h->{pid};
    unless ($self->wait_exit($h->{pid}, 10)) {
        kill 'KILL', $h->{pid};
        $self->wait_exit($h->{pid}, 2);
    }
    return $self->read_file($h->{out}) // '';
}

# Parses wrk's summary: { requests, connect, read, write, timeout, non2xx3xx }.
# Counters absent from the output are 0; requests is undef if not found.
sub wrk_parse {
    my ($text) = @_;
    my %r = (connect => 0, read => 0, write => 0, timeout => 0, non2xx3xx => 0);
    ($r{requests}) = $text =~ /^\s*(\d+) requests in /m;
    if ($text =~ /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/) {
        @r{qw/connect read write timeout/} = ($1, $2, $3, $4);
    }
    ($r{non2xx3xx}) = $text =~ /Non-2xx or 3xx responses: (\d+)/ or $r{non2xx3xx} = 0;
    $r{errors} = $r{connect} + $r{read} + $r{write} + $r{timeout} + $r{non2xx3xx};
    return \%r;
}

###############################################################################
# error log check

# Declares error log lines (by pattern) the test causes on purpose.
sub expect_errors {
    my ($self, @re) = @_;
    push @{$self->{_expect}}, @re;
    return $self;
}

# Lines of error.log* and stderr.log that are [alert], [crit], [emerg] or
# about a process exiting on a signal, and that no expected pattern covers.
sub unexpected_errors {
    my ($self) = @_;
    my @bad;
    my $dir = $self->{_testdir};
    my @files = (sort(glob "$dir/error.log*"), "$dir/stderr.log");
    for my $f (@files) {
        open my $fh, '<', $f or next;
        while (my $l = <$fh>) {
            chomp $l;
            next unless $l =~ /\[(?:alert|crit|emerg)\]|exited on signal/;
            next if grep { $l =~ $_ } @{$self->{_expect}};
            push @bad, $l;
        }
        close $fh;
    }
    return @bad;
}

# The "no alerts in error.log" test; runs once.
sub check_errors {
    my ($self) = @_;
    return if $self->{_checked}++;
    my @bad = $self->unexpected_errors;
    Test::More::is(join("\n", @bad), '', 'no alerts in error.log');
}

sub _tail {
    my ($self, $name, $n) = @_;
    my $c = $self->read_file($name);
    return '' unless defined $c && length $c;
    my @l = split /\n/, $c;
    @l = @l[-$n .. -1] if @l > $n;
    return "--- $name:\n" . join("\n", @l) . "\n";
}

sub _finish {
    my ($self) = @_;
    $self->stop;
    $self->stop_daemons;
    my $tb = Test::More->builder;
    if (!$self->{_checked} && ($self->{_planned} || ($tb->has_plan // '') =~ /^\d+$/)
        && $tb->current_test > 0)
    {
        $self->check_errors;
    }
    if ($ENV{TEST_PORTICO_CATLOG}) {
        Test::More::diag($self->_tail('error.log', 1e6));
    }
}

END {
    if ($$ == $MAIN_PID) {
        my $code = $?;
        $_->_finish for @INSTANCES;
        @INSTANCES = ();
        $? = $code;
    }
}

###############################################################################
# raw HTTP

sub _opt_port {
    my (%o) = @_;
    return $o{port} if defined $o{port};
    return $CURRENT->port(8080) if $CURRENT;
    die "no port given\n";
}

# Connects to 127.0.0.1 (or $o{addr}) : port; returns the socket or undef.
sub http_connect {
    my (%o) = @_;
    my $port = _opt_port(%o);
    my $s = IO::Socket::IP->new(PeerHost => $o{addr} // '127.0.0.1',
        PeerPort => $port, Proto => 'tcp', Timeout => $o{timeout} // 5);
    return $s;
}

# Writes all bytes (bounded); true on success.
sub http_send {
    my ($s, $data, %o) = @_;
    my $deadline = time + ($o{timeout} // 5);
    my $sel = IO::Select->new($s);
    while (length $data) {
        my $left = $deadline - time;
        return 0 if $left <= 0;
        next unless $sel->can_write($left);
        my $n = syswrite($s, $data);
        return 0 unless defined $n;
        substr($data, 0, $n) = '';
    }
    return 1;
}

# Reads until EOF or timeout; returns what was read.
sub http_read_all {
    my ($s, %o) = @_;
    my $buf = '';
    my $deadline = time + ($o{timeout} // 5);
    my $sel = IO::Select->new($s);
    while (1) {
        my $left = $deadline - time;
        last if $left <= 0;
        last unless $sel->can_read($left);
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
    }
    return $buf;
}

# True if the peer closes the connection (EOF or reset) within $timeout.
sub http_wait_close {
    my ($s, $timeout) = @_;
    my $deadline = time + ($timeout // 5);
    my $sel = IO::Select->new($s);
    while (1) {
        my $left = $deadline - time;
        return 0 if $left <= 0;
        next unless $sel->can_read($left);
        my $buf;
        my $n = sysread($s, $buf, 65536);
        return 1 if !defined $n || $n == 0;
    }
}

# Reads exactly one response (head + body by Content-Length, chunked, or
# until close).  $o{head} => 1 for a HEAD request (no body).  Returns the
# raw response, or undef if nothing complete arrived in time.
sub http_read_response {
    my ($s, %o) = @_;
    my $deadline = time + ($o{timeout} // 5);
    my $sel = IO::Select->new($s);
    my $buf = ${*$s}{portico_rest} // '';
    ${*$s}{portico_rest} = '';
    my $eof = 0;

    my $more = sub {
        my $left = $deadline - time;
        return 0 if $left <= 0 || $eof;
        return 0 unless $sel->can_read($left);
        my $n = sysread($s, $buf, 65536, length $buf);
        $eof = 1 unless $n;
        return $n ? 1 : 0;
    };

    my $hend;
    until (($hend = index($buf, "\r\n\r\n")) >= 0) {
        $more->() or return undef;
    }
    my $head = substr($buf, 0, $hend + 4);
    my ($code) = $head =~ m{^HTTP/\d\.\d (\d{3})};
    my $len;
    my $no_body = $o{head} || (defined $code && ($code =~ /^1/ || $code == 204 || $code == 304));
    if ($no_body) {
        $len = 0;
    } elsif ($head =~ /^Transfer-Encoding:\s*chunked\s*$/mi) {
        my $pos = $hend + 4;
        while (1) {
            my $e;
            until (($e = index($buf, "\r\n", $pos)) >= 0) { $more->() or return undef }
            my ($sz) = substr($buf, $pos, $e - $pos) =~ /^([0-9a-fA-F]+)/;
            return undef unless defined $sz;
            $sz = hex $sz;
            if ($sz == 0) {
                # trailers end with an empty line
                my $t;
                until (($t = index($buf, "\r\n\r\n", $e - 2)) >= 0) { $more->() or return undef }
                $len = $t + 4 - ($hend + 4);
                last;
            }
            $pos = $e + 2 + $sz + 2;
            while (length $buf < $pos) { $more->() or return undef }
        }
    } elsif ($head =~ /^Content-Length:\s*(\d+)\s*$/mi) {
        $len = $1;
    } else {
        1 while $more->();
        return $buf;
    }
    while (length($buf) < $hend + 4 + $len) { $more->() or return undef }
    my $resp = substr($buf, 0, $hend + 4 + $len);
    ${*$s}{portico_rest} = substr($buf, $hend + 4 + $len);
    return $resp;
}

# Sends raw bytes and returns everything read until close or timeout.
# Options: port, timeout (5), split => [offsets] or N, sleep (0.2, between
# parts), start => 1 (return the socket after sending), socket => $s.
sub http {
    my ($req, %o) = @_;
    my $s = $o{socket} // http_connect(%o) or return undef;
    my @parts = ($req);
    if (defined $o{split}) {
        my @at = ref $o{split} ? @{$o{split}} : ($o{split});
        @parts = ();
        my $prev = 0;
        for my $at (@at, length $req) {
            push @parts, substr($req, $prev, $at - $prev);
            $prev = $at;
        }
    }
    for my $i (0 .. $#parts) {
        sleep($o{sleep} // 0.2) if $i > 0;
        http_send($s, $parts[$i], %o) or last;
    }
    return $s if $o{start};
    my $r = http_read_all($s, %o);
    close $s;
    return $r;
}

# GET over HTTP/1.0 (the server closes after the response).
# Options: port, host ('localhost'), headers => ["Name: value", ...], timeout.
sub http_get {
    my ($path, %o) = @_;
    my $host = $o{host} // 'localhost';
    my $h = join '', map "$_\r\n", @{$o{headers} || []};
    return http("GET $path HTTP/1.0\r\nHost: $host\r\n$h\r\n", %o);
}

# Sends several requests on one connection, one after another, and reads
# each response (by Content-Length / chunked).  A request is raw text, or
# a path for "GET path HTTP/1.1".  Returns the list of responses (undef for
# ones that did not arrive).  Options: port, host, timeout, pipeline => 1
# (send all at once), head => 1.
sub http_keepalive {
    my ($reqs, %o) = @_;
    my $host = $o{host} // 'localhost';
    my @r = map { m{^/} ? "GET $_ HTTP/1.1\r\nHost: $host\r\n\r\n" : $_ } @$reqs;
    my $s = http_connect(%o) or return;
    my @out;
    if ($o{pipeline}) {
        http_send($s, join('', @r), %o);
        push @out, http_read_response($s, %o) for @r;
    } else {
        for my $req (@r) {
            http_send($s, $req, %o) or do { push @out, undef; next };
            push @out, http_read_response($s, %o);
        }
    }
    close $s;
    return wantarray ? @out : \@out;
}

###############################################################################
# response parsing

# { version, status, reason, headers => [[name, value], ...],
#   header => { lc name => first value }, body (de-chunked), raw }
sub parse_response {
    my ($raw) = @_;
    return undef unless defined $raw;
    my $i = index($raw, "\r\n\r\n");
    return undef if $i < 0;
    my $head = substr($raw, 0, $i);
    my $body = substr($raw, $i + 4);
    my ($sl, @lines) = split /\r\n/, $head;
    my ($ver, $status, $reason) = $sl =~ m{^HTTP/(\d\.\d) (\d{3})(?: (.*))?$}
        or return undef;
    my (@h, %h);
    for my $l (@lines) {
        my ($n, $v) = $l =~ /^([^:\s]+):[ \t]*(.*?)[ \t]*$/ or next;
        push @h, [$n, $v];
        $h{lc $n} //= $v;
    }
    if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        my $out = '';
        while ($body =~ s/^([0-9a-fA-F]+)[^\r]*\r\n//) {
            my $sz = hex $1;
            last if $sz == 0;
            $out .= substr($body, 0, $sz);
            substr($body, 0, $sz + 2) = '';
        }
        $body = $out;
    }
    return { version => $ver, status => $status, reason => $reason // '',
        headers => \@h, header => \%h, body => $body, raw => $raw };
}

sub http_status {
    my $p = parse_response($_[0]);
    return $p ? $p->{status} : undef;
}

# First value of a header (case-insensitive); all values in list context.
sub http_header {
    my ($raw, $name) = @_;
    my $p = parse_response($raw) or return;
    my @v = map { $_->[1] } grep { lc $_->[0] eq lc $name } @{$p->{headers}};
    return wantarray ? @v : $v[0];
}

# { lc name => first value }
sub http_headers {
    my $p = parse_response($_[0]);
    return $p ? $p->{header} : {};
}

sub http_body {
    my $p = parse_response($_[0]);
    return $p ? $p->{body} : undef;
}

1;

__END__

=head1 NAME

Portico::Test - harness for portico's Perl tests (t/*.t)

=head1 API

Object methods (C<< my $t = Portico::Test->new >>; one per test file):

  testdir, binary, path(NAME), read_file(NAME)
  has(FLAGS...)            skip_all unless pt_FLAG_module is in `portico -V`
  has_module(FLAG)         true/false, no skipping; modules() lists them all
  has_daemon(PROGS...)     skip_all unless each program is in PATH
  plan(N)                  plans N + 1 (the last test is "no alerts in error.log")
  done_testing             stop, error log check, Test::More::done_testing
  write_file(NAME, TEXT)   expands %%PORT_NNNN%% and %%TESTDIR%%; creates dirs
  write_file_expand        the same; write_file_raw writes bytes as they are
  expand(TEXT), port(N)    placeholder expansion / the real port for NNNN
  run(%o)                  start: -p TESTDIR/ -c TESTDIR/portico.conf
                           -e TESTDIR/error.log -g "daemon off; pid TESTDIR/portico.pid;"
                           options: conf, globals, error_log, ports, workers, timeout
  run_fail(%o)             start expected to fail: (exit status, output);
                           status undef if it kept running (then killed)
  run_cmd(ARGS)            (status, stdout+stderr); run_cmd3: (status, stdout, stderr)
  master_pid, child_pid, oldbin_pid, pid_path
  worker_pids([MASTER]), children(PID), alive(PID), wait_exit(PID, T), exit_code([PID])
  wait_workers(N, T, [MASTER])   list: the workers; scalar: success
  wait_for_port(PORT, T)
  signal(SIG, [PID])       to the master by default
  reload(%o)               HUP, wait for a complete new worker set; returns it
  stop(%o)                 QUIT, then TERM, then KILL (bounded); true if graceful
  expect_errors(RE...)     error log lines the test causes on purpose
  unexpected_errors, check_errors
  run_daemon(CODE, ARGS)   fork a Perl function as a helper; killed at the end
  stop_daemons
  wrk_start(%o), wrk_finish(H)   background wrk and its summary text

Exported functions:

  http(RAW, %o)            send, read until close/timeout; options: port,
                           timeout, split, sleep, start, socket
  http_get(PATH, %o)       HTTP/1.0 GET; options: port, host, headers, timeout
  http_keepalive(\@REQS, %o)   several requests on one connection
  http_connect, http_send, http_read_response, http_read_all, http_wait_close
  parse_response, http_status, http_header, http_headers, http_body
  wrk_parse(TEXT)          { requests, connect, read, write, timeout, non2xx3xx, errors }

Portico::Test::Daemon exports http_daemon (a forking HTTP/1.1 backend for
run_daemon) and read_request.

Environment: TEST_PORTICO_BINARY, TEST_PORTICO_LEAVE, TEST_PORTICO_CATLOG.

=cut
