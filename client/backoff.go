package client

import (
	"math/rand/v2"
	"time"
)

// Backoff is the reconnect policy shared by PlexClient and Conn: jittered
// exponential backoff. The n-th consecutive failed attempt waits a random
// duration in [d/2, d], where d = Min·2ⁿ capped at Max. The randomness
// ("equal jitter") spreads the reconnects of many clients after a node
// restart, and the lower bound d/2 keeps one client from retrying in a
// tight loop. A connection that was healthy (see healthy) resets n to 0.
type Backoff struct {
	// Min is the base delay of the first retry. Zero: 500ms (the protocol's
	// recommendation): a node restart costs an app little, and thousands of
	// apps do not all redial in the same millisecond.
	Min time.Duration
	// Max caps the delay. Zero: 30s, the default heartbeat interval: an app
	// never waits longer for a node to come back than a heartbeat period.
	Max time.Duration
}

// Backoff defaults.
const (
	DefaultBackoffMin = 500 * time.Millisecond
	DefaultBackoffMax = 30 * time.Second
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
	b = b.withDefaults()
	d := b.Min
	for i := 0; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	half := d / 2
	return half + rand.N(d-half+1)
}

// healthy reports whether a connection that ended resets the backoff: the
// node sent something after the handshake and the connection stayed up for
// at least Max. A node that accepts and then drops or stalls every
// connection thus keeps being retried ever more slowly.
func (b Backoff) healthy(received bool, up time.Duration) bool {
	return received && up >= b.withDefaults().Max
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
