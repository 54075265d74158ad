package server

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/plexpush/plex/pack"
)

// Group messages: an app's /message with "room" instead of "to"
// (docs/protocol.md §8.1) goes to every member of the room. Each member
// gets its own persistent copy, stored under the member's seqs exactly like
// a /message to that user (so offline members get it on reconnect, and a
// cluster routes each copy to the nodes holding its member: membership is
// replicated to every node, so the accepting node knows all members). The
// sender's own user is a member too: its other connections and devices get
// the copy, so their views stay in sync, and only the sending connection
// skips it (echoes, below). The /reply is {"id","seq","stored","delivered"}
// with seq the sender's own copy's (0 when the sender is not a member).
//
// Bounds: a room /message takes ONE message from the sender's budget
// (MessageRate) whatever its number of copies, and a room over
// MaxRoomMessageMembers is refused (4003), so one sender stores at most
// MessageRate × MaxRoomMessageMembers copies a second; the app's store
// quota (StoreRate) is charged for every copy, as for a multi-user push.
// Charging the sender's budget per copy instead would make any room larger
// than MessageBurst impossible to message at all.

// DefaultMaxRoomMessageMembers is Config.MaxRoomMessageMembers when zero:
// large enough for group chats (common apps cap groups at 256 to 1024),
// small enough that one /message cannot turn into an unbounded number of
// stored copies: at the default sender budget (5/s) a user can store at
// most 1280 copies a second.
const DefaultMaxRoomMessageMembers = 256

// roomMessage checks and submits a /message to a room; req.Room is set and
// To empty (userMessage checked the body). Its checks, in order: the room
// name (4004), messaging on for the app and room messages on for the node
// (4003), the room policy: membership by default (4003, whether or not the
// room exists, so the answer tells a non-member nothing about it), a room
// with no members (4006), a room over MaxRoomMessageMembers (4003), then
// the limits every /message passes (admitMessage).
func (srv *Server) roomMessage(s *Session, b *batch, seq int64, req *messageRequest) {
	if err := checkName("room", req.Room); err != nil { // before any policy: they see valid names only
		srv.metrics.messages.WithLabelValues("bad_request").Inc()
		s.replyError(b, seq, pack.CodeBadRequest, err.Error())
		return
	}
	room := strconv.Quote(req.Room)
	limit := srv.cfg.MaxRoomMessageMembers
	if s.app.MessagePolicy == nil || limit < 0 {
		srv.metrics.messages.WithLabelValues("forbidden").Inc()
		s.replyError(b, seq, pack.CodeForbidden, "messaging room "+room+" is not allowed")
		return
	}
	members, n, member := srv.hub.roomForMessage(scope(s.app, req.Room), s.uid, limit)
	allowed := member
	if p := srv.cfg.RoomMessagePolicy; p != nil {
		allowed = p(s, req.Room, member)
	}
	switch {
	case !allowed && !member:
		srv.metrics.messages.WithLabelValues("forbidden").Inc()
		s.replyError(b, seq, pack.CodeForbidden, "not a member of room "+room)
		return
	case !allowed:
		srv.metrics.messages.WithLabelValues("forbidden").Inc()
		s.replyError(b, seq, pack.CodeForbidden, "messaging room "+room+" is not allowed")
		return
	case n == 0:
		srv.metrics.messages.WithLabelValues("not_found").Inc()
		s.replyError(b, seq, pack.CodeNotFound, "room "+room+" has no members")
		return
	case n > limit:
		srv.metrics.messages.WithLabelValues("forbidden").Inc()
		s.replyError(b, seq, pack.CodeForbidden, fmt.Sprintf("room too large: %s has %d members, a /message goes to at most %d", room, n, limit))
		return
	}
	if !srv.admitMessage(s, b, seq, req, n) {
		return
	}
	id := srv.newMessageID()
	msg := pack.Message{URI: pack.URIMessage, Body: []byte(req.Body), Meta: map[string]string{
		pack.MetaFrom: s.UID(),
		pack.MetaRoom: req.Room,
		pack.MetaID:   id, // every copy keeps it (persistMessage), so all members see one id
	}}
	if req.Conversation != "" {
		msg.Meta[pack.MetaConversation] = req.Conversation
	}
	srv.submitMessage(b, messageJob{s: s, seq: seq, members: members, msg: msg, id: id})
}

// roomForMessage returns room's members (nil when there are more than
// limit: they are not copied), their number, and whether uid is one.
func (h *hub) roomForMessage(room, uid key, limit int) (members []key, n int, member bool) {
	rs := h.roomShard(room)
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	m := rs.rooms[room]
	_, member = m[uid]
	if len(m) > limit {
		return nil, len(m), member
	}
	members = make([]key, 0, len(m))
	for k := range m {
		members = append(members, k)
	}
	return members, len(m), member
}

// sendRoomMessage stores and delivers an accepted room /message, one
// persistent copy per member, and answers its sender once every copy has
// its outcome. end as for sendMessage.
func (srv *Server) sendRoomMessage(b *batch, j messageJob, end func()) {
	srv.echoes.add(j.id, j.s) // before any copy can be written
	// one outcome per member, and this function's own, last; the sender's
	// own copy's seq is the reply's
	var ownSeq atomic.Int64
	t := &pushTally{n: len(j.members) + 1}
	t.done = func(b *batch, out Outcome, err error) {
		r := roomResult{Seq: ownSeq.Load(), Stored: out.Stored, Delivered: out.Delivered}
		if srv.echoes.remove(j.id) {
			r.Delivered-- // the sending connection was counted: it holds what it sent
		}
		srv.answerRoomMessage(b, j, r, err)
		if end != nil {
			end()
		}
	}
	o := srv.messageOptions(j.s)
	own := o
	own.ackBy = 0 // the sender wrote it: no notification of it to the sender
	for _, uid := range j.members {
		uo := o
		done := t.add
		if uid == j.s.uid {
			uo = own
			done = func(b *batch, out Outcome, err error) {
				ownSeq.Store(out.Seq)
				t.add(b, out, err)
			}
		}
		srv.deliverUserAsync(srv.baseCtx, b, uid, &j.msg, uo, nil, done)
	}
	t.add(b, Outcome{}, nil) // answers now if every copy had its outcome (or there were none)
}

// roomResult is the /reply body of a room /message.
type roomResult struct {
	ID        string `json:"id"`
	Seq       int64  `json:"seq"`       // the sender's own copy (0: not a member)
	Stored    int    `json:"stored"`    // copies stored, one per member
	Delivered int    `json:"delivered"` // connections written, the sending one not counted
}

func (srv *Server) answerRoomMessage(b *batch, j messageJob, r roomResult, err error) {
	if err != nil {
		srv.answerMessage(b, j, Outcome{}, err) // 3005 or 3008, as for one user
		return
	}
	srv.metrics.messages.WithLabelValues("ok").Inc()
	r.ID = j.id
	reply, _ := json.Marshal(r)
	j.s.sendMsg(b, &pack.Message{Seq: j.seq, URI: pack.URIReply, Body: reply})
}

// echoes are the room messages being delivered, each with its sending
// connection, which must not get its own copy (Session.frame skips it).
// The check runs on every frame a push writes, so its common case (no room
// message in flight) is one atomic load.
type echoes struct {
	n  atomic.Int32
	mu sync.Mutex
	m  map[string]*echo // by message id (newMessageID: unique per node)
}

type echo struct {
	s   *Session
	hit bool // a copy was skipped on s (and counted as delivered)
}

func (e *echoes) add(id string, s *Session) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = make(map[string]*echo)
	}
	e.m[id] = &echo{s: s}
	e.n.Add(1)
}

// remove forgets id and reports whether a copy was skipped.
func (e *echoes) remove(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.m[id]
	if x == nil {
		return false
	}
	delete(e.m, id)
	e.n.Add(-1)
	return x.hit
}

// skip reports whether m is s's own room message, which s must not get.
func (e *echoes) skip(s *Session, m *pack.Message) bool {
	if e.n.Load() == 0 || m.URI != pack.URIMessage {
		return false
	}
	id, ok := m.Meta[pack.MetaID]
	if !ok {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.m[id]
	if x == nil || x.s != s {
		return false
	}
	x.hit = true
	return true
}
