package Portico::ConfFuzz;

# Random mutations of configuration files, for tests that feed broken
# configs to the parser ("portico -t") and to a running master (HUP).
#
#   use Portico::ConfFuzz;
#   my $fz = Portico::ConfFuzz->new(seed => 42, self => 'fuzz.conf',
#       directives => [Portico::ConfFuzz::directives($repo)]);
#   my ($text, $how) = $fz->mutate($seed_text);
#
# Every choice comes from Perl's rand() after srand($seed), so a seed
# reproduces the same sequence of configs on the same perl.  $how lists the
# mutations applied, for the diagnostics of a failing test.
#
# Inputs are byte strings; outputs are byte strings (they may hold NUL and
# bytes above 0x7f: write them with binmode).

use strict;
use warnings;

# Bytes and short strings the tokenizer treats specially.
my @SPECIAL = ('{', '}', ';', '"', "'", '$', '${', '\\', "\0", "\xff", "\x80\xc3",
    '#', '(', ')', "\r", "\n", ' ', "\t", '}}', '{{', ';;', '"\\', '\\"', '$}', '${}',
    '${x', "\\\n", '~', '=', '@', "\xef\xbb\xbf");

# Argument values that setters must reject or accept without harm.
my @VALUES = ('on', 'off', 'ON', '0', '1', '-1', '-0', '+1', '00', '1.5',
    '2147483647', '2147483648', '4294967296', '9223372036854775807',
    '9223372036854775808', '99999999999999999999999999', '-9223372036854775808',
    '1k', '1K', '1m', '1g', '1G', '9223372036854775807k', '9999999999999g', '0k', '-1k',
    'k', 'm', '1x', '1ms', '1s', '1m1s', '1h', '1d', '1w', '1M', '1y', '999999999999y',
    '9223372036854775807ms', '1s 1s', 's', '',
    '$', '$$', '${', '${}', '${uri', '$uri', '$1', '$9', '$10', '$0', '$nosuchvar',
    '${uri}x', '$arg_', '$http_', '$cookie_', '$sent_http_', 'x$', '$ ', '$-',
    'http://', 'http://127.0.0.1', 'http://127.0.0.1:0', 'http://127.0.0.1:99999',
    'http://[::1', 'http://:80', 'http://$host', 'https://', 'unix:', 'http://unix:',
    'http://unix:/', 'ftp://x', '127.0.0.1:0', '127.0.0.1:65536', '127.0.0.1:-1',
    '[::1]', '[::1]:', '[', ']', ':::', '*:', '*', ':80', '0.0.0.0:1', '256.1.1.1',
    '127.0.0.1/33', '::/129', '1.2.3.4/-1', 'unix:/', '/', '~', '~*', '=', '^~', '@',
    '@x', '(', ')', '-f', '!-f', '!', '=200', '=', '200', '600', '099', '1000', '000',
    '301', '444', '499', 'buffer=', 'buffer=0', 'buffer=-1', 'flush=', 'flush=0',
    'if=', 'if=$x', 'escape=', 'escape=json', 'gzip', 'a=b', '=x', 'x=',
    'default_server', 'backup', 'down', 'weight=0', 'weight=-1', 'max_fails=',
    'fail_timeout=', 'max_conns=', 'shared:', 'shared:X:', 'shared:X:0',
    'shared:X:1k', 'builtin:', 'none', 'always', 'last', 'break', 'redirect',
    'permanent', '^', '^(', '(?<', '(?<n>x)', '[a-', '\\', '\\\\', '*', '?', '[',
    '.', '..', '../../../..', 'logs', 'TLSv9', 'ALL:!x', 'html', 'text/html',
    'X-Header', ':', "\x00", "\xff\xfe", 'a b', 'a;b', 'a{b}',
);

# Directive names of the tree: every { pt_string("name"), PT_... } entry
# of a command table under core/ and modules/ (a few enum tables match the
# pattern too; they only make "unknown directive" errors).
sub directives {
    my ($repo) = @_;
    my %seen;
    my @files = (glob("$repo/core/*.c"), glob("$repo/core/*/*.c"), glob("$repo/modules/*/*.c"));
    for my $f (@files) {
        open my $fh, '<', $f or next;
        local $/;
        my $src = <$fh>;
        $seen{$1} = 1 while $src =~ /\{\s*pt_string\("([a-z_0-9]+)"\),\s*PT_/g;
    }
    return sort keys %seen;
}

# Options: seed (number), self (the name an include of itself uses),
# directives (names to splice in), long_max (longest token made).
sub new {
    my ($class, %o) = @_;
    srand($o{seed} // 1);
    return bless {
        self       => $o{self} // 'fuzz.conf',
        directives => $o{directives} // ['listen', 'location', 'return'],
        long_max   => $o{long_max} // 100_000,
    }, $class;
}

sub _pick { return $_[int(rand(@_))] }

# Splits a config into pieces that join back to the same bytes: quoted
# strings, "{", "}", ";", words and runs of space.
sub _pieces {
    my ($text) = @_;
    return $text =~ /("(?:[^"\\]++|\\.)*+"?|'(?:[^'\\]++|\\.)*+'?|[{};]|[^\s{};"']++|\s++)/gs;
}

# Indices of the pieces that are not space.
sub _tokens {
    my ($p) = @_;
    return grep { $p->[$_] !~ /^\s+$/ } 0 .. $#$p;
}

sub _value {
    my ($self) = @_;
    my $r = rand;
    return _pick(@VALUES) if $r < 0.7;
    return $self->_long if $r < 0.8;
    return join '', map { chr(int(rand(256))) } 1 .. 1 + int(rand(8));
}

# A token long enough to cross buffer sizes and length limits.
sub _long {
    my ($self) = @_;
    my $n = _pick(255, 256, 1023, 1024, 4095, 4096, 65536, $self->{long_max});
    return _pick('a' x $n, '$' . ('v' x $n), '${' . ('v' x $n) . '}', '"' . ('q' x $n) . '"',
        '9' x $n, '/' . ('d/' x ($n / 2)), '(' x ($n / 8));
}

# A directive of the tree with random arguments and terminator.
sub _directive {
    my ($self) = @_;
    my @w = (_pick(@{$self->{directives}}));
    push @w, $self->_value for 1 .. int(rand(4));
    my $end = _pick(';', ';', ' { }', ' { ' . _pick(@{$self->{directives}}) . ' x; }', '');
    return join(' ', map { _quote_if($_) } @w) . $end;
}

sub _quote {
    my ($s) = @_;
    $s =~ s/(["\\])/\\$1/g;
    return "\"$s\"";
}

# Statements: [name index, [argument indices], terminator index or undef]
# for every word that starts one (first token, or after ";", "{", "}").
sub _statements {
    my ($p, $tok) = @_;
    my (@st, $cur);
    my $start = 1;
    for my $i (@$tok) {
        my $w = $p->[$i];
        if ($w eq ';' || $w eq '{' || $w eq '}') {
            $cur->[2] = $i if $cur;
            ($cur, $start) = (undef, 1);
            next;
        }
        if ($start) {
            $cur = [$i, [], undef];
            push @st, $cur;
            $start = 0;
        } elsif ($cur) {
            push @{$cur->[1]}, $i;
        }
    }
    return @st;
}

# New arguments for a statement: each old one kept or replaced, and
# sometimes one dropped or one more (mostly the same count, so that the
# setter runs rather than the central argument count check).
sub _new_args {
    my ($self, $p, $args) = @_;
    my @new = map { rand() < 0.5 ? $p->[$_] : _quote_if($self->_value) } @$args;
    my $r = rand;
    splice @new, int(rand(@new)), 1 if $r < 0.15 && @new > 1;
    push @new, _quote_if($self->_value) if ($r > 0.85) || !@new;
    return @new;
}

sub _quote_if { my ($v) = @_; return $v =~ /[\s{};"']|^$/ ? _quote($v) : $v }

# One mutation of the piece list, in place; returns its name.
sub _mutate_once {
    my ($self, $p) = @_;
    my @tok = _tokens($p);
    my $i = @tok ? _pick(@tok) : 0;
    my $at = int(rand(@$p + 1));
    my $r = int(rand(18));

    # statement boundaries are where a directive makes sense
    my @after = map { $_ + 1 } grep { $p->[$_] =~ /^[;{}]$/ } @tok;
    $at = _pick(@after) if @after && rand() < 0.75;

    if ($r >= 15) {
        # the setters: an existing directive, in its own context, with
        # other arguments
        my @st = _statements($p, \@tok);
        return $self->_mutate_once($p) unless @st;
        my $s = _pick(@st);
        my @args = @{$s->[1]};
        my @new = $self->_new_args($p, \@args);
        my $from = $s->[0] + 1;
        my $to = defined $s->[2] ? $s->[2] : @args ? $args[-1] + 1 : $from;
        splice @$p, $from, $to - $from, map { (' ', $_) } @new;
        return sprintf "arguments of %s := %s", _show($p->[$s->[0]]),
            join(' ', map { _show($_) } @new);
    }

    if ($r == 0 && @tok) {
        splice @$p, $i, 1;
        return "delete token $i";
    }
    if ($r == 1 && @tok) {
        splice @$p, $i, 0, $p->[$i], ' ';
        return "duplicate token $i";
    }
    if ($r == 2 && @tok > 1) {
        my $j = _pick(@tok);
        @$p[$i, $j] = @$p[$j, $i];
        return "swap tokens $i $j";
    }
    if ($r == 3) {
        my $s = _pick(@SPECIAL);
        splice @$p, $at, 0, $s;
        return sprintf "insert %s at %d", _show($s), $at;
    }
    if ($r == 4 && @tok) {
        my $s = _pick(@SPECIAL);
        my $pos = int(rand(length($p->[$i]) + 1));
        substr($p->[$i], $pos, 0) = $s;
        return sprintf "insert %s into token %d", _show($s), $i;
    }
    if ($r == 5 || $r == 6) {
        return "no token" unless @tok;
        my $v = $self->_value;
        $p->[$i] = $v;
        return sprintf "token %d := %s", $i, _show($v);
    }
    if ($r == 7 || $r == 8) {
        my $d = $self->_directive;
        splice @$p, $at, 0, "\n", $d, "\n";
        return sprintf "insert directive %s at %d", _show($d), $at;
    }
    if ($r == 9) {
        my $n = _pick(2, 33, 65, 200, 5000, 50000);
        my $open = _pick('location / {', 'if ($uri) {', 'http {', 'server {', '{', 'x {');
        splice @$p, $at, 0, " ", ("$open\n") x $n, ("}\n") x (rand() < 0.5 ? $n : int(rand($n)));
        return sprintf "nest %s x %d at %d", _show($open), $n, $at;
    }
    if ($r == 10) {
        my $inc = _pick("include $self->{self};", "include $self->{self}", 'include *.conf;',
            'include *;', 'include .;', "include ./$self->{self};");
        splice @$p, $at, 0, "\n", $inc, "\n";
        return "insert \"$inc\" at $at";
    }
    if ($r == 11) {
        my $len = length(join '', @$p);
        my $cut = int(rand($len + 1));
        @$p = (substr(join('', @$p), 0, $cut));
        return "truncate at byte $cut";
    }
    if ($r == 12 && @tok > 2) {
        my ($a, $b) = sort { $a <=> $b } (_pick(@tok), _pick(@tok));
        my @copy = @$p[$a .. $b];
        splice @$p, $at, 0, ' ', @copy, ' ';
        return "copy tokens $a..$b to $at";
    }
    if ($r == 13) {
        my $text = join '', @$p;
        return "empty" unless length $text;
        my $pos = int(rand(length $text));
        my $bit = 1 << int(rand(8));
        substr($text, $pos, 1) = chr(ord(substr($text, $pos, 1)) ^ $bit);
        @$p = _pieces($text);
        return "flip bit $bit of byte $pos";
    }
    if ($r == 14 && rand() < 0.1) {
        @$p = (_pick('', ' ', "\n", ';', '{', '}', "\0", '#', '"', "'"));
        return sprintf "replace all with %s", _show($p->[0]);
    }
    return $self->_mutate_once($p);
}

# Shows a string in a diagnostic: escaped, and long ones shortened.
sub _show {
    my ($s) = @_;
    my $len = length $s;
    $s = substr($s, 0, 40) . "...($len bytes)" if $len > 60;
    $s =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
    return "\"$s\"";
}

# Applies 1 to 3 mutations; returns (text, description).
sub mutate {
    my ($self, $text) = @_;
    my @p = _pieces($text);
    my @how;
    push @how, $self->_mutate_once(\@p) for 1 .. 1 + int(rand(3));
    return (join('', @p), join('; ', @how));
}

# A config for a diagnostic: escaped bytes, long runs of one byte and of
# one line shortened, at most $max lines.
sub show_config {
    my ($text, $max) = @_;
    $max //= 80;
    $text =~ s/(.)\1{59,}/$1 x 20 . '...(' . length($&) . ' bytes of that)'/ges;
    $text =~ s/([^\x20-\x7e\n])/sprintf('\\x%02x', ord $1)/ge;
    my @out;
    my ($last, $n) = (undef, 0);
    for my $l (split(/\n/, $text, -1), undef) {
        if (defined $l && defined $last && $l eq $last) {
            $n++;
            next;
        }
        push @out, "...(line repeated $n more times)" if $n;
        push @out, $l if defined $l;
        ($last, $n) = ($l, 0);
    }
    splice @out, $max, @out - $max, '...' if @out > $max;
    return join "\n", @out;
}

1;
