package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// Ack deadlines (server.AckDeadlineStore): a persistent push with an ack
// timeout that no device acked in time fires the node's vendor fallback
// (server/ack_deadline.go). The deadlines live in a JetStream work-queue
// stream, <P>_ACKTIMEOUTS, with the store's replicas, and one durable
// consumer shared by every node: JetStream hands each deadline to one node,
// so a deadline survives a restart of the node that took the push, and the
// loss of that node, and fires once. A node that receives a deadline
// before its time gives it back with a delay (NakWithDelay: JetStream's
// own timer, nothing kept on the node); at its time the node checks the
// cursors, fires or not, and acks it, which removes it from the stream. A
// node that stops gives back what it fetched and did not handle; one that
// crashes leaves it to be handed out again after AckWait, and one that
// dies between firing and that ack makes it fire twice (the only case).
//
// Nothing of this exists until a node with an ack-timeout fallback starts
// (DueAckDeadlines): nodes without one create no stream and keep nothing.

// maxDeadlines bounds the deadlines the stream holds (and the consumer's
// pending acks: a deadline given back with a delay stays pending); a push
// beyond it is answered as usual without a deadline (its publish fails).
const maxDeadlines = 1 << 20

// deadlineQueue bounds the deadlines waiting to be published; a push
// beyond it is kept without a deadline (KeepAckDeadline says so).
const deadlineQueue = 1 << 14

// deadlineWindow bounds the deadline publishes in flight.
const deadlineWindow = 256

// deadlineAckWait is how long a node may hold a deadline it fetched (the
// cursor reads of its batch) before JetStream hands it to another node:
// what a node that crashed with a batch in hand delays those deadlines by.
const deadlineAckWait = 30 * time.Second

// deadlineBatch bounds the deadlines one fetch takes: each due one is a
// cursor read, and the whole batch must be handled within AckWait.
const deadlineBatch = 16

var errDeadlineQueue = errors.New("cluster: ack deadlines: publish queue full")

type deadlines struct {
	s    *Store
	once sync.Once
	q    chan *server.AckDeadline // to publish (encoded by the publisher, off the push's path)
}

// deadlineRecord is a deadline in the stream (JSON).
type deadlineRecord struct {
	UID    string            `json:"u"`
	Device string            `json:"d,omitempty"`
	At     int64             `json:"at"` // Unix milliseconds
	Seq    int64             `json:"seq"`
	URI    string            `json:"uri"`
	Body   []byte            `json:"body,omitempty"`
	Meta   map[string]string `json:"meta,omitempty"`
}

func (d *deadlines) init() {
	d.once.Do(func() { d.q = make(chan *server.AckDeadline, deadlineQueue) })
}

// KeepAckDeadline implements server.AckDeadlineStore: it queues d for
// publishing and returns at once.
func (s *Store) KeepAckDeadline(d server.AckDeadline) error {
	s.acks.init()
	select {
	case s.acks.q <- &d:
		return nil
	default:
		return errDeadlineQueue
	}
}

// DueAckDeadlines implements server.AckDeadlineStore: it publishes the
// deadlines KeepAckDeadline queued and hands this node its share of the
// due ones, until ctx ends.
func (s *Store) DueAckDeadlines(ctx context.Context, due func(server.AckDeadline) error) error {
	s.acks.init()
	var st jetstream.Stream
	for {
		var err error
		if st, err = s.acks.open(ctx); err == nil {
			break
		}
		s.c.log.Warn("cluster: ack deadlines: cannot open their stream; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { s.acks.publish(ctx) })
	cons, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       "plex",
		Description:   "plex nodes with an ack-timeout fallback, sharing the deadlines",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       deadlineAckWait,
		MaxAckPending: maxDeadlines,
		MaxDeliver:    -1,
	})
	if err != nil {
		return fmt.Errorf("cluster: ack deadlines: consumer: %w", err)
	}
	// Fetch, not Consume: nothing is buffered here beyond the batch being
	// handled, and what is left of it when ctx ends is given back at once
	// (Nak) for another node, instead of waiting out AckWait.
	for ctx.Err() == nil {
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		batch, err := cons.Fetch(deadlineBatch, jetstream.FetchContext(fctx))
		if err != nil {
			cancel()
			if ctx.Err() == nil {
				s.c.log.Warn("cluster: ack deadlines: fetch", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			continue
		}
		for m := range batch.Messages() {
			if ctx.Err() != nil {
				_ = m.Nak()
				continue
			}
			s.acks.handle(m, due)
		}
		cancel()
	}
	return nil
}

// handle takes one deadline from the stream: back with a delay before its
// time, else checked (due) and acked.
func (d *deadlines) handle(m jetstream.Msg, due func(server.AckDeadline) error) {
	var r deadlineRecord
	if err := json.Unmarshal(m.Data(), &r); err != nil {
		d.s.c.log.Warn("cluster: ack deadlines: unreadable record dropped", "err", err)
		_ = m.Term()
		return
	}
	at := time.UnixMilli(r.At)
	if wait := time.Until(at); wait > 0 {
		_ = m.NakWithDelay(wait)
		return
	}
	err := due(server.AckDeadline{UID: r.UID, Device: r.Device, At: at,
		Msg: pack.Message{Seq: r.Seq, URI: r.URI, Body: r.Body, Meta: r.Meta}})
	if err != nil {
		d.s.c.log.Warn("cluster: ack deadline: check failed; retrying", "uid", r.UID, "seq", r.Seq, "err", err)
		_ = m.NakWithDelay(time.Second)
		return
	}
	_ = m.Ack()
}

// open opens (creating when missing) the deadlines' stream.
func (d *deadlines) open(ctx context.Context) (jetstream.Stream, error) {
	c := d.s.c
	st, err := c.js.Stream(ctx, c.names.ackStream)
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return st, err
	}
	sc := jetstream.StreamConfig{
		Name:        c.names.ackStream,
		Description: "plex ack deadlines of persistent pushes (vendor fallback when not acked)",
		Subjects:    []string{c.names.ackSubject},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		MaxMsgs:     maxDeadlines,
		Discard:     jetstream.DiscardNew,
		MaxAge:      server.MaxPushTTL + 24*time.Hour, // a deadline is never later than its push's TTL
	}
	return c.newStream(ctx, sc)
}

// publish sends the queued deadlines to the stream, at most
// deadlineWindow in flight, until ctx ends; what is queued then is sent
// before it returns.
func (d *deadlines) publish(ctx context.Context) {
	c := d.s.c
	var flight []jetstream.PubAckFuture
	settle := func(keep int) {
		for len(flight) > keep {
			f := flight[0]
			flight = flight[1:]
			select {
			case <-f.Ok():
			case err := <-f.Err():
				c.log.Warn("cluster: ack deadline not stored: no fallback if its push is not acked", "err", err)
			case <-time.After(c.cfg.RequestTimeout):
				c.log.Warn("cluster: ack deadline not confirmed by the stream")
			}
		}
	}
	send := func(d *server.AckDeadline) {
		b, err := json.Marshal(deadlineRecord{UID: d.UID, Device: d.Device, At: d.At.UnixMilli(),
			Seq: d.Msg.Seq, URI: d.Msg.URI, Body: d.Msg.Body, Meta: d.Msg.Meta})
		if err != nil {
			c.log.Warn("cluster: ack deadline not stored: no fallback if its push is not acked", "err", err)
			return
		}
		f, err := c.js.PublishAsync(c.names.ackSubject, b)
		if err != nil {
			c.log.Warn("cluster: ack deadline not stored: no fallback if its push is not acked", "err", err)
			return
		}
		flight = append(flight, f)
		settle(deadlineWindow - 1)
	}
	for {
		select {
		case dl := <-d.q:
			send(dl)
			continue
		default:
		}
		settle(0) // nothing queued: confirm what is in flight
		select {
		case dl := <-d.q:
			send(dl)
		case <-ctx.Done():
			for {
				select {
				case dl := <-d.q:
					send(dl)
				default:
					settle(0)
					return
				}
			}
		}
	}
}
