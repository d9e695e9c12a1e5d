package Portico::SSL;

# Test certificates, made at test time with the openssl command line into
# the test directory: self-signed RSA and ECDSA P-256 certificates, a CA
# with server and client certificates it signs, revocation with a CRL, and
# a password-protected key.  Nothing here is checked in.
#
#   use Portico::SSL;
#   my $d = $t->testdir;
#   ssl_self_signed($d, 'rsa', cn => 'localhost');             # rsa.crt rsa.key
#   ssl_self_signed($d, 'ec', cn => 'localhost', type => 'ec'); # ec.crt ec.key
#   ssl_ca($d, 'ca');                                          # ca.crt ca.key
#   ssl_ca_sign($d, 'ca', 'client', cn => 'client');          # client.crt/key
#   ssl_ca_revoke($d, 'ca', 'client');                         # then:
#   ssl_ca_crl($d, 'ca');                                      # ca.crl
#   ssl_self_signed($d, 'enc', password => 'secret');          # enc.key encrypted
#   ssl_ticket_key($d, 'ticket1.key', 80);                     # random bytes
#
# Clients (IO::Socket::SSL, certificates not verified unless asked):
#   my $s = https_connect(port => $p, sni => 'a.example', ssl => {...});
#   my $r = https_get('/', port => $p);            # HTTP/1.0, read to EOF
#   my $r = https_request($s, "GET / HTTP/1.1\r\n...");  # one response
#   s_client(port => $p, args => [...], input => '')        # openssl s_client
#
# A TLS backend for run_daemon (forks per connection, keepalive honoured):
#   $t->run_daemon(\&https_daemon, port => $p, cert => "$d/b.crt",
#       key => "$d/b.key", ca => "$d/ca.crt");   # ca: ask for client certs
# Its answer to every request is one line:
#   "uri=/x sni=NAME client=CN reused=0|1 proto=TLSv1.3 conn=PID.N"
# (N counts the requests on the connection, so conn shows keepalive).
#
# Every function dies with openssl's output when a command fails.

use strict;
use warnings;

use Exporter 'import';
use IO::Socket::SSL;
use Net::SSLeay ();
use POSIX ();
use Portico::Test ();

our @EXPORT = qw(ssl_self_signed ssl_ca ssl_ca_sign ssl_ca_revoke ssl_ca_crl
    ssl_ticket_key ssl_openssl https_connect https_get https_request s_client
    https_daemon);

# Runs openssl with the arguments; dies with its output on failure.
sub ssl_openssl {
    my (@args) = @_;
    my $out = '';
    my $pid = open(my $fh, '-|');
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        exec('openssl', @args) or exit 127;
    }
    { local $/; $out = <$fh> // ''; }
    close $fh;
    die "openssl @args: $out" if $?;
    return $out;
}

sub _keyargs {
    my (%o) = @_;
    my $type = $o{type} // 'rsa';
    return $type eq 'ec'
        ? ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1')
        : ('-newkey', 'rsa:2048');
}

sub _san {
    my (%o) = @_;
    my @names = @{$o{names} // [$o{cn} // 'localhost']};
    return 'subjectAltName=' . join(',',
        map { /^[\d.]+$/ ? "IP:$_" : "DNS:$_" } @names);
}

# NAME.crt and NAME.key in DIR, self-signed.  Options: cn, names (SANs),
# type (rsa | ec), password (encrypts the key with AES-256).
sub ssl_self_signed {
    my ($dir, $name, %o) = @_;
    my $cn = $o{cn} // 'localhost';
    my @enc = defined $o{password}
        ? ('-passout', "pass:$o{password}") : ('-noenc');
    ssl_openssl('req', '-x509', _keyargs(%o), @enc, '-days', '30',
        '-keyout', "$dir/$name.key", '-out', "$dir/$name.crt",
        '-subj', "/CN=$cn", '-addext', _san(%o, cn => $cn));
    return ("$dir/$name.crt", "$dir/$name.key");
}

# A CA able to revoke: CA.crt, CA.key and its database CA.db/.
sub ssl_ca {
    my ($dir, $ca, %o) = @_;
    my $db = "$dir/$ca.db";
    mkdir $db;
    _write("$db/index.txt", '');
    _write("$db/serial", "1000\n");
    _write("$db/crlnumber", "1000\n");
    _write("$dir/$ca.cnf", <<"EOF");
[ ca ]
default_ca = pt_ca
[ pt_ca ]
dir = $db
database = $db/index.txt
new_certs_dir = $db
serial = $db/serial
crlnumber = $db/crlnumber
certificate = $dir/$ca.crt
private_key = $dir/$ca.key
default_md = sha256
default_days = 30
default_crl_days = 30
policy = pt_policy
unique_subject = no
copy_extensions = copy
[ pt_policy ]
commonName = supplied
[ req ]
distinguished_name = pt_dn
[ pt_dn ]
EOF
    ssl_openssl('req', '-x509', _keyargs(%o), '-noenc', '-days', '30',
        '-keyout', "$dir/$ca.key", '-out', "$dir/$ca.crt",
        '-subj', '/CN=' . ($o{cn} // "Portico Test CA $ca"),
        '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    return ("$dir/$ca.crt", "$dir/$ca.key");
}

# NAME.crt and NAME.key signed by CA.  Options: cn, names, type.  Returns
# the serial number (hex, as openssl prints it).
sub ssl_ca_sign {
    my ($dir, $ca, $name, %o) = @_;
    my $cn = $o{cn} // $name;
    ssl_openssl('req', '-new', _keyargs(%o), '-noenc',
        '-keyout', "$dir/$name.key", '-out', "$dir/$name.csr",
        '-subj', "/CN=$cn", '-addext', _san(%o, cn => $cn));
    ssl_openssl('ca', '-batch', '-config', "$dir/$ca.cnf", '-notext',
        '-in', "$dir/$name.csr", '-out', "$dir/$name.crt");
    my $serial = ssl_openssl('x509', '-in', "$dir/$name.crt", '-noout', '-serial');
    $serial =~ s/^serial=//;
    $serial =~ s/\s+$//;
    return $serial;
}

sub ssl_ca_revoke {
    my ($dir, $ca, $name) = @_;
    ssl_openssl('ca', '-batch', '-config', "$dir/$ca.cnf",
        '-revoke', "$dir/$name.crt");
}

# CA.crl: the CA's current revocation list.
sub ssl_ca_crl {
    my ($dir, $ca) = @_;
    ssl_openssl('ca', '-batch', '-config', "$dir/$ca.cnf", '-gencrl',
        '-out', "$dir/$ca.crl");
    return "$dir/$ca.crl";
}

# A ssl_session_ticket_key file of SIZE (48 or 80) random bytes.
sub ssl_ticket_key {
    my ($dir, $name, $size) = @_;
    ssl_openssl('rand', '-out', "$dir/$name", $size // 80);
    return "$dir/$name";
}

# A TLS connection to 127.0.0.1:port, or undef ($SSL_ERROR says why).
# Options: port, sni (the server name to send; none by default), timeout,
# ssl (more IO::Socket::SSL options).
sub https_connect {
    my (%o) = @_;
    return IO::Socket::SSL->new(
        PeerHost => '127.0.0.1',
        PeerPort => $o{port},
        Timeout => $o{timeout} // 5,
        SSL_verify_mode => SSL_VERIFY_NONE,
        SSL_hostname => $o{sni} // '',
        %{$o{ssl} // {}},
    );
}

# Sends raw on s and reads one response: by Content-Length, or to EOF.
sub https_request {
    my ($s, $raw, %o) = @_;
    my $buf = '';
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm($o{timeout} // 5);
        print $s $raw;
        while (1) {
            my $n = sysread($s, $buf, 65536, length $buf);
            last unless $n;
            my $h = index($buf, "\r\n\r\n");
            next if $h < 0;
            my ($len) = substr($buf, 0, $h) =~ /\r\nContent-Length: *(\d+)/i;
            last if defined $len && length($buf) >= $h + 4 + $len;
        }
        alarm(0);
    };
    alarm(0);
    return $buf;
}

# GET path over a new connection (HTTP/1.0, so it closes).  In list
# context also the socket (for its session and certificate).
sub https_get {
    my ($path, %o) = @_;
    my $s = https_connect(%o) or return;
    my $host = $o{host} // 'localhost';
    my $r = https_request($s, "GET $path HTTP/1.0\r\nHost: $host\r\n\r\n", %o);
    return wantarray ? ($r, $s) : $r;
}

# openssl s_client against 127.0.0.1:port; its output (stdout+stderr).
sub s_client {
    my (%o) = @_;
    my $in = $o{input} // '';
    my $pid = open(my $fh, '-|');
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDERR, '>&', \*STDOUT;
        pipe(my $r, my $w) or exit 127;
        my $p = fork();
        if (!$p) { close $r; print $w $in; sleep($o{wait} // 0); close $w; exit 0 }
        close $w;
        open STDIN, '<&', $r;
        exec('timeout', $o{timeout} // 10, 'openssl', 's_client', '-connect',
            "127.0.0.1:$o{port}", @{$o{args} // []}) or exit 127;
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return $out;
}

sub https_daemon {
    my (%o) = @_;
    my $server = IO::Socket::SSL->new(
        LocalAddr => '127.0.0.1',
        LocalPort => $o{port},
        Listen => 128,
        ReuseAddr => 1,
        SSL_server => 1,
        SSL_cert_file => $o{cert},
        SSL_key_file => $o{key},
        ($o{ca} ? (SSL_ca_file => $o{ca}, SSL_verify_mode => SSL_VERIFY_PEER
            | ($o{require} ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0)) : ()),
        SSL_startHandshake => 0,
    ) or die "https_daemon: cannot listen on $o{port}: $! $SSL_ERROR\n";

    local $SIG{CHLD} = 'IGNORE';
    while (1) {
        my $c = $server->accept or next;
        my $pid = fork;
        if (!defined $pid) { close $c; next }
        if ($pid == 0) {
            close $server;
            eval { _https_serve($c, %o) };
            POSIX::_exit(0);
        }
        close $c;
    }
}

sub _https_serve {
    my ($c, %o) = @_;
    local $SIG{ALRM} = sub { die "idle\n" };
    alarm 30;
    $c->accept_SSL or return;
    my $ssl = $c->_get_ssl_object;
    my $n = 0;
    my $buf = '';
    while (1) {
        my $h;
        while (($h = index($buf, "\r\n\r\n")) < 0) {
            my $r = sysread($c, $buf, 16384, length $buf);
            return unless $r;
        }
        my $head = substr($buf, 0, $h + 4, '');
        my ($uri) = $head =~ /^\S+ (\S+)/;
        my ($len) = $head =~ /\r\nContent-Length: *(\d+)/i;
        if ($len) {
            while (length $buf < $len) {
                my $r = sysread($c, $buf, 16384, length $buf);
                return unless $r;
            }
            substr($buf, 0, $len, '');
        }
        $n++;
        my $sni = Net::SSLeay::get_servername($ssl) // '';
        my $cn = $c->peer_certificate('cn') // '';
        my $body = sprintf("uri=%s sni=%s client=%s reused=%d proto=%s conn=%d.%d\n",
            $uri, $sni, $cn, Net::SSLeay::session_reused($ssl) ? 1 : 0,
            $c->get_sslversion // '', $$, $n);
        my $close = $head =~ /\r\nConnection: *close/i || $head =~ /HTTP\/1\.0/;
        print $c "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
            . length($body) . "\r\n" . ($close ? "Connection: close\r\n" : '')
            . "\r\n$body";
        alarm 30;
        last if $close;
    }
    $c->close(SSL_fast_shutdown => 1);
}

sub _write {
    my ($f, $text) = @_;
    open my $fh, '>', $f or die "$f: $!";
    print $fh $text;
    close $fh;
}

1;
