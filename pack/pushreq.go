package pack

import (
	"strconv"
	"unicode/utf8"
)

// PushRequest is the JSON body of /inner/push (and of the HTTP push API):
// exactly one target (uid, uids, room or all; device narrows uid to one
// device of the user), the message to deliver, and its delivery contract. The original /logic/send/msg body {"uid","uri",
// "body"} is a subset. docs/protocol.md §Push requests is normative.
type PushRequest struct {
	UID     string   `json:"uid,omitempty"`
	UIDs    []string `json:"uids,omitempty"`
	Room    string   `json:"room,omitempty"`
	All     bool     `json:"all,omitempty"`
	Device  string   `json:"device,omitempty"` // with uid: that device only
	URI     string   `json:"uri"`
	Body    string   `json:"body,omitempty"`
	Persist bool     `json:"persist,omitempty"`
	TTLMS   int64    `json:"ttl_ms,omitempty"`
	// AckTimeoutMS, for a persistent push, is how long the node waits for
	// a device to ack it before it fires the vendor fallback (0: the app's
	// default).
	AckTimeoutMS int64             `json:"ack_timeout_ms,omitempty"`
	Meta         map[string]string `json:"meta,omitempty"`
}

// DecodePushRequest parses a push request body with the same strict rules
// as the JSON codec (exact keys, UTF-8, integers; unknown keys ignored). It
// is the hot path of a push client's pipelined pushes, hence hand-written
// rather than encoding/json (several times faster, no reflection).
func DecodePushRequest(b []byte, r *PushRequest) error {
	*r = PushRequest{}
	p := jsonParser{b: b}
	p.ws()
	if !p.eat('{') {
		return ErrBadJSON
	}
	for first := true; ; first = false {
		key, ok, err := p.member(first)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch string(key) {
		case "uid":
			r.UID, err = p.stringValue()
		case "room":
			r.Room, err = p.stringValue()
		case "device":
			r.Device, err = p.stringValue()
		case "uri":
			r.URI, err = p.stringValue()
		case "body":
			r.Body, err = p.stringValue()
		case "all":
			r.All, err = p.boolValue()
		case "persist":
			r.Persist, err = p.boolValue()
		case "ttl_ms":
			r.TTLMS, err = p.intValue()
		case "ack_timeout_ms":
			r.AckTimeoutMS, err = p.intValue()
		case "uids":
			r.UIDs, err = p.stringArray()
		case "meta":
			var m Message
			err = p.meta(&m)
			r.Meta = m.Meta
		default:
			err = p.skip(1)
		}
		if err != nil {
			return err
		}
	}
	return p.end()
}

func (p *jsonParser) stringValue() (string, error) {
	s, null, err := p.stringOrNull(0)
	if err != nil || null {
		return "", err
	}
	return string(s), nil
}

func (p *jsonParser) boolValue() (bool, error) {
	switch p.peek() {
	case 't':
		return true, p.literal("true")
	case 'f':
		return false, p.literal("false")
	case 'n':
		return false, p.literal("null")
	}
	if err := p.skip(0); err != nil {
		return false, err
	}
	return false, ErrWrongType
}

func (p *jsonParser) intValue() (int64, error) {
	var m Message
	err := p.seq(&m)
	return m.Seq, err
}

func (p *jsonParser) stringArray() ([]string, error) {
	switch p.peek() {
	case 'n':
		return nil, p.literal("null")
	case '[':
	default:
		if err := p.skip(0); err != nil {
			return nil, err
		}
		return nil, ErrWrongType
	}
	p.i++
	p.ws()
	var out []string
	if p.eat(']') {
		return out, nil
	}
	for {
		p.ws()
		if p.peek() != '"' {
			if err := p.skip(0); err != nil {
				return nil, err
			}
			return nil, ErrWrongType
		}
		s, err := p.str(nil)
		if err != nil {
			return nil, err
		}
		out = append(out, string(s))
		p.ws()
		if p.eat(',') {
			continue
		}
		if p.eat(']') {
			return out, nil
		}
		return nil, ErrBadJSON
	}
}

// AppendPushRequest appends r as JSON (the inverse of DecodePushRequest).
func AppendPushRequest(dst []byte, r *PushRequest) ([]byte, error) {
	if !utf8.ValidString(r.Body) {
		return dst, ErrInvalidUTF8
	}
	var err error
	dst = append(dst, '{')
	sep := false
	key := func(k string) {
		if sep {
			dst = append(dst, ',')
		}
		sep = true
		dst = append(dst, '"')
		dst = append(dst, k...)
		dst = append(dst, '"', ':')
	}
	str := func(k, v string) {
		if v != "" && err == nil {
			key(k)
			dst, err = appendJSONString(dst, v)
		}
	}
	str("uid", r.UID)
	if len(r.UIDs) > 0 {
		key("uids")
		dst = append(dst, '[')
		for i, u := range r.UIDs {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendJSONString(dst, u); err != nil {
				return dst, err
			}
		}
		dst = append(dst, ']')
	}
	str("room", r.Room)
	str("device", r.Device)
	if r.All {
		key("all")
		dst = append(dst, "true"...)
	}
	key("uri")
	if dst, err = appendJSONString(dst, r.URI); err != nil {
		return dst, err
	}
	str("body", r.Body)
	if r.Persist {
		key("persist")
		dst = append(dst, "true"...)
	}
	if r.TTLMS != 0 {
		key("ttl_ms")
		dst = strconv.AppendInt(dst, r.TTLMS, 10)
	}
	if r.AckTimeoutMS != 0 {
		key("ack_timeout_ms")
		dst = strconv.AppendInt(dst, r.AckTimeoutMS, 10)
	}
	if len(r.Meta) > 0 {
		key("meta")
		m := Message{Meta: r.Meta}
		var obj []byte
		if obj, err = appendJSON(nil, &m); err != nil {
			return dst, err
		}
		// appendJSON wrote {"meta":{...}}: take the inner object
		dst = append(dst, obj[len(`{"meta":`):len(obj)-1]...)
	}
	return append(dst, '}'), err
}

// Outcome says what a push did: the JSON body of a /reply to /inner/push
// and of POST /plex/v1/push. It is never a silent success: a push that
// reached nobody says so. server.Outcome and client.Result are this type.
type Outcome struct {
	// Delivered is the number of connections the push was written to.
	Delivered int `json:"delivered"`
	// Stored is the number of users for whom the push waits in the store
	// (persistent pushes).
	Stored int `json:"stored"`
	// Offline is the number of targeted users with no connection.
	Offline int `json:"offline"`
	// Seq is the push's sequence for a persistent push to one user.
	Seq int64 `json:"seq,omitempty"`
}

// Add adds p's counts to o (a push to several users or nodes); a non-zero
// Seq of p replaces o's.
func (o *Outcome) Add(p Outcome) {
	o.Delivered += p.Delivered
	o.Stored += p.Stored
	o.Offline += p.Offline
	if p.Seq != 0 {
		o.Seq = p.Seq
	}
}

// AppendOutcome appends o as JSON, byte-identical to encoding/json.
func AppendOutcome(dst []byte, o *Outcome) []byte {
	dst = append(dst, `{"delivered":`...)
	dst = strconv.AppendInt(dst, int64(o.Delivered), 10)
	dst = append(dst, `,"stored":`...)
	dst = strconv.AppendInt(dst, int64(o.Stored), 10)
	dst = append(dst, `,"offline":`...)
	dst = strconv.AppendInt(dst, int64(o.Offline), 10)
	if o.Seq != 0 {
		dst = append(dst, `,"seq":`...)
		dst = strconv.AppendInt(dst, o.Seq, 10)
	}
	return append(dst, '}')
}
