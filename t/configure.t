#!/usr/bin/perl

# Tests for ./configure: --help, invalid options, a missing library, and
# module selection.  configure runs in a scratch copy of the build files, so
# the repository's objs/ and Makefile are left alone; nothing is compiled
# beyond configure's own small test programs.

use strict;
use warnings;

use Test::More;
use File::Temp qw(tempdir);
use FindBin;
use Cwd qw(abs_path);

my $SRC = abs_path("$FindBin::Bin/..");
my $SH = -x '/bin/dash' ? '/bin/dash' : '/bin/sh';    # configure is POSIX sh
my $TMP = tempdir('portico-configure-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $TREE = "$TMP/src";

mkdir $TREE or die "mkdir $TREE: $!";
for my $item (qw(configure Makefile.in auto modules core)) {
    next unless -e "$SRC/$item";
    system('cp', '-R', "$SRC/$item", "$TREE/") == 0 or die "cp $item failed";
}
mkdir "$TREE/core" unless -d "$TREE/core";

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    local $/;
    return scalar <$fh>;
}

sub spew {
    my ($file, $text, $mode) = @_;
    open my $fh, '>', $file or die "write $file: $!";
    print $fh $text;
    close $fh;
    chmod $mode, $file if defined $mode;
}

# configure(\%env, @args): run ./configure in the scratch tree and return
# (exit status, stdout, stderr).  stdin is /dev/null, as in CI.
sub configure {
    my ($env, @args) = @_;
    my ($out, $err) = ("$TMP/stdout", "$TMP/stderr");
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        chdir $TREE or die "chdir: $!";
        @ENV{keys %$env} = values %$env;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out;
        open STDERR, '>', $err;
        exec $SH, './configure', @args;
        exit 127;
    }
    waitpid $pid, 0;
    return ($? >> 8, slurp($out), slurp($err));
}

# Every module folder, read the way auto/modules reads it: by sourcing it.
my @modules;
for my $cfg (sort glob "$SRC/modules/*/config") {
    my $vars = `$SH -c '. "\$1"; printf "%s\\n" "\$pt_module_flag" "\$pt_module_default" "\$pt_module_names"' sh '$cfg'`;
    my ($flag, $default, $names) = split /\n/, $vars;
    push @modules, { flag => $flag, default => $default, names => [split ' ', $names // ''] };
}

# (a) --help lists every option, including each module's flag.
{
    my ($rc, $out, $err) = configure({}, '--help');
    is($rc, 0, '--help exits 0');
    for my $opt (qw(--help --prefix= --sbin-path= --conf-path= --error-log-path= --pid-path=
                    --http-log-path= --user= --group= --builddir= --with-cc= --with-cc-opt=
                    --with-ld-opt= --with-debug --without-werror)) {
        like($out, qr/^\s+\Q$opt\E/m, "--help lists $opt");
    }
    for my $m (@modules) {
        my $opt = ($m->{default} eq 'yes' ? '--without-' : '--with-') . "$m->{flag}_module";
        like($out, qr/^\s+\Q$opt\E\s/m, "--help lists $opt");
    }
    ok(!-e "$TREE/objs", '--help writes nothing');
}

# (b) an unknown option is one error line and exit status 1.
{
    my ($rc, $out, $err) = configure({}, '--prefix=/tmp/x', '--foo');
    is($rc, 1, 'unknown option exits 1');
    is($err, qq{./configure: error: invalid option "--foo"\n}, 'unknown option error line');

    ($rc, $out, $err) = configure({}, '--prefix');
    is($rc, 1, 'option without its value exits 1');

    my ($on) = grep { $_->{default} eq 'yes' } @modules;
    SKIP: {
        skip 'no default-on module', 1 unless $on;
        ($rc) = configure({}, "--with-$on->{flag}_module");
        is($rc, 1, "--with-$on->{flag}_module is invalid for a module that is on by default");
    }
}

# (c) a missing library: one clear line naming it and its packages.  The
# library is hidden through public knobs only: PKG_CONFIG=false and a
# compiler wrapper that refuses to link it.
sub wrapper {
    my ($name, $lib) = @_;
    my $path = "$TMP/$name";
    spew($path, <<"END", 0755);
#!/bin/sh
for a in "\$@"; do
    case "\$a" in
        $lib) echo "$name: pretending $lib is not installed" >&2; exit 1 ;;
    esac
done
exec cc "\$@"
END
    return $path;
}

{
    my $cc = wrapper('cc-no-pcre2', '-lpcre2-8');
    my ($rc, $out, $err) = configure({ PKG_CONFIG => 'false' }, "--with-cc=$cc");
    is($rc, 1, 'missing PCRE2 exits 1');
    is($err,
       "./configure: error: the PCRE2 library is required; "
       . "install libpcre2-dev (Debian) or pcre2-devel (RPM)\n",
       'missing PCRE2: one line naming the packages');

    $cc = wrapper('cc-no-ssl', '-lssl');
    ($rc, $out, $err) = configure({ PKG_CONFIG => 'false' }, "--with-cc=$cc");
    is($rc, 1, 'missing OpenSSL exits 1');
    is($err,
       "./configure: error: the OpenSSL library is required; "
       . "install libssl-dev (Debian) or openssl-devel (RPM)\n",
       'missing OpenSSL: one line naming the packages');
}

# zlib is needed only when a compiled-in module lists it: a throwaway
# module that is off by default shows both sides (with the gzip module,
# which needs zlib too, left out).
{
    mkdir "$TREE/modules/zz_test_zlib";
    spew("$TREE/modules/zz_test_zlib/config", <<'END');
pt_module_flag=zz_test_zlib
pt_module_default=no
pt_module_type=HTTP_FILTER
pt_module_order=900
pt_module_names="pt_zz_test_zlib_module"
pt_module_srcs="pt_zz_test_zlib_module.c"
pt_module_libs="ZLIB"
pt_module_requires=""
END
    my $cc = wrapper('cc-no-zlib', '-lz');
    my ($rc, $out, $err) = configure({ PKG_CONFIG => 'false' }, "--with-cc=$cc",
                                     '--without-http_gzip_module');
    is($rc, 0, 'zlib absent but unused: configure succeeds') or diag($err);
    unlike(slurp("$TREE/objs/config.h"), qr/PT_HAVE_ZLIB/, 'PT_HAVE_ZLIB not defined');
    unlike(slurp("$TREE/objs/modules.c"), qr/pt_zz_test_zlib_module/,
           'module off by default is not in modules.c');

    ($rc, $out, $err) = configure({ PKG_CONFIG => 'false' }, "--with-cc=$cc",
                                  '--without-http_gzip_module', '--with-zz_test_zlib_module');
    is($rc, 1, 'zlib absent and needed: exit 1');
    is($err,
       "./configure: error: the zlib library is required by the zz_test_zlib module; "
       . "install zlib1g-dev (Debian) or zlib-devel (RPM)\n",
       'missing zlib: one line naming the module and the packages');

    system('rm', '-rf', "$TREE/modules/zz_test_zlib");
}

# (d) --without-http_rewrite_module leaves the module out of modules.c and
# config.h; the default build has it.
SKIP: {
    my ($rw) = grep { $_->{flag} eq 'http_rewrite' } @modules;
    skip 'modules/http_rewrite/config not present', 12 unless $rw;

    my ($rc, $out, $err) = configure({}, '--builddir=objs-default');
    is($rc, 0, 'default configure succeeds') or diag($err);
    my $mc = slurp("$TREE/objs-default/modules.c");
    my $ch = slurp("$TREE/objs-default/config.h");
    for my $name (@{ $rw->{names} }) {
        like($mc, qr/^\s*&\Q$name\E,$/m, "default: $name in pt_modules[]");
        like($mc, qr/^\s*"\Q$name\E",$/m, "default: $name in pt_module_names[]");
    }
    like($ch, qr/^#define PT_HAVE_HTTP_REWRITE_MODULE 1$/m, 'default: PT_HAVE_HTTP_REWRITE_MODULE');
    like($ch, qr/^#define PT_CONFIGURE " --builddir=objs-default"$/m, 'PT_CONFIGURE as given');

    # The fixed core list comes first, in order.
    my @list = $mc =~ /^\s*&(\w+),$/mg;
    is_deeply([@list[0 .. 8]],
              [qw(pt_core_module pt_errlog_module pt_conf_module pt_events_module
                  pt_event_core_module pt_epoll_module pt_http_module pt_http_core_module
                  pt_http_log_module)],
              'core modules first, in order');
    like($mc, qr/NULL\s*\};\s*char \*pt_module_names\[\] = \{/s, 'pt_modules[] ends with NULL');

    ($rc, $out, $err) = configure({}, '--builddir=objs-norewrite',
                                  '--without-http_rewrite_module');
    is($rc, 0, '--without-http_rewrite_module succeeds') or diag($err);
    $mc = slurp("$TREE/objs-norewrite/modules.c");
    $ch = slurp("$TREE/objs-norewrite/config.h");
    unlike($mc, qr/\Q$_\E/, "without: $_ not in modules.c") for @{ $rw->{names} };
    unlike($ch, qr/PT_HAVE_HTTP_REWRITE_MODULE/, 'without: no PT_HAVE_HTTP_REWRITE_MODULE');
    like($ch, qr/^#define PT_CONFIGURE " --builddir=objs-norewrite --without-http_rewrite_module"$/m,
         'without: PT_CONFIGURE as given');
    like(slurp("$TREE/Makefile"), qr{-f objs-norewrite/Makefile}, 'top-level Makefile delegates');
}

done_testing();
