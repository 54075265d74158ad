package client

import (
	"encoding/json"
	"errors"
	"time"
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

// PushRequestJSON is the /inner/push body Send would write.
func PushRequestJSON(uid, uri string, body []byte, opts ...SendOption) ([]byte, error) {
	r := pushRequest{UID: uid, URI: uri, Body: string(body)}
	for _, o := range opts {
		o(&r)
	}
	return json.Marshal(&r)
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
