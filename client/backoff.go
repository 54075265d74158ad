package client

import (
	"math/rand/v2"
	"time"
)

// Backoff is the reconnect policy shared by PlexClient and Conn, the one
// every plex client applies (docs/protocol.md §13.6): retry n (0 for the
// first after a failure) waits a uniformly random delay in [floor, capₙ],
// capₙ = min(Max, Min·2ⁿ), floor = min(BackoffFloor, Min). The randomness
// spreads the reconnects of many clients after a node restart; the floor
// keeps a client from retrying in a tight loop however the dice fall (full
// jitter alone can draw 0). A connection that was healthy (see healthy)
// resets n to 0.
type Backoff struct {
	// Min is the cap of the first retry's delay. Zero: 500ms (the
	// protocol's recommendation): a node restart costs an app little, and
	// thousands of apps do not all redial in the same millisecond.
	Min time.Duration
	// Max caps the delay. Zero: 30s, the default heartbeat interval: an app
	// never waits longer for a node to come back than a heartbeat period.
	Max time.Duration
}

// Backoff defaults and the fixed parts of the rule (docs/protocol.md §13.6).
const (
	DefaultBackoffMin = 500 * time.Millisecond
	DefaultBackoffMax = 30 * time.Second
	// BackoffFloor is the shortest delay (lowered to Min when Min is
	// below it): 100ms keeps a reconnect storm from spinning while a
	// client whose node restarted still comes back at once.
	BackoffFloor = 100 * time.Millisecond
	// BackoffResetAfter: a connection that stayed online this long resets
	// the attempt counter, as does one that received a message.
	BackoffResetAfter = 10 * time.Second
)

func (b Backoff) withDefaults() Backoff {
	if b.Min <= 0 {
		b.Min = DefaultBackoffMin
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoffMax
	}
	if b.Max < b.Min {
		b.Max = b.Min
	}
	return b
}

// delay returns the wait before retry number attempt (0 for the first).
func (b Backoff) delay(attempt int) time.Duration {
	return b.delayWith(attempt, rand.N[time.Duration])
}

// delayWith is delay with the random source: rnd(n) is uniform in [0, n).
func (b Backoff) delayWith(attempt int, rnd func(time.Duration) time.Duration) time.Duration {
	b = b.withDefaults()
	capN := b.Min
	for i := 0; i < attempt && capN < b.Max; i++ {
		capN *= 2
	}
	capN = min(capN, b.Max)
	floor := min(BackoffFloor, b.Min)
	return floor + rnd(capN-floor+1)
}

// healthy reports whether a connection that ended resets the backoff: it
// received a message after the handshake (any frame but a heartbeat echo),
// or it stayed online for BackoffResetAfter. A node that accepts and then
// drops every connection at once is thus retried ever more slowly.
func (b Backoff) healthy(received bool, up time.Duration) bool {
	return received || up >= BackoffResetAfter
}

// sleep waits d or until stop is closed; it reports whether d passed.
func sleep(d time.Duration, stop <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	}
}
