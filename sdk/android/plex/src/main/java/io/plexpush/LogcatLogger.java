package io.plexpush;

import android.util.Log;
import io.plexpush.plexmobile.Logger;
import io.plexpush.plexmobile.Plexmobile;

/** Sends the SDK's log lines to logcat under a tag (default "plex"). */
public final class LogcatLogger implements Logger {
    private final String tag;

    public LogcatLogger() {
        this("plex");
    }

    public LogcatLogger(String tag) {
        this.tag = tag;
    }

    @Override
    public void log(long level, String line) {
        if (level >= Plexmobile.LogError) {
            Log.e(tag, line);
        } else if (level >= Plexmobile.LogWarn) {
            Log.w(tag, line);
        } else if (level >= Plexmobile.LogInfo) {
            Log.i(tag, line);
        } else {
            Log.d(tag, line);
        }
    }
}
