/* Host (GOOS=linux) stand-in for the NDK's <android/log.h>: only what gobind's
 * JNI glue uses (__android_log_print and the priorities). Lines go to stderr.
 * Used by sdk/android/hostjni/build.sh only; never part of the .aar. */
#ifndef PLEX_HOSTJNI_ANDROID_LOG_H
#define PLEX_HOSTJNI_ANDROID_LOG_H
#include <stdarg.h>
#include <stdio.h>
typedef enum android_LogPriority {
	ANDROID_LOG_UNKNOWN = 0, ANDROID_LOG_DEFAULT, ANDROID_LOG_VERBOSE, ANDROID_LOG_DEBUG,
	ANDROID_LOG_INFO, ANDROID_LOG_WARN, ANDROID_LOG_ERROR, ANDROID_LOG_FATAL, ANDROID_LOG_SILENT,
} android_LogPriority;
static inline int __android_log_print(int prio, const char *tag, const char *fmt, ...) {
	va_list ap; int n; (void)prio;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", tag);
	n = vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return n;
}
#endif
