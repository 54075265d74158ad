package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
)

// Presence is asked, not stored: a query goes to the user's subject, where
// exactly the nodes holding the user listen, and each answers with its id.
// When no node holds the user, NATS answers "no responders" at once. So
// the answer is as fresh as the subscriptions (a login or logout is seen
// as soon as its subscription change reached the NATS servers, typically
// within a millisecond), there is no state to expire, and a dead node
// stops answering when its NATS connection is gone.
const (
	hdrOp = "Plex-Op"
	opWho = "who"
)

// Online implements server.Bus: whether uid is connected to any node. On a
// NATS failure or timeout it says false (and logs).
func (b *Bus) Online(uid string) bool {
	if b.isClosed() || b.c.cfg.Standalone { // the node itself knows its own users
		return false
	}
	if err := checkName(uid); err != nil { // no node can hold such a user
		b.c.log.Warn("cluster: presence query refused", "err", err)
		return false
	}
	m := nats.NewMsg(b.c.names.user + key(uid))
	m.Header.Set(hdrOp, opWho)
	_, err := b.c.nc.RequestMsg(m, b.c.cfg.RequestTimeout)
	switch {
	case err == nil:
		return true
	case errors.Is(err, nats.ErrNoResponders):
		return false
	}
	b.c.log.Warn("cluster: presence query failed", "err", err)
	return false
}

// Where returns the ids of the nodes holding uid. It waits for answers
// until ctx ends or, after the first answer, for quiet (no further answer
// for a short while): the set is complete when every holder answered in
// that window, which on a healthy cluster takes a round trip.
func (b *Bus) Where(ctx context.Context, uid string) ([]string, error) {
	if b.isClosed() {
		return nil, ErrClosed
	}
	if b.c.cfg.Standalone {
		return nil, nil // not routed: ask the node (Server.Online)
	}
	if err := checkName(uid); err != nil {
		return nil, err
	}
	nc := b.c.nc
	inbox := nc.NewRespInbox()
	replies := make(chan *nats.Msg, 16)
	sub, err := nc.ChanSubscribe(inbox, replies)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe() //nolint:errcheck // best effort
	m := nats.NewMsg(b.c.names.user + key(uid))
	m.Reply = inbox
	m.Header.Set(hdrOp, opWho)
	if err := nc.PublishMsg(m); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, b.c.cfg.RequestTimeout)
	defer cancel()
	const quiet = 100 * time.Millisecond
	var nodes []string
	var settle <-chan time.Time
	for {
		select {
		case r := <-replies:
			if r.Header.Get("Status") == "503" { // no responders
				return nil, nil
			}
			nodes = append(nodes, string(r.Data))
			settle = time.After(quiet)
		case <-settle:
			return nodes, nil
		case <-ctx.Done():
			if len(nodes) > 0 {
				return nodes, nil
			}
			return nil, ctx.Err()
		}
	}
}

// answerWho answers a presence query for a user this node holds.
func (b *Bus) answerWho(m *nats.Msg) {
	tok, ok := tail(m.Subject, b.c.names.user)
	if !ok || m.Reply == "" {
		return
	}
	if uid, ok := unkey(tok); ok && b.holds(uid) {
		_ = m.Respond([]byte(b.nodeID))
	}
}
