// What Apple's Foundation has, gobind's glue uses and GNUstep Base 1.28
// (Debian bookworm) lacks. build.sh copies this file next to the glue, so
// libplexmobile.so carries it. Each method is added at load time only when
// the class does not respond to it, so a newer GNUstep keeps its own.
//
// - -[NSString getBytes:maxLength:usedLength:encoding:options:range:remainingRange:]:
//   go_seq_from_objc_string (seq_darwin.m) turns every NSString passed to Go
//   into UTF-8 with it.
#import <Foundation/Foundation.h>
#include <objc/runtime.h>
#include <string.h>

static BOOL plexGetBytes(NSString *self, SEL _cmd, void *buffer, NSUInteger maxLength,
                         NSUInteger *usedLength, NSStringEncoding encoding,
                         NSStringEncodingConversionOptions options, NSRange range,
                         NSRange *leftover) {
  // Whole composed characters only, as many as fit, like Apple's.
  NSUInteger used = 0, i = range.location, end = NSMaxRange(range);
  BOOL ok = YES;
  while (i < end) {
    NSRange r = [self rangeOfComposedCharacterSequenceAtIndex:i];
    if (NSMaxRange(r) > end) {
      r.length = end - r.location;
    }
    NSData *d = [[self substringWithRange:r] dataUsingEncoding:encoding allowLossyConversion:NO];
    if (d == nil) {
      ok = NO;  // not representable: stop here, as Apple's does
      break;
    }
    if (used + [d length] > maxLength) {
      break;
    }
    if (buffer != NULL) {
      memcpy((char *)buffer + used, [d bytes], [d length]);
    }
    used += [d length];
    i = NSMaxRange(r);
  }
  if (usedLength != NULL) {
    *usedLength = used;
  }
  if (leftover != NULL) {
    *leftover = NSMakeRange(i, end - i);
  }
  return ok && (i > range.location || range.length == 0);
}

__attribute__((constructor)) static void plexGNUstepCompat(void) {
  // sel_registerName, not @selector: on GCC's runtime this module's
  // selectors may not be registered yet when constructors run.
  SEL sel = sel_registerName("getBytes:maxLength:usedLength:encoding:options:range:remainingRange:");
  Class c = objc_getClass("NSString");
  if (c != Nil && class_getInstanceMethod(c, sel) == NULL) {
    class_addMethod(c, sel, (IMP)plexGetBytes, "C@:^vQ^QQQ{_NSRange=QQ}^{_NSRange=QQ}");
  }
}
