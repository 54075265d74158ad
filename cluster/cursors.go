package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// cursorEntry is one user's entry in the cursor bucket: every device's
// highest acked seq, and the entry's revision for compare-and-set.
type cursorEntry struct {
	rev  uint64     // 0: no entry yet
	devs devCursors // device → acked seq ("" is the shared device)
}

// Per-user state of the cursors, and what an idle user costs (none of it
// is kept for a user who never acked a stored push):
//
//   - Store.curs caches the entries that hold a nonzero cursor: the users
//     whose acks are expected (each ack is then one compare-and-set, not
//     a read and a write).
//   - Store.fresh holds, briefly, the entries with only zero cursors (or
//     none) that were just read or written: a login's Cursor read is
//     followed at once by the Ack that registers an acking app's device,
//     and that Ack by the device's first real ack. It is small and dropped
//     whole when full, so it costs no memory per idle user.
//   - Store.cursored (Standalone) is the set of users who may hold a
//     nonzero cursor, loaded from the bucket when the store opens and
//     grown before every nonzero cursor is written. A login of anyone
//     else (most users of an idle node) reads no cursor at all: as the
//     node is the bucket's only writer, there is none to read.
const freshCap = 1024

// Ack implements server.Store: it raises the device's cursor (never
// lowers it) and purges the user's messages that every device acked. An
// ack above the stream's last seq is ignored: a device cannot ack what was
// never stored (its seqs came from another store; Resume), and lowering it
// to the last seq would ack messages the device never received.
func (s *Store) Ack(ctx context.Context, uid, device string, seq int64) error {
	if err := s.c.open(ctx); err != nil {
		return err
	}
	if seq < 0 {
		seq = 0
	}
	if uint64(seq) > s.highest.Load() {
		info, err := s.c.stream.Info(ctx)
		if err != nil {
			return fmt.Errorf("cluster: ack: %w", err)
		}
		s.seen(info.State.LastSeq)
		if uint64(seq) > info.State.LastSeq {
			s.c.log.Debug("cluster: ignored an ack above every stored seq", "seq", seq, "last", info.State.LastSeq)
			return nil
		}
	}
	k := key(uid)
	kv := s.c.cursKV
	e := s.cachedCursors(uid)
	for try := range 16 { // conflicts need another node acking for the user at the same moment
		if e == nil {
			var err error
			if e, err = s.readCursors(ctx, k); err != nil {
				return err
			}
		}
		if cur, known := e.devs.get(device); known && seq <= cur {
			s.cacheCursors(uid, e)
			return nil
		}
		next := &cursorEntry{devs: e.devs.with(device, seq, s.c.cfg.MaxDevicesPerUser)}
		if seq > 0 {
			s.cursored.add(uid) // before it can be read
		}
		val, _ := json.Marshal(next.devs)
		var err error
		if e.rev == 0 {
			next.rev, err = kv.Create(ctx, k, val)
		} else {
			next.rev, err = kv.Update(ctx, k, val, e.rev)
		}
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) || wrongLast(err) {
			e = nil // another node wrote it: read again, after a jittered pause
			// that grows with the conflicts so that racing writers converge
			select {
			case <-time.After(time.Duration(rand.Int64N(int64(time.Millisecond) << min(try, 5)))):
			case <-ctx.Done():
				return fmt.Errorf("cluster: ack: %w", ctx.Err())
			}
			continue
		}
		if err != nil {
			s.dropCursors(uid)
			return fmt.Errorf("cluster: ack: %w", err)
		}
		s.cacheCursors(uid, next)
		s.purges.add(uid, uint64(max(next.devs.low(), 0))) // in the background (purger.go)
		return nil
	}
	return errors.New("cluster: ack: too many concurrent updates of the user's cursors")
}

// purge drops the user's messages up to low (every device acked them).
func (s *Store) purge(ctx context.Context, uid string, low uint64) error {
	if low == 0 {
		return nil
	}
	if err := s.c.open(ctx); err != nil {
		return err
	}
	if done, _ := s.purged.get(uid); done >= low {
		return nil
	}
	if err := s.c.stream.Purge(ctx, jetstream.WithPurgeSubject(s.subject(uid)), jetstream.WithPurgeSequence(low+1)); err != nil {
		return fmt.Errorf("cluster: purge acked pushes: %w", err)
	}
	s.purged.set(uid, low)
	if last, ok := s.lastHint(uid); ok && last <= low {
		s.forgetLast(uid) // the subject may be empty now: its last seq is 0
	}
	return nil
}

// Cursor implements server.Store. It reads the bucket (not the local
// hint): another node may have moved the cursor. Standalone, a user who
// holds no nonzero cursor (Store.cursored) is answered 0 without a read.
func (s *Store) Cursor(ctx context.Context, uid, device string) (int64, error) {
	if err := s.c.open(ctx); err != nil {
		return 0, err
	}
	if !s.cursored.may(uid) {
		return 0, nil
	}
	e, err := s.readCursors(ctx, key(uid))
	if err != nil {
		return 0, err
	}
	s.cacheCursors(uid, e)
	seq, _ := e.devs.get(device)
	return seq, nil
}

// Cursors implements server.Store: read from the bucket, not the cache, so
// that acks recorded by other nodes count.
func (s *Store) Cursors(ctx context.Context, uid string) (map[string]int64, error) {
	if err := s.c.open(ctx); err != nil {
		return nil, err
	}
	if !s.cursored.may(uid) {
		return nil, nil
	}
	e, err := s.readCursors(ctx, key(uid))
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(e.devs))
	for _, c := range e.devs {
		out[c.dev] = c.seq
	}
	return out, nil
}

// Resume implements server.Store. Stream sequences cannot be raised per
// user, but a stream created again starts above every earlier sequence
// (Store), so a resume point above the stream's last sequence came from
// another store (another cluster, a memory-store node, a client bug): the
// replay starts at the device's cursor instead, and the app learns it from
// /auth/success. Any other resume point is kept: every later seq is above
// the stream's last sequence, so above it.
func (s *Store) Resume(ctx context.Context, uid, device string, resume int64) (int64, error) {
	if resume <= 0 {
		return 0, nil
	}
	if uint64(resume) <= s.highest.Load() {
		return resume, nil
	}
	if err := s.c.open(ctx); err != nil {
		return 0, err
	}
	info, err := s.c.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("cluster: resume: %w", err)
	}
	s.seen(info.State.LastSeq)
	if uint64(resume) <= info.State.LastSeq {
		return resume, nil
	}
	cur, err := s.Cursor(ctx, uid, device)
	if err != nil {
		return 0, err
	}
	return min(cur, int64(info.State.LastSeq)), nil
}

func (s *Store) readCursors(ctx context.Context, k string) (*cursorEntry, error) {
	ent, err := s.c.cursKV.Get(ctx, k)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return &cursorEntry{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: read cursors: %w", err)
	}
	e := &cursorEntry{rev: ent.Revision()}
	if err := json.Unmarshal(ent.Value(), &e.devs); err != nil {
		e.devs = nil // unreadable: start over (messages are kept, not lost)
	}
	return e, nil
}

func (s *Store) cachedCursors(uid string) *cursorEntry {
	if e, ok := s.curs.get(uid); ok {
		return e
	}
	e, _ := s.fresh.get(uid)
	return e
}

// cacheCursors keeps e where its kind belongs (see freshCap).
func (s *Store) cacheCursors(uid string, e *cursorEntry) {
	if e.devs.acked() {
		s.curs.set(uid, e)
		s.fresh.drop(uid)
		return
	}
	s.fresh.set(uid, e)
	s.curs.drop(uid)
}

func (s *Store) dropCursors(uid string) {
	s.curs.drop(uid)
	s.fresh.drop(uid)
}

// loadCursored fills Store.cursored from the bucket (Standalone; called
// once the bucket is open, before the store answers anyone).
func (s *Store) loadCursored(ctx context.Context) error {
	w, err := s.c.cursKV.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("cluster: list cursors: %w", err)
	}
	defer func() { _ = w.Stop() }()
	m := make(map[uint64]struct{})
	stall := time.NewTimer(s.c.cfg.RequestTimeout)
	defer stall.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: list cursors: %w", ctx.Err())
		case <-stall.C:
			return fmt.Errorf("cluster: list cursors: %w", ErrUnavailable)
		case ent := <-w.Updates():
			if ent == nil { // every current entry seen
				s.cursored.loaded(m)
				return nil
			}
			stall.Reset(s.c.cfg.RequestTimeout)
			uid, ok := unkey(ent.Key())
			var devs devCursors
			if !ok || json.Unmarshal(ent.Value(), &devs) != nil {
				continue // unreadable: Cursor reads it as 0 too (readCursors)
			}
			if devs.acked() {
				m[s.cursored.hash(uid)] = struct{}{}
			}
		}
	}
}
