package pack_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing/iotest"

	"github.com/plexpush/plex/pack"
)

// The first frame an app sends: its token on /auth/server, in the JSON shape
// the original plex spoke, behind a big-endian 4-byte length.
func ExampleAppendFrame() {
	m := pack.Message{URI: pack.URIAuth, Body: []byte("12345")}
	frame, err := pack.AppendFrame(nil, pack.BigEndian, pack.JSON, &m)
	if err != nil {
		panic(err)
	}
	fmt.Printf("header % x\n", frame[:pack.HeaderSize])
	fmt.Printf("body   %s\n", frame[pack.HeaderSize:])

	frame, _ = pack.AppendFrame(nil, pack.LittleEndian, pack.Protobuf, &m)
	fmt.Printf("protobuf, little-endian: % x\n", frame)
	// Output:
	// header 00 00 00 25
	// body   {"uri":"/auth/server","body":"12345"}
	// protobuf, little-endian: 15 00 00 00 12 0c 2f 61 75 74 68 2f 73 65 72 76 65 72 1a 05 31 32 33 34 35
}

// A Decoder is fed whatever bytes arrived, split anywhere, and hands back
// whole frame bodies. A node starts with the small pre-auth limit and
// raises it once the connection has authenticated.
func ExampleDecoder() {
	var stream []byte
	stream, _ = pack.AppendFrame(stream, pack.BigEndian, pack.JSON, &pack.Message{URI: pack.URIAuth, Body: []byte("alice")})
	stream, _ = pack.AppendFrame(stream, pack.BigEndian, pack.JSON, &pack.Message{Seq: 1, URI: "/chat", Body: []byte("hi")})

	d := pack.NewDecoder(pack.BigEndian, pack.DefaultAuthLimit)
	var codec pack.Codec // detected from the first frame
	var m pack.Message
	for _, chunk := range [][]byte{stream[:7], stream[7:30], stream[30:]} { // as reads deliver it
		d.Feed(chunk)
		for {
			body, ok, err := d.Next()
			if err != nil {
				fmt.Println("close:", err)
				return
			}
			if !ok {
				break // need more bytes
			}
			if codec == pack.AutoCodec {
				codec, _ = pack.Detect(body)
			}
			if err := codec.Decode(body, &m); err != nil {
				fmt.Println("bad message:", err)
				continue
			}
			fmt.Printf("%s seq=%d uri=%s body=%s\n", codec, m.Seq, m.URI, m.Body)
			if m.URI == pack.URIAuth {
				d.SetLimit(pack.DefaultLimit) // authenticated: larger frames allowed
			}
		}
	}
	fmt.Println("end:", d.Finish())
	// Output:
	// json seq=0 uri=/auth/server body=alice
	// json seq=1 uri=/chat body=hi
	// end: <nil>
}

// A frame whose header claims more than the limit is refused from its
// header alone, before anything is allocated for it.
func ExampleDecoder_limit() {
	d := pack.NewDecoder(pack.BigEndian, pack.DefaultAuthLimit)
	d.Feed([]byte{0xff, 0xff, 0xff, 0xff, '{'})
	_, _, err := d.Next()
	fmt.Println(errors.Is(err, pack.ErrFrameTooLarge), pack.CodeFrameTooLarge.Reconnect())
	// Output:
	// true true
}

// Writer batches frames and writes them with one Write per Flush; Reader
// reads messages back from any io.Reader.
func ExampleWriter() {
	var conn bytes.Buffer // stands in for a net.Conn
	w := pack.NewWriter(&conn, pack.BigEndian, pack.Protobuf)
	for i := int64(1); i <= 3; i++ {
		if err := w.WriteMessage(&pack.Message{Seq: i, URI: "/chat", Body: fmt.Appendf(nil, "message %d", i)}); err != nil {
			panic(err)
		}
	}
	fmt.Println("batched bytes:", w.Buffered())
	if err := w.Flush(); err != nil {
		panic(err)
	}

	r := pack.NewReader(&conn, pack.BigEndian, pack.AutoCodec, pack.DefaultLimit)
	for {
		var m pack.Message
		err := r.ReadMessage(&m)
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s %d %s %s\n", r.Codec(), m.Seq, m.URI, m.Body)
	}
	// Output:
	// batched bytes: 72
	// protobuf 1 /chat message 1
	// protobuf 2 /chat message 2
	// protobuf 3 /chat message 3
}

// Reader reads from any io.Reader, however it splits the stream; a stream
// that ends inside a frame is ErrTruncated, at a frame boundary io.EOF.
func ExampleReader() {
	frame, _ := pack.EncodeFrame(pack.LittleEndian, pack.JSON, &pack.Message{URI: pack.URIHeartbeat})
	stream := append(frame, frame[:6]...) // a whole frame, then a cut one

	r := pack.NewReader(iotest.OneByteReader(bytes.NewReader(stream)), pack.LittleEndian, pack.AutoCodec, 0)
	var m pack.Message
	fmt.Println(r.ReadMessage(&m), m.URI)
	fmt.Println(r.ReadMessage(&m))
	// Output:
	// <nil> /heartbeat
	// pack: truncated frame
}

// A broadcast is encoded once per codec and the same bytes are queued for
// every connection.
func ExampleShared() {
	s := pack.NewShared(pack.BigEndian, pack.Message{URI: "/news", Body: []byte("hello, all")})
	a, _ := s.Frame(pack.JSON)
	b, _ := s.Frame(pack.JSON)
	fmt.Println(&a[0] == &b[0], string(a[pack.HeaderSize:]))
	// Output:
	// true {"uri":"/news","body":"hello, all"}
}

// ErrorOf turns an error frame into an error whose code tells a client
// whether to reconnect.
func ExampleErrorOf() {
	m := pack.ErrorMessage(pack.URIDisconnect, 0, pack.CodeShutdown, "")
	err := error(pack.ErrorOf(&m))
	fmt.Println(err, errors.Is(err, pack.CodeShutdown), pack.CodeShutdown.Reconnect())

	// An original plex node sends /auth/failed without a code.
	old := pack.Message{URI: pack.URIAuthFailed, Body: []byte("token invalid")}
	ce := pack.ErrorOf(&old)
	fmt.Println(ce, ce.Code.Reconnect())
	// Output:
	// plex: 3000 server shutting down true true
	// plex: 4001 auth failed: token invalid false
}
