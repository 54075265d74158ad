package server

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/plexpush/plex/pack"
)

// messageRequest is the body of an app's /message.
type messageRequest struct {
	To           string `json:"to"`
	Body         string `json:"body"`
	Conversation string `json:"conversation,omitempty"`
}

// userMessage delivers an app's /message to another user of the same app
// when the app's MessagePolicy allows. The node sets "from" (never trusted
// from the sender), the message id and timestamp; the message is persistent,
// so an offline recipient gets it on reconnect. The sender gets /reply
// {"id","seq","delivered"} with its request seq, or /error with a code.
func (srv *Server) userMessage(s *Session, b *batch, m *pack.Message) {
	policy := s.app.MessagePolicy
	from := s.UID()
	var req messageRequest
	// encoding/json would turn bytes that are not UTF-8 into U+FFFD (and a
	// bad recipient into another, valid one): refuse them instead
	if err := json.Unmarshal(m.Body, &req); err != nil || req.To == "" || !utf8.Valid(m.Body) {
		srv.metrics.messages.WithLabelValues("bad_request").Inc()
		s.replyError(b, m.Seq, pack.CodeBadRequest, `body must be {"to","body","conversation"}`)
		return
	}
	if err := checkName("recipient", req.To); err != nil { // before the policy: it sees valid uids only
		srv.metrics.messages.WithLabelValues("bad_request").Inc()
		s.replyError(b, m.Seq, pack.CodeBadRequest, err.Error())
		return
	}
	switch {
	case policy == nil || !policy(from, req.To):
		srv.metrics.messages.WithLabelValues("forbidden").Inc()
		s.replyError(b, m.Seq, pack.CodeForbidden, "messaging "+strconv.Quote(req.To)+" is not allowed")
		return
	case len(req.Body) > srv.cfg.MaxMessageBytes || len(req.Body)+256 > srv.cfg.MaxFrame:
		srv.metrics.messages.WithLabelValues("bad_request").Inc()
		s.replyError(b, m.Seq, pack.CodeBadRequest, "message too large")
		return
	case !srv.senders.allow(s.uid):
		srv.metrics.rateLimited.WithLabelValues("messages").Inc()
		s.replyError(b, m.Seq, pack.CodeRateLimited, "message rate exceeded, slow down")
		return
	}
	if !s.app.allowPush() {
		srv.metrics.rateLimited.WithLabelValues("app_pushes").Inc()
		s.replyError(b, m.Seq, pack.CodeRateLimited, "app push rate exceeded")
		return
	}
	if !s.app.allowStore(len(pack.URIMessage) + len(req.Body) + len(from) + len(req.Conversation) + 96) {
		srv.metrics.rateLimited.WithLabelValues("app_store").Inc()
		s.replyError(b, m.Seq, pack.CodeRateLimited, "app store quota exceeded")
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
	j := messageJob{s: s, seq: m.Seq, to: scope(s.app, req.To), msg: msg, id: id}
	if srv.messages == nil { // a local store: no I/O, deliver right here
		srv.sendMessage(b, j, nil)
		return
	}
	if !srv.messages.submit(srv, j) {
		srv.metrics.rateLimited.WithLabelValues("messages_in_flight").Inc()
		s.replyError(b, m.Seq, pack.CodeRateLimited, "too many messages in flight on this node, retry")
	}
}
