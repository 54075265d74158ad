package io.plexpush.hostjni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.plexpush.MessageResult;
import io.plexpush.PlexClient;
import io.plexpush.PlexException;
import io.plexpush.PlexListener;
import io.plexpush.plexmobile.Config;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The thin Java wrapper (sdk/android/plex: PlexClient, PlexListener) over the
 * host-built binding, against a real plexd. A single-thread executor named
 * "ui" stands in for Android's main thread (MainThreadExecutor is an
 * Executor over a Handler; it needs a real Looper and is compiled here, not
 * run).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WrapperTest {
    private PlexNode node;
    private ExecutorService ui;

    @BeforeEach
    void setUp() throws Exception {
        node = PlexNode.start();
        ui = Executors.newSingleThreadExecutor(r -> new Thread(r, "ui"));
    }

    @AfterEach
    void tearDown() throws Exception {
        ui.shutdownNow();
        node.close();
    }

    private Config config(String token) {
        Config cfg = new Config();
        cfg.setAddrs(node.addr());
        cfg.setToken(token);
        cfg.setDevice("phone-1");
        cfg.setBackoffMinMs(100);
        cfg.setBackoffMaxMs(1000);
        return cfg;
    }

    /** Records what the wrapper calls, and on which thread. */
    static class Events extends PlexListener {
        final LinkedBlockingQueue<String> q = new LinkedBlockingQueue<>();
        final List<String> threads = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void onMessage(PlexClient client, String uri, byte[] body, long seq) {
            threads.add(Thread.currentThread().getName());
            q.add("message " + uri + " " + new String(body, StandardCharsets.UTF_8) + " " + seq);
            if (new String(body, StandardCharsets.UTF_8).equals("throw")) {
                throw new IllegalStateException("app bug");
            }
        }

        @Override
        public void onStateChanged(PlexClient client, int state, int code, String reason) {
            threads.add(Thread.currentThread().getName());
            q.add("state " + state);
        }

        @Override
        public void onOnline(PlexClient client) {
            q.add("online");
        }

        @Override
        public void onReconnecting(PlexClient client, int code, String reason, long delayMs) {
            q.add("reconnecting " + code + (delayMs > 0 ? " after a delay" : " without a delay"));
        }

        @Override
        public void onClosed(PlexClient client, int code, String reason) {
            q.add("closed " + code);
        }

        String next() throws InterruptedException {
            String s = q.poll(Recorder.WAIT_SECONDS, TimeUnit.SECONDS);
            if (s == null) {
                throw new AssertionError("no event within " + Recorder.WAIT_SECONDS + " s");
            }
            return s;
        }

        void expect(String... want) throws InterruptedException {
            for (String w : want) {
                assertEquals(w, next());
            }
        }
    }

    /** The five-argument onMessage receives each push's meta; the four-argument one still works. */
    @Test
    void deliversPushMeta() throws Exception {
        LinkedBlockingQueue<java.util.Map<String, String>> metas = new LinkedBlockingQueue<>();
        Events ev = new Events() {
            @Override
            public void onMessage(PlexClient client, String uri, byte[] body, long seq, java.util.Map<String, String> meta) {
                metas.add(meta);
                super.onMessage(client, uri, body, seq, meta); // the default: the four-argument one
            }
        };
        PlexClient plex = new PlexClient(config("alice"), ev, ui);
        plex.connect();
        ev.expect("state " + PlexClient.CONNECTING, "state " + PlexClient.ONLINE, "online");
        node.push("{\"uid\":\"alice\",\"uri\":\"/p\",\"body\":\"m\",\"persist\":true,\"meta\":{\"kind\":\"chat\"}}");
        assertTrue(ev.next().startsWith("message /p m "), "the four-argument onMessage ran");
        java.util.Map<String, String> meta = metas.poll(Recorder.WAIT_SECONDS, TimeUnit.SECONDS);
        assertEquals("chat", meta.get("kind"));
        assertEquals("1", meta.get("persist"));
        assertTrue(meta.containsKey("id") && meta.containsKey("ts"), meta.toString());
        assertThrows(UnsupportedOperationException.class, () -> meta.put("x", "y"));
        plex.close();
    }

    @Test
    void deliversOnTheExecutorInOrder() throws Exception {
        Events ev = new Events();
        PlexClient plex = new PlexClient(config("alice"), ev, ui);
        plex.connect();
        ev.expect("state " + PlexClient.CONNECTING, "state " + PlexClient.ONLINE, "online");
        long s1 = node.push("alice", "/p", "one", true);
        long s2 = node.push("alice", "/p", "throw", true); // a listener exception does not stop delivery
        long s3 = node.push("alice", "/p", "two", true);
        ev.expect("message /p one " + s1, "message /p throw " + s2, "message /p two " + s3);
        plex.send("/echo", "hi");
        ev.expect("message /echo hi 0");
        assertEquals(s3, plex.lastSeq(), "counts what the listener returned from (or threw from)");
        plex.close();
        ev.expect("state " + PlexClient.CLOSED, "closed 0");
        assertEquals(PlexClient.CLOSED, plex.state());
        for (String t : ev.threads) {
            assertEquals("ui", t, "every callback on the executor");
        }
        PlexException e = assertThrows(PlexException.class, () -> plex.send("/echo", "late"));
        assertTrue(e.getMessage().startsWith("plexmobile: client closed"), e.getMessage());
    }

    @Test
    void defaultsAreNoOps() throws Exception {
        PlexListener silent = new PlexListener() {}; // overrides nothing
        PlexClient plex = new PlexClient(config("bob"), silent);
        plex.connect();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Recorder.WAIT_SECONDS);
        while (plex.state() != PlexClient.ONLINE && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(PlexClient.ONLINE, plex.state());
        node.push("bob", "/p", "ignored", true);
        plex.send("/echo", "ignored too");
        plex.close();
        plex.close(); // idempotent
        assertEquals(PlexClient.CLOSED, plex.state());
    }

    /** A refused token: onClosed with 4001 (protocol §13.6), the last call. */
    @Test
    void authFailureIsClosed4001() throws Exception {
        Events ev = new Events();
        PlexClient plex = new PlexClient(config("bad token!"), ev, ui);
        plex.connect();
        ev.expect("state " + PlexClient.CONNECTING, "state " + PlexClient.CLOSED, "closed 4001");
        assertEquals(PlexClient.CLOSED, plex.state());
        plex.close();
        assertEquals(null, ev.q.poll(1, TimeUnit.SECONDS), "nothing after the final event");
    }

    /**
     * The states of protocol §13.6 through the wrapper: connecting, online;
     * the node is killed and restarted: reconnecting with its code (0: no
     * frame from a killed node) and a delay, connecting (one per attempt,
     * with a reconnecting between failed ones), online; close: closed 0.
     */
    @Test
    void statesFollowTheProtocol() throws Exception {
        Events ev = new Events();
        PlexClient plex = new PlexClient(config("erin"), ev, ui);
        plex.connect();
        ev.expect("state " + PlexClient.CONNECTING, "state " + PlexClient.ONLINE, "online");
        node.kill();
        ev.expect("state " + PlexClient.RECONNECTING, "reconnecting 0 after a delay");
        node.restart();
        List<String> seen = new ArrayList<>();
        for (String e = ev.next(); !e.equals("online"); e = ev.next()) {
            seen.add(e);
            assertTrue(e.equals("state " + PlexClient.CONNECTING)
                    || e.equals("state " + PlexClient.RECONNECTING) || e.equals("reconnecting 0 after a delay")
                    || e.equals("state " + PlexClient.ONLINE), "an event of a reconnect: " + seen);
        }
        assertEquals("state " + PlexClient.CONNECTING, seen.get(0), "the wait ends with an attempt");
        assertEquals("state " + PlexClient.ONLINE, seen.get(seen.size() - 1));
        plex.close();
        ev.expect("state " + PlexClient.CLOSED, "closed 0");
        assertEquals(null, ev.q.poll(300, TimeUnit.MILLISECONDS), "closed is the last call");
    }

    /** A listener written for the release before still hears about online through the deprecated method. */
    @Test
    @SuppressWarnings("deprecation")
    void deprecatedOnConnectedStillCalled() throws Exception {
        LinkedBlockingQueue<String> q = new LinkedBlockingQueue<>();
        PlexClient plex = new PlexClient(config("frank"), new PlexListener() {
            @Override
            public void onConnected(PlexClient client) {
                q.add("connected " + (client.state() == PlexClient.CONNECTED));
            }
        });
        plex.connect();
        assertEquals("connected true", q.poll(Recorder.WAIT_SECONDS, TimeUnit.SECONDS));
        plex.close();
    }

    /** close() from the "main thread" while the SDK thread waits for it: no deadlock. */
    @Test
    void closeFromTheExecutorDoesNotDeadlock() throws Exception {
        LinkedBlockingQueue<String> q = new LinkedBlockingQueue<>();
        PlexClient[] self = new PlexClient[1];
        PlexListener l = new PlexListener() {
            @Override
            public void onMessage(PlexClient client, String uri, byte[] body, long seq) {
                client.close();
                q.add("closed in callback");
            }

            @Override
            public void onClosed(PlexClient client, int code, String reason) {
                q.add("onClosed");
            }
        };
        self[0] = new PlexClient(config("dave"), l, ui);
        self[0].connect();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Recorder.WAIT_SECONDS);
        while (self[0].state() != PlexClient.ONLINE && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        node.push("dave", "/p", "bye", false);
        assertEquals("closed in callback", q.poll(Recorder.WAIT_SECONDS, TimeUnit.SECONDS));
        assertEquals("onClosed", q.poll(Recorder.WAIT_SECONDS, TimeUnit.SECONDS));
    }

    /**
     * message and messageRoom return the node's answer as a MessageResult;
     * a refusal is a PlexException with the node's code, not "outcome
     * unknown". plexd refuses (4003: its default app has messages off); the
     * scripted node answers.
     */
    @Test
    void messagesReturnTheNodesAnswerOrItsCode() throws Exception {
        PlexClient plex = new PlexClient(config("alice"), new PlexListener() {});
        plex.connect();
        PlexException off = assertThrows(PlexException.class, () -> plex.message("bob", "hi", null));
        assertEquals(4003, off.code(), off.getMessage());
        assertTrue(off.getMessage().startsWith("plexmobile: message refused: code 4003"), off.getMessage());
        assertEquals(false, off.isOutcomeUnknown());
        assertEquals(4003, assertThrows(PlexException.class, () -> plex.messageRoom("team", "hi", "")).code());
        plex.close();

        try (FakeNode fake = new FakeNode()) {
            Config cfg = config("alice");
            cfg.setAddrs(fake.addr());
            PlexClient c = new PlexClient(cfg, new PlexListener() {});
            c.connect();
            fake.replies.add("reply {\"id\":\"n1-7\",\"seq\":12,\"delivered\":1}");
            MessageResult r = c.message("bob", "hé bob", "c-42");
            assertEquals("n1-7", r.id());
            assertEquals(12, r.seq());
            assertEquals(1, r.stored());
            assertEquals(1, r.delivered());
            String f = fake.frames.poll(Recorder.WAIT_SECONDS, TimeUnit.SECONDS);
            assertTrue(f.contains("\\\"to\\\":\\\"bob\\\"") && f.contains("hé bob") && f.contains("c-42"), f);

            fake.replies.add("reply {\"id\":\"n1-8\",\"seq\":5,\"stored\":3,\"delivered\":4}");
            r = c.messageRoom("team-7", "lunch?", null);
            assertEquals("MessageResult{id=n1-8, seq=5, stored=3, delivered=4}", r.toString());
            f = fake.frames.poll(Recorder.WAIT_SECONDS, TimeUnit.SECONDS);
            assertTrue(f.contains("\\\"room\\\":\\\"team-7\\\"") && !f.contains("conversation"), f);

            fake.replies.add("error 3008");
            PlexException unknown = assertThrows(PlexException.class, () -> c.messageRoom("team-7", "x", null));
            assertEquals(3008, unknown.code());
            assertTrue(unknown.isOutcomeUnknown(), unknown.getMessage());
            fake.replies.add("error 4006");
            assertEquals(4006, assertThrows(PlexException.class, () -> c.messageRoom("empty", "x", null)).code());
            c.close();
        }
    }

    @Test
    void invalidConfigThrowsPlexException() {
        Config cfg = new Config();
        PlexException e = assertThrows(PlexException.class, () -> new PlexClient(cfg, new PlexListener() {}));
        assertTrue(e.getMessage().startsWith("plexmobile: invalid config"), e.getMessage());
    }
}
