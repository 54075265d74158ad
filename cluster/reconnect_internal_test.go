package cluster

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// feedChunks runs in through a fresh scanner in chunks of size n.
func feedChunks(in string, n int) (string, error) {
	var s protoScanner
	var out []byte
	for i := 0; i < len(in); i += n {
		var err error
		out, err = s.feed(out, []byte(in[i:min(i+n, len(in))]))
		if err != nil {
			return string(out), err
		}
	}
	return string(out), nil
}

func TestProtoScannerPassesTheProtocol(t *testing.T) {
	payload := "x\r\n-ERR 'Maximum Control Line Exceeded'\r\nMSG a 1 3\r\n" // lines inside a payload are data
	stream := "INFO {\"server_id\":\"x\",\"max_payload\":1048576}\r\n" +
		"PING\r\n+OK\r\nPONG\r\n" +
		"MSG plex.u.YWxpY2U 12 " + itoa(len(payload)) + "\r\n" + payload + "\r\n" +
		"MSG plex.u.Ym9i 7 _INBOX.abc.1 0\r\n\r\n" +
		"HMSG plex.u.Ym9i 9 12 " + itoa(12+len(payload)) + "\r\nNATS/1.0\r\n\r\n" + payload + "\r\n" +
		"-ERR 'Permissions Violation for Publish to \"x\"'\r\n" +
		"-ERR 'Stale Connection'\r\n" +
		"PING\r\n"
	for n := 1; n <= len(stream); n++ {
		out, err := feedChunks(stream, n)
		require.NoError(t, err, "chunks of %d", n)
		require.Equal(t, stream, out, "chunks of %d", n)
	}
}

func TestProtoScannerStopsAtFinalErrors(t *testing.T) {
	for _, line := range []string{
		"-ERR 'Maximum Control Line Exceeded'",
		"-ERR 'Maximum Payload Violation'",
		"-ERR 'Something New'",
	} {
		before := "PING\r\nMSG a 1 2\r\nhi\r\n"
		stream := before + line + "\r\nPING\r\n"
		for n := 1; n <= len(stream); n++ {
			out, err := feedChunks(stream, n)
			require.Error(t, err, "%s in chunks of %d", line, n)
			require.Contains(t, err.Error(), strings.Trim(strings.TrimPrefix(line, "-ERR "), "'"))
			require.Equal(t, before, out, "what came before the error reaches nats.go, the error line does not")
		}
	}
}

func TestProtoScannerStepsAsideForOtherProtocols(t *testing.T) {
	for _, stream := range []string{
		"INFO {}\r\n\x16\x03\x03\x00\x7a-ERR 'Maximum Control Line Exceeded'\r\n", // TLS after INFO
		"\x16\x03\x01\x02\x00",                                 // TLS first
		"HTTP/1.1 101 Switching Protocols\r\n\r\n-ERR 'x'\r\n", // WebSocket upgrade
	} {
		for n := 1; n <= len(stream); n++ {
			out, err := feedChunks(stream, n)
			require.NoError(t, err)
			require.Equal(t, stream, out)
		}
	}
}

func TestClosesForGood(t *testing.T) {
	for line, want := range map[string]bool{
		"-ERR 'Maximum Control Line Exceeded'":                   true,
		"-ERR 'Unknown Protocol Operation'":                      false,
		"-ERR 'Stale Connection'":                                false,
		"-ERR 'Authorization Violation'":                         false,
		"-ERR 'Permissions Violation for Subscription to \"x\"'": false,
		"-ERR 'Maximum Subscriptions Exceeded'":                  false,
		"-ERR 'maximum connections exceeded'":                    false,
	} {
		require.Equal(t, want, closesForGood(line), line)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
