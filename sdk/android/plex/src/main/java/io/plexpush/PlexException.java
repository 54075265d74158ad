package io.plexpush;

import io.plexpush.plexmobile.Plexmobile;

/**
 * A failed {@link PlexClient} call. The message starts with the SDK's
 * category: "plexmobile: invalid config", "plexmobile: client closed",
 * "plexmobile: not connected", "plexmobile: send failed",
 * "plexmobile: message refused", "plexmobile: outcome unknown" or
 * "plexmobile: internal error" (docs/android.md).
 */
public class PlexException extends Exception {
    private static final long serialVersionUID = 1L;
    private static final String OUTCOME_UNKNOWN = "plexmobile: outcome unknown";

    public PlexException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * The node's code (docs/protocol.md §13.2) when the node refused a
     * {@link PlexClient#message} or {@link PlexClient#messageRoom} (e.g. 4003:
     * not allowed) or answered 3008; 0 otherwise.
     */
    public int code() {
        String m = getMessage();
        return m == null ? 0 : (int) Plexmobile.errorCode(m);
    }

    /**
     * Whether the failed message may have been delivered anyway (the node
     * answered 3008, or the reply was lost): sending it again may deliver
     * it twice. False when it was refused or not sent.
     */
    public boolean isOutcomeUnknown() {
        String m = getMessage();
        return m != null && m.startsWith(OUTCOME_UNKNOWN);
    }

    static PlexException wrap(Exception e) {
        if (e instanceof PlexException) {
            return (PlexException) e;
        }
        return new PlexException(e.getMessage(), e);
    }
}
