package server

import (
	"encoding/json"
	"strconv"

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
	switch err := json.Unmarshal(m.Body, &req); {
	case err != nil || req.To == "":
		srv.metrics.messages.WithLabelValues("bad_request").Inc()
		s.replyError(b, m.Seq, pack.CodeBadRequest, `body must be {"to","body","conversation"}`)
		return
	case policy == nil || !policy(from, req.To):
		srv.metrics.messages.WithLabelValues("forbidden").Inc()
		s.replyError(b, m.Seq, pack.CodeForbidden, "messaging "+strconv.Quote(req.To)+" is not allowed")
		return
	case len(req.Body)+256 > srv.cfg.MaxFrame:
		s.replyError(b, m.Seq, pack.CodeBadRequest, "message too large")
		return
	}
	if !s.app.allowPush() {
		srv.metrics.rateLimited.WithLabelValues("app_pushes").Inc()
		s.replyError(b, m.Seq, pack.CodeRateLimited, "app push rate exceeded")
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
	out, err := srv.deliverUser(srv.baseCtx, b, scope(s.app, req.To), &msg,
		pushOptions{persist: true, ttl: srv.cfg.PersistTTL}, nil)
	if err != nil {
		srv.metrics.messages.WithLabelValues("failed").Inc()
		s.replyError(b, m.Seq, pack.CodeInternal, "message not stored, retry")
		return
	}
	srv.metrics.messages.WithLabelValues("ok").Inc()
	reply, _ := json.Marshal(map[string]any{"id": id, "seq": out.Seq, "delivered": out.Delivered})
	s.sendMsg(b, &pack.Message{Seq: m.Seq, URI: pack.URIReply, Body: reply})
}
