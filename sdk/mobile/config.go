package plexmobile

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
)

// Background policies (Config.BackgroundPolicy): what EnterBackground does.
// BackgroundKeep is the zero value so that a Config written before the
// other policies existed keeps its behaviour; an app that stays connected
// in background should choose BackgroundSlowHeartbeat.
const (
	// BackgroundKeep keeps the connection, at the normal heartbeat pace,
	// while the app is in background. The OS may still suspend the
	// process; the SDK then notices the dead connection when it runs again
	// (heartbeat timeout) and reconnects.
	BackgroundKeep = 0
	// BackgroundDisconnect closes the connection in background (state
	// StateSuspended) and reconnects on EnterForeground, resuming the
	// persistent pushes that arrived in between. Use it when vendor push
	// (APNs/FCM) covers the background, to save battery and sockets.
	BackgroundDisconnect = 1
	// BackgroundSlowHeartbeat keeps the connection, like BackgroundKeep,
	// but asks the node for background mode (docs/protocol.md §11.1): the
	// SDK then heartbeats at the node's background interval (5 minutes by
	// default instead of 30 s), so the radio wakes far less often, and the
	// node waits correspondingly longer before it declares the connection
	// dead. Pushes and Send work as in the foreground; EnterForeground
	// returns to the normal pace at once. It holds for every reconnect
	// while in background. Against a node without background mode it
	// behaves as BackgroundKeep. Recommended for apps that stay connected
	// in background.
	BackgroundSlowHeartbeat = 2
)

// DefaultSendTimeoutMs bounds Send when Config.SendTimeoutMs is zero: long
// enough to ride out one reconnect with the default backoff, short enough
// that a UI action does not hang indefinitely.
const DefaultSendTimeoutMs = 15000

// Config configures a Client. Its zero value is valid except that Addrs or
// DiscoveryURL must be set; each field says what zero means. NewClient
// copies it: later changes do not affect an existing Client.
type Config struct {
	// Addrs are nodes' TCP addresses, comma-separated ("a.example:9578,
	// b.example:9578"), tried round-robin. Empty: use DiscoveryURL.
	Addrs string
	// DiscoveryURL is a node's HTTP API ("https://push.example.com"): the
	// SDK asks GET /plex/v1/host which node to dial before each attempt.
	// Used only when Addrs is empty.
	DiscoveryURL string
	// Token is the app's credential, sent in /auth/server; never logged.
	Token string
	// App names the app (tenant) to log in to, one the node serves beside
	// its default app (meta "app"). Zero: the node's default app.
	App string
	// Device identifies this installation among the user's devices; the
	// node keeps one resume cursor per device. Zero: "" (shared cursor).
	Device string
	// LastSeq is the highest persistent seq the app holds from an earlier
	// run (Client.LastSeq, persisted by the app). Zero: resume from what
	// this device acked.
	LastSeq int64
	// NoAcks turns acks off (the original plex contract: a persistent push
	// counts as delivered once written). Zero: acks and resume on.
	NoAcks bool

	// LittleEndian frame headers; must match the node. Zero: big-endian.
	LittleEndian bool
	// Codec is "json" or "protobuf"; must be one the node serves. Zero
	// (""): JSON. JSON bodies must be UTF-8; use protobuf for binary.
	Codec string

	// DialTimeoutMs bounds one attempt (discovery, dial, auth). Zero: 5000.
	DialTimeoutMs int64
	// BackoffMinMs and BackoffMaxMs shape the jittered exponential
	// reconnect backoff. Zero: 500 and 30000.
	BackoffMinMs int64
	BackoffMaxMs int64
	// SendTimeoutMs bounds Send, including waiting for a reconnect. Zero:
	// DefaultSendTimeoutMs.
	SendTimeoutMs int64
	// BackgroundPolicy is BackgroundKeep (zero), BackgroundDisconnect or
	// BackgroundSlowHeartbeat (recommended when the app stays connected in
	// background).
	BackgroundPolicy int64
}

// settings is a validated Config.
type settings struct {
	conn        client.ConnConfig // without callbacks and logger
	sendTimeout time.Duration
	background  int64
}

func (cfg *Config) settings() (settings, error) {
	if cfg == nil {
		return settings{}, fmt.Errorf("%w: nil Config", errConfig)
	}
	var s settings
	for _, a := range strings.Split(cfg.Addrs, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a); err != nil {
			return settings{}, fmt.Errorf("%w: Addrs: %q is not host:port", errConfig, a)
		}
		s.conn.Addrs = append(s.conn.Addrs, a)
	}
	if len(s.conn.Addrs) == 0 && cfg.DiscoveryURL == "" {
		return settings{}, fmt.Errorf("%w: set Addrs or DiscoveryURL", errConfig)
	}
	if len(s.conn.Addrs) == 0 {
		s.conn.DiscoveryURL = cfg.DiscoveryURL
	}
	s.conn.Token = plog.Secret(cfg.Token)
	s.conn.App = cfg.App
	s.conn.Device = cfg.Device
	if cfg.LastSeq < 0 {
		return settings{}, fmt.Errorf("%w: LastSeq %d is negative", errConfig, cfg.LastSeq)
	}
	s.conn.LastSeq = cfg.LastSeq
	s.conn.NoAcks = cfg.NoAcks
	if cfg.LittleEndian {
		s.conn.ByteOrder = pack.LittleEndian
	}
	switch cfg.Codec {
	case "", "json":
		s.conn.Codec = pack.JSON
	case "protobuf":
		s.conn.Codec = pack.Protobuf
	default:
		return settings{}, fmt.Errorf("%w: Codec %q: want \"json\" or \"protobuf\"", errConfig, cfg.Codec)
	}
	for _, f := range []struct {
		name string
		ms   int64
		dst  *time.Duration
	}{
		{"DialTimeoutMs", cfg.DialTimeoutMs, &s.conn.DialTimeout},
		{"BackoffMinMs", cfg.BackoffMinMs, &s.conn.Backoff.Min},
		{"BackoffMaxMs", cfg.BackoffMaxMs, &s.conn.Backoff.Max},
		{"SendTimeoutMs", cfg.SendTimeoutMs, &s.sendTimeout},
	} {
		if f.ms < 0 {
			return settings{}, fmt.Errorf("%w: %s %d is negative", errConfig, f.name, f.ms)
		}
		*f.dst = time.Duration(f.ms) * time.Millisecond
	}
	if s.sendTimeout == 0 {
		s.sendTimeout = DefaultSendTimeoutMs * time.Millisecond
	}
	switch cfg.BackgroundPolicy {
	case BackgroundKeep, BackgroundDisconnect, BackgroundSlowHeartbeat:
		s.background = cfg.BackgroundPolicy
	default:
		return settings{}, fmt.Errorf("%w: BackgroundPolicy %d: want BackgroundKeep (0), BackgroundDisconnect (1) or BackgroundSlowHeartbeat (2)", errConfig, cfg.BackgroundPolicy)
	}
	// The client validates the rest (discovery URL) without any I/O.
	if _, err := client.NewConn(s.conn); err != nil {
		return settings{}, fmt.Errorf("%w: %w", errConfig, err)
	}
	return s, nil
}
