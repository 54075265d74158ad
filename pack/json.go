package pack

import (
	"slices"
	"strconv"
	"unicode/utf8"
)

// The JSON codec is written by hand rather than with encoding/json for two
// reasons: the decode path of a reused Decoder must allocate nothing beyond
// the decoded message (encoding/json's reflection allocates per call), and
// the rules must be strict where encoding/json is lenient: invalid UTF-8 is
// an error here (encoding/json silently replaces it with U+FFFD) and keys
// match exactly (encoding/json folds case). Encoding produces exactly the
// bytes encoding/json.Marshal produces for the original struct (HTML-safe
// escapes included); json_test.go checks both directions against
// encoding/json differentially and fuzzes them.

const hexDigits = "0123456789abcdef"

func appendJSON(dst []byte, m *Message) ([]byte, error) {
	dst = append(dst, '{')
	sep := false
	field := func(name string) {
		if sep {
			dst = append(dst, ',')
		}
		sep = true
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, '"', ':')
	}
	var err error
	if m.Seq != 0 {
		field("seq")
		dst = strconv.AppendInt(dst, m.Seq, 10)
	}
	if m.URI != "" {
		field("uri")
		if dst, err = appendJSONString(dst, m.URI); err != nil {
			return dst, err
		}
	}
	if len(m.Body) > 0 {
		field("body")
		if dst, err = appendJSONString(dst, m.Body); err != nil {
			return dst, err
		}
	}
	if len(m.Meta) > 0 {
		field("meta")
		dst = append(dst, '{')
		var arr [8]string
		for i, k := range sortedKeys(arr[:0], m.Meta) {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendJSONString(dst, k); err != nil {
				return dst, err
			}
			dst = append(dst, ':')
			if dst, err = appendJSONString(dst, m.Meta[k]); err != nil {
				return dst, err
			}
		}
		dst = append(dst, '}')
	}
	return append(dst, '}'), nil
}

// sortedKeys appends meta's keys to dst in ascending byte order, the order
// both codecs write them in (as encoding/json and deterministic protobuf
// do). A small dst on the caller's stack avoids an allocation for the few
// keys a message usually has.
func sortedKeys(dst []string, meta map[string]string) []string {
	for k := range meta {
		dst = append(dst, k)
	}
	slices.Sort(dst)
	return dst
}

// appendJSONString quotes s the way encoding/json does with HTML escaping on.
func appendJSONString[S string | []byte](dst []byte, s S) ([]byte, error) {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		var r rune
		var size int
		switch v := any(s).(type) {
		case string:
			r, size = utf8.DecodeRuneInString(v[i:])
		case []byte:
			r, size = utf8.DecodeRune(v[i:])
		}
		if r == utf8.RuneError && size == 1 {
			return dst, ErrInvalidUTF8
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), nil
}

// maxJSONDepth bounds nesting (the message object is level 1), exactly as
// encoding/json does, so that both accept the same documents.
const maxJSONDepth = 10000

type jsonParser struct {
	b     []byte
	i     int
	owned bool     // the last str result was allocated here (not a view of b or tmp)
	tmp   [32]byte // unescaped keys are short; avoids an allocation per key
}

// text returns s, the last string read, as a Go string: a view of an owned
// buffer (nobody else can change it), a constant for the reserved URIs, or
// a copy of the input.
func (p *jsonParser) text(s []byte) string {
	if p.owned {
		return unsafeString(s)
	}
	return internURI(s)
}

// internURI returns the constant for a reserved URI (so the most frequent
// frames, heartbeats and acks, decode without allocating) or a copy of s.
func internURI(s []byte) string {
	switch string(s) { // no allocation: compared in place
	case URIHeartbeat:
		return URIHeartbeat
	case URIAck:
		return URIAck
	case URIAuth:
		return URIAuth
	case URIAuthSuccess:
		return URIAuthSuccess
	case URIReply:
		return URIReply
	case URIError:
		return URIError
	case URIDisconnect:
		return URIDisconnect
	}
	return string(s)
}

func decodeJSON(b []byte, m *Message) error {
	m.Seq, m.URI, m.Body = 0, "", nil
	clear(m.Meta)
	if len(b) == 0 {
		return ErrEmptyBody
	}
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
		case "seq":
			err = p.seq(m)
		case "uri":
			var s []byte
			var null bool
			if s, null, err = p.stringOrNull(1); err == nil && !null {
				m.URI = p.text(s)
			}
		case "body":
			var s []byte
			var null bool
			if s, null, err = p.stringOrNull(1); err == nil && !null {
				switch {
				case len(s) == 0:
					m.Body = nil
				case p.owned:
					m.Body = s[:len(s):len(s)]
				default:
					m.Body = append([]byte(nil), s...)
				}
			}
		case "meta":
			err = p.meta(m)
		default:
			err = p.skip(1)
		}
		if err != nil {
			return err
		}
	}
	return p.end()
}

// member steps through an object whose '{' was consumed: it reads the
// separator before the next member (none before the first), then the key
// and the colon, leaving p at the value, which the caller must consume.
// ok is false at the closing '}'. The key is valid until the next read.
func (p *jsonParser) member(first bool) (key []byte, ok bool, err error) {
	p.ws()
	if p.eat('}') {
		return nil, false, nil
	}
	if !first {
		if !p.eat(',') {
			return nil, false, ErrBadJSON
		}
		p.ws()
	}
	if key, err = p.key(); err != nil {
		return nil, false, err
	}
	p.ws()
	if !p.eat(':') {
		return nil, false, ErrBadJSON
	}
	p.ws()
	return key, true, nil
}

// end checks that only whitespace follows the value just parsed.
func (p *jsonParser) end() error {
	p.ws()
	if p.i != len(p.b) {
		return ErrBadJSON
	}
	return nil
}

func (p *jsonParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *jsonParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *jsonParser) key() ([]byte, error) {
	if p.peek() != '"' {
		return nil, ErrBadJSON
	}
	return p.str(p.tmp[:0])
}

// stringOrNull reads a string value inside a container at nesting level
// depth; a non-string value is ErrWrongType (after checking it is at least
// valid JSON, so syntax errors win).
func (p *jsonParser) stringOrNull(depth int) (s []byte, null bool, err error) {
	switch p.peek() {
	case '"':
		s, err = p.str(nil)
		return s, false, err
	case 'n':
		p.owned = false
		return nil, true, p.literal("null")
	}
	if err := p.skip(depth); err != nil {
		return nil, false, err
	}
	return nil, false, ErrWrongType
}

func (p *jsonParser) seq(m *Message) error {
	c := p.peek()
	if c == 'n' {
		return p.literal("null")
	}
	if c != '-' && (c < '0' || c > '9') {
		if err := p.skip(1); err != nil {
			return err
		}
		return ErrWrongType
	}
	start := p.i
	integer, err := p.number()
	if err != nil {
		return err
	}
	if !integer {
		return ErrWrongType // 1.5 or 1e3 is not an int64, as in encoding/json
	}
	n, perr := strconv.ParseInt(unsafeString(p.b[start:p.i]), 10, 64)
	if perr != nil {
		return ErrWrongType // out of int64 range
	}
	m.Seq = n
	return nil
}

func (p *jsonParser) meta(m *Message) error {
	switch p.peek() {
	case 'n':
		// null empties the map, as encoding/json sets a map to nil.
		clear(m.Meta)
		return p.literal("null")
	case '{':
	default:
		if err := p.skip(1); err != nil {
			return err
		}
		return ErrWrongType
	}
	p.i++
	for first := true; ; first = false {
		k, ok, err := p.member(first)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		key := string(k)
		v, _, err := p.stringOrNull(2)
		if err != nil {
			return err
		}
		if m.Meta == nil {
			m.Meta = make(map[string]string, 4)
		}
		m.Meta[key] = p.text(v)
	}
}

// str reads a JSON string at p.i (which is '"'). Without escapes it returns a
// slice of the input; with escapes it unescapes into dst, first growing dst
// once to a size that fits (then p.owned is true).
func (p *jsonParser) str(dst []byte) ([]byte, error) {
	p.owned = false
	p.i++ // opening quote
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			return s, nil
		case c == '\\':
			raw := p.b[start:p.i]
			if need := len(raw) + p.escapedLen(); cap(dst)-len(dst) < need {
				dst = append(make([]byte, 0, len(dst)+need), dst...)
				p.owned = true
			}
			return p.strEscaped(append(dst, raw...))
		case c < 0x20:
			return nil, ErrBadJSON
		case c < utf8.RuneSelf:
			p.i++
		default:
			r, size := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && size == 1 {
				return nil, ErrInvalidUTF8
			}
			p.i += size
		}
	}
	return nil, ErrBadJSON
}

// escapedLen returns the raw length of the rest of the string at p.i, up to
// its closing quote. Unescaping never lengthens text (the longest escape,
// \uXXXX, is 6 bytes for at most 3 of UTF-8; a surrogate pair is 12 for 4),
// so it bounds the unescaped length.
func (p *jsonParser) escapedLen() int {
	for j := p.i; j < len(p.b); j++ {
		switch p.b[j] {
		case '\\':
			j++
		case '"':
			return j - p.i
		}
	}
	return len(p.b) - p.i
}

func (p *jsonParser) strEscaped(dst []byte) ([]byte, error) {
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return dst, nil
		case c == '\\':
			p.i++
			if p.i >= len(p.b) {
				return nil, ErrBadJSON
			}
			e := p.b[p.i]
			p.i++
			switch e {
			case '"', '\\', '/':
				dst = append(dst, e)
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return nil, ErrBadJSON
				}
				if utf16IsSurrogate(r) {
					r2 := rune(-1)
					if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
						save := p.i
						p.i += 2
						var ok2 bool
						if r2, ok2 = p.hex4(); !ok2 {
							return nil, ErrBadJSON
						}
						if c := utf16Decode(r, r2); c != utf8.RuneError {
							dst = utf8.AppendRune(dst, c)
							continue
						}
						p.i = save // not a pair: decode the second escape on its own
					}
					r = utf8.RuneError // lone surrogate, as encoding/json does
				}
				dst = utf8.AppendRune(dst, r)
			default:
				return nil, ErrBadJSON
			}
		case c < 0x20:
			return nil, ErrBadJSON
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			p.i++
		default:
			r, size := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && size == 1 {
				return nil, ErrInvalidUTF8
			}
			dst = append(dst, p.b[p.i:p.i+size]...)
			p.i += size
		}
	}
	return nil, ErrBadJSON
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	p.i += 4
	return r, true
}

func utf16IsSurrogate(r rune) bool { return 0xD800 <= r && r < 0xE000 }

func utf16Decode(r1, r2 rune) rune {
	if 0xD800 <= r1 && r1 < 0xDC00 && 0xDC00 <= r2 && r2 < 0xE000 {
		return (r1-0xD800)<<10 | (r2 - 0xDC00) + 0x10000
	}
	return utf8.RuneError
}

// number scans a JSON number; integer is false if it has a fraction or exponent.
func (p *jsonParser) number() (integer bool, err error) {
	p.eat('-')
	switch c := p.peek(); {
	case c == '0':
		p.i++
	case '1' <= c && c <= '9':
		p.digits()
	default:
		return false, ErrBadJSON
	}
	integer = true
	if p.eat('.') {
		integer = false
		if !p.digits() {
			return false, ErrBadJSON
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.i++
		integer = false
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		if !p.digits() {
			return false, ErrBadJSON
		}
	}
	return integer, nil
}

func (p *jsonParser) digits() bool {
	start := p.i
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

func (p *jsonParser) literal(lit string) error {
	if len(p.b)-p.i < len(lit) || string(p.b[p.i:p.i+len(lit)]) != lit {
		return ErrBadJSON
	}
	p.i += len(lit)
	return nil
}

// skip validates and skips any JSON value found inside a container at
// nesting level depth.
func (p *jsonParser) skip(depth int) error {
	switch c := p.peek(); {
	case c == '"':
		_, err := p.str(p.tmp[:0])
		return err
	case c == '{' || c == '[':
		if depth >= maxJSONDepth {
			return ErrBadJSON
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		p.i++
		p.ws()
		if p.eat(end) {
			return nil
		}
		for {
			p.ws()
			if c == '{' {
				if p.peek() != '"' {
					return ErrBadJSON
				}
				if _, err := p.str(p.tmp[:0]); err != nil {
					return err
				}
				p.ws()
				if !p.eat(':') {
					return ErrBadJSON
				}
				p.ws()
			}
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			p.ws()
			if p.eat(',') {
				continue
			}
			if p.eat(end) {
				return nil
			}
			return ErrBadJSON
		}
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		_, err := p.number()
		return err
	}
	return ErrBadJSON
}
