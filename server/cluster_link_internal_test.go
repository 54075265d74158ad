package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
)

// nopBus is a Bus with no other node: the cluster link runs on it as on
// any bus, and every delivery comes from the test.
type nopBus struct{}

func (nopBus) Publish(context.Context, Delivery, func(Reach)) error { return nil }
func (nopBus) Subscribe(string) error                               { return nil }
func (nopBus) Unsubscribe(string) error                             { return nil }
func (nopBus) Online(string) bool                                   { return false }
func (nopBus) Register(*BusNode) error                              { return nil }
func (nopBus) MemberChanged(string, string, bool)                   {}
func (nopBus) Resync(string)                                        {}
func (nopBus) PickHost() (string, bool)                             { return "", false }
func (nopBus) Nodes() []NodeInfo                                    { return nil }
func (nopBus) Health() error                                        { return nil }
func (nopBus) StoreHealth() error                                   { return nil }
func (nopBus) Close() error                                         { return nil }

// kept counts the users whose write state is kept.
func (l *clusterLink) kept() (last, ahead int) {
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		last += len(sh.last)
		ahead += len(sh.ahead)
		sh.mu.Unlock()
	}
	return last, ahead
}

// lastOf returns uid's kept last, if any.
func (l *clusterLink) lastOf(uid string) (int64, bool) {
	sh := l.shard(key(uid))
	sh.mu.Lock()
	defer sh.mu.Unlock()
	v, ok := sh.last[key(uid)]
	return v, ok
}

func linkServer(t *testing.T) (*Server, *clusterLink) {
	t.Helper()
	srv, err := New(Config{Bus: nopBus{}})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	return srv, srv.link
}

func linkSession(srv *Server, id uint64, uid string) *Session {
	s := &Session{srv: srv, id: id, tr: &nullTransport{}, uid: key(uid), app: srv.defaultApp, acks: true}
	s.codec.Store(uint32(pack.JSON))
	s.state.Store(stateApp)
	return s
}

// written returns the seqs queued on s since the last call, and forgets them.
func written(t *testing.T, s *Session) []int64 {
	t.Helper()
	s.outMu.Lock()
	defer s.outMu.Unlock()
	var out []int64
	for _, f := range s.pending {
		var m pack.Message
		require.NoError(t, pack.JSON.Decode(f[pack.HeaderSize:], &m))
		out = append(out, m.Seq)
	}
	clear(s.pending)
	s.pending = nil
	return out
}

// TestLinkKeepsNothingForIdleUsers: logins whose replay holds no stored
// push leave no write state (it is the zero state, which absence means);
// a user who gets one keeps one entry until the last connection goes.
func TestLinkKeepsNothingForIdleUsers(t *testing.T) {
	srv, l := linkServer(t)
	var ss []*Session
	for i := range 1000 {
		s := linkSession(srv, uint64(i), fmt.Sprintf("u%d", i))
		lock := srv.hub.orderLock(s.uid)
		lock.Lock()
		srv.hub.add(s, false)
		l.replayed(s, 0)
		lock.Unlock()
		ss = append(ss, s)
	}
	last, ahead := l.kept()
	require.Zero(t, last+ahead, "idle users keep no write state")

	ctx := context.Background()
	seq, _, err := srv.appendStored(ctx, "u7", &pack.Message{URI: "/p", Body: []byte("x")}, time.Hour)
	require.NoError(t, err)
	b := srv.getBatch()
	lock := srv.hub.orderLock("u7")
	lock.Lock()
	require.Equal(t, 1, l.writeStored(ctx, b, "u7", pack.NewShared(srv.cfg.ByteOrder, pack.Message{Seq: seq, URI: "/p", Body: []byte("x")}), 0))
	lock.Unlock()
	require.Equal(t, []int64{seq}, written(t, ss[7]))
	got, ok := l.lastOf("u7")
	require.True(t, ok)
	require.Equal(t, seq, got)
	last, ahead = l.kept()
	require.Equal(t, [2]int{1, 0}, [2]int{last, ahead})

	// a login that resumes above 0 records it; the last connection's
	// going forgets it
	s2 := linkSession(srv, 5000, "solo")
	lock = srv.hub.orderLock("solo")
	lock.Lock()
	srv.hub.add(s2, false)
	l.replayed(s2, 42)
	lock.Unlock()
	got, _ = l.lastOf("solo")
	require.EqualValues(t, 42, got)
	for _, s := range []*Session{ss[7], s2} {
		srv.hub.remove(s)
		require.NoError(t, l.Unsubscribe(s.uid))
	}
	last, ahead = l.kept()
	require.Zero(t, last+ahead)
}

// refLink is the cluster link's write state as it was before it was kept
// lazily (every login created an entry; a missing one meant "trust the
// predecessor chain"), kept here as the reference for
// TestLinkLazyStateEquivalent.
type refLink struct {
	srv   *Server
	users map[string]*userSeq
	out   map[*Session][]int64
}

func (r *refLink) replayed(s *Session, upTo int64) {
	us := r.users[string(s.uid)]
	if us == nil {
		us = &userSeq{}
		r.users[string(s.uid)] = us
	}
	var buf [4]*Session
	for _, c := range r.srv.hub.conns(s.uid, buf[:0]) {
		if c != s && !c.closed.Load() {
			if upTo > us.last {
				if us.ahead == nil {
					us.ahead = make(map[*Session]int64, 1)
				}
				us.ahead[s] = upTo
			}
			return
		}
	}
	us.last, us.ahead = upTo, nil
}

func (r *refLink) unsubscribe(uid string) {
	if !r.srv.hub.online(key(uid)) {
		delete(r.users, uid)
	}
}

func (r *refLink) writeStored(t *testing.T, uid string, seq, prev int64) int {
	var buf [4]*Session
	conns := r.srv.hub.conns(key(uid), buf[:0])
	if len(conns) == 0 {
		return 0
	}
	us := r.users[uid]
	if us == nil {
		us = &userSeq{last: max(prev, 0)}
		r.users[uid] = us
	}
	if seq <= us.last {
		return len(conns)
	}
	if prev < 0 || prev > us.last {
		missed, err := r.srv.store.After(context.Background(), uid, us.last, 0)
		require.NoError(t, err)
		for _, m := range missed {
			if m.Seq >= seq {
				break
			}
			if m.Seq > us.last {
				r.write(us, conns, m.Seq)
			}
		}
	}
	return r.write(us, conns, seq)
}

func (r *refLink) write(us *userSeq, conns []*Session, seq int64) int {
	n := 0
	for _, s := range conns {
		if s.closed.Load() {
			continue
		}
		n++
		if a, ok := us.ahead[s]; ok && seq <= a {
			continue
		}
		r.out[s] = append(r.out[s], seq)
	}
	us.last = seq
	for s, a := range us.ahead {
		if a <= seq || s.closed.Load() {
			delete(us.ahead, s)
		}
	}
	return n
}

// TestLinkLazyStateEquivalent drives the cluster link and the reference
// (refLink) with the same random histories of one user: logins resuming
// from 0 or above, connections closing and leaving, pushes stored by
// "other nodes" whose deliveries arrive late, twice, out of order, without
// a predecessor, or never. Every connection must get the same seqs from
// both, in the same order, and the link must keep no state exactly when
// the reference's is the zero state.
func TestLinkLazyStateEquivalent(t *testing.T) {
	for seed := range uint64(300) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { linkHistory(t, seed) })
	}
}

func linkHistory(t *testing.T, seed uint64) {
	srv, l := linkServer(t)
	ref := &refLink{srv: srv, users: map[string]*userSeq{}, out: map[*Session][]int64{}}
	rng := rand.New(rand.NewPCG(seed, 7))
	const uid = "alice"
	ctx := context.Background()
	type delivery struct{ seq, prev int64 }
	var (
		stored  []delivery // in seq order
		waiting []delivery // deliveries not yet made (some never are)
		conns   []*Session // in the hub (open or closing)
		nextID  uint64
	)
	lock := srv.hub.orderLock(uid)
	check := func(step string) {
		t.Helper()
		for _, s := range conns {
			require.Equal(t, ref.out[s], written(t, s), "%s: connection %d", step, s.id)
			delete(ref.out, s)
		}
		us := ref.users[uid]
		last, ok := l.lastOf(uid)
		switch {
		case us == nil || (us.last == 0 && len(us.ahead) == 0):
			require.False(t, ok, "%s: state kept for the zero state", step)
			require.Empty(t, l.load(uid).ahead, step)
		default:
			require.Equal(t, us.last, last, "%s: last", step)
			require.Equal(t, len(us.ahead), len(l.load(uid).ahead), "%s: ahead", step)
		}
	}
	for step := range 60 {
		switch op := rng.IntN(10); {
		case op < 2 && len(conns) < 4: // login
			s := linkSession(srv, nextID, uid)
			nextID++
			var upTo int64
			if len(stored) > 0 && rng.IntN(2) == 0 {
				upTo = stored[rng.IntN(len(stored))].seq // resumed, or replayed up to here
			}
			lock.Lock()
			srv.hub.add(s, false)
			conns = append(conns, s)
			ref.replayed(s, upTo)
			l.replayed(s, upTo)
			lock.Unlock()
			check(fmt.Sprintf("step %d login upTo=%d", step, upTo))
		case op < 3 && len(conns) > 0: // a connection closes, then leaves
			i := rng.IntN(len(conns))
			s := conns[i]
			if !s.closed.Load() && rng.IntN(2) == 0 {
				s.closed.Store(true) // closing: still in the hub for a while
				continue
			}
			s.closed.Store(true)
			last, _ := srv.hub.remove(s)
			conns = append(conns[:i], conns[i+1:]...)
			if last {
				ref.unsubscribe(uid)
				require.NoError(t, l.Unsubscribe(uid))
			}
			check(fmt.Sprintf("step %d leave", step))
		case op < 6: // another node stores a push
			m := pack.Message{URI: "/p", Body: []byte("x")}
			seq, _, err := srv.appendStored(ctx, uid, &m, time.Hour)
			require.NoError(t, err)
			d := delivery{seq: seq}
			if n := len(stored); n > 0 {
				d.prev = stored[n-1].seq
			}
			stored = append(stored, d)
			if rng.IntN(5) > 0 { // else its delivery is lost
				waiting = append(waiting, d)
			}
		default: // a delivery arrives: any waiting one, maybe again, maybe without its predecessor
			if len(waiting) == 0 {
				continue
			}
			i := rng.IntN(len(waiting))
			d := waiting[i]
			if rng.IntN(3) > 0 {
				waiting = append(waiting[:i], waiting[i+1:]...)
			}
			if rng.IntN(6) == 0 {
				d.prev = -1
			}
			lock.Lock()
			want := ref.writeStored(t, uid, d.seq, d.prev)
			b := srv.getBatch()
			got := l.writeStored(ctx, b, uid, pack.NewShared(srv.cfg.ByteOrder, pack.Message{Seq: d.seq, URI: "/p", Body: []byte("x")}), d.prev)
			lock.Unlock()
			require.Equal(t, want, got, "step %d: connections holding seq %d", step, d.seq)
			check(fmt.Sprintf("step %d deliver seq=%d prev=%d", step, d.seq, d.prev))
		}
	}
}
