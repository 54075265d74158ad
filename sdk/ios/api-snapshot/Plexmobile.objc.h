#ifndef __Plexmobile_H__
#define __Plexmobile_H__
@import Foundation;
#include "ref.h"
#include "Universe.objc.h"
@class PlexmobileClient;
@class PlexmobileConfig;
@class PlexmobileMessageResult;
@class PlexmobileMeta;
@protocol PlexmobileListener;
@class PlexmobileListener;
@protocol PlexmobileLogger;
@class PlexmobileLogger;
@protocol PlexmobileListener <NSObject>
- (BOOL)onMessage:(NSString* _Nullable)uri body:(NSData* _Nullable)body seq:(int64_t)seq meta:(PlexmobileMeta* _Nullable)meta error:(NSError* _Nullable* _Nullable)error;
- (BOOL)onState:(int64_t)state code:(int64_t)code reason:(NSString* _Nullable)reason delayMs:(int64_t)delayMs error:(NSError* _Nullable* _Nullable)error;
@end
@protocol PlexmobileLogger <NSObject>
- (void)log:(int64_t)level line:(NSString* _Nullable)line;
@end
@interface PlexmobileClient : NSObject <goSeqRefInterface> {
}
@property(strong, readonly) _Nonnull id _ref;
- (nonnull instancetype)initWithRef:(_Nonnull id)ref;
- (nullable instancetype)init:(PlexmobileConfig* _Nullable)cfg;
- (BOOL)close:(NSError* _Nullable* _Nullable)error;
- (BOOL)connect:(NSError* _Nullable* _Nullable)error;
- (BOOL)enterBackground:(NSError* _Nullable* _Nullable)error;
- (BOOL)enterForeground:(NSError* _Nullable* _Nullable)error;
- (int64_t)lastSeq;
- (PlexmobileMessageResult* _Nullable)message:(NSString* _Nullable)to body:(NSData* _Nullable)body conversation:(NSString* _Nullable)conversation error:(NSError* _Nullable* _Nullable)error;
- (PlexmobileMessageResult* _Nullable)messageRoom:(NSString* _Nullable)room body:(NSData* _Nullable)body conversation:(NSString* _Nullable)conversation error:(NSError* _Nullable* _Nullable)error;
- (BOOL)send:(NSString* _Nullable)uri body:(NSData* _Nullable)body error:(NSError* _Nullable* _Nullable)error;
- (BOOL)setListener:(id<PlexmobileListener> _Nullable)l error:(NSError* _Nullable* _Nullable)error;
- (BOOL)setLogger:(id<PlexmobileLogger> _Nullable)l error:(NSError* _Nullable* _Nullable)error;
- (int64_t)state;
@end
@interface PlexmobileConfig : NSObject <goSeqRefInterface> {
}
@property(strong, readonly) _Nonnull id _ref;
- (nonnull instancetype)initWithRef:(_Nonnull id)ref;
- (nonnull instancetype)init;
@property (nonatomic) NSString* _Nonnull addrs;
@property (nonatomic) NSString* _Nonnull discoveryURL;
@property (nonatomic) NSString* _Nonnull token;
@property (nonatomic) NSString* _Nonnull app;
@property (nonatomic) NSString* _Nonnull device;
@property (nonatomic) int64_t lastSeq;
@property (nonatomic) BOOL noAcks;
@property (nonatomic) BOOL littleEndian;
@property (nonatomic) NSString* _Nonnull codec;
@property (nonatomic) int64_t dialTimeoutMs;
@property (nonatomic) int64_t backoffMinMs;
@property (nonatomic) int64_t backoffMaxMs;
@property (nonatomic) int64_t sendTimeoutMs;
@property (nonatomic) int64_t backgroundPolicy;
@end
@interface PlexmobileMessageResult : NSObject <goSeqRefInterface> {
}
@property(strong, readonly) _Nonnull id _ref;
- (nonnull instancetype)initWithRef:(_Nonnull id)ref;
- (nonnull instancetype)init;
@property (nonatomic) NSString* _Nonnull messageID;
@property (nonatomic) int64_t seq;
@property (nonatomic) int64_t stored;
@property (nonatomic) int64_t delivered;
@end
@interface PlexmobileMeta : NSObject <goSeqRefInterface> {
}
@property(strong, readonly) _Nonnull id _ref;
- (nonnull instancetype)initWithRef:(_Nonnull id)ref;
- (nonnull instancetype)init;
- (NSString* _Nonnull)get:(NSString* _Nullable)key;
- (BOOL)has:(NSString* _Nullable)key;
- (NSString* _Nonnull)key:(int64_t)i;
- (int64_t)len;
@end
FOUNDATION_EXPORT const int64_t PlexmobileBackgroundDisconnect;
FOUNDATION_EXPORT const int64_t PlexmobileBackgroundKeep;
FOUNDATION_EXPORT const int64_t PlexmobileBackgroundSlowHeartbeat;
FOUNDATION_EXPORT const int64_t PlexmobileDefaultSendTimeoutMs;
FOUNDATION_EXPORT const int64_t PlexmobileLogDebug;
FOUNDATION_EXPORT const int64_t PlexmobileLogError;
FOUNDATION_EXPORT const int64_t PlexmobileLogInfo;
FOUNDATION_EXPORT const int64_t PlexmobileLogWarn;
FOUNDATION_EXPORT const int64_t PlexmobileStateClosed;
FOUNDATION_EXPORT const int64_t PlexmobileStateConnected;
FOUNDATION_EXPORT const int64_t PlexmobileStateConnecting;
FOUNDATION_EXPORT const int64_t PlexmobileStateIdle;
FOUNDATION_EXPORT const int64_t PlexmobileStateOnline;
FOUNDATION_EXPORT const int64_t PlexmobileStateReconnecting;
FOUNDATION_EXPORT const int64_t PlexmobileStateSuspended;
FOUNDATION_EXPORT int64_t PlexmobileErrorCode(NSString* _Nullable errorMessage);
FOUNDATION_EXPORT PlexmobileClient* _Nullable PlexmobileNewClient(PlexmobileConfig* _Nullable cfg, NSError* _Nullable* _Nullable error);
@class PlexmobileListener;
@class PlexmobileLogger;
@interface PlexmobileListener : NSObject <goSeqRefInterface, PlexmobileListener> {
}
@property(strong, readonly) _Nonnull id _ref;
- (nonnull instancetype)initWithRef:(_Nonnull id)ref;
- (BOOL)onMessage:(NSString* _Nullable)uri body:(NSData* _Nullable)body seq:(int64_t)seq meta:(PlexmobileMeta* _Nullable)meta error:(NSError* _Nullable* _Nullable)error;
- (BOOL)onState:(int64_t)state code:(int64_t)code reason:(NSString* _Nullable)reason delayMs:(int64_t)delayMs error:(NSError* _Nullable* _Nullable)error;
@end
@interface PlexmobileLogger : NSObject <goSeqRefInterface, PlexmobileLogger> {
}
@property(strong, readonly) _Nonnull id _ref;
- (nonnull instancetype)initWithRef:(_Nonnull id)ref;
- (void)log:(int64_t)level line:(NSString* _Nullable)line;
@end
#endif
