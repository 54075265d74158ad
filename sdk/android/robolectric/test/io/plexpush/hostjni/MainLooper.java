package io.plexpush.hostjni;

import static org.robolectric.Shadows.shadowOf;

import android.os.Looper;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * Waits for the SDK while running Android's main looper. Under
 * Robolectric's default (paused) looper mode the test thread is the main
 * thread: what MainThreadExecutor posts from the SDK thread runs only when
 * the test idles the main looper, here.
 */
final class MainLooper {
    static final long WAIT_SECONDS = 30;

    private MainLooper() {}

    static {
        // Robolectric deletes its temporary directories in a shutdown hook,
        // with a class it loads only then; by that time the JUnit console
        // launcher has closed the class loader of the test class path
        // (NoClassDefFoundError: org/robolectric/util/TempDirectory$1, and
        // the directories stay). Load it now.
        try {
            Class.forName("org.robolectric.util.TempDirectory$1", false,
                    org.robolectric.util.TempDirectory.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            // A later Robolectric without that class: nothing to preload.
        }
    }

    /** Runs the main looper until cond holds; fails after WAIT_SECONDS. */
    static void await(String what, Callable<Boolean> cond) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (true) {
            shadowOf(Looper.getMainLooper()).idle();
            if (cond.call()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + WAIT_SECONDS + " s: " + what);
            }
            Thread.sleep(10);
        }
    }
}
