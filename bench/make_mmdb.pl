#!/usr/bin/perl
# bench/make_mmdb.pl: enrichment databases for the benchmark, from the
# networks the capture generator used (spamhints-gen --networks FILE: one
# "network asn org cc" TSV line per prefix). Writes a GeoLite2-ASN-shaped
# and a GeoLite2-Country-shaped MaxMind DB, IPv6 trees with IPv4 mapped as
# in MaxMind's own files, so that every generated address is found.
#
#   perl bench/make_mmdb.pl NETWORKS.tsv ASN.mmdb COUNTRY.mmdb
#
# Needs MaxMind::DB::Writer (Debian: libmaxmind-db-writer-perl).
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

@ARGV == 3 or die "usage: $0 NETWORKS.tsv ASN.mmdb COUNTRY.mmdb\n";
my ($networks, $asn_path, $country_path) = @ARGV;

my %types = (
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
    country                        => 'map',
    iso_code                       => 'utf8_string',
    names                          => 'map',
    en                             => 'utf8_string',
);
sub tree {
    my ($type) = @_;
    return MaxMind::DB::Writer::Tree->new(
        ip_version              => 6,
        record_size             => 28,
        database_type           => $type,
        languages               => ['en'],
        description             => { en => "spamhints benchmark $type (generated networks)" },
        alias_ipv6_to_ipv4      => 1,
        map_key_type_callback   => sub { $types{ $_[0] } // die "no type for key $_[0]\n" },
        remove_reserved_networks => 0,
    );
}
my $asn = tree('GeoLite2-ASN');
my $country = tree('GeoLite2-Country');

open my $in, '<', $networks or die "$networks: $!\n";
my $n = 0;
while (my $line = <$in>) {
    chomp $line;
    next if $line eq '' || $line =~ /^#/;
    my ($net, $as, $org, $cc) = split /\t/, $line;
    die "$networks:$.: expected network asn org cc\n" unless defined $cc;
    $asn->insert_network($net, { autonomous_system_number => $as + 0,
                                 autonomous_system_organization => $org });
    $country->insert_network($net, { country => { iso_code => $cc, names => { en => $cc } } });
    $n++;
}
close $in;

for ([$asn, $asn_path], [$country, $country_path]) {
    my ($tree, $path) = @$_;
    open my $out, '>:raw', $path or die "$path: $!\n";
    $tree->write_tree($out);
    close $out or die "$path: $!\n";
}
print STDERR "make_mmdb.pl: $n networks -> $asn_path, $country_path\n";
