#!/usr/bin/env perl
# Makes gobind's Objective-C glue (written for Apple's runtime, ARC and
# the non-fragile ABI) compile against GNUstep Base on GCC's libobjc,
# which is what Debian ships: clang -fobjc-runtime=gcc, manual reference
# counting, fragile ABI. Edits the files of the directory given in place:
#
#  1. `@import Foundation;` (modules) -> `#import <Foundation/Foundation.h>`;
#  2. every @property that its @implementation does not implement gets an
#     explicit ivar `_name` in its @interface and `@synthesize name = _name;`
#     (the fragile ABI has neither ivar auto-synthesis nor ivars declared
#     in @implementation);
#  3. object subscripting (`d[k] = v`, `d[k]`) -> setObject:forKey: and
#     objectForKey: (the fragile ABI has none);
#  4. init_seq() (creates the reference tracker) moves from a C constructor
#     in Universe_darwin.m to +[RefTracker load]: Apple's runtime registers
#     every class of an image before any constructor runs, GCC's libobjc
#     registers each object file's classes from that file's own
#     constructor, so the C constructor could run before RefTracker exists
#     (then [RefTracker alloc] is nil, and so is every listener Go calls).
#
# Nothing else changes: the method bodies are gobind's. Fails when a
# pattern it relies on is missing, so a gobind upgrade that changes the
# glue stops here rather than compiling into something else.
use strict;
use warnings;

my $dir = shift or die "usage: patch-gobind.pl DIR\n";
opendir(my $dh, $dir) or die "patch-gobind.pl: $dir: $!\n";
my @files = sort grep { /\.(h|m)$/ } readdir($dh);
closedir($dh);
my %src;
for my $f (@files) {
  open(my $in, '<', "$dir/$f") or die "$dir/$f: $!\n";
  local $/;
  $src{$f} = <$in>;
  close($in);
}

my $imports = 0;
for my $f (@files) {
  $imports += ($src{$f} =~ s/^\@import Foundation;/#import <Foundation\/Foundation.h>/mg);
}
die "patch-gobind.pl: no `\@import Foundation;` found (gobind changed?)\n" unless $imports;

# The body of `@implementation NAME ... @end`, from any file.
sub impl_of {
  my ($name) = @_;
  for my $f (@files) {
    return ($f, $1) if $src{$f} =~ /\@implementation\s+\Q$name\E\b(.*?)\@end/s;
  }
  return;
}

my $synthesized = 0;
for my $f (@files) {
  my @ifaces;
  while ($src{$f} =~ /\@interface\s+(\w+)\s*:[^\n{]*\{([^}]*)\}(.*?)\@end/gs) {
    push @ifaces, $1;
  }
  for my $name (@ifaces) {
    my ($body) = $src{$f} =~ /\@interface\s+\Q$name\E\s*:[^\n{]*\{[^}]*\}(.*?)\@end/s;
    my ($implf, $impl) = impl_of($name);
    next unless defined $implf;    # a class implemented elsewhere (none in gobind's output)
    my (@ivars, @synths);
    while ($body =~ /^\@property\s*(?:\(([^)]*)\))?\s*([^;]*?)\s*\b(\w+)\s*;/mg) {
      my ($type, $prop) = ($2, $3);
      next if $impl =~ /^-\s*\([^)]*\)\s*\Q$prop\E\s*\{/m;    # an explicit getter: nothing to synthesize
      push @ivars,  "\t$type _$prop;\n";
      push @synths, "\@synthesize $prop = _$prop;\n";
    }
    next unless @ivars;
    my $iv = join('', @ivars);
    $src{$f} =~ s/(\@interface\s+\Q$name\E\s*:[^\n{]*\{\n?)/$1$iv/
      or die "patch-gobind.pl: no ivar block in \@interface $name\n";
    my $sy = join('', @synths);
    $src{$implf} =~ s/(\@implementation\s+\Q$name\E\b[ \t]*(?:\{[^}]*\})?[ \t]*\n)/$1$sy/
      or die "patch-gobind.pl: cannot place \@synthesize in \@implementation $name\n";
    $synthesized += @synths;
  }
}
die "patch-gobind.pl: no property to synthesize (gobind changed?)\n" unless $synthesized;

my $subscripts = 0;
for my $f (grep { /\.m$/ } @files) {
  $subscripts += ($src{$f} =~ s/\b(_\w+)\[([^\]\n]+)\]\s*=\s*([^;\n]+);/[$1 setObject:$3 forKey:$2];/g);
  $subscripts += ($src{$f} =~ s/\b(_\w+)\[(\@\([^\]\n]+\))\]/[$1 objectForKey:$2]/g);
}
die "patch-gobind.pl: no object subscript found (gobind changed?)\n" unless $subscripts;

my $ctor = 0;
for my $f (grep { /\.m$/ } @files) {
  $ctor += ($src{$f} =~ s/^__attribute__\(\(constructor\)\) static void init\(\) \{\n\tinit_seq\(\);\n\}\n//mg);
}
die "patch-gobind.pl: no constructor calling init_seq() found (gobind changed?)\n" unless $ctor;
my ($seqf) = grep { $src{$_} =~ /^\@implementation RefTracker\b/m } @files;
die "patch-gobind.pl: no \@implementation RefTracker (gobind changed?)\n" unless $seqf;
$src{$seqf} =~ s/^(\@implementation RefTracker\b[ \t]*(?:\{[^}]*\})?[ \t]*\n)/$1+ (void)load {\n  init_seq();\n}\n/m;

for my $f (@files) {
  open(my $out, '>', "$dir/$f") or die "$dir/$f: $!\n";
  print $out $src{$f};
  close($out);
}
printf "patch-gobind.pl: %d imports, %d properties synthesized, %d subscripts rewritten, init_seq in +load\n",
  $imports, $synthesized, $subscripts;
