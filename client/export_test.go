package client

import (
	"errors"
	"time"

	"github.com/plexpush/plex/pack"
)

// Test hooks for the external tests (package client_test).

// KillConnection closes the Conn's current TCP connection from the client
// side, as a network failure would; false when it has no live one (it is
// reconnecting).
func (c *Conn) KillConnection() bool {
	l := c.cur.Load()
	if l == nil || l.isDead() {
		return false
	}
	l.kill(errors.New("connection killed by the test"))
	return true
}

// BackoffDelay exposes Backoff.delay.
func BackoffDelay(b Backoff, attempt int) time.Duration { return b.delay(attempt) }

// BackoffDelayWith is Backoff.delay with the random source rnd ([0, n)).
func BackoffDelayWith(b Backoff, attempt int, rnd func(n time.Duration) time.Duration) time.Duration {
	return b.delayWith(attempt, rnd)
}

// BackoffHealthy exposes Backoff.healthy.
func BackoffHealthy(b Backoff, received bool, up time.Duration) bool { return b.healthy(received, up) }

// PushFrame is the /inner/push frame Send would write for request id.
func PushFrame(id int64, uid, uri string, body []byte, opts ...SendOption) ([]byte, error) {
	r := pack.PushRequest{UID: uid, URI: uri, Body: string(body)}
	for _, o := range opts {
		o(&r)
	}
	return encodeRequest(newWire(pack.BigEndian, pack.JSON, nil), id, pack.URIPush, &r)
}

// SetMaxQueued lowers the dispatcher's message bound of a Conn that has
// not been started, so that tests exercise the reader's backpressure.
func SetMaxQueued(c *Conn, n int) { c.disp.max = n }

// LastQueued is the highest persistent seq queued for OnMessage.
func LastQueued(c *Conn) int64 { return c.lastSeq.Load() }

// CurrentLink identifies the Conn's live connection (nil: none); compare
// values with ==.
func CurrentLink(c *Conn) any {
	if l := c.cur.Load(); l != nil && !l.isDead() {
		return l
	}
	return nil
}
