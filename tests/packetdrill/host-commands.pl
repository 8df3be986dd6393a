#!/usr/bin/perl
# Rewrites a packetdrill script's host commands for a run against the adapter (see
# run-packetdrill.sh): each command in backticks would change the host, not the stack, so it
# becomes `true` (a timed command keeps its place in the script's time line), except that the
# numeric TCP sysctls it sets (`sysctl -q net.ipv4.tcp_ecn=2`, or
# `set_sysctls.py /proc/sys/net/ipv4/tcp_ecn=2`) are appended as "net.ipv4.NAME=VALUE" lines to
# SYSCTL_FILE, which the adapter applies before its next socket call (packetdrill/sysctl.c);
# `ip tcp_metrics flush` is appended as "tcp_metrics_flush=0" (the Fast Open cookie cache);
# `tc qdisc replace dev DEV root fq` as "qdisc_fq=1" (fq paces: sk_config.pacing), another
# root qdisc as "qdisc_fq=0"; a root `pfifo limit 0` (it holds nothing) as "qdisc_drop=1"
# (the adapter refuses every frame), any other as "qdisc_drop=0". `sysctl net/ipv4/NAME=V` is
# read as net.ipv4.NAME.
# Comment lines stay as they are; FreeBSD's TCP_NOOPT and TCP_KEEPINIT become their numbers.
#
#   host-commands.pl SYSCTL_FILE < script > copy
use strict;
use warnings;

my $file = shift @ARGV or die "usage: $0 SYSCTL_FILE < script > copy\n";
local $/;
my $s = <STDIN>;
$s =~ s{(//[^\n]*)|`([^`]*)`}{
    if (defined $1) {
        $1;
    } else {
        my $cmd = $2;
        my @set;
        while ($cmd =~ m{(?:net[./]ipv4[./]|/proc/sys/net/ipv4/)(tcp_[a-z0-9_]+)=(0x[0-9a-fA-F]+|[0-9]+)(?![\w.])}g) {
            push @set, "net.ipv4.$1=$2";
        }
        push @set, "tcp_metrics_flush=0" if $cmd =~ m{\bip\s+tcp_metrics\s+flush\b};
        while ($cmd =~ m{\btc\s+qdisc\s+(add|replace|change|del|delete)\s+dev\s+\S+\s+root(?:\s+(\w+)([^;&|]*))?}g) {
            my ($op, $kind, $args) = ($1, $2 // '', $3 // '');
            my $del = $op =~ /^del/;
            push @set, "qdisc_fq=" . (!$del && $kind eq 'fq' ? 1 : 0);
            push @set, "qdisc_drop=" . (!$del && $kind =~ /^[pb]fifo$/ && $args =~ /\blimit\s+0\b/ ? 1 : 0);
        }
        @set ? "`printf '%s\\n' @set >> $file`" : "`true`";
    }
}gse;
$s =~ s/TCP_NOOPT/8/g;
$s =~ s/TCP_KEEPINIT/128/g;
print $s;
