#!/usr/bin/perl
# tests/lib/make_mmdb.pl: build small ASN and country databases in MaxMind DB
# format from the capture generator's --networks file (network, asn, org, cc
# per line, tab-separated), with MaxMind's own writer (Debian package
# libmaxmind-db-writer-perl). The records have GeoLite2's layout:
#   ASN      {autonomous_system_number, autonomous_system_organization}
#   country  {country => {iso_code}}
#
#   perl tests/lib/make_mmdb.pl --networks NET.tsv [--asn ASN.mmdb] [--country CC.mmdb]
#        [--ip-version 6|4] [--record-size 24|28|32] [--build-epoch SECONDS]
#        [--asn-type NAME] [--country-type NAME] [--filler N] [--seed N]
#
# --filler N adds N random /24 and /48 networks of made-up ASes (inserted
# before the file's networks, which win where they overlap): a database the
# size of GeoLite2-ASN for the benchmark. With --ip-version 4, the file's
# IPv6 networks are left out.
use strict;
use warnings;
use Getopt::Long;
use MaxMind::DB::Writer::Tree;

my %o = ('ip-version' => 6, 'record-size' => 28, 'build-epoch' => time(),
         'asn-type' => 'Spamhints-Test-ASN', 'country-type' => 'Spamhints-Test-Country',
         filler => 0, seed => 1);
GetOptions(\%o, 'networks=s', 'asn=s', 'country=s', 'ip-version=i', 'record-size=i',
           'build-epoch=i', 'asn-type=s', 'country-type=s', 'filler=i', 'seed=i')
  and $o{networks} and ($o{asn} or $o{country})
  or die "usage: $0 --networks FILE [--asn OUT.mmdb] [--country OUT.mmdb] [options]\n";

my %types = (
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
    country                        => 'map',
    iso_code                       => 'utf8_string',
);

sub tree {
    my ($type, $what) = @_;
    return MaxMind::DB::Writer::Tree->new(
        ip_version               => $o{'ip-version'},
        record_size              => $o{'record-size'},
        database_type            => $type,
        languages                => ['en'],
        description              => { en => "spamhints test $what database (made-up data)" },
        map_key_type_callback    => sub { $types{ $_[0] } },
        alias_ipv6_to_ipv4       => $o{'ip-version'} == 6 ? 1 : 0,
        remove_reserved_networks => 0,
        _build_epoch             => $o{'build-epoch'},
    );
}

my $asn = $o{asn} ? tree($o{'asn-type'}, 'ASN') : undef;
my $country = $o{country} ? tree($o{'country-type'}, 'country') : undef;

# filler first: the real networks are inserted over it
srand($o{seed});
for my $i (1 .. $o{filler}) {
    my $net = $i % 4 == 0 && $o{'ip-version'} == 6
      ? sprintf('2a%02x:%x:%x::/48', 16 + int(rand(200)), int(rand(65536)), int(rand(65536)))
      : sprintf('%d.%d.%d.0/24', 1 + int(rand(222)), int(rand(256)), int(rand(256)));
    next if $net =~ /^(10|127)\./;
    my $n = 300000 + int(rand(100000));
    $asn->insert_network($net, { autonomous_system_number => $n,
                                 autonomous_system_organization => "Filler Networks $n" }) if $asn;
    $country->insert_network($net, { country => { iso_code => 'ZZ' } }) if $country;
}

open my $in, '<', $o{networks} or die "$o{networks}: $!\n";
binmode $in, ':encoding(UTF-8)';
my @nets;
while (my $line = <$in>) {
    chomp $line;
    next if $line eq '' or $line =~ /^#/;
    my ($net, $n, $org, $cc) = split /\t/, $line;
    die "$o{networks}:$.: expected network, asn, org, cc\n" unless defined $cc;
    next if $o{'ip-version'} == 4 and $net =~ /:/;
    push @nets, [$net, $n, $org, $cc];
}
# shorter prefixes first, so that a more specific network always wins
for my $r (sort { (split m{/}, $a->[0])[1] <=> (split m{/}, $b->[0])[1] } @nets) {
    my ($net, $n, $org, $cc) = @$r;
    my %rec = (autonomous_system_number => $n);
    $rec{autonomous_system_organization} = $org if $org ne '';
    $asn->insert_network($net, \%rec) if $asn;
    $country->insert_network($net, { country => { iso_code => $cc } }) if $country and $cc ne '';
}

for ([$asn, $o{asn}], [$country, $o{country}]) {
    my ($t, $path) = @$_;
    next unless $t;
    open my $out, '>:raw', "$path.tmp" or die "$path.tmp: $!\n";
    $t->write_tree($out);
    close $out or die "$path.tmp: $!\n";
    rename "$path.tmp", $path or die "$path: $!\n";
}
