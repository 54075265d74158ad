package fcm

import (
	"context"
	"time"
)

// SetRetryHooks replaces the backoff's sleep and jitter source, so tests
// record the waits instead of taking them.
func SetRetryHooks(c *Client, sleep func(context.Context, time.Duration) error, rand func() float64) {
	c.retry.Sleep = sleep
	c.retry.Rand = rand
}

// URLs returns the send URL and the token URL the client uses.
func URLs(c *Client) (send, token string) { return c.url, c.tokens.url }
