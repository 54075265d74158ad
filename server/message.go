package server

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/plexpush/plex/pack"
)

// messageRequest is the body of an app's /message: to one user (To) or to
// a room's members (Room, message_room.go), exactly one of them.
type messageRequest struct {
	To           string `json:"to"`
	Room         string `json:"room"`
	Body         string `json:"body"`
	Conversation string `json:"conversation,omitempty"`
}

// userMessage delivers an app's /message to another user of the same app
// when the app's MessagePolicy allows, or, with "room", to the members of a
// room (roomMessage). The node sets "from" (never trusted from the sender),
// the message id and timestamp; the message is persistent, so an offline
// recipient gets it on reconnect. The sender gets /reply
// {"id","seq","delivered"} with its request seq, or /error with a code.
func (srv *Server) userMessage(s *Session, b *batch, m *pack.Message) {
	policy := s.app.MessagePolicy
	from := s.UID()
	var req messageRequest
	// encoding/json would turn bytes that are not UTF-8 into U+FFFD (and a
	// bad recipient into another, valid one): refuse them instead
	if err := json.Unmarshal(m.Body, &req); err != nil || (req.To == "") == (req.Room == "") || !utf8.Valid(m.Body) {
		srv.metrics.messages.WithLabelValues("bad_request").Inc()
		s.replyError(b, m.Seq, pack.CodeBadRequest, `body must be {"to" or "room","body","conversation"}`)
		return
	}
	if req.Room != "" {
		srv.roomMessage(s, b, m.Seq, &req)
		return
	}
	if err := checkName("recipient", req.To); err != nil { // before the policy: it sees valid uids only
		srv.metrics.messages.WithLabelValues("bad_request").Inc()
		s.replyError(b, m.Seq, pack.CodeBadRequest, err.Error())
		return
	}
	if policy == nil || !policy(from, req.To) {
		srv.metrics.messages.WithLabelValues("forbidden").Inc()
		s.replyError(b, m.Seq, pack.CodeForbidden, "messaging "+strconv.Quote(req.To)+" is not allowed")
		return
	}
	if !srv.admitMessage(s, b, m.Seq, &req, 1) {
		return
	}
	id := srv.newMessageID()
	msg := pack.Message{URI: pack.URIMessage, Body: []byte(req.Body), Meta: map[string]string{
		pack.MetaFrom: from,
		pack.MetaID:   id, // kept by deliverUser, which adds persist and ts
	}}
	if req.Conversation != "" {
		msg.Meta[pack.MetaConversation] = req.Conversation
	}
	srv.submitMessage(b, messageJob{s: s, seq: m.Seq, to: scope(s.app, req.To), msg: msg, id: id})
}

// admitMessage applies the limits every /message passes once it is
// allowed: its size (4004), the sender's budget (one /message, whatever
// its number of copies), the app's push rate and the app's store quota,
// charged for each of its copies stored (4029). It answers a refusal itself.
func (srv *Server) admitMessage(s *Session, b *batch, seq int64, req *messageRequest, copies int) bool {
	switch {
	case len(req.Body) > srv.cfg.MaxMessageBytes || len(req.Body)+256 > srv.cfg.MaxFrame:
		srv.metrics.messages.WithLabelValues("bad_request").Inc()
		s.replyError(b, seq, pack.CodeBadRequest, "message too large")
		return false
	case !srv.senders.allow(s.uid):
		srv.metrics.rateLimited.WithLabelValues("messages").Inc()
		s.replyError(b, seq, pack.CodeRateLimited, "message rate exceeded, slow down")
		return false
	case !s.app.allowPush():
		srv.metrics.rateLimited.WithLabelValues("app_pushes").Inc()
		s.replyError(b, seq, pack.CodeRateLimited, "app push rate exceeded")
		return false
	}
	size := len(pack.URIMessage) + len(req.Body) + len(s.UID()) + len(req.Conversation) + len(req.Room) + 96
	if !s.app.allowStore(size * copies) {
		srv.metrics.rateLimited.WithLabelValues("app_store").Inc()
		s.replyError(b, seq, pack.CodeRateLimited, "app store quota exceeded")
		return false
	}
	return true
}

// submitMessage stores and delivers an admitted /message: right here with
// a local store (no I/O), else on the messenger's workers.
func (srv *Server) submitMessage(b *batch, j messageJob) {
	if srv.messages == nil {
		srv.sendMessage(b, j, nil)
		return
	}
	if !srv.messages.submit(srv, j) {
		srv.metrics.rateLimited.WithLabelValues("messages_in_flight").Inc()
		j.s.replyError(b, j.seq, pack.CodeRateLimited, "too many messages in flight on this node, retry")
	}
}
