package server

import (
	"context"
	"hash/maphash"
	"maps"
	"math"
	"sync"
	"time"

	"github.com/plexpush/plex/pack"
)

// MemoryStoreConfig bounds the in-memory store.
type MemoryStoreConfig struct {
	// MaxPerUser is the most messages kept per user; when a push would
	// exceed it the OLDEST message is dropped (the app sees a gap in seq
	// and may refetch from its own backend). Zero: 1000.
	MaxPerUser int
	// MaxDevices bounds the device cursors kept per user; a new device
	// beyond it evicts the one furthest behind (the lowest cursor), which
	// resumes from what its app sends when it comes back. Zero: 64.
	MaxDevices int
	// Now is the clock (tests). Zero: time.Now.
	Now func() time.Time
}

// MemoryStore is the default Store: per-user logs in this process's memory.
// It is lost when the process exits (plexd's default embeds NATS JetStream
// for durability; see package cluster). Memory use is bounded by
// MaxPerUser × users × message size, and expired messages are swept.
type MemoryStore struct {
	cfg    MemoryStoreConfig
	seed   maphash.Seed
	shards [32]memShard
}

type memShard struct {
	mu        sync.Mutex
	users     map[string]*memLog
	lastSweep time.Time
}

type memLog struct {
	next    int64
	msgs    []memEntry
	cursors map[string]int64 // device → acked seq
}

type memEntry struct {
	msg     pack.Message
	expires time.Time
}

// NewMemoryStore returns an empty store.
func NewMemoryStore(cfg MemoryStoreConfig) *MemoryStore {
	if cfg.MaxPerUser <= 0 {
		cfg.MaxPerUser = 1000
	}
	if cfg.MaxDevices <= 0 {
		cfg.MaxDevices = 64
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &MemoryStore{cfg: cfg, seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].users = make(map[string]*memLog)
	}
	return s
}

func (s *MemoryStore) shard(uid string) *memShard {
	return &s.shards[maphash.String(s.seed, uid)%uint64(len(s.shards))]
}

// sweepEvery bounds how long an expired message of a user who never comes
// back can linger past its TTL.
const sweepEvery = time.Minute

// Append implements Store: done runs before Append returns.
func (s *MemoryStore) Append(_ context.Context, uid string, m *pack.Message, ttl time.Duration, done func(Appended)) {
	seq := s.append(uid, m, ttl)
	done(Appended{Seq: seq, Prev: -1})
}

func (s *MemoryStore) append(uid string, m *pack.Message, ttl time.Duration) int64 {
	now := s.cfg.Now()
	sh := s.shard(uid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if now.Sub(sh.lastSweep) > sweepEvery {
		sh.lastSweep = now
		for u, l := range sh.users {
			l.expire(now)
			if len(l.msgs) == 0 && len(l.cursors) == 0 && u != uid {
				delete(sh.users, u)
			}
		}
	}
	l := sh.users[uid]
	if l == nil {
		l = &memLog{}
		sh.users[uid] = l
	}
	l.expire(now)
	l.next++
	msg := *m
	msg.Seq = l.next
	msg.Body = append([]byte(nil), m.Body...)
	if len(m.Meta) > 0 {
		msg.Meta = make(map[string]string, len(m.Meta))
		for k, v := range m.Meta {
			msg.Meta[k] = v
		}
	}
	l.msgs = append(l.msgs, memEntry{msg: msg, expires: now.Add(ttl)})
	if over := len(l.msgs) - s.cfg.MaxPerUser; over > 0 {
		clear(l.msgs[:over])
		l.msgs = l.msgs[over:]
	}
	return l.next
}

// maxRaise bounds how far Resume and Ack raise a user's numbering: a resume
// point above it is not believed (numbering could not continue for long).
const maxRaise = math.MaxInt64 / 2

// Resume implements Store: a resume point above the user's last seq raises
// the numbering above it (this store lost its memory, e.g. a restart),
// unless it is beyond maxRaise; then the replay starts at the device's
// cursor.
func (s *MemoryStore) Resume(_ context.Context, uid, device string, resume int64) (int64, error) {
	sh := s.shard(uid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	l := sh.users[uid]
	if l == nil {
		l = &memLog{}
		sh.users[uid] = l
	}
	switch {
	case resume <= l.next:
		return max(resume, 0), nil
	case resume < maxRaise:
		l.next = resume
		return resume, nil
	}
	return min(l.cursors[device], l.next), nil
}

// After implements Store.
func (s *MemoryStore) After(_ context.Context, uid string, after int64, limit int) ([]pack.Message, error) {
	now := s.cfg.Now()
	sh := s.shard(uid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	l := sh.users[uid]
	if l == nil {
		return nil, nil
	}
	l.expire(now)
	var out []pack.Message
	for _, e := range l.msgs {
		if e.msg.Seq <= after || !now.Before(e.expires) {
			continue
		}
		if limit > 0 && len(out) >= limit {
			break
		}
		out = append(out, e.msg)
	}
	return out, nil
}

// Ack implements Store.
func (s *MemoryStore) Ack(_ context.Context, uid, device string, seq int64) error {
	sh := s.shard(uid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	l := sh.users[uid]
	if l == nil {
		l = &memLog{}
		sh.users[uid] = l
	}
	if l.cursors == nil {
		l.cursors = make(map[string]int64, 1)
	}
	if seq > l.next && seq < maxRaise {
		// The device holds seqs this store never issued: the node lost its
		// memory (restart). Continue above them, or the app would take new
		// pushes for duplicates and drop them.
		l.next = seq
	}
	cur, known := l.cursors[device]
	if known && seq <= cur {
		return nil
	}
	if !known && len(l.cursors) >= s.cfg.MaxDevices {
		evict, low := "", int64(-1)
		for d, c := range l.cursors {
			if low < 0 || c < low || (c == low && d < evict) {
				evict, low = d, c
			}
		}
		delete(l.cursors, evict)
	}
	l.cursors[device] = seq
	low := seq
	for _, c := range l.cursors {
		low = min(low, c)
	}
	i := 0
	for i < len(l.msgs) && l.msgs[i].msg.Seq <= low {
		i++
	}
	clear(l.msgs[:i])
	l.msgs = l.msgs[i:]
	return nil
}

// Local implements Store: the memory store does no I/O, so the node calls
// it on the event loop (session_offload.go).
func (s *MemoryStore) Local() bool { return true }

// Cursor implements Store.
func (s *MemoryStore) Cursor(_ context.Context, uid, device string) (int64, error) {
	sh := s.shard(uid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if l := sh.users[uid]; l != nil {
		return l.cursors[device], nil
	}
	return 0, nil
}

// Cursors implements Store.
func (s *MemoryStore) Cursors(_ context.Context, uid string) (map[string]int64, error) {
	sh := s.shard(uid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if l := sh.users[uid]; l != nil {
		return maps.Clone(l.cursors), nil
	}
	return nil, nil
}

// Len returns the number of messages stored for uid (tests, stats).
func (s *MemoryStore) Len(uid string) int {
	sh := s.shard(uid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if l := sh.users[uid]; l != nil {
		return len(l.msgs)
	}
	return 0
}

// expire drops messages whose TTL passed. TTLs may differ per message, so
// this scans; logs are bounded by MaxPerUser.
func (l *memLog) expire(now time.Time) {
	keep := l.msgs[:0]
	for _, e := range l.msgs {
		if now.Before(e.expires) {
			keep = append(keep, e)
		}
	}
	clear(l.msgs[len(keep):])
	l.msgs = keep
}
