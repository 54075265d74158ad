package io.plexpush;

import android.os.Handler;
import android.os.Looper;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Runs tasks on Android's main thread. Pass it to {@link PlexClient} to get
 * every {@link PlexListener} call on the main thread.
 */
public final class MainThreadExecutor implements Executor {
    private final Handler handler = new Handler(Looper.getMainLooper());

    @Override
    public void execute(Runnable task) {
        if (!handler.post(task)) {
            throw new RejectedExecutionException("main looper is exiting");
        }
    }
}
