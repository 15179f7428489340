#!/usr/bin/perl
# Stand-in for the message bus: waits DELAY seconds (default 5), as a broker replaying its
# journal would, then accepts TCP connections on 127.0.0.1:PORT (default 47220) and closes
# each one. Perl rather than sh because sh cannot listen on a port; perl-base (with
# IO::Socket::INET) is part of every Debian and Ubuntu system.
use strict;
use warnings;
use IO::Socket::INET;

my ($port, $delay) = (@ARGV, 47220, 5)[0, 1];
$| = 1;
$SIG{TERM} = sub { print "bus: SIGTERM, closing\n"; exit 0 };
print "bus: replaying the journal for ${delay}s\n";
sleep $delay;
my $server = IO::Socket::INET->new(
    LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 16, ReuseAddr => 1,
) or die "bus: cannot listen on 127.0.0.1:$port: $!\n";
print "bus: listening on 127.0.0.1:$port\n";
while (1) {
    my $client = $server->accept or next;
    close $client;
}
