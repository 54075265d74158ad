package io.plexpush;

/**
 * What the node did with a {@link PlexClient#message} or
 * {@link PlexClient#messageRoom} (its /reply, docs/protocol.md §8.1).
 */
public final class MessageResult {
    private final String id;
    private final long seq;
    private final long stored;
    private final long delivered;

    MessageResult(io.plexpush.plexmobile.MessageResult r) {
        this.id = r.getMessageID();
        this.seq = r.getSeq();
        this.stored = r.getStored();
        this.delivered = r.getDelivered();
    }

    /** The message id the node gave it; every recipient's copy carries it in meta {@code id}. */
    public String id() {
        return id;
    }

    /**
     * The persistent seq: to a user, in the recipient's stream; to a room,
     * this user's own copy's (0 when not a member).
     */
    public long seq() {
        return seq;
    }

    /** Copies stored: 1 to a user, one per member to a room. */
    public long stored() {
        return stored;
    }

    /** Connections the copies were written to (for a room, this one not counted); 0 when all are offline. */
    public long delivered() {
        return delivered;
    }

    @Override
    public String toString() {
        return "MessageResult{id=" + id + ", seq=" + seq + ", stored=" + stored + ", delivered=" + delivered + "}";
    }
}
