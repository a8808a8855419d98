# Perl workload for the rulloc benchmark suite.
#
# Debian's perl uses the system malloc for everything (scalars' string
# buffers, arrays, hashes), so this measures the preloaded allocator as a
# script language uses it: a word-frequency count over generated text with
# regexes, hashes of arrays of records, string building with join, sprintf
# and substitution, sorting, and records deleted and rebuilt. Deterministic
# (its own generator, keys sorted before anything is printed); prints one
# line of MD5 digests that must be the same under every allocator.
# Usage: perl perlobjects.pl [SCALE]
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

my $scale = @ARGV ? $ARGV[0] : 1;
my $n = int(300000 * $scale);
$n = 10000 if $n < 10000;

my $s = 12345;
sub rnd { $s = ($s * 1103515245 + 12345) % 2147483648; return $s >> 8; }

my @words = map { join('', map { chr(97 + rnd() % 26) } 1 .. (2 + $_ % 9)) } 0 .. 1999;
my $digest = Digest::MD5->new;

# 1. Text: lines of words, counted with a regex split and a hash.
my %freq;
my @lines;
for my $i (1 .. $n / 10) {
  my $line = join(' ', map { $words[rnd() % @words] } 1 .. (5 + rnd() % 20));
  push @lines, $line;
  $freq{$_}++ for split /\s+/, $line;
  if (@lines > 5000) { $digest->add(join("\n", splice(@lines, 0, 2500))); }
}
$digest->add(join(',', map { "$_=$freq{$_}" } sort keys %freq));

# 2. Records: a hash of arrays of hashes, built, changed and dropped.
my %db;
for my $i (1 .. $n) {
  my $key = $words[rnd() % @words] . (rnd() % 100);
  push @{ $db{$key} }, { id => $i, name => $words[rnd() % @words] x (1 + rnd() % 4), score => rnd() % 1000 };
  if ($i % 7 == 0) {
    my $victim = $words[rnd() % @words] . (rnd() % 100);
    if (my $list = delete $db{$victim}) {
      $digest->add(join(';', map { "$_->{id}:$_->{score}" } @$list));
    }
  }
}
for my $key (sort keys %db) {
  my @sorted = sort { $a->{score} <=> $b->{score} || $a->{id} <=> $b->{id} } @{ $db{$key} };
  $digest->add($key . ':' . join(',', map { $_->{name} } @sorted[0 .. ($#sorted < 3 ? $#sorted : 3)]));
}
my $records = 0;
$records += @{ $db{$_} } for keys %db;
undef %db;

# 3. Strings: sprintf, substitutions, reversal, long joins.
my $text = '';
for my $i (1 .. $n / 4) {
  my $t = sprintf("%06d:%s:%x", $i, $words[rnd() % @words], rnd());
  $t =~ s/([aeiou])/uc($1)/ge;
  $text .= reverse($t) . "|";
  if (length($text) > 1 << 16) { $digest->add($text); $text = ''; }
}
$digest->add($text);

printf "perl records=%d words=%d md5=%s\n", $records, scalar(keys %freq), $digest->hexdigest;
