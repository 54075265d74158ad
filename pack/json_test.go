package pack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// stdMessage is the original plex message as encoding/json sees it. The
// JSON codec must produce exactly json.Marshal's bytes for it, and decode
// whatever json.Unmarshal decodes, except where docs/protocol.md says
// otherwise on purpose:
//
//   - invalid UTF-8 is an error (encoding/json replaces it with U+FFFD);
//   - keys match exactly (encoding/json folds case: "URI" and "ſeq" would
//     set fields);
//   - the body must be an object (encoding/json accepts a bare null).
type stdMessage struct {
	Seq  int64             `json:"seq,omitempty"`
	URI  string            `json:"uri,omitempty"`
	Body string            `json:"body,omitempty"`
	Meta map[string]string `json:"meta,omitempty"`
}

func toStd(m *Message) stdMessage {
	return stdMessage{Seq: m.Seq, URI: m.URI, Body: string(m.Body), Meta: m.Meta}
}

// interesting runes for random strings: everything the escaper treats
// specially, multi-byte sequences of every length, and plain ASCII.
var interestingRunes = []rune{
	'a', 'z', '0', ' ', '/', '"', '\\', '<', '>', '&', '\b', '\f', '\n', '\r', '\t',
	0x00, 0x01, 0x1f, 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0x2028, 0x2029, 0xfeff, 0xfffd,
	0xffff, 0x10000, 0x1f600, 0x10ffff, '世', 'ſ', 0x212a,
}

func randomString(r *rand.Rand, max int) string {
	var b strings.Builder
	for n := r.IntN(max + 1); n > 0; n-- {
		if r.IntN(3) == 0 {
			b.WriteByte(byte('a' + r.IntN(26)))
		} else {
			b.WriteRune(interestingRunes[r.IntN(len(interestingRunes))])
		}
	}
	return b.String()
}

func randomMessage(r *rand.Rand) Message {
	var m Message
	switch r.IntN(4) {
	case 0:
	case 1:
		m.Seq = r.Int64() - math.MaxInt64/2
	case 2:
		m.Seq = []int64{1, -1, math.MaxInt64, math.MinInt64}[r.IntN(4)]
	case 3:
		m.Seq = int64(r.IntN(1000))
	}
	if r.IntN(5) > 0 {
		m.URI = "/" + randomString(r, 12)
	}
	if r.IntN(5) > 0 {
		m.Body = []byte(randomString(r, 40))
	}
	if r.IntN(2) == 0 {
		m.Meta = map[string]string{}
		for n := r.IntN(5); n > 0; n-- {
			m.Meta[randomString(r, 6)] = randomString(r, 10)
		}
	}
	return m
}

// TestJSONEncodeMatchesEncodingJSON: for valid UTF-8 messages the encoder
// writes exactly what json.Marshal writes for the original struct.
func TestJSONEncodeMatchesEncodingJSON(t *testing.T) {
	msgs := []Message{
		{},
		{URI: URIAuth, Body: []byte("12345")},
		{Seq: -1}, {Seq: math.MaxInt64}, {Seq: math.MinInt64},
		{Meta: map[string]string{}},
		{Meta: map[string]string{"": ""}},
		{URI: "<script>&amp;</script>", Body: []byte("\u2028\u2029\x00\x1f\x7f\"\\/")},
	}
	for _, c := range validCases() {
		msgs = append(msgs, c.msg)
	}
	r := rand.New(rand.NewPCG(7, 8))
	for range 5000 {
		msgs = append(msgs, randomMessage(r))
	}
	for i, m := range msgs {
		if !utf8.Valid(m.Body) {
			continue
		}
		want, err := json.Marshal(toStd(&m))
		require.NoError(t, err)
		got, err := JSON.Append(nil, &m)
		require.NoError(t, err, "message %d %+v", i, m)
		require.Equal(t, string(want), string(got), "message %d: got our encoding, want json.Marshal's", i)
	}
}

// TestJSONEscaping pins each escape the encoder writes.
func TestJSONEscaping(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`"`, `"\""`}, {`\`, `"\\"`}, {"/", `"/"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"\x00\x01\x0b\x1f", `"\u0000\u0001\u000b\u001f"`},
		{"<>&", `"\u003c\u003e\u0026"`},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"\x7f é 世 😀 \ufffd \ufeff", "\"\x7f é 世 😀 \ufffd \ufeff\""},
	}
	for _, tt := range tests {
		got, err := appendJSONString(nil, tt.in)
		require.NoError(t, err)
		require.Equal(t, tt.want, string(got), "escape %q: got, want", tt.in)
		gotB, err := appendJSONString(nil, []byte(tt.in))
		require.NoError(t, err)
		require.Equal(t, tt.want, string(gotB), "escape []byte %q: got, want", tt.in)
	}
}

// TestJSONEncodeInvalidUTF8: a message JSON cannot carry is refused and
// nothing is appended.
func TestJSONEncodeInvalidUTF8(t *testing.T) {
	bad := "a\xffb"
	msgs := map[string]Message{
		"uri":        {URI: bad},
		"body":       {URI: "/chat", Body: []byte(bad)},
		"meta key":   {URI: "/chat", Meta: map[string]string{bad: "v"}},
		"meta value": {URI: "/chat", Meta: map[string]string{"k": bad}},
		"truncated":  {URI: "/chat", Body: []byte("\xe4\xb8")},
		"surrogate":  {URI: "/chat", Body: []byte("\xed\xa0\x80")},
	}
	for name, m := range msgs {
		dst := []byte("keep")
		got, err := JSON.Append(dst, &m)
		require.ErrorIs(t, err, ErrInvalidUTF8, name)
		require.Equal(t, "keep", string(got), "%s: got dst, want it unchanged", name)
		_, err = EncodeFrame(BigEndian, JSON, &m)
		require.ErrorIs(t, err, ErrInvalidUTF8, name)
	}
}

// foldedKey reports whether a top-level key of the JSON object in b differs
// from a message field name only by case folding (which encoding/json
// accepts and plex does not).
func foldedKey(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		k, _ := tok.(string)
		for _, f := range []string{"seq", "uri", "body", "meta"} {
			if k != f && strings.EqualFold(k, f) {
				return true
			}
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return false
		}
	}
	return false
}

// jsonDifferential decodes b with the JSON codec and with encoding/json. On
// inputs where the documented differences cannot apply (valid UTF-8, an
// object, exact keys) both must succeed or both fail, and agree on the
// message. It returns a description of any disagreement.
func jsonDifferential(b []byte) string {
	if !utf8.Valid(b) {
		return ""
	}
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return ""
	}
	var std stdMessage
	stdErr := json.Unmarshal(b, &std)
	var m Message
	err := JSON.Decode(b, &m)
	if (stdErr == nil || err == nil) && foldedKey(b) {
		return ""
	}
	switch {
	case stdErr != nil && err != nil:
		return ""
	case stdErr != nil:
		return fmt.Sprintf("encoding/json fails (%v), we decode %+v", stdErr, m)
	case err != nil:
		return fmt.Sprintf("encoding/json decodes %+v, we fail (%v)", std, err)
	}
	if std.Seq != m.Seq || std.URI != m.URI || std.Body != string(m.Body) {
		return fmt.Sprintf("encoding/json decodes %+v, we decode %+v", std, toStd(&m))
	}
	if (len(std.Meta) > 0 || len(m.Meta) > 0) && !maps.Equal(std.Meta, m.Meta) {
		return fmt.Sprintf("encoding/json decodes meta %v, we decode %v", std.Meta, m.Meta)
	}
	return ""
}

// jsonCorpus is the JSON inputs of the vectors plus hand-picked edge cases.
func jsonCorpus(t testing.TB) [][]byte {
	var in [][]byte
	f := loadVectors(t)
	add := func(codec, frameHex string) {
		if codec == "json" {
			if fr := mustHex(t, frameHex); len(fr) >= HeaderSize {
				in = append(in, fr[HeaderSize:])
			}
		}
	}
	for _, v := range f.Valid {
		add(v.Codec, v.FrameHex)
	}
	for _, v := range f.DecodeOnly {
		add(v.Codec, v.FrameHex)
	}
	for _, v := range f.Invalid {
		add(v.Codec, v.FrameHex)
	}
	for _, s := range []string{
		`{}`, ` {} `, `{"seq":0}`, `{"seq":-0}`, `{"seq":1E2}`, `{"seq":1.0}`, `{"seq":-9223372036854775808}`,
		`{"seq":-9223372036854775809}`, `{"seq":9223372036854775807}`, `{"seq":00}`, `{"seq":0.}`, `{"seq":.5}`,
		`{"meta":{"a":"1"},"meta":{"b":"2"}}`, `{"meta":{"a":"1"},"meta":null}`, `{"meta":{"a":"1"},"meta":{}}`,
		`{"meta":{"a":"1","a":"2"}}`, `{"meta":{"a":null}}`, `{"uri":"a","uri":null}`, `{"body":"x","body":""}`,
		`{"uri":"\ud800"}`, `{"uri":"\ud800\u0041"}`, `{"uri":"\ud800\ud800\udc00"}`, `{"uri":"\udc00\ud800"}`,
		`{"uri":"\uDBFF\uDFFF"}`, `{"uri":"\u0000"}`, `{"uri":"\ud800\u12"}`, `{"URI":"x"}`, `{"ſeq":1}`,
		`{"x":{"y":[{"z":null}]}}`, `{"x":"\u00"}`, `{"x":[}`, `{"x":1,}`, `{"x":tru}`, `{"x":-}`,
		`{"x":1e+}`, `{"x":[1,[2,[3]]]}`, "{\"x\":\"\x7f\"}", `{"meta":"a"}`, `{"meta":{"a":["b"]}}`,
		`{"meta":{"a":{"b":"c"}}}`, `{"meta":{1:"a"}}`, `{"seq":[1]}`, `{"seq":{}}`, `{"seq":"x"`,
		`{"uri":"/a"`, `{"uri"`, `{"`, `{`, ``, `null`, ` `, "{\"uri\":\"\u2028\"}",
	} {
		in = append(in, []byte(s))
	}
	return in
}

// TestJSONDecodeMatchesEncodingJSON runs the differential over the corpus
// and over random encodings with random whitespace.
func TestJSONDecodeMatchesEncodingJSON(t *testing.T) {
	corpus := jsonCorpus(t)
	r := rand.New(rand.NewPCG(9, 10))
	for range 2000 {
		m := randomMessage(r)
		b, err := json.Marshal(toStd(&m))
		require.NoError(t, err)
		corpus = append(corpus, b, sprinkleWhitespace(r, b))
	}
	for _, b := range corpus {
		require.Empty(t, jsonDifferential(b), "input %q", b)
	}
}

// sprinkleWhitespace inserts JSON whitespace after structural characters
// outside strings.
func sprinkleWhitespace(r *rand.Rand, b []byte) []byte {
	var out []byte
	inStr, esc := false, false
	for _, c := range b {
		out = append(out, c)
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case !inStr && strings.IndexByte("{}:,", c) >= 0 && r.IntN(2) == 0:
			out = append(out, " \t\r\n"[r.IntN(4)])
		}
	}
	return out
}

// TestJSONNestingDepth: the same documents are too deep for both decoders.
func TestJSONNestingDepth(t *testing.T) {
	for _, n := range []int{9998, 9999, 10000, 10001} {
		for _, open := range []string{"[", `{"a":`} {
			close := "]"
			if open != "[" {
				close = "}"
			}
			b := []byte(`{"uri":"/x","unknown":` + strings.Repeat(open, n) + strings.Repeat(close, n) + `}`)
			var std stdMessage
			stdErr := json.Unmarshal(b, &std)
			var m Message
			err := JSON.Decode(b, &m)
			require.Equal(t, stdErr == nil, err == nil, "%d levels of %s: encoding/json err %v, ours %v", n, open, stdErr, err)
			if err != nil {
				require.ErrorIs(t, err, ErrBadJSON)
			}
		}
	}
}

// TestJSONDecodeReuse: Decode replaces every field, keeps Meta's storage and
// never aliases the input.
func TestJSONDecodeReuse(t *testing.T) {
	for _, c := range bothCodecs {
		t.Run(c.String(), func(t *testing.T) {
			m := Message{Seq: 99, URI: "/old", Body: []byte("old"), Meta: map[string]string{"old": "1"}}
			metaPtr := fmt.Sprintf("%p", m.Meta)

			in := mustEncode(t, BigEndian, c, &Message{URI: "/new", Meta: map[string]string{"k": "v"}})[HeaderSize:]
			require.NoError(t, c.Decode(in, &m))
			requireSameMessage(t, Message{URI: "/new", Meta: map[string]string{"k": "v"}}, m, "after reuse")
			require.Equal(t, metaPtr, fmt.Sprintf("%p", m.Meta), "Meta's map is reused")

			in = mustEncode(t, BigEndian, c, &Message{Seq: 3, URI: "/chat", Body: []byte("body")})[HeaderSize:]
			require.NoError(t, c.Decode(in, &m))
			for i := range in {
				in[i] = 'X' // the decoded message must not see this
			}
			requireSameMessage(t, Message{Seq: 3, URI: "/chat", Body: []byte("body")}, m, "after scribbling over the input")
		})
	}

	// Escaped strings are unescaped into buffers the message owns.
	in := []byte(`{"uri":"/a\"b","body":"x\ny\u00e9","meta":{"k\t":"v\u0041","plain":"p"}}`)
	var m Message
	require.NoError(t, JSON.Decode(in, &m))
	for i := range in {
		in[i] = 'X'
	}
	requireSameMessage(t, Message{URI: `/a"b`, Body: []byte("x\nyé"), Meta: map[string]string{"k\t": "vA", "plain": "p"}}, m,
		"escaped strings after scribbling over the input")
	require.Equal(t, len(m.Body), cap(m.Body), "the body's capacity ends at the body")
}
