package cluster

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
)

// Store is the node's server.Store (and server.ChainStore) on JetStream.
//
// Each user's persistent pushes are the messages of one subject, <p>.m.<uid>,
// of the stream <P>_MSGS, and a push's seq is its stream sequence: it is
// assigned by JetStream atomically with storing, is monotonic across
// restarts and across nodes, and increases per user (with gaps: the
// sequence is shared by all users). The stream's first sequence is its
// creation time in microseconds, so a stream lost and created again still
// numbers above every seq an app may hold.
//
// Order per user across nodes: an append states which message it expects
// to be the user's last (JetStream's expected-last-subject-sequence), and
// stores that predecessor in the header Plex-Prev. Two nodes appending for
// the same user at once cannot both succeed with the same predecessor; the
// loser reads the new last message and tries again. So the predecessors
// chain every user's messages, and a node that receives seq 9 whose
// predecessor 7 it has not written knows to fetch 7 first
// (server.Delivery.Prev).
//
// Retries are idempotent: each push gets a JetStream message id of the
// store's own (random per process plus a counter; see appendWithID),
// deduplicated for two minutes, so an append retried after a timeout (e.g.
// during a leader election) is stored once, and a duplicate answer is
// accepted only when the stored message is this push. The pusher's meta
// "id" is a meta value and deduplicates nothing.
//
// Ack: each device's cursor is kept in the KV bucket <p>_cursors (one
// entry per user, updated with compare-and-set); when every device of the
// user acked up to a seq, the messages up to it are purged. TTL: each
// message carries its push's TTL (JetStream per-message TTL, at least a
// second). Bound: at most Config.MaxPerUser messages per user, the oldest
// dropped first.
//
// Reads (After, the last message) go to the stream leader, so a message
// whose append succeeded is always seen.
type Store struct {
	c *Cluster

	last    *hints[uint64]       // uid → the user's last stored seq, as last seen here
	curs    *hints[*cursorEntry] // uid → cursors holding a nonzero seq, as last read or written here
	purged  *hints[uint64]       // uid → seq purged up to
	highest atomic.Uint64        // highest stream seq seen here

	fresh    *hints[*cursorEntry] // uid → other cursors a login just read (cursors.go)
	cursored *uidSet              // Standalone: users who may hold a nonzero cursor

	// Standalone: this node is the only writer, so it knows which users
	// may have stored pushes (loaded when the stream opens, then kept);
	// a login of any other user reads nothing from the stream.
	pendMu  sync.Mutex
	pending map[string]struct{} // nil: unknown

	pipe   pipeline  // appends in flight (pipeline.go)
	purges purger    // acked pushes to drop (purger.go)
	acks   deadlines // ack deadlines (acktimeouts.go)
}

// Header names on stored messages.
const (
	hdrPrev = "Plex-Prev"
)

func newStore(c *Cluster) *Store {
	s := &Store{
		c:      c,
		last:   newHints[uint64](),
		curs:   newHints[*cursorEntry](),
		purged: newHints[uint64](),
	}
	s.fresh, s.cursored = newHintsCap[*cursorEntry](freshCap), newUIDSet()
	s.pipe.s = s
	s.purges.s = s
	s.acks.s = s
	return s
}

func (s *Store) subject(uid string) string { return s.c.names.msgs + key(uid) }

// Append implements server.Store: pipelined (pipeline.go); done runs once
// JetStream acknowledged m, or the append failed.
func (s *Store) Append(ctx context.Context, uid string, m *pack.Message, ttl time.Duration, done func(server.Appended)) {
	s.appendAsync(ctx, uid, m, ttl, func(seq, prev int64, err error) {
		done(server.Appended{Seq: seq, Prev: prev, Err: err})
	})
}

// AppendAfter stores m for uid and waits: the blocking form of Append,
// returning m's seq and its predecessor's (Appended.Prev).
func (s *Store) AppendAfter(ctx context.Context, uid string, m *pack.Message, ttl time.Duration) (seq, prev int64, err error) {
	return s.appendWithID(ctx, uid, m, ttl, nuid.Next(), false)
}

// appendWithID appends m under the JetStream message id id. The id is the
// store's own (AppendAfter draws a fresh one per push): random per process
// plus a counter, so unique across restarts, nodes, apps and clusters, and
// never derived from anything a pusher or app controls (a pusher's meta
// "id" is a meta value only). JetStream deduplicates by it for two
// minutes, which makes this call's own retries (a reply lost in a leader
// election) store the message once.
//
// The error says what the caller may do: wrapping ErrUnavailable, the push
// was not stored (retry is safe); wrapping server.ErrOutcomeUnknown, an
// attempt reached JetStream and its answer was lost, so the push may be
// stored. unknown says that an earlier attempt with this id (the pipeline's)
// may have stored it.
func (s *Store) appendWithID(ctx context.Context, uid string, m *pack.Message, ttl time.Duration, id string, unknown bool) (seq, prev int64, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.c.cfg.AppendTimeout)
	defer cancel()
	msg := *m
	msg.Seq = 0
	data, err := pack.Protobuf.Append(nil, &msg)
	if err != nil {
		return 0, 0, err
	}
	subj := s.subject(uid)
	ttl = max(ttl, time.Second).Round(time.Second) // JetStream TTLs are whole seconds, ≥ 1s
	expect, known := s.lastHint(uid)
	fail := func(err error) (int64, int64, error) {
		switch {
		case unknown:
			return 0, 0, fmt.Errorf("%w: store push: %w", server.ErrOutcomeUnknown, err)
		case errors.Is(err, ErrUnavailable):
			return 0, 0, err
		case transient(err) || ctx.Err() != nil:
			return 0, 0, fmt.Errorf("%w: store push: %w", ErrUnavailable, err)
		}
		return 0, 0, fmt.Errorf("cluster: store push: %w", err)
	}
	backoff := 20 * time.Millisecond
	var down time.Time // when the connection was first seen down
	for {
		if !s.c.nc.IsConnected() {
			// Ride over a reconnect to another server, not over an outage.
			if down.IsZero() {
				down = time.Now()
			} else if time.Since(down) > reconnectGrace {
				return fail(fmt.Errorf("%w: connection %s", ErrUnavailable, s.c.nc.Status()))
			}
		} else {
			down = time.Time{}
		}
		if err := s.c.open(ctx); err != nil {
			if !s.wait(ctx, &backoff) {
				return fail(err)
			}
			continue
		}
		if !known {
			if expect, err = s.lastSeq(ctx, subj); err != nil {
				if !transient(err) || !s.wait(ctx, &backoff) {
					return fail(err)
				}
				continue
			}
			known = true
		}
		nm := nats.NewMsg(subj)
		nm.Data = data
		nm.Header.Set(hdrPrev, strconv.FormatUint(expect, 10))
		actx, cancel := context.WithTimeout(ctx, s.c.cfg.RequestTimeout)
		ack, err := s.c.js.PublishMsg(actx, nm, jetstream.WithMsgID(id), jetstream.WithMsgTTL(ttl),
			jetstream.WithExpectLastSequencePerSubject(expect), jetstream.WithRetryAttempts(0))
		cancel()
		switch {
		case err == nil && !ack.Duplicate:
			s.setPending(uid, true)
			s.setLast(uid, ack.Sequence)
			return int64(ack.Sequence), int64(expect), nil
		case err == nil:
			// JetStream holds a message with this id: an earlier attempt
			// whose answer was lost, if the message proves it.
			p, err := s.ownDuplicate(ctx, ack.Sequence, subj, id)
			if err != nil {
				unknown = unknown || !errors.Is(err, errForeignDuplicate)
				s.c.log.Error("cluster: a duplicate answer that does not prove the push stored", "seq", ack.Sequence, "err", err)
				return fail(err)
			}
			s.setPending(uid, true)
			s.setLast(uid, max(ack.Sequence, expect))
			return int64(ack.Sequence), p, nil
		case wrongLast(err):
			// Another node appended for this user (or messages were acked
			// or expired): read the last one; it may be ours from an
			// earlier attempt.
			raw, err := s.lastMsg(ctx, subj)
			if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
				if !transient(err) || !s.wait(ctx, &backoff) {
					return fail(err)
				}
				known = false
				continue
			}
			if raw == nil {
				expect = 0
				continue
			}
			if raw.Header.Get(jetstream.MsgIDHeader) == id {
				s.setPending(uid, true)
				s.setLast(uid, raw.Sequence)
				p, _ := strconv.ParseInt(raw.Header.Get(hdrPrev), 10, 64)
				return int64(raw.Sequence), p, nil
			}
			expect = raw.Sequence
		case transient(err) || inProcess(err):
			// No answer (the message may be stored: a retry with the same
			// id finds out), or JetStream is still storing an earlier
			// attempt with this id.
			unknown = unknown || !rejected(err)
			s.c.log.Debug("cluster: append retried", "err", err)
			if !s.wait(ctx, &backoff) {
				return fail(err)
			}
		default:
			return fail(err)
		}
	}
}

// errForeignDuplicate: JetStream answered an append as a duplicate of a
// message that is not the push being appended.
var errForeignDuplicate = errors.New("cluster: JetStream answered with another message's sequence")

// ownDuplicate checks that the stored message seq is the push being
// appended (its subject and message id), and returns its predecessor (-1:
// unknown). A message already removed cannot be checked and is taken as
// this push's.
func (s *Store) ownDuplicate(ctx context.Context, seq uint64, subj, id string) (int64, error) {
	rctx, cancel := context.WithTimeout(ctx, s.c.cfg.RequestTimeout)
	defer cancel()
	raw, err := s.c.stream.GetMsg(rctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		// Stored and already gone: every device acked it and it was
		// purged (a node that missed it fetched and wrote it while this
		// answer was lost), or its TTL or the per-user bound removed it.
		// The id is this push's own (appendWithID), so the duplicate
		// answer is the proof; the predecessor is no longer known.
		return -1, nil
	}
	if err != nil {
		return -1, fmt.Errorf("read the duplicate's message %d: %w", seq, err)
	}
	if raw.Subject != subj || raw.Header.Get(jetstream.MsgIDHeader) != id {
		return -1, fmt.Errorf("%w (seq %d)", errForeignDuplicate, seq)
	}
	p, err := strconv.ParseInt(raw.Header.Get(hdrPrev), 10, 64)
	if err != nil {
		p = -1
	}
	return p, nil
}

// reconnectGrace is how long Append waits for a lost NATS connection to
// come back (a client reconnects to another server of a cluster within a
// fraction of a second) before it fails the push as unavailable.
const reconnectGrace = 2 * time.Second

// wait sleeps the backoff (doubling it up to a second); false when ctx ended.
func (s *Store) wait(ctx context.Context, backoff *time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(*backoff):
		*backoff = min(2**backoff, time.Second)
		return true
	}
}

// After implements server.Store. It reads one message per round trip from
// the stream leader (most users have few stored messages; a replay of
// many costs one round trip each).
func (s *Store) After(ctx context.Context, uid string, after int64, limit int) ([]pack.Message, error) {
	if err := s.c.open(ctx); err != nil {
		return nil, err
	}
	if !s.mayHave(uid) {
		return nil, nil
	}
	subj := s.subject(uid)
	// Messages every device acked are gone, even while their purge waits
	// (purger.go): a device that logs in for the first time does not get them.
	next := max(uint64(max(after, 0)), s.purges.upTo(uid)) + 1
	var out []pack.Message
	for limit <= 0 || len(out) < limit {
		rctx, cancel := context.WithTimeout(ctx, s.c.cfg.RequestTimeout)
		raw, err := s.c.stream.GetMsg(rctx, next, jetstream.WithGetMsgSubject(subj))
		cancel()
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("cluster: read stored pushes: %w", err)
		}
		m, _, err := storedMessage(raw)
		if err != nil {
			s.c.log.Warn("cluster: skipped an undecodable stored push", "seq", raw.Sequence, "err", err)
		} else {
			out = append(out, m)
		}
		next = raw.Sequence + 1
		s.seen(raw.Sequence)
	}
	if after <= 0 && len(out) == 0 {
		s.setPending(uid, false) // nothing stored (any more)
	}
	return out, nil
}

// loadPending reads which users have stored pushes, and which hold a
// nonzero cursor (Standalone; called once the stream is open).
func (s *Store) loadPending(ctx context.Context) error {
	info, err := s.c.stream.Info(ctx, jetstream.WithSubjectFilter(s.c.names.msgs+">"))
	if err != nil {
		return err
	}
	p := make(map[string]struct{}, len(info.State.Subjects))
	for subj := range info.State.Subjects {
		if tok, ok := tail(subj, s.c.names.msgs); ok {
			if uid, ok := unkey(tok); ok {
				p[uid] = struct{}{}
			}
		}
	}
	s.pendMu.Lock()
	s.pending = p
	s.pendMu.Unlock()
	return s.loadCursored(ctx)
}

// mayHave reports whether uid may have stored pushes.
func (s *Store) mayHave(uid string) bool {
	s.pendMu.Lock()
	defer s.pendMu.Unlock()
	if s.pending == nil {
		return true
	}
	_, ok := s.pending[uid]
	return ok
}

func (s *Store) setPending(uid string, has bool) {
	s.pendMu.Lock()
	defer s.pendMu.Unlock()
	switch {
	case s.pending == nil:
	case has:
		s.pending[uid] = struct{}{}
	default:
		delete(s.pending, uid)
	}
}

// storedMessage decodes a stored push: its seq is the stream sequence.
func storedMessage(raw *jetstream.RawStreamMsg) (pack.Message, int64, error) {
	var m pack.Message
	if err := pack.Protobuf.Decode(raw.Data, &m); err != nil {
		return m, 0, err
	}
	if raw.Sequence > math.MaxInt64 {
		return m, 0, errors.New("cluster: stream sequence beyond int64")
	}
	m.Seq = int64(raw.Sequence)
	prev, err := strconv.ParseInt(raw.Header.Get(hdrPrev), 10, 64)
	if err != nil {
		prev = -1
	}
	return m, prev, nil
}

// lastMsg reads the user's last stored message (nil, ErrMsgNotFound: none).
func (s *Store) lastMsg(ctx context.Context, subj string) (*jetstream.RawStreamMsg, error) {
	rctx, cancel := context.WithTimeout(ctx, s.c.cfg.RequestTimeout)
	defer cancel()
	raw, err := s.c.stream.GetLastMsgForSubject(rctx, subj)
	if err != nil {
		return nil, err
	}
	s.seen(raw.Sequence)
	return raw, nil
}

// lastSeq returns the seq of the user's last stored message, 0 if none.
func (s *Store) lastSeq(ctx context.Context, subj string) (uint64, error) {
	raw, err := s.lastMsg(ctx, subj)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return raw.Sequence, nil
}

func (s *Store) lastHint(uid string) (uint64, bool) { return s.last.get(uid) }

func (s *Store) setLast(uid string, seq uint64) {
	s.seen(seq)
	s.last.set(uid, seq)
}

func (s *Store) forgetLast(uid string) { s.last.drop(uid) }

func (s *Store) seen(seq uint64) {
	for {
		h := s.highest.Load()
		if seq <= h || s.highest.CompareAndSwap(h, seq) {
			return
		}
	}
}

// wrongLast: the expected last sequence of the subject did not match.
func wrongLast(err error) bool {
	var ae *jetstream.APIError
	return errors.As(err, &ae) && (ae.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		ae.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// inProcess: JetStream is storing another attempt with the same message id
// (clustered streams); a retry gets its answer.
func inProcess(err error) bool {
	var ae *jetstream.APIError
	return errors.As(err, &ae) && ae.ErrorCode == jsErrCodeDuplicateInProcess
}

// jsErrCodeDuplicateInProcess is JetStream's "duplicate message id is in
// process" (JSStreamDuplicateMessageConflict).
const jsErrCodeDuplicateInProcess jetstream.ErrorCode = 10158

// rejected: JetStream (or NATS) answered the attempt, so it was not stored:
// an API error, or nobody to receive it.
func rejected(err error) bool {
	var ae *jetstream.APIError
	return (errors.As(err, &ae) && !inProcess(err)) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, jetstream.ErrNoStreamResponse)
}

// transient: worth retrying (no answer, no leader, connection trouble).
func transient(err error) bool {
	if errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrConnectionReconnecting) ||
		errors.Is(err, nats.ErrDisconnected) {
		return true
	}
	var ae *jetstream.APIError
	if errors.As(err, &ae) {
		return ae.Code >= 500 // e.g. 10008 cluster temporarily unavailable, 10009 not leader
	}
	return false
}

// Local implements server.Store: the JetStream store waits on NATS.
func (s *Store) Local() bool { return false }
