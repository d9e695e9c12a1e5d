#!/usr/bin/perl

# The request parser under libFuzzer with ASan and UBSan, for a short
# bounded time (20 s) over the seed corpus t/fuzz/corpus/: "make fuzz"
# builds <builddir>/fuzz/http_parse with clang, and the run must end
# without a crash, a sanitizer report or a broken invariant of the
# harness (t/fuzz/http_parse.c).  Skipped when clang with libFuzzer is not
# installed (Debian: clang, libclang-rt-dev).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use Cwd qw(abs_path);

my $repo = abs_path("$FindBin::Bin/..");
my $bdir = $ENV{TEST_PORTICO_BUILDDIR} // "$repo/objs";
my $secs = $ENV{TEST_PORTICO_FUZZ_TIME} // 20;
my $dir = tempdir('portico-fuzz-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{TEST_PORTICO_LEAVE});

plan(skip_all => 'clang not found')
    unless grep { -x "$_/clang" } split /:/, $ENV{PATH} // '';

# Can clang link a libFuzzer target here?
open my $probe, '>', "$dir/probe.c" or die "$dir/probe.c: $!";
print $probe "#include <stddef.h>\n#include <stdint.h>\n"
    . "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }\n";
close $probe;
plan(skip_all => 'clang cannot link -fsanitize=fuzzer (libclang-rt-dev missing?)')
    if system("clang -fsanitize=fuzzer,address,undefined -o '$dir/probe' '$dir/probe.c' "
              . ">'$dir/probe.log' 2>&1") != 0;

plan(tests => 4);

chdir $repo or die "$repo: $!";
my $rc = system("make -s -f '$bdir/Makefile' fuzz >'$dir/build.log' 2>&1");
ok($rc == 0 && -x "$bdir/fuzz/http_parse", 'make fuzz builds the harness')
    or diag(`tail -n 30 '$dir/build.log'`);

SKIP: {
    skip 'no harness', 3 unless -x "$bdir/fuzz/http_parse";

    mkdir "$dir/corpus";
    $rc = system("'$bdir/fuzz/http_parse' -max_total_time=$secs -timeout=10 "
        . "-rss_limit_mb=2048 -artifact_prefix='$dir/' '$dir/corpus' '$repo/t/fuzz/corpus' "
        . ">'$dir/fuzz.log' 2>&1");
    my $log = do { local (@ARGV, $/) = "$dir/fuzz.log"; <> } // '';
    my @crashes = glob "$dir/crash-* $dir/leak-* $dir/timeout-* $dir/oom-*";

    ok($rc == 0 && !@crashes, "$secs s of fuzzing without a crash")
        or diag("exit $rc; artifacts: @crashes\n" . join("\n", (split /\n/, $log)[-40 .. -1]));

    my ($seeds) = $log =~ /seed corpus: files: (\d+)/;
    ok(($seeds // 0) >= 10, 'the seed corpus was loaded') or diag("seeds: " . ($seeds // 'none'));

    my ($runs) = $log =~ /Done (\d+) runs/;
    ok(($runs // 0) > 1000, sprintf('inputs run: %s', $runs // 'none'));
}
