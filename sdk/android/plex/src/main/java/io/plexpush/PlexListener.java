package io.plexpush;

import java.util.Map;

/**
 * Receives a {@link PlexClient}'s events. Every method does nothing by
 * default: override the ones you need.
 *
 * <p>Calls come one at a time, in order: on the client's callback executor
 * when it has one (e.g. {@link MainThreadExecutor}), otherwise on an SDK
 * thread (never the main thread). For every state change
 * {@link #onStateChanged} is called first, then the specific method.
 * Exactly one of {@link #onAuthFailed} and {@link #onClosed} is the last
 * call. A method that throws is logged and does not stop delivery.
 *
 * <p>A persistent push ({@code seq > 0}) is acknowledged to the node only
 * after {@link #onMessage} returned; if the process dies before, the push
 * comes again after the next connect.
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

    /** Every state change, before the specific method; see {@link PlexClient#CONNECTING} and friends. */
    public void onStateChanged(PlexClient client, int state, int code, String reason) {}

    /** The first attempt (or the first after a suspension) started. */
    public void onConnecting(PlexClient client) {}

    /** Authenticated: pushes flow, {@link PlexClient#send} writes at once. */
    public void onConnected(PlexClient client) {}

    /**
     * An established connection ended: {@code code} is the node's 3xxx code
     * (3000 shutdown, 3001 heartbeat timeout, ...) or 0 for a network error.
     * {@link #onReconnecting} follows.
     */
    public void onDisconnected(PlexClient client, int code, String reason) {}

    /** Waiting out a jittered backoff before dialling again; why, in code and reason. */
    public void onReconnecting(PlexClient client, int code, String reason) {}

    /**
     * {@link PlexClient#enterBackground} closed the connection
     * (BackgroundDisconnect only: under BackgroundKeep and
     * BackgroundSlowHeartbeat the connection stays and no state changes).
     */
    public void onSuspended(PlexClient client) {}

    /** Final: the node refused the token (4001). Create a new client with a fresh token. */
    public void onAuthFailed(PlexClient client, int code, String reason) {}

    /** Final: {@link PlexClient#close} (code 0), or the node's terminal code (e.g. 4002 replaced). */
    public void onClosed(PlexClient client, int code, String reason) {}
}
