package pack

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"google.golang.org/protobuf/proto"
)

// The fuzz targets, one per decoder. scripts/fuzz-smoke.sh runs each for a
// few seconds; every iteration is cheap (no big allocations, no sleeping).
// Seeds come from the golden vectors, so the fuzzer starts from every
// interesting shape the SDKs test.

// seedFrames returns every vector's frame with the limit it is tested at.
func seedFrames(f *testing.F) (frames [][]byte, limits []int) {
	v := loadVectors(f)
	for _, x := range append(append([]validVector(nil), v.Valid...), v.DecodeOnly...) {
		frames = append(frames, mustHex(f, x.FrameHex))
		limits = append(limits, x.limit())
	}
	for _, x := range v.Invalid {
		frames = append(frames, mustHex(f, x.FrameHex))
		limits = append(limits, x.Limit)
	}
	return frames, limits
}

// seedBodies returns the vectors' frame bodies of one codec.
func seedBodies(f *testing.F, codec string) [][]byte {
	v := loadVectors(f)
	var bodies [][]byte
	add := func(c, frameHex string) {
		if fr := mustHex(f, frameHex); c == codec && len(fr) >= HeaderSize {
			bodies = append(bodies, fr[HeaderSize:])
		}
	}
	for _, x := range v.Valid {
		add(x.Codec, x.FrameHex)
	}
	for _, x := range v.DecodeOnly {
		add(x.Codec, x.FrameHex)
	}
	for _, x := range v.Invalid {
		add(x.Codec, x.FrameHex)
	}
	return bodies
}

// fuzzLimit maps a fuzzed value to a limit that is small enough to be hit.
func fuzzLimit(l uint16) int {
	if l == 0 {
		return DefaultLimit
	}
	return int(l)
}

// cutChunks splits data into chunks whose lengths come from cuts.
func cutChunks(data, cuts []byte) [][]byte {
	var cs [][]byte
	for i := 0; len(data) > 0; i++ {
		n := len(data)
		if i < len(cuts) {
			n = min(n, 1+int(cuts[i]))
		}
		cs = append(cs, data[:n])
		data = data[n:]
	}
	return cs
}

var sentinels = []error{ErrFrameTooLarge, ErrTruncated, ErrEmptyBody, ErrBadJSON, ErrWrongType,
	ErrInvalidUTF8, ErrBadProtobuf}

func isSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func FuzzDecoder(f *testing.F) {
	frames, limits := seedFrames(f)
	for i, fr := range frames {
		f.Add(fr, uint16(min(limits[i], 65535)), []byte{1, 3, 7}, i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, data []byte, limit uint16, cuts []byte, little bool) {
		o := BigEndian
		if little {
			o = LittleEndian
		}
		lim := fuzzLimit(limit)
		check := func(chunks [][]byte) ([][]byte, error) {
			d := NewDecoder(o, lim)
			var bodies [][]byte
			for _, c := range chunks {
				d.Feed(c)
				for {
					body, ok, err := d.Next()
					if err != nil {
						if !errors.Is(err, ErrFrameTooLarge) {
							t.Fatalf("Next: got %v, want only ErrFrameTooLarge from framing", err)
						}
						return bodies, err
					}
					if !ok {
						break
					}
					if len(body) > lim {
						t.Fatalf("got a body of %d bytes, want at most the limit %d", len(body), lim)
					}
					bodies = append(bodies, bytes.Clone(body))
				}
			}
			err := d.Finish()
			if err != nil && !errors.Is(err, ErrTruncated) {
				t.Fatalf("Finish: got %v, want nil or ErrTruncated", err)
			}
			return bodies, err
		}
		wantBodies, wantErr := check([][]byte{data})
		gotBodies, gotErr := check(cutChunks(data, cuts))
		if !errors.Is(gotErr, wantErr) || len(gotBodies) != len(wantBodies) {
			t.Fatalf("split: got %d bodies and %v, whole: %d bodies and %v", len(gotBodies), gotErr, len(wantBodies), wantErr)
		}
		for i := range wantBodies {
			if !bytes.Equal(gotBodies[i], wantBodies[i]) {
				t.Fatalf("body %d: split got %q, whole got %q", i, gotBodies[i], wantBodies[i])
			}
		}
		// Every whole frame before the error or end is reported, in order.
		var rebuilt []byte
		for _, b := range wantBodies {
			rebuilt = append(rebuilt, header(o, uint32(len(b)))...)
			rebuilt = append(rebuilt, b...)
		}
		if !bytes.HasPrefix(data, rebuilt) {
			t.Fatalf("the bodies do not re-frame to a prefix of the input")
		}
		if wantErr == nil && len(rebuilt) != len(data) {
			t.Fatalf("no error but %d of %d bytes consumed", len(rebuilt), len(data))
		}
	})
}

func FuzzJSON(f *testing.F) {
	for _, b := range seedBodies(f, "json") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Message
		err := JSON.Decode(data, &m)
		if diff := jsonDifferential(data); diff != "" {
			t.Fatalf("differential: %s", diff)
		}
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("Decode: got %v, want a pack sentinel", err)
			}
			return
		}
		enc, err := JSON.Append(nil, &m)
		if err != nil {
			t.Fatalf("a decoded message must re-encode: %v", err)
		}
		std, err := json.Marshal(toStd(&m))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, std) {
			t.Fatalf("encode: got %s, json.Marshal %s", enc, std)
		}
		var m2 Message
		if err := JSON.Decode(enc, &m2); err != nil {
			t.Fatalf("re-decode %s: %v", enc, err)
		}
		if toVectorMessage(&m).BodyHex != toVectorMessage(&m2).BodyHex || m.Seq != m2.Seq || m.URI != m2.URI ||
			len(m.Meta) != len(m2.Meta) {
			t.Fatalf("round trip: got %+v, want %+v", m2, m)
		}
		for k, v := range m.Meta {
			if m2.Meta[k] != v {
				t.Fatalf("round trip meta %q: got %q, want %q", k, m2.Meta[k], v)
			}
		}
	})
}

func FuzzProtobuf(f *testing.F) {
	for _, b := range seedBodies(f, "protobuf") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Message
		err := Protobuf.Decode(data, &m)
		if diff := protoDifferential(data); diff != "" {
			t.Fatalf("differential: %s", diff)
		}
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("Decode: got %v, want a pack sentinel", err)
			}
			return
		}
		enc, err := Protobuf.Append(nil, &m)
		if err != nil {
			t.Fatalf("a decoded message must re-encode: %v", err)
		}
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(toPB(&m))
		if err != nil || !bytes.Equal(enc, want) {
			t.Fatalf("encode: got %x, proto.Marshal %x (%v)", enc, want, err)
		}
		var m2 Message
		if err := Protobuf.Decode(enc, &m2); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		enc2, _ := Protobuf.Append(nil, &m2)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("round trip: got %x, want %x", enc2, enc)
		}
	})
}

// chunkReader returns data in pieces whose sizes come from cuts.
type chunkReader struct {
	data, cuts []byte
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(r.data))
	if len(r.cuts) > 0 {
		n = min(n, 1+int(r.cuts[0]))
		r.cuts = r.cuts[1:]
	}
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

func FuzzReader(f *testing.F) {
	frames, limits := seedFrames(f)
	for i, fr := range frames {
		f.Add(fr, uint16(min(limits[i], 65535)), []byte{0, 5, 200})
	}
	f.Fuzz(func(t *testing.T, data []byte, limit uint16, cuts []byte) {
		lim := fuzzLimit(limit)
		want := decodeStream(BigEndian, AutoCodec, lim, data)
		r := NewReader(&chunkReader{data: data, cuts: cuts}, BigEndian, AutoCodec, lim)
		var got outcome
		for {
			var m Message
			if err := r.ReadMessage(&m); err != nil {
				if err != io.EOF {
					got.err = err
				}
				break
			}
			got.msgs = append(got.msgs, m)
		}
		if errorName(got.err) != errorName(want.err) || len(got.msgs) != len(want.msgs) {
			t.Fatalf("Reader: got %d messages and %v, Decoder: %d and %v", len(got.msgs), got.err, len(want.msgs), want.err)
		}
		for i := range want.msgs {
			g, w := toVectorMessage(&got.msgs[i]), toVectorMessage(&want.msgs[i])
			if g.Seq != w.Seq || g.URI != w.URI || g.BodyHex != w.BodyHex || len(g.Meta) != len(w.Meta) {
				t.Fatalf("message %d: Reader %+v, Decoder %+v", i, g, w)
			}
		}
	})
}
