// PlexObjCTest drives sdk/mobile's gomobile Objective-C binding (the
// PlexmobileClient, PlexmobileConfig, PlexmobileMeta classes and the
// PlexmobileListener / PlexmobileLogger protocols an app implements)
// against a real plexd, on Linux with GNUstep Base: test.sh starts the node
// and runs this program with PLEX_ADDR (apps' TCP address), PLEX_HTTP (the
// HTTP API) and PLEX_SECRET (the inner secret). Pushes go through curl to
// POST /plex/v1/push, as a business service would send them.
//
// Manual reference counting (Debian's runtime has no ARC): objects that live
// across calls are retained by the collections that hold them; the rest
// lives in the autorelease pools. Connection is checked by pushes arriving,
// not by state numbers, so the State constants' names do not matter here.
//
// Prints one line per check and, last, "N passed, N failed"; exits 1 when a
// check failed.
#import <Foundation/Foundation.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#import "Plexmobile.objc.h"

static int passed, failed;

static void check(BOOL ok, NSString *what) {
  if (ok) {
    passed++;
    printf("ok   %s\n", [what UTF8String]);
  } else {
    failed++;
    printf("FAIL %s\n", [what UTF8String]);
  }
  fflush(stdout);
}

static NSString *env(const char *name) {
  const char *v = getenv(name);
  if (v == NULL || *v == 0) {
    fprintf(stderr, "PlexObjCTest: %s not set (run sdk/ios/objc-runtime-test/test.sh)\n", name);
    exit(2);
  }
  return [NSString stringWithUTF8String:v];
}

// One received push or node frame, as OnMessage saw it.
@interface Received : NSObject {
 @public
  NSString *uri;
  NSString *body;  // UTF-8 decoded NSData; nil when the body was nil
  int64_t seq;
  NSDictionary *meta;  // every key of the PlexmobileMeta, walked with len, key: and get:; nil when meta was nil
  BOOL onMainThread;
}
@end
@implementation Received
- (void)dealloc {
  [uri release];
  [body release];
  [meta release];
  [super dealloc];
}
@end

// Recorder implements the listener protocol an app implements. The Go SDK
// calls it on one of its own threads (a thread GNUstep did not create).
@interface Recorder : NSObject <PlexmobileListener> {
  NSCondition *cond;
  NSMutableArray *messages;  // Received
  NSMutableArray *states;    // NSNumber
}
- (NSArray *)messages;
- (NSArray *)states;
- (Received *)waitForURI:(NSString *)uri body:(NSString *)body timeout:(NSTimeInterval)t;
- (BOOL)waitForStates:(NSUInteger)n timeout:(NSTimeInterval)t;
@end

@implementation Recorder
- (id)init {
  if ((self = [super init])) {
    cond = [[NSCondition alloc] init];
    messages = [[NSMutableArray alloc] init];
    states = [[NSMutableArray alloc] init];
  }
  return self;
}

- (BOOL)onMessage:(NSString *)uri body:(NSData *)body seq:(int64_t)seq meta:(PlexmobileMeta *)meta error:(NSError **)error {
  Received *r = [[Received alloc] init];
  r->uri = [uri copy];
  r->body = body == nil ? nil : [[NSString alloc] initWithData:body encoding:NSUTF8StringEncoding];
  r->seq = seq;
  NSMutableDictionary *m = [[NSMutableDictionary alloc] init];
  for (int64_t i = 0; i < [meta len]; i++) {
    NSString *k = [meta key:i];
    if ([meta has:k]) {
      [m setObject:[meta get:k] forKey:k];
    }
  }
  if (meta != nil) {
    r->meta = m;
  } else {
    [m release];
  }
  r->onMainThread = [NSThread isMainThread];
  [cond lock];
  [messages addObject:r];
  [cond broadcast];
  [cond unlock];
  [r release];
  return YES;
}

- (void)recordState:(int64_t)state {
  [cond lock];
  [states addObject:[NSNumber numberWithLongLong:state]];
  [cond broadcast];
  [cond unlock];
}

// OnState's Objective-C selector, before and after sdk/mobile added its
// delayMs argument: whichever the binding calls is there.
- (BOOL)onState:(int64_t)state code:(int64_t)code reason:(NSString *)reason error:(NSError **)error {
  [self recordState:state];
  return YES;
}

- (BOOL)onState:(int64_t)state code:(int64_t)code reason:(NSString *)reason delayMs:(int64_t)delayMs error:(NSError **)error {
  [self recordState:state];
  return YES;
}

- (NSArray *)messages {
  [cond lock];
  NSArray *a = [NSArray arrayWithArray:messages];
  [cond unlock];
  return a;
}

- (NSArray *)states {
  [cond lock];
  NSArray *a = [NSArray arrayWithArray:states];
  [cond unlock];
  return a;
}

- (Received *)waitForURI:(NSString *)uri body:(NSString *)body timeout:(NSTimeInterval)t {
  NSDate *deadline = [NSDate dateWithTimeIntervalSinceNow:t];
  Received *found = nil;
  [cond lock];
  while (found == nil) {
    for (Received *r in messages) {
      if ([r->uri isEqualToString:uri] && [r->body isEqualToString:body]) {
        found = r;
        break;
      }
    }
    if (found == nil && ![cond waitUntilDate:deadline]) {
      break;
    }
  }
  [[found retain] autorelease];
  [cond unlock];
  return found;
}

- (BOOL)waitForStates:(NSUInteger)n timeout:(NSTimeInterval)t {
  NSDate *deadline = [NSDate dateWithTimeIntervalSinceNow:t];
  [cond lock];
  while ([states count] < n && [cond waitUntilDate:deadline]) {
  }
  BOOL ok = [states count] >= n;
  [cond unlock];
  return ok;
}
@end

// LogSink implements the logger protocol: counts lines, prints them with
// PLEX_OBJC_VERBOSE=1. Called from any SDK thread.
@interface LogSink : NSObject <PlexmobileLogger> {
 @public
  volatile int lines;
}
@end
@implementation LogSink
- (void)log:(int64_t)level line:(NSString *)line {
  __sync_fetch_and_add(&lines, 1);
  if (getenv("PLEX_OBJC_VERBOSE") != NULL) {
    fprintf(stderr, "sdk log %lld: %s\n", (long long)level, [line UTF8String]);
  }
}
@end

// curl against the node's HTTP API; returns the body, nil on failure.
static NSString *http(NSString *method, NSString *path, NSDictionary *json) {
  NSString *dataArg = @"";
  NSString *file = nil;
  if (json != nil) {
    file = [NSString stringWithFormat:@"%@/plex-objc-%d.json", NSTemporaryDirectory(), getpid()];
    NSData *d = [NSJSONSerialization dataWithJSONObject:json options:0 error:NULL];
    if (![d writeToFile:file atomically:NO]) {
      return nil;
    }
    dataArg = [NSString stringWithFormat:@"-H 'Content-Type: application/json' --data-binary @'%@'", file];
  }
  NSString *cmd = [NSString stringWithFormat:@"curl -sS --fail-with-body --max-time 10 -X %@ -H 'Authorization: Bearer %@' %@ 'http://%@%@'",
                                             method, env("PLEX_SECRET"), dataArg, env("PLEX_HTTP"), path];
  FILE *p = popen([cmd UTF8String], "r");
  if (p == NULL) {
    return nil;
  }
  NSMutableData *out = [NSMutableData data];
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
    [out appendBytes:buf length:n];
  }
  int rc = pclose(p);
  if (file != nil) {
    unlink([file fileSystemRepresentation]);
  }
  NSString *s = [[[NSString alloc] initWithData:out encoding:NSUTF8StringEncoding] autorelease];
  if (rc != 0) {
    fprintf(stderr, "PlexObjCTest: %s -> exit %d: %s\n", [cmd UTF8String], rc, [s UTF8String]);
    return nil;
  }
  return s;
}

// POST /plex/v1/push; returns the Outcome ({"delivered","stored","offline","seq"}).
static NSDictionary *push(NSString *uri, NSString *body, BOOL persist) {
  NSDictionary *req = [NSDictionary dictionaryWithObjectsAndKeys:@"alice", @"uid", uri, @"uri", body, @"body",
                                                                 [NSNumber numberWithBool:persist], @"persist", nil];
  NSString *out = http(@"POST", @"/plex/v1/push", req);
  if (out == nil) {
    return nil;
  }
  id o = [NSJSONSerialization JSONObjectWithData:[out dataUsingEncoding:NSUTF8StringEncoding] options:0 error:NULL];
  return [o isKindOfClass:[NSDictionary class]] ? o : nil;
}

// Polls GET /plex/v1/online until alice is (or is not) online at the node.
static BOOL waitOnline(BOOL want, NSTimeInterval t) {
  NSDate *deadline = [NSDate dateWithTimeIntervalSinceNow:t];
  do {
    @autoreleasepool {
      NSString *out = http(@"GET", @"/plex/v1/online?uid=alice", nil);
      id o = out == nil ? nil : [NSJSONSerialization JSONObjectWithData:[out dataUsingEncoding:NSUTF8StringEncoding] options:0 error:NULL];
      BOOL on = [[[o objectForKey:@"online"] objectForKey:@"alice"] boolValue];
      if (on == want) {
        return YES;
      }
    }
    usleep(50 * 1000);
  } while ([deadline timeIntervalSinceNow] > 0);
  return NO;
}

static NSUInteger count(NSArray *msgs, NSString *body) {
  NSUInteger n = 0;
  for (Received *r in msgs) {
    n += [r->body isEqualToString:body] ? 1 : 0;
  }
  return n;
}

int main(void) {
  @autoreleasepool {
    NSError *err = nil;

    // A Go error crosses as an NSError (gobind's Universeerror).
    PlexmobileConfig *bad = [[[PlexmobileConfig alloc] init] autorelease];
    PlexmobileClient *none = PlexmobileNewClient(bad, &err);
    check(none == nil && [[err localizedDescription] hasPrefix:@"plexmobile: invalid config"],
          [NSString stringWithFormat:@"NewClient without Addrs fails with a Go error as NSError (%@)", [err localizedDescription]]);

    PlexmobileConfig *cfg = [[[PlexmobileConfig alloc] init] autorelease];
    cfg.addrs = env("PLEX_ADDR");
    cfg.token = @"alice";
    cfg.device = @"objc-gnustep";
    cfg.backgroundPolicy = PlexmobileBackgroundDisconnect;
    cfg.backoffMinMs = 100;
    cfg.backoffMaxMs = 500;
    check([cfg.addrs isEqualToString:env("PLEX_ADDR")] && cfg.backoffMinMs == 100,
          @"Config properties round-trip through Go (NSString, int64)");

    PlexmobileClient *client = [[[PlexmobileClient alloc] init:cfg] autorelease];  // NewClient
    check(client != nil, @"-[PlexmobileClient init:] (NewClient) returns a client");
    if (client == nil) {
      printf("%d passed, %d failed\n", passed, failed + 1);
      return 1;
    }
    Recorder *rec = [[[Recorder alloc] init] autorelease];
    LogSink *logs = [[[LogSink alloc] init] autorelease];
    check([client setListener:rec error:&err] && [client setLogger:logs error:&err],
          @"setListener: and setLogger: take Objective-C objects implementing the protocols");
    check([client connect:&err], @"connect: returns YES");
    check(waitOnline(YES, 15), @"the node sees alice online");

    // Transient push: seq 0, body with non-ASCII text (UTF-8 both ways).
    NSString *hello = @"h\u00e9llo \u4e16\u754c \U0001F44B";
    NSDictionary *o = push(@"/objc/transient", hello, NO);
    check([[o objectForKey:@"delivered"] intValue] == 1, [NSString stringWithFormat:@"transient push delivered to one connection (%@)", o]);
    Received *t = [rec waitForURI:@"/objc/transient" body:hello timeout:10];
    check(t != nil && t->seq == 0, @"transient push arrives in onMessage:, body intact, seq 0");
    check(t != nil && !t->onMainThread, @"onMessage: runs on an SDK thread, not the main thread");
    check(t != nil && t->meta != nil && [t->meta objectForKey:@"persist"] == nil,
          [NSString stringWithFormat:@"its meta is a PlexmobileMeta, without persist (%@)", t == nil ? nil : t->meta]);

    // Persistent push: seq > 0, acked after onMessage: returned.
    o = push(@"/objc/persist", @"persist-1", YES);
    int64_t seq1 = [[o objectForKey:@"seq"] longLongValue];
    check([[o objectForKey:@"delivered"] intValue] == 1 && seq1 > 0,
          [NSString stringWithFormat:@"persistent push delivered and stored with a seq (%@)", o]);
    Received *p1 = [rec waitForURI:@"/objc/persist" body:@"persist-1" timeout:10];
    check(p1 != nil && p1->seq == seq1 && [[p1->meta objectForKey:@"persist"] length] > 0 && [[p1->meta objectForKey:@"id"] length] > 0,
          [NSString stringWithFormat:@"persistent push arrives with the node's seq %lld, meta id and persist (%@)", (long long)seq1,
                                     p1 == nil ? nil : p1->meta]);
    BOOL acked = NO;
    for (int i = 0; i < 200 && !acked; i++) {
      acked = [client lastSeq] == seq1;
      if (!acked) usleep(25 * 1000);
    }
    check(acked, @"lastSeq equals the persistent push's seq (acknowledged)");

    // Upstream: NSData from Objective-C to Go and back (plexd -upstream echo).
    check([client send:@"/objc/echo" body:[@"ping" dataUsingEncoding:NSUTF8StringEncoding] error:&err],
          @"send:body:error: writes an upstream message");
    check([rec waitForURI:@"/objc/echo" body:@"ping" timeout:10] != nil, @"the node's echo of it arrives");
    err = nil;
    // plexd's default app has messages off: the refusal is an NSError with the node's code
    err = nil;
    PlexmobileMessageResult *mr = [client message:@"bob" body:[@"hi" dataUsingEncoding:NSUTF8StringEncoding] conversation:@"" error:&err];
    check(mr == nil && [[err localizedDescription] hasPrefix:@"plexmobile: message refused: code 4003"]
          && PlexmobileErrorCode([err localizedDescription]) == 4003,
          [NSString stringWithFormat:@"message:body:conversation:error: refused with 4003, read by PlexmobileErrorCode (%@)", [err localizedDescription]]);
    err = nil;
    mr = [client messageRoom:@"team" body:[@"hi" dataUsingEncoding:NSUTF8StringEncoding] conversation:@"c1" error:&err];
    check(mr == nil && PlexmobileErrorCode([err localizedDescription]) == 4003,
          [NSString stringWithFormat:@"messageRoom:body:conversation:error: refused with 4003 (%@)", [err localizedDescription]]);
    err = nil;
    BOOL sent = [client send:@"/auth/server" body:nil error:&err];
    check(!sent && [[err localizedDescription] hasPrefix:@"plexmobile:"],
          [NSString stringWithFormat:@"send: to a reserved URI fails with an NSError (%@)", [err localizedDescription]]);

    // Resume: disconnect (background policy Disconnect), a persistent push
    // while away is stored, and arrives once after the reconnect; the one
    // already acknowledged does not come again.
    check([client enterBackground:&err], @"enterBackground: (BackgroundDisconnect) returns YES");
    check(waitOnline(NO, 15), @"the node sees alice offline");
    o = push(@"/objc/persist", @"while-away", YES);
    int64_t seq2 = [[o objectForKey:@"seq"] longLongValue];
    check([[o objectForKey:@"delivered"] intValue] == 0 && [[o objectForKey:@"stored"] intValue] == 1 && seq2 > seq1,
          [NSString stringWithFormat:@"persistent push while disconnected is stored, not delivered (%@)", o]);
    check([client enterForeground:&err], @"enterForeground: reconnects");
    Received *p2 = [rec waitForURI:@"/objc/persist" body:@"while-away" timeout:15];
    check(p2 != nil && p2->seq == seq2, [NSString stringWithFormat:@"the stored push arrives after the reconnect with seq %lld", (long long)seq2]);
    o = push(@"/objc/transient", @"after-resume", NO);
    check([rec waitForURI:@"/objc/transient" body:@"after-resume" timeout:10] != nil, @"pushes flow again after the reconnect");
    usleep(500 * 1000);  // room for a wrong duplicate to show up
    NSArray *msgs = [rec messages];
    check(count(msgs, @"while-away") == 1 && count(msgs, @"persist-1") == 1,
          [NSString stringWithFormat:@"each persistent push arrived exactly once (%lu messages in all)", (unsigned long)[msgs count]]);

    // Close: final; the last onState: is the state the client reports.
    NSUInteger before = [[rec states] count];
    check([client close:&err], @"close: returns YES");
    check([rec waitForStates:before + 1 timeout:10], @"close: reports one more state");
    usleep(200 * 1000);
    NSArray *states = [rec states];
    check([states count] == before + 1 && [[states lastObject] longLongValue] == [client state],
          [NSString stringWithFormat:@"exactly one state after close:, equal to -state (%@)", [states lastObject]]);
    err = nil;
    check(![client connect:&err] && err != nil, [NSString stringWithFormat:@"connect: after close: fails (%@)", [err localizedDescription]]);
    check(logs->lines > 0, [NSString stringWithFormat:@"the SDK logged through the Objective-C logger (%d lines)", logs->lines]);
    check(waitOnline(NO, 10), @"the node sees alice offline after close:");
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
