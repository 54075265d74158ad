package server

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// flakyAcks is a Store whose Ack fails the first failures calls.
type flakyAcks struct {
	Store
	mu       sync.Mutex
	failures int
	calls    int
	cursor   map[string]int64
}

func (f *flakyAcks) Ack(_ context.Context, uid, device string, seq int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls <= f.failures {
		return errors.New("store away")
	}
	f.cursor[uid+"/"+device] = max(f.cursor[uid+"/"+device], seq)
	return nil
}

func (f *flakyAcks) get(k string) (int64, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cursor[k], f.calls
}

// Acks whose writes fail converge once the store answers again (a dropped
// ack would cost the device a replay); a newer ack of the device meanwhile
// is merged; one that keeps failing is reported once, then dropped.
func TestAckerRetriesFailedWrites(t *testing.T) {
	st := &flakyAcks{failures: 3, cursor: map[string]int64{}}
	var reported []key
	var mu sync.Mutex
	a := newAcker(st, time.Second, func(uid key, _ error) { mu.Lock(); reported = append(reported, uid); mu.Unlock() })
	a.add("alice", "d1", 5)
	require.Eventually(t, func() bool { _, calls := st.get("alice/d1"); return calls >= 2 }, 5*time.Second, time.Millisecond)
	a.add("alice", "d1", 7) // a newer ack while the first is failing
	require.Eventually(t, func() bool { c, _ := st.get("alice/d1"); return c == 7 }, 10*time.Second, 5*time.Millisecond,
		"the cursor converges to the newest ack")
	a.close()
	mu.Lock()
	require.Empty(t, reported, "nothing dropped")
	mu.Unlock()

	always := &flakyAcks{failures: 1 << 30, cursor: map[string]int64{}}
	reportedB := make(chan key, 10)
	b := newAcker(always, time.Second, func(uid key, _ error) { reportedB <- uid })
	b.add("bob", "d1", 1)
	require.Eventually(t, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.retry) == 1 }, 5*time.Second, time.Millisecond,
		"the first write failed and waits for its retry")
	b.close() // closing tries every failed write once more, then stops
	_, calls := always.get("bob/d1")
	require.GreaterOrEqual(t, calls, 2, "tried again at close")
	require.Empty(t, reportedB, "not reported before its retries ran out")
}

// A write that keeps failing is reported once, after ackRetries more tries.
func TestAckerDropsAfterItsRetries(t *testing.T) {
	var reported int
	a := &acker{pending: map[ackKey]int64{}, retry: map[ackKey]ackRetry{}, onError: func(key, error) { reported++ }}
	k := ackKey{"carol", "d1"}
	for i := range ackRetries {
		a.failed(k, 3, errors.New("away"))
		require.Zero(t, reported, "try %d", i+1)
		require.Contains(t, a.retry, k)
	}
	a.failed(k, 3, errors.New("away"))
	require.Equal(t, 1, reported)
	require.NotContains(t, a.retry, k)
}
