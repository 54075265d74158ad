package io.plexpush.hostjni;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.robolectric.Shadows.shadowOf;

import android.os.Looper;
import io.plexpush.MainThreadExecutor;
import io.plexpush.PlexClient;
import io.plexpush.PlexListener;
import io.plexpush.plexmobile.Config;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.robolectric.RobolectricTestRunner;

/**
 * MainThreadExecutor under Robolectric: the SDK's callbacks are posted with
 * a real android.os.Handler to the real main Looper, and run there, in
 * order, against a real plexd.
 */
@RunWith(RobolectricTestRunner.class)
@org.robolectric.annotation.Config(sdk = 34, manifest = org.robolectric.annotation.Config.NONE)
public class MainThreadDeliveryTest {
    private PlexNode node;

    @Before
    public void setUp() throws Exception {
        node = PlexNode.start();
    }

    @After
    public void tearDown() throws Exception {
        node.close();
    }

    /** Records each callback, and any that ran off the main thread. */
    static final class Events extends PlexListener {
        final List<String> events = Collections.synchronizedList(new ArrayList<>());
        final List<String> offMain = Collections.synchronizedList(new ArrayList<>());

        private void add(String ev) {
            if (!Looper.getMainLooper().isCurrentThread()) {
                offMain.add(ev + " on " + Thread.currentThread().getName());
            }
            events.add(ev);
        }

        @Override
        public void onStateChanged(PlexClient client, int state, int code, String reason, long delayMs) {
            add("state " + state);
        }

        @Override
        public void onOnline(PlexClient client) {
            add("online");
        }

        @Override
        public void onMessage(PlexClient client, String uri, byte[] body, long seq) {
            add("message " + uri + " " + new String(body, StandardCharsets.UTF_8) + (seq > 0 ? " persistent" : ""));
        }

        @Override
        public void onClosed(PlexClient client, int code, String reason) {
            add("closed " + code);
        }
    }

    @Test
    public void callbacksRunOnTheMainLooperInOrder() throws Exception {
        assertTrue("the test thread is Robolectric's main thread", Looper.getMainLooper().isCurrentThread());
        Config cfg = new Config();
        cfg.setAddrs(node.addr());
        cfg.setToken("alice");
        cfg.setDevice("robolectric-1");
        Events ev = new Events();
        PlexClient plex = new PlexClient(cfg, ev, new MainThreadExecutor());
        plex.connect();
        MainLooper.await("online", () -> ev.events.contains("online"));

        node.push("alice", "/p", "one", true);
        node.push("alice", "/t", "two", false);
        node.push("alice", "/p", "three", true);
        // Not idling the main looper: the SDK thread has posted the first
        // message and waits for it; nothing runs until the looper does.
        long until = System.nanoTime() + 300_000_000L;
        while (System.nanoTime() < until && shadowOf(Looper.getMainLooper()).isIdle()) {
            Thread.sleep(5);
        }
        assertFalse("a callback is queued on the main looper", shadowOf(Looper.getMainLooper()).isIdle());
        assertFalse("and has not run", ev.events.contains("message /p one persistent"));
        MainLooper.await("three messages", () -> ev.events.contains("message /p three persistent"));

        plex.close();
        MainLooper.await("closed", () -> ev.events.contains("closed 0"));
        assertEquals(Arrays.asList(
                "state " + PlexClient.CONNECTING, "state " + PlexClient.ONLINE, "online",
                "message /p one persistent", "message /t two", "message /p three persistent",
                "state " + PlexClient.CLOSED, "closed 0"), ev.events);
        assertEquals("every callback on the main thread", Collections.emptyList(), ev.offMain);
    }
}
