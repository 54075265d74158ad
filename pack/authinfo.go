package pack

import "strconv"

// AuthInfo is the JSON body of URIAuthSuccess: the session facts a client
// tunes itself from (docs/protocol.md §10.3).
type AuthInfo struct {
	UID         string `json:"uid,omitempty"`
	App         string `json:"app,omitempty"`
	Conn        string `json:"conn"`
	Node        string `json:"node"`
	HeartbeatMS int64  `json:"heartbeat_ms"`
	TimeoutMS   int64  `json:"timeout_ms"`
	MaxFrame    int    `json:"max_frame"`
	Acks        bool   `json:"acks,omitempty"`
	// Background mode (§11.1); absent when the node does not offer it.
	BackgroundHeartbeatMS int64 `json:"background_heartbeat_ms,omitempty"`
	BackgroundTimeoutMS   int64 `json:"background_timeout_ms,omitempty"`
	// Drain: when the node closes with /disconnect 3000 (shutting down) it
	// has answered every request it executed; an unanswered one was not
	// executed and may go to another node (§13.2).
	Drain bool `json:"drain,omitempty"`
	// Resume: present when the login sent meta "resume" (with acks): the
	// seq the node replays after. Below the app's resume point it means the
	// app's seqs came from a store that no longer exists: the app MUST take
	// it as its highest seq (§12).
	Resume *int64 `json:"resume,omitempty"`
}

// AppendAuthInfo appends a as JSON, byte-identical to encoding/json, with
// no allocation beyond dst's growth (a node answers every login with it).
// It fails with ErrInvalidUTF8 when a string is not UTF-8.
func AppendAuthInfo(dst []byte, a *AuthInfo) ([]byte, error) {
	var err error
	sep := byte('{')
	str := func(key, v string, omitEmpty bool) {
		if err != nil || (omitEmpty && v == "") {
			return
		}
		dst = append(dst, sep)
		dst = append(dst, key...)
		dst, err = appendJSONString(dst, v)
		sep = ','
	}
	num := func(key string, v int64, omitEmpty bool) {
		if omitEmpty && v == 0 {
			return
		}
		dst = append(dst, sep)
		dst = append(dst, key...)
		dst = strconv.AppendInt(dst, v, 10)
		sep = ','
	}
	str(`"uid":`, a.UID, true)
	str(`"app":`, a.App, true)
	str(`"conn":`, a.Conn, false)
	str(`"node":`, a.Node, false)
	if err != nil {
		return dst, err
	}
	num(`"heartbeat_ms":`, a.HeartbeatMS, false)
	num(`"timeout_ms":`, a.TimeoutMS, false)
	num(`"max_frame":`, int64(a.MaxFrame), false)
	if a.Acks {
		dst = append(dst, `,"acks":true`...)
	}
	num(`"background_heartbeat_ms":`, a.BackgroundHeartbeatMS, true)
	num(`"background_timeout_ms":`, a.BackgroundTimeoutMS, true)
	if a.Drain {
		dst = append(dst, `,"drain":true`...)
	}
	if a.Resume != nil {
		dst = append(dst, `,"resume":`...)
		dst = strconv.AppendInt(dst, *a.Resume, 10)
	}
	return append(dst, '}'), nil
}
