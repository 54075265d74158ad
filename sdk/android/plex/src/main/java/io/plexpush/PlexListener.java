package io.plexpush;

import java.util.Map;

/**
 * Receives a {@link PlexClient}'s events. Every method does nothing by
 * default: override the ones you need.
 *
 * <p>The states are those of docs/protocol.md §13.6 ("One client
 * behaviour"): connecting, online, reconnecting, closed, plus suspended
 * (background-disconnect). A lost connection is reported by
 * {@link #onReconnecting} with the code and reason that ended it and the
 * delay before the next attempt; a refused token by {@link #onClosed} with
 * code 4001. {@link #onClosed} is called exactly once, last.
 *
 * <p>Calls come one at a time, in order: on the client's callback executor
 * when it has one (e.g. {@link MainThreadExecutor}), otherwise on an SDK
 * thread (never the main thread). For every state change
 * {@link #onStateChanged} is called first, then the specific method.
 * A method that throws is logged and does not stop delivery.
 *
 * <p>A persistent push ({@code seq > 0}) is acknowledged to the node only
 * after {@link #onMessage} returned; if the process dies before, the push
 * comes again after the next connect.
 *
 * <p>Migrating from the release before: {@code onConnected} is now
 * {@link #onOnline} (the old method is still called, deprecated);
 * {@code onDisconnected} and {@code onAuthFailed} are gone (they would
 * never be called): handle a lost connection in {@link #onReconnecting}
 * and a refused token in {@link #onClosed} ({@code code == 4001}).
 */
public abstract class PlexListener {
    /**
     * A push (uri and body as the pusher sent them) or a node frame such as
     * {@code /error}. {@code seq} is &gt; 0 for a persistent push (each arrives
     * once, in seq order), 0 for a transient one. {@code body} is never null.
     */
    public void onMessage(PlexClient client, String uri, byte[] body, long seq) {}

    /**
     * The same push with its meta (protocol §9): the node's {@code id} and
     * {@code ts}, {@code persist} for a persistent push, and the pusher's own
     * keys. The default calls {@link #onMessage(PlexClient, String, byte[], long)};
     * override this one instead when you need the meta. {@code meta} is never null.
     */
    public void onMessage(PlexClient client, String uri, byte[] body, long seq, Map<String, String> meta) {
        onMessage(client, uri, body, seq);
    }

    /**
     * Every state change, before the specific method; see
     * {@link PlexClient#CONNECTING} and friends. {@code code} is the node's
     * code that ended the connection (docs/protocol.md §13) or 0.
     */
    public void onStateChanged(PlexClient client, int state, int code, String reason) {}

    /**
     * The same with the delay before the next attempt ({@code delayMs} &gt; 0
     * with {@link PlexClient#RECONNECTING}, 0 otherwise). The default calls
     * {@link #onStateChanged(PlexClient, int, int, String)}.
     */
    public void onStateChanged(PlexClient client, int state, int code, String reason, long delayMs) {
        onStateChanged(client, state, code, reason);
    }

    /** An attempt started: after {@link PlexClient#connect}, before each retry, and after a suspension. */
    public void onConnecting(PlexClient client) {}

    /**
     * Authenticated: pushes flow, {@link PlexClient#send} writes at once.
     * The default calls the deprecated {@link #onConnected}, so that
     * existing listeners keep working.
     */
    @SuppressWarnings("deprecation")
    public void onOnline(PlexClient client) {
        onConnected(client);
    }

    /**
     * The old name of {@link #onOnline}.
     *
     * @deprecated override {@link #onOnline}; removed in the next release.
     */
    @Deprecated
    public void onConnected(PlexClient client) {}

    /**
     * The connection ended, or an attempt failed, with a retryable cause:
     * {@code code} is the node's 3xxx code (3000 shutdown, 3001 heartbeat
     * timeout, ...) or 0 for a network error, {@code reason} says more.
     * {@link #onConnecting} follows after the wait.
     */
    public void onReconnecting(PlexClient client, int code, String reason) {}

    /**
     * The same with the wait before the next attempt, in milliseconds
     * (jittered backoff; {@link PlexClient#enterForeground} cuts it short).
     * The default calls {@link #onReconnecting(PlexClient, int, String)}.
     */
    public void onReconnecting(PlexClient client, int code, String reason, long delayMs) {
        onReconnecting(client, code, reason);
    }

    /**
     * {@link PlexClient#enterBackground} closed the connection
     * (BackgroundDisconnect only: under BackgroundKeep and
     * BackgroundSlowHeartbeat the connection stays and no state changes).
     * {@link PlexClient#enterForeground} reconnects ({@link #onConnecting}).
     */
    public void onSuspended(PlexClient client) {}

    /**
     * Final, the last call: {@link PlexClient#close} (code 0), or the node's
     * terminal code: 4001 the node refused the token (create a new client
     * with a fresh one; the SDK never retries it), 4002 replaced by a newer
     * login of this device, ...
     */
    public void onClosed(PlexClient client, int code, String reason) {}
}
