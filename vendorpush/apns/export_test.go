package apns

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

// BaseURL returns the endpoint the client posts to.
func BaseURL(c *Client) string { return c.base }
