package plexmobile_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
	plexmobile "github.com/plexpush/plex/sdk/mobile"
	"github.com/plexpush/plex/server"
)

// next is docs/protocol.md §13.6's "next" column, plus the optional
// suspended state (entered when background-disconnect closes the
// connection, left by foreground or close). idle is the state before the
// first event; closed has no successor.
var next = map[int64][]int64{
	plexmobile.StateIdle:         {plexmobile.StateConnecting, plexmobile.StateSuspended},
	plexmobile.StateConnecting:   {plexmobile.StateOnline, plexmobile.StateReconnecting, plexmobile.StateClosed, plexmobile.StateSuspended},
	plexmobile.StateOnline:       {plexmobile.StateReconnecting, plexmobile.StateClosed, plexmobile.StateSuspended},
	plexmobile.StateReconnecting: {plexmobile.StateConnecting, plexmobile.StateClosed, plexmobile.StateSuspended},
	plexmobile.StateSuspended:    {plexmobile.StateConnecting, plexmobile.StateClosed},
}

// follows fails unless every event is a transition §13.6 allows from the
// state before it; it returns the last state.
func follows(t *testing.T, from int64, evs ...stateEv) int64 {
	t.Helper()
	for _, ev := range evs {
		require.Contains(t, next[from], ev.state, "%s → %v is not a §13.6 transition", stateName(from), ev)
		if ev.state != plexmobile.StateReconnecting {
			require.Zero(t, ev.delayMs, "only reconnecting carries a delay: %v", ev)
		}
		from = ev.state
	}
	return from
}

// The states of docs/protocol.md §13.6 with their detail, in the order it
// gives: connecting → online; the node goes away → reconnecting with the
// code and reason that ended the connection and the delay (no separate
// "disconnected" event) → connecting → online; Close → closed 0, the last
// event.
func TestStatesFollowTheProtocol(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	cfg := config(n, "alice")
	c, r := newClient(t, cfg)
	require.EqualValues(t, plexmobile.StateIdle, c.State())
	require.NoError(t, c.Connect())
	evs := r.expectStates(t, plexmobile.StateConnecting, plexmobile.StateOnline)
	follows(t, plexmobile.StateIdle, evs...)
	require.Equal(t, stateEv{plexmobile.StateOnline, 0, "", 0}, evs[1])
	require.EqualValues(t, plexmobile.StateOnline, c.State())

	n.Restart() // the node says /disconnect 3000, then serves again on the same address
	lost := r.nextState(t)
	require.EqualValues(t, plexmobile.StateReconnecting, lost.state, "the connection's end is reported as reconnecting: %v", lost)
	require.EqualValues(t, pack.CodeShutdown, lost.code, "with the code that ended it: %v", lost)
	require.Contains(t, lost.reason, "3000", "and its reason: %v", lost)
	require.NotContains(t, lost.reason, "reconnecting in", "the delay is its own field: %v", lost)
	require.Positive(t, lost.delayMs, "%v", lost)
	require.LessOrEqual(t, lost.delayMs, cfg.BackoffMaxMs, "%v", lost)
	// Every attempt reports connecting; an attempt made before the new
	// node listens fails with reconnecting (code 0: a network error).
	st := int64(plexmobile.StateReconnecting)
	for st != plexmobile.StateOnline {
		ev := r.nextState(t)
		st = follows(t, st, ev)
		if ev.state == plexmobile.StateReconnecting {
			require.Positive(t, ev.delayMs, "%v", ev)
		}
	}
	require.EqualValues(t, plexmobile.StateOnline, c.State())

	require.NoError(t, c.Close())
	require.Equal(t, stateEv{plexmobile.StateClosed, 0, "", 0}, r.nextState(t))
	require.EqualValues(t, plexmobile.StateClosed, c.State())
	r.noState(t, 100*time.Millisecond) // closed is the last event
}

// A refused token ends the Client with closed and the node's code (4001),
// not with a state of its own: connecting → closed 4001, the last event.
func TestStatesAuthRefusedIsClosed4001(t *testing.T) {
	leakCheck(t)
	var attempts atomic.Int32
	n := startNode(t, server.Config{Authenticator: countingNone{&attempts}})
	c, r := newClient(t, config(n, "bad token!"))
	require.NoError(t, c.Connect())
	evs := r.expectStates(t, plexmobile.StateConnecting, plexmobile.StateClosed)
	follows(t, plexmobile.StateIdle, evs...)
	require.EqualValues(t, pack.CodeAuthFailed, evs[1].code, "%v", evs[1])
	require.NotEmpty(t, evs[1].reason)
	require.EqualValues(t, plexmobile.StateClosed, c.State())
	require.NoError(t, c.Close())
	r.noState(t, 300*time.Millisecond) // no second closed, no retry
	require.EqualValues(t, 1, attempts.Load())
}

// Background-disconnect: online → suspended (code 0) → connecting → online
// on foreground; closed ends it from suspended too.
func TestStatesSuspended(t *testing.T) {
	leakCheck(t)
	n := startNode(t, server.Config{})
	cfg := config(n, "alice")
	cfg.BackgroundPolicy = plexmobile.BackgroundDisconnect
	c, r := newClient(t, cfg)
	require.NoError(t, c.Connect())
	st := follows(t, plexmobile.StateIdle, r.expectStates(t, plexmobile.StateConnecting, plexmobile.StateOnline)...)
	require.NoError(t, c.EnterBackground())
	evs := r.expectStates(t, plexmobile.StateSuspended)
	require.Equal(t, stateEv{plexmobile.StateSuspended, 0, "", 0}, evs[0])
	st = follows(t, st, evs...)
	r.noState(t, 300*time.Millisecond) // backoff is 20–200 ms: nothing is retried while suspended
	require.NoError(t, c.EnterForeground())
	st = follows(t, st, r.expectStates(t, plexmobile.StateConnecting, plexmobile.StateOnline)...)
	require.NoError(t, c.EnterBackground())
	st = follows(t, st, r.expectStates(t, plexmobile.StateSuspended)...)
	require.NoError(t, c.Close())
	follows(t, st, r.expectStates(t, plexmobile.StateClosed)...)
	r.noState(t, 100*time.Millisecond)
}
