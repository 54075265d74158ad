package pack

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCodeTable(t *testing.T) {
	codes := Codes()
	require.True(t, slices.IsSorted(codes), "Codes() ascending")
	require.Len(t, codes, len(codeText), "Codes() lists every code with a text")
	for _, c := range codes {
		require.NotEqual(t, fmt.Sprintf("code %d", c), c.String(), "code %d has a text", c)
		switch {
		case c >= 3000 && c < 4000:
			require.True(t, c.Reconnect(), "%d (%s): 3xxx must reconnect", c, c)
		case c >= 4000 && c < 5000:
			require.False(t, c.Reconnect(), "%d (%s): 4xxx must stop", c, c)
		default:
			t.Fatalf("code %d outside 3xxx/4xxx", c)
		}
	}
	tests := []struct {
		code      Code
		reconnect bool
		text      string
	}{
		{CodeShutdown, true, "server shutting down"},
		{CodeFrameTooLarge, true, "frame too large"},
		// a per-request answer on /error, but like every 3xxx it never
		// stops a client: the connection is not at fault
		{CodeOutcomeUnknown, true, "outcome unknown"},
		{CodeAuthFailed, false, "auth failed"},
		{CodeReplaced, false, "replaced by a newer login"},
		{3999, true, "code 3999"},  // unknown 3xxx: still reconnect
		{4999, false, "code 4999"}, // unknown 4xxx: still stop
		{5000, false, "code 5000"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.reconnect, tt.code.Reconnect(), "%d.Reconnect()", tt.code)
		require.Equal(t, tt.text, tt.code.String(), "%d.String()", tt.code)
		require.Equal(t, fmt.Sprintf("plex: %d %s", tt.code, tt.text), tt.code.Error())
	}
}

func TestParseCode(t *testing.T) {
	tests := []struct {
		in   string
		want Code
		ok   bool
	}{
		{"3000", CodeShutdown, true},
		{"4001", CodeAuthFailed, true},
		{"0", 0, true},
		{"65535", 65535, true},
		{"65536", 0, false},
		{"", 0, false},
		{"-1", 0, false},
		{"+3000", 0, false},
		{" 3000", 0, false},
		{"3000.0", 0, false},
		{"abc", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseCode(tt.in)
		require.Equal(t, tt.ok, ok, "ParseCode(%q) ok", tt.in)
		require.Equal(t, tt.want, got, "ParseCode(%q): got, want", tt.in)
	}
}

func TestCodeError(t *testing.T) {
	err := fmt.Errorf("client: %w", &CodeError{Code: CodeAuthFailed, Reason: "bad token"})
	require.ErrorIs(t, err, CodeAuthFailed, "errors.Is with the Code")
	require.NotErrorIs(t, err, CodeReplaced)
	var ce *CodeError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, CodeAuthFailed, ce.Code)
	require.Equal(t, "plex: 4001 auth failed: bad token", ce.Error())
	require.Equal(t, "plex: 4001 auth failed", (&CodeError{Code: CodeAuthFailed, Reason: "auth failed"}).Error())
	require.Equal(t, "plex: 4001 auth failed", (&CodeError{Code: CodeAuthFailed}).Error())

	c, ok := CodeOf(err)
	require.True(t, ok)
	require.Equal(t, CodeAuthFailed, c)
	c, ok = CodeOf(fmt.Errorf("wrapped: %w", CodeSlowConsumer))
	require.True(t, ok, "a bare Code in the chain")
	require.Equal(t, CodeSlowConsumer, c)
	_, ok = CodeOf(errors.New("other"))
	require.False(t, ok)
	_, ok = CodeOf(nil)
	require.False(t, ok)
}

// TestErrorMessageRoundTrip: ErrorMessage → wire → ErrorOf gives the code
// and reason back, on both codecs.
func TestErrorMessageRoundTrip(t *testing.T) {
	tests := []struct {
		uri    string
		seq    int64
		code   Code
		reason string
	}{
		{URIAuthFailed, 0, CodeAuthFailed, "token expired"},
		{URIAuthFailed, 0, CodeAuthFailed, ""},
		{URIDisconnect, 0, CodeShutdown, ""},
		{URIDisconnect, 0, CodeFrameTooLarge, "frame of 9000 bytes over 8192"},
		{URIError, 17, CodeForbidden, "push-only uri"},
		{URIError, 18, CodeOutcomeUnknown, "store did not confirm the append"},
	}
	for _, tt := range tests {
		for _, c := range bothCodecs {
			name := fmt.Sprintf("%s-%d-%s", tt.uri, tt.code, c)
			m := ErrorMessage(tt.uri, tt.seq, tt.code, tt.reason)
			wantReason := tt.reason
			if wantReason == "" {
				wantReason = tt.code.String()
			}
			require.Equal(t, wantReason, string(m.Body), "%s: body is the reason", name)
			require.Equal(t, fmt.Sprint(int(tt.code)), m.Get(MetaCode), name)

			var got Message
			require.NoError(t, c.Decode(mustEncode(t, BigEndian, c, &m)[HeaderSize:], &got), name)
			require.Equal(t, tt.seq, got.Seq, "%s: seq echoes the request", name)
			ce := ErrorOf(&got)
			require.Equal(t, &CodeError{Code: tt.code, Reason: wantReason}, ce, "%s: got, want", name)
		}
	}
}

// TestErrorOfOriginalNode: an original plex node sends /auth/failed with the
// reason as body and no meta; that must read as terminal CodeAuthFailed.
func TestErrorOfOriginalNode(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		want CodeError
	}{
		{"original auth failed", Message{URI: URIAuthFailed, Body: []byte("token invalid")},
			CodeError{Code: CodeAuthFailed, Reason: "token invalid"}},
		{"original auth failed, empty", Message{URI: URIAuthFailed}, CodeError{Code: CodeAuthFailed}},
		{"disconnect without code", Message{URI: URIDisconnect, Body: []byte("bye")},
			CodeError{Code: CodeInternal, Reason: "bye"}},
		{"garbage code", Message{URI: URIError, Meta: map[string]string{MetaCode: "x", MetaReason: "r"}},
			CodeError{Code: CodeInternal, Reason: "r"}},
		{"meta reason wins over body", Message{URI: URIError, Body: []byte("b"),
			Meta: map[string]string{MetaCode: "4004", MetaReason: "r"}}, CodeError{Code: CodeBadRequest, Reason: "r"}},
	}
	for _, tt := range tests {
		got := ErrorOf(&tt.msg)
		require.Equal(t, tt.want, *got, "%s: got, want", tt.name)
	}
	require.False(t, ErrorOf(&Message{URI: URIAuthFailed}).Code.Reconnect(), "a failed auth from an original node stops")
}

// TestOutcomeUnknownCode pins the number every SDK copies and keeps it
// apart from 3005, which promises that nothing was stored.
func TestOutcomeUnknownCode(t *testing.T) {
	require.Equal(t, Code(3008), CodeOutcomeUnknown)
	m := ErrorMessage(URIError, 5, CodeOutcomeUnknown, "")
	require.Equal(t, "3008", m.Get(MetaCode))
	err := fmt.Errorf("client: %w", ErrorOf(&m))
	require.ErrorIs(t, err, CodeOutcomeUnknown)
	require.NotErrorIs(t, err, CodeInternal, "3008 must not read as 3005")
	c, ok := CodeOf(err)
	require.True(t, ok)
	require.Equal(t, CodeOutcomeUnknown, c)
}

func TestURIs(t *testing.T) {
	tests := []struct {
		uri      string
		pushOnly bool
		reserved bool
	}{
		{URIAuth, false, true},
		{URIAuthSuccess, false, true},
		{URIAuthFailed, false, true},
		{URIHeartbeat, false, true},
		{URIInnerAuth, true, true},
		{URILegacyPush, true, true},
		{URIAck, false, true},
		{URIError, false, true},
		{URIDisconnect, false, true},
		{URIRoomJoin, false, true},
		{URIRoomLeave, false, true},
		{URIPush, true, true},
		{URIReply, false, true},
		{"/inner/anything", true, true},
		{"/logic/x", true, true},
		{"/inner", false, false},
		{"/logic", false, false},
		{"/innerx/a", false, false},
		{"/chat", false, false},
		{"", false, false},
		{"inner/auth/server", false, false},
		{"/auth/server/x", false, false},
		{"/Auth/server", false, false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.pushOnly, PushOnly(tt.uri), "PushOnly(%q)", tt.uri)
		require.Equal(t, tt.reserved, Reserved(tt.uri), "Reserved(%q)", tt.uri)
	}
}

func TestParseOrder(t *testing.T) {
	tests := []struct {
		in   string
		want Order
		err  error
	}{
		{"", BigEndian, nil}, {"big", BigEndian, nil}, {"big-endian", BigEndian, nil}, {"be", BigEndian, nil},
		{"little", LittleEndian, nil}, {"little-endian", LittleEndian, nil}, {"le", LittleEndian, nil},
		{"Big", BigEndian, ErrUnknownOrder}, {"network", BigEndian, ErrUnknownOrder},
	}
	for _, tt := range tests {
		got, err := ParseOrder(tt.in)
		require.ErrorIs(t, err, tt.err, "ParseOrder(%q)", tt.in)
		require.Equal(t, tt.want, got, "ParseOrder(%q): got, want", tt.in)
	}
	require.Equal(t, "big", BigEndian.String())
	require.Equal(t, "little", LittleEndian.String())
	var zero Order
	require.Equal(t, BigEndian, zero, "the zero Order is big-endian")

	b := make([]byte, 4)
	BigEndian.PutHeader(b, 0x01020304)
	require.Equal(t, []byte{1, 2, 3, 4}, b)
	LittleEndian.PutHeader(b, 0x01020304)
	require.Equal(t, []byte{4, 3, 2, 1}, b)
	require.Equal(t, uint32(0x01020304), LittleEndian.Header(b))
}

func TestParseCodec(t *testing.T) {
	tests := []struct {
		in   string
		want Codec
		err  error
	}{
		{"", AutoCodec, nil}, {"auto", AutoCodec, nil}, {"json", JSON, nil},
		{"protobuf", Protobuf, nil}, {"proto", Protobuf, nil},
		{"JSON", AutoCodec, ErrUnknownCodec}, {"msgpack", AutoCodec, ErrUnknownCodec},
	}
	for _, tt := range tests {
		got, err := ParseCodec(tt.in)
		require.ErrorIs(t, err, tt.err, "ParseCodec(%q)", tt.in)
		require.Equal(t, tt.want, got, "ParseCodec(%q): got, want", tt.in)
	}
	for _, c := range []Codec{AutoCodec, JSON, Protobuf} {
		got, err := ParseCodec(c.String())
		require.NoError(t, err)
		require.Equal(t, c, got, "ParseCodec(%s.String())", c)
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		body string
		want Codec
		err  error
	}{
		{`{"uri":"/auth/server"}`, JSON, nil},
		{`{`, JSON, nil},
		{"\x12\x0c/auth/server", Protobuf, nil},
		{" {}", Protobuf, nil}, // a JSON first frame must start with '{' exactly
		{"", AutoCodec, ErrEmptyBody},
	}
	for _, tt := range tests {
		got, err := Detect([]byte(tt.body))
		require.ErrorIs(t, err, tt.err, "Detect(%q)", tt.body)
		require.Equal(t, tt.want, got, "Detect(%q): got, want", tt.body)
	}
	// Every protobuf encoding of a Message starts with a tag of field 1-4
	// (or is empty), never with '{'.
	for _, c := range validCases() {
		b, err := Protobuf.Append(nil, &c.msg)
		require.NoError(t, err)
		if len(b) > 0 {
			got, err := Detect(b)
			require.NoError(t, err)
			require.Equal(t, Protobuf, got, "Detect(protobuf %s)", c.name)
		}
	}
}

func TestMessageHelpers(t *testing.T) {
	var m Message
	require.Equal(t, "", m.Get(MetaCode), "Get on nil meta")
	m.Set(MetaCode, "4001")
	require.Equal(t, "4001", m.Get(MetaCode))
	m.Seq, m.URI, m.Body = 3, "/x", []byte("b")
	meta := m.Meta
	m.Reset()
	requireSameMessage(t, Message{}, m, "after Reset")
	require.NotNil(t, m.Meta, "Reset keeps the map for reuse")
	m.Set("a", "b")
	require.Equal(t, fmt.Sprintf("%p", meta), fmt.Sprintf("%p", m.Meta), "same map after Reset")
}

// A push may carry any URI but the protocol's own: push-only prefixes are
// app URIs to the original senders (/logic/test/1).
func TestPushURI(t *testing.T) {
	for _, uri := range []string{URIAuth, URIAuthSuccess, URIAuthFailed, URIHeartbeat, URIInnerAuth,
		URILegacyPush, URIAck, URIError, URIDisconnect, URIRoomJoin, URIRoomLeave, URIPush, URIReply, URIMessage, ""} {
		require.False(t, PushURI(uri), "PushURI(%q)", uri)
		require.True(t, Control(uri) || uri == "", "Control(%q)", uri)
	}
	for _, uri := range []string{"/logic/test/1", "/inner/x", "/chat", "/auth/server/x", "/Auth/server", "/logic/send/msg/x"} {
		require.True(t, PushURI(uri), "PushURI(%q)", uri)
		require.False(t, Control(uri), "Control(%q)", uri)
	}
}
