package io.plexpush;

/**
 * A failed {@link PlexClient} call. The message starts with the SDK's
 * category: "plexmobile: invalid config", "plexmobile: client closed",
 * "plexmobile: not connected", "plexmobile: send failed" or
 * "plexmobile: internal error" (docs/android.md).
 */
public class PlexException extends Exception {
    private static final long serialVersionUID = 1L;

    public PlexException(String message, Throwable cause) {
        super(message, cause);
    }

    static PlexException wrap(Exception e) {
        if (e instanceof PlexException) {
            return (PlexException) e;
        }
        return new PlexException(e.getMessage(), e);
    }
}
