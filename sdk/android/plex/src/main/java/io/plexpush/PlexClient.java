package io.plexpush;

import io.plexpush.plexmobile.Client;
import io.plexpush.plexmobile.Config;
import io.plexpush.plexmobile.Listener;
import io.plexpush.plexmobile.Logger;
import io.plexpush.plexmobile.Meta;
import io.plexpush.plexmobile.Plexmobile;
import java.io.Closeable;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * An app's connection to plex: a thin Java API over the gomobile binding
 * ({@link io.plexpush.plexmobile.Client}), which does the work (dial or
 * discovery, auth, heartbeat, reconnect with backoff, acks and resume).
 *
 * <pre>{@code
 * Config cfg = new Config();
 * cfg.setAddrs("push.example.com:9578");
 * cfg.setToken(token);
 * cfg.setDevice(installationId);
 * cfg.setLastSeq(prefs.getLong("plexLastSeq", 0));
 * PlexClient plex = new PlexClient(cfg, listener, new MainThreadExecutor());
 * plex.connect();              // returns at once; the listener reports progress
 * ...
 * prefs.edit().putLong("plexLastSeq", plex.lastSeq()).apply();
 * plex.close();
 * }</pre>
 *
 * <p>Lifecycle: {@link #connect} once; {@link #enterBackground} /
 * {@link #enterForeground} from the app's lifecycle; {@link #close} once,
 * which is final. All methods are thread-safe. {@link #send},
 * {@link #message} and {@link #messageRoom} block (up to
 * {@code Config.sendTimeoutMs}): call them off the main thread.
 *
 * <p>What {@link #enterBackground} does is the config's background policy
 * ({@code cfg.setBackgroundPolicy(...)}):
 * <ul>
 * <li>{@code Plexmobile.BackgroundKeep} (0, the default): nothing; the
 *     connection keeps the normal heartbeat pace.</li>
 * <li>{@code Plexmobile.BackgroundDisconnect}: closes the connection
 *     ({@link #SUSPENDED}, {@link PlexListener#onSuspended}) until {@link #enterForeground},
 *     which reconnects and resumes. For apps whose background is covered by
 *     FCM.</li>
 * <li>{@code Plexmobile.BackgroundSlowHeartbeat}: keeps the connection (no
 *     state change; pushes and {@link #send} work as usual) in the
 *     protocol's background mode, heartbeating at the node's background
 *     interval (5 minutes by default instead of 30 s), also across
 *     reconnects, until {@link #enterForeground}. <b>Recommended for apps
 *     that stay connected in background.</b> A node without background
 *     mode keeps the normal pace.</li>
 * </ul>
 *
 * <p>With a callback executor, the SDK thread waits until the executor ran
 * each callback, so a persistent push is acknowledged only once the app's
 * {@code onMessage} has returned, and a busy main thread slows delivery
 * rather than piling it up in memory. {@link #close} never waits for the
 * executor.
 */
public final class PlexClient implements Closeable {
    /**
     * States passed to {@link PlexListener#onStateChanged} and returned by
     * {@link #state}: those of docs/protocol.md §13.6 with its names, plus
     * {@link #SUSPENDED} (background-disconnect). The values are the SDK's
     * state numbers; 3 and 6 (the removed DISCONNECTED and AUTH_FAILED) are
     * never reused.
     */
    public static final int IDLE = (int) Plexmobile.StateIdle;
    /** An attempt runs (dial, auth); reported before every attempt. */
    public static final int CONNECTING = (int) Plexmobile.StateConnecting;
    /** Authenticated: pushes flow, {@link #send} writes at once. */
    public static final int ONLINE = (int) Plexmobile.StateOnline;
    /**
     * The old name of {@link #ONLINE} (same value).
     *
     * @deprecated use {@link #ONLINE}; removed in the next release.
     */
    @Deprecated
    public static final int CONNECTED = ONLINE;
    /** The connection ended or an attempt failed; waiting out a backoff (code, reason and delay say why and how long). */
    public static final int RECONNECTING = (int) Plexmobile.StateReconnecting;
    /** {@link #enterBackground} closed the connection (BackgroundDisconnect) until {@link #enterForeground}. */
    public static final int SUSPENDED = (int) Plexmobile.StateSuspended;
    /** Final, always the last state: {@link #close} (code 0) or the node's 4xxx code (4001: token refused). */
    public static final int CLOSED = (int) Plexmobile.StateClosed;

    private static final byte[] EMPTY = new byte[0];

    private final Client client;
    private final PlexListener listener;
    private final Executor executor; // null: call the listener on the SDK thread
    private final Object lock = new Object();
    private volatile boolean closing;
    private CountDownLatch waiting; // the callback the SDK thread waits for (lock)
    private long lastSeq; // highest persistent seq whose onMessage returned (lock)

    /** A client whose listener is called on an SDK thread. */
    public PlexClient(Config config, PlexListener listener) throws PlexException {
        this(config, listener, null);
    }

    /**
     * A client whose listener is called on {@code callbackExecutor} (e.g.
     * {@link MainThreadExecutor}); null means on an SDK thread.
     *
     * @throws PlexException when the config is invalid ("plexmobile: invalid config: ...")
     */
    public PlexClient(Config config, PlexListener listener, Executor callbackExecutor) throws PlexException {
        if (config == null || listener == null) {
            throw new NullPointerException("config and listener are required");
        }
        this.listener = listener;
        this.executor = callbackExecutor;
        this.lastSeq = config.getLastSeq();
        try {
            this.client = new Client(config);
            this.client.setListener(new Bridge(this));
        } catch (Exception e) {
            throw PlexException.wrap(e);
        }
    }

    /** Starts connecting and returns at once; the listener reports progress. Does nothing when called again. */
    public void connect() throws PlexException {
        try {
            client.connect();
        } catch (Exception e) {
            throw PlexException.wrap(e);
        }
    }

    /**
     * Sends an upstream message. Blocks while (re)connecting, up to the
     * config's send timeout, and returns once the message is written. Upstream
     * messages have no acknowledgement.
     */
    public void send(String uri, byte[] body) throws PlexException {
        try {
            client.send(uri, body);
        } catch (Exception e) {
            throw PlexException.wrap(e);
        }
    }

    /** {@link #send(String, byte[])} with UTF-8 text. */
    public void send(String uri, String text) throws PlexException {
        send(uri, text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Sends {@code text} to user {@code to} of the same app (/message,
     * docs/protocol.md §8.1) and returns the node's answer. The recipient's
     * {@link PlexListener#onMessage} gets uri {@code "/message"} with meta
     * {@code from} (this user, set by the node), {@code id}, {@code ts} and
     * {@code conversation}; the node stores it, so an offline recipient gets
     * it on their next connection.
     *
     * <p>Blocks until the node answers, up to the config's send timeout
     * (waiting for a reconnect included): call it off the main thread. A
     * message that a draining node did not answer before it closed the
     * connection was not executed: it is sent again, once, on the next
     * connection, and this returns that answer.
     *
     * @param conversation an opaque id the recipients get in meta {@code conversation}; null or "" for none
     * @throws PlexException {@link PlexException#code()} is the node's code when it refused the message
     *     (4003 not allowed, 4004 malformed, 4006 empty room, 4029 over a quota, 3005 not stored);
     *     {@link PlexException#isOutcomeUnknown()} when it may have been delivered (3008, or the reply
     *     was lost: sending it again may deliver it twice); otherwise it was not sent
     */
    public MessageResult message(String to, String text, String conversation) throws PlexException {
        try {
            return new MessageResult(client.message(to, utf8(text), conversation == null ? "" : conversation));
        } catch (Exception e) {
            throw PlexException.wrap(e);
        }
    }

    /**
     * Sends {@code text} to every member of {@code room} (a group message,
     * docs/protocol.md §8.1): each member, this user included, gets its own
     * stored copy with meta {@code room}; this connection does not receive
     * it, this user's other devices do. By default only members may message
     * a room (4003). Blocking, errors and resending as for
     * {@link #message}.
     */
    public MessageResult messageRoom(String room, String text, String conversation) throws PlexException {
        try {
            return new MessageResult(client.messageRoom(room, utf8(text), conversation == null ? "" : conversation));
        } catch (Exception e) {
            throw PlexException.wrap(e);
        }
    }

    private static byte[] utf8(String text) {
        return text == null ? EMPTY : text.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The app went to background: disconnects under
     * {@code BackgroundDisconnect}, slows the heartbeat to the node's
     * background pace under {@code BackgroundSlowHeartbeat}, does nothing
     * under {@code BackgroundKeep}. Calling it again does nothing.
     */
    public void enterBackground() {
        try {
            client.enterBackground();
        } catch (Exception e) {
            // Only a recovered internal error can land here; a lifecycle hint must not crash the app.
        }
    }

    /**
     * The app is in the foreground again: reconnects now if suspended or
     * waiting out a backoff, and returns to the normal heartbeat pace after
     * {@code BackgroundSlowHeartbeat}.
     */
    public void enterForeground() {
        try {
            client.enterForeground();
        } catch (Exception e) {
            // As in enterBackground.
        }
    }

    /** Sends the SDK's log lines to {@code logger} (e.g. {@link LogcatLogger}); null discards them. */
    public void setLogger(Logger logger) {
        try {
            client.setLogger(logger);
        } catch (Exception e) {
            // As in enterBackground.
        }
    }

    /** The last state reported, one of {@link #IDLE} ... {@link #CLOSED}. */
    public int state() {
        return (int) client.state();
    }

    /**
     * The highest persistent seq whose {@link PlexListener#onMessage} returned
     * (or the config's lastSeq). Persist it and pass it as
     * {@code Config.setLastSeq} after a process restart.
     */
    public long lastSeq() {
        synchronized (lock) {
            return lastSeq;
        }
    }

    /**
     * Disconnects for good; {@link PlexListener#onClosed} follows (on the
     * executor, if any). Messages not yet delivered are not acknowledged:
     * the node delivers them to this device's next connection. Idempotent.
     */
    @Override
    public void close() {
        closing = true;
        synchronized (lock) {
            if (waiting != null) {
                waiting.countDown(); // the SDK thread stops waiting for the executor
            }
        }
        try {
            client.close();
        } catch (Exception e) {
            // As in enterBackground.
        }
    }

    /**
     * Runs a callback right here, or on the executor and waits for it. An
     * exception the callback throws on the executor is rethrown here, so
     * that the SDK logs it, instead of reaching the executor's thread (an
     * uncaught exception on Android's main thread kills the app).
     */
    private void dispatch(Runnable callback) {
        if (executor == null) {
            callback.run();
            return;
        }
        if (closing) { // close() must never wait for the executor
            executor.execute(() -> {
                try {
                    callback.run();
                } catch (RuntimeException e) {
                    // Nobody is left to report it to: the client is closing.
                }
            });
            return;
        }
        CountDownLatch done = new CountDownLatch(1);
        RuntimeException[] failure = new RuntimeException[1];
        synchronized (lock) {
            waiting = done;
        }
        try {
            executor.execute(() -> {
                try {
                    callback.run();
                } catch (RuntimeException e) {
                    failure[0] = e;
                } finally {
                    done.countDown();
                }
            });
            while (!closing && !done.await(100, TimeUnit.MILLISECONDS)) {
                // close() counts the latch down; the timeout is a safety net
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            synchronized (lock) {
                waiting = null;
            }
        }
        if (done.getCount() == 0 && failure[0] != null) {
            throw failure[0];
        }
    }

    private void onMessage(String uri, byte[] body, long seq, Meta meta) {
        final byte[] b = body == null ? EMPTY : body; // gomobile passes an empty []byte as null
        final Map<String, String> m = toMap(meta); // read on the SDK thread, before dispatching
        dispatch(() -> {
            try {
                listener.onMessage(this, uri, b, seq, m);
            } finally { // the SDK counts a push whose callback threw as delivered too
                if (seq > 0) {
                    synchronized (lock) {
                        if (seq > lastSeq) {
                            lastSeq = seq;
                        }
                    }
                }
            }
        });
    }

    /** A push's meta as an unmodifiable map, sorted by key. */
    private static Map<String, String> toMap(Meta meta) {
        TreeMap<String, String> m = new TreeMap<>();
        if (meta != null) {
            for (long i = 0, n = meta.len(); i < n; i++) {
                String k = meta.key(i);
                m.put(k, meta.get(k));
            }
        }
        return Collections.unmodifiableMap(m);
    }

    private void onState(int state, int code, String reason, long delayMs) {
        final String r = reason == null ? "" : reason;
        dispatch(() -> {
            listener.onStateChanged(this, state, code, r, delayMs);
            if (state == CONNECTING) {
                listener.onConnecting(this);
            } else if (state == ONLINE) {
                listener.onOnline(this);
            } else if (state == RECONNECTING) {
                listener.onReconnecting(this, code, r, delayMs);
            } else if (state == SUSPENDED) {
                listener.onSuspended(this);
            } else if (state == CLOSED) {
                listener.onClosed(this, code, r);
            }
        });
    }

    /**
     * The binding's Listener. An exception thrown here is caught by the
     * binding, returned to Go as an error and logged there; a Throwable that
     * is not an Exception (an Error) is caught here too, so nothing is left
     * pending on the SDK thread.
     */
    private static final class Bridge implements Listener {
        private final PlexClient owner;

        Bridge(PlexClient owner) {
            this.owner = owner;
        }

        @Override
        public void onMessage(String uri, byte[] body, long seq, Meta meta) throws Exception {
            try {
                owner.onMessage(uri, body, seq, meta);
            } catch (Error e) {
                throw new Exception("listener failed", e);
            }
        }

        @Override
        public void onState(long state, long code, String reason, long delayMs) throws Exception {
            try {
                owner.onState((int) state, (int) code, reason, delayMs);
            } catch (Error e) {
                throw new Exception("listener failed", e);
            } finally {
                if (state == CLOSED) {
                    // The last event: drop the Go → Java reference, which would
                    // otherwise keep this client alive (gomobile cannot collect
                    // a reference cycle that crosses the language boundary).
                    owner.client.setListener(null);
                }
            }
        }
    }
}
