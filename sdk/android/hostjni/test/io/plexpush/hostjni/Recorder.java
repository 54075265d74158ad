package io.plexpush.hostjni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

import io.plexpush.plexmobile.Listener;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A binding Listener that records events for the tests to wait on. */
final class Recorder implements Listener {
    static final long WAIT_SECONDS = 20; // an upper bound for "eventually", not a timing assertion

    static final class Msg {
        final String uri;
        final String body;
        final long seq;
        final String thread;

        Msg(String uri, String body, long seq, String thread) {
            this.uri = uri;
            this.body = body;
            this.seq = seq;
            this.thread = thread;
        }

        @Override
        public String toString() {
            return uri + " " + body + " seq=" + seq;
        }
    }

    static final class State {
        final long state;
        final long code;
        final String reason;
        final long delayMs;

        State(long state, long code, String reason, long delayMs) {
            this.state = state;
            this.code = code;
            this.reason = reason;
            this.delayMs = delayMs;
        }

        @Override
        public String toString() {
            return state + "/" + code + " " + reason + " +" + delayMs + "ms";
        }
    }

    final LinkedBlockingQueue<Msg> msgs = new LinkedBlockingQueue<>();
    final LinkedBlockingQueue<State> states = new LinkedBlockingQueue<>();

    @Override
    public void onMessage(String uri, byte[] body, long seq, io.plexpush.plexmobile.Meta meta) {
        String b = body == null ? "" : new String(body, StandardCharsets.UTF_8);
        msgs.add(new Msg(uri, b, seq, Thread.currentThread().getName()));
    }

    @Override
    public void onState(long state, long code, String reason, long delayMs) {
        states.add(new State(state, code, reason, delayMs));
    }

    Msg nextMsg() throws InterruptedException {
        Msg m = msgs.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        if (m == null) {
            fail("no message within " + WAIT_SECONDS + " s");
        }
        return m;
    }

    State nextState() throws InterruptedException {
        State s = states.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        if (s == null) {
            fail("no state change within " + WAIT_SECONDS + " s");
        }
        return s;
    }

    /** The next state changes must be exactly these. */
    void expectStates(long... want) throws InterruptedException {
        List<State> got = new ArrayList<>();
        for (long w : want) {
            State s = nextState();
            got.add(s);
            assertEquals(w, s.state, "states so far: " + got);
        }
    }

    /** Skips state changes until st arrives. */
    State waitState(long st) throws InterruptedException {
        List<State> seen = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (System.nanoTime() < deadline) {
            State s = states.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (s == null) {
                break;
            }
            if (s.state == st) {
                return s;
            }
            seen.add(s);
        }
        fail("no state " + st + " within " + WAIT_SECONDS + " s; saw " + seen);
        return null;
    }

    void noState(long millis) throws InterruptedException {
        assertNull(states.poll(millis, TimeUnit.MILLISECONDS), "unexpected state change");
    }

    void noMsg(long millis) throws InterruptedException {
        assertNull(msgs.poll(millis, TimeUnit.MILLISECONDS), "unexpected message");
    }
}
