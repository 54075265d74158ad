package pack_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/pack"
)

func TestPushRequestRoundTrip(t *testing.T) {
	for _, r := range []pack.PushRequest{
		{UID: "alice", URI: "/x", Body: "hi"},
		{UIDs: []string{"a", "b<c>"}, URI: "/x", Persist: true, TTLMS: 60000},
		{Room: "r", URI: "/room", Body: "ünïcode 🎉", Meta: map[string]string{"k": "v", "a": "b"}},
		{All: true, URI: "/all"},
		{UID: "alice", Device: "ipad-1", URI: "/x", Persist: true, AckTimeoutMS: 30000},
	} {
		b, err := pack.AppendPushRequest(nil, &r)
		require.NoError(t, err)
		want, _ := json.Marshal(r)
		require.JSONEq(t, string(want), string(b))
		var got pack.PushRequest
		require.NoError(t, pack.DecodePushRequest(b, &got))
		require.Equal(t, r, got)
		var std pack.PushRequest
		require.NoError(t, pack.DecodePushRequest(want, &std))
		require.Equal(t, r, std, "decodes encoding/json output")
	}
}

func TestPushRequestLegacyBody(t *testing.T) {
	var r pack.PushRequest
	require.NoError(t, pack.DecodePushRequest([]byte(`{"uid":"u1","uri":"/news","body":"hello","extra":[1,{"x":null}]}`), &r))
	require.Equal(t, pack.PushRequest{UID: "u1", URI: "/news", Body: "hello"}, r)
}

func TestPushRequestErrors(t *testing.T) {
	for in, want := range map[string]error{
		`{"uid":1}`:              pack.ErrWrongType,
		`{"all":"yes"}`:          pack.ErrWrongType,
		`{"uids":"a"}`:           pack.ErrWrongType,
		`{"uids":[1]}`:           pack.ErrWrongType,
		`{"ttl_ms":1.5}`:         pack.ErrWrongType,
		`{"device":2}`:           pack.ErrWrongType,
		`{"ack_timeout_ms":"1"}`: pack.ErrWrongType,
		`{"uid":"a"`:             pack.ErrBadJSON,
		`{"uid":"a"} x`:          pack.ErrBadJSON,
		"{\"uid\":\"\xff\"}":     pack.ErrInvalidUTF8,
		`[]`:                     pack.ErrBadJSON,
		`{"meta":{"k":1}}`:       pack.ErrWrongType,
	} {
		var r pack.PushRequest
		require.ErrorIs(t, pack.DecodePushRequest([]byte(in), &r), want, in)
	}
}

func TestOutcomeMatchesEncodingJSON(t *testing.T) {
	for _, o := range []pack.Outcome{{}, {Delivered: 3, Stored: 1, Offline: 2, Seq: 99}} {
		want, _ := json.Marshal(o)
		require.Equal(t, string(want), string(pack.AppendOutcome(nil, &o)))
	}
}

func FuzzPushRequest(f *testing.F) {
	f.Add([]byte(`{"uid":"a","uri":"/x","body":"y","persist":true,"ttl_ms":5,"uids":["b"],"meta":{"k":"v"}}`))
	f.Add([]byte(`{"all":true,"uri":"/x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r pack.PushRequest
		if pack.DecodePushRequest(b, &r) != nil {
			return
		}
		out, err := pack.AppendPushRequest(nil, &r)
		if err != nil {
			return // e.g. a body that decoded from escapes into invalid UTF-8 cannot happen; other errors are fine
		}
		var again pack.PushRequest
		require.NoError(t, pack.DecodePushRequest(out, &again))
		if len(r.UIDs) == 0 {
			r.UIDs = nil
			again.UIDs = nil
		}
		if len(r.Meta) == 0 {
			r.Meta, again.Meta = nil, nil
		}
		require.Equal(t, r, again)
	})
}
