package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/plexpush/plex/server"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// options are plexd's settings. Each comes from, in order of precedence: a
// command-line flag, an environment variable PLEX_<FLAG_NAME> (upper case,
// '-' → '_'), a key of the JSON config file given by -config, the default.
// The exception is -version, an action of the command line only
// (actionFlag).
type options struct {
	Config  string
	Version bool

	Addr      string
	InnerAddr string
	HTTP      string
	Advertise string
	Node      string

	Auth          string
	JWTSecret     string
	JWTPublicKey  string
	JWTIssuer     string
	JWTAudience   string
	Webhook       string
	WebhookTimout time.Duration
	Force         bool
	InnerSecret   string

	AuthTimeout      time.Duration
	Heartbeat        time.Duration
	HeartbeatTimeout time.Duration
	BgHeartbeat      time.Duration
	BgTimeout        time.Duration
	Order            string
	Codec            string
	MaxFrame         int
	MaxConns         int
	MaxInnerConns    int
	MaxPreAuth       int
	StoreRate        float64
	StoreBurst       int
	AckTimeout       time.Duration
	WriteQueue       int
	SecretFailBurst  int
	MaxLogins        int
	OnePerDevice     bool
	WSOrigins        string
	TLSCert          string
	TLSKey           string

	Upstream string
	DataDir  string
	Store    string
	NATS     string
	Sync     string

	NATSCreds       string
	NATSTLSCA       string
	NATSTLSCert     string
	NATSTLSKey      string
	NATSPrefix      string
	NATSReplicas    int
	clusterOptions  // -cluster-*: the embedded NATS server's cluster (cluster_flags.go)
	StoreMaxPerUser int
	StoreMaxBytes   int64
	NodeHeartbeat   time.Duration

	LogLevel  string
	LogFormat string
	LogBurst  int
	ReadyFile string

	APNsKey           string
	APNsKeyID         string
	APNsTeamID        string
	APNsTopic         string
	APNsSandbox       bool
	FCMServiceAccount string
	FCMProject        string
	webPushOptions    // -webpush-*: Web Push for browsers (webpush.go)
	Pprof             string

	file map[string]any // the config file's keys as read at start (reload compares)
}

func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("plexd", flag.ContinueOnError)
	fs.StringVar(&o.Config, "config", "", "JSON config file whose keys are flag names")
	fs.BoolVar(&o.Version, "version", false, "print plexd's version (module, VCS revision and time) and exit; command line only")
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:9578", "TCP address for apps and push clients")
	fs.StringVar(&o.InnerAddr, "inner-addr", "", "separate TCP address for push clients only")
	fs.StringVar(&o.HTTP, "http", "127.0.0.1:9579", "HTTP API address (empty: none)")
	fs.StringVar(&o.Advertise, "advertise", "", "host:port apps are told to dial (default: the listen address)")
	fs.StringVar(&o.Node, "node", "", "node id (default: random)")
	fs.StringVar(&o.Auth, "auth", "none", "app auth: none (token is the uid), jwt, webhook")
	fs.StringVar(&o.JWTSecret, "jwt-secret", "", "file holding the HMAC secret of HS256, HS384 and HS512 tokens (auth jwt)")
	fs.StringVar(&o.JWTPublicKey, "jwt-public-key", "", "PEM file of RS256/ES256 public keys (auth jwt)")
	fs.StringVar(&o.JWTIssuer, "jwt-issuer", "", "required iss claim (auth jwt)")
	fs.StringVar(&o.JWTAudience, "jwt-audience", "", "required aud claim (auth jwt)")
	fs.StringVar(&o.Webhook, "webhook", "", "URL the token is POSTed to (auth webhook)")
	fs.DurationVar(&o.WebhookTimout, "webhook-timeout", 3*time.Second, "webhook request timeout")
	fs.BoolVar(&o.Force, "force", false, "allow -auth none when -addr or -http (WebSocket logins) is not on loopback")
	fs.StringVar(&o.InnerSecret, "inner-secret", "", "push clients' secret (default: random, printed at start)")
	fs.DurationVar(&o.AuthTimeout, "auth-timeout", 10*time.Second, "time from connect to auth")
	fs.DurationVar(&o.Heartbeat, "heartbeat", 30*time.Second, "heartbeat interval announced to clients")
	fs.DurationVar(&o.HeartbeatTimeout, "heartbeat-timeout", 0, "close silent connections after this (default 2.5 × heartbeat)")
	fs.DurationVar(&o.BgHeartbeat, "background-heartbeat", server.DefaultBackgroundHeartbeatInterval, "heartbeat interval for apps in background mode (0: background mode off)")
	fs.DurationVar(&o.BgTimeout, "background-heartbeat-timeout", 0, "close silent background-mode connections after this (default 2.5 × background-heartbeat)")
	fs.StringVar(&o.Order, "order", "big", "frame header byte order: big or little")
	fs.StringVar(&o.Codec, "codec", "auto", "codec: auto (per connection), json, protobuf")
	fs.IntVar(&o.MaxFrame, "max-frame", 1<<20, "max frame body after auth, bytes")
	fs.IntVar(&o.MaxConns, "max-conns", 0, "max connections (0: no limit); -inner-addr's do not count")
	fs.IntVar(&o.MaxInnerConns, "max-inner-conns", 1024, "max connections on -inner-addr (push clients)")
	fs.Float64Var(&o.StoreRate, "store-rate", 0, "bytes per second the default app's persistent pushes and /messages may store (each targeted user counts); over it 4029; 0: unlimited")
	fs.DurationVar(&o.AckTimeout, "ack-timeout", 0, "the default app's ack timeout: a persistent push no device acked within it fires the vendor fallback (docs/vendor-push.md); a push's ack_timeout_ms overrides it; 0: none")
	fs.IntVar(&o.StoreBurst, "store-burst", 0, "bytes the default app may store at once under -store-rate (at least the largest frame)")
	fs.IntVar(&o.MaxPreAuth, "max-preauth-per-addr", 256, "connections one address (IPv6: its /64) may hold on the app listeners before they log in; more get 3004; -1: no bound (e.g. behind a proxy hiding addresses)")
	fs.IntVar(&o.WriteQueue, "write-queue", 4<<20, "max bytes queued per connection before it is dropped as a slow consumer")
	fs.IntVar(&o.MaxLogins, "max-logins", 256, "logins authenticating at once (webhook calls, store replays); 16 times as many may wait, more get /auth/failed 3005")
	fs.IntVar(&o.SecretFailBurst, "secret-fail-burst", 10, "wrong inner secrets (push clients, HTTP bearer) one address may send before it is refused with 4029/429 for a while (1 more per second); -1: off (e.g. behind a proxy hiding addresses)")
	fs.BoolVar(&o.OnePerDevice, "one-per-device", true, "a new login of the same uid+device replaces the old one with /disconnect 4002 (protocol §9); false keeps both")
	fs.StringVar(&o.WSOrigins, "ws-origins", "", "comma-separated browser origins or host patterns allowed on /plex/v1/ws besides the node's own (docs/web.md)")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "PEM certificate: serve TLS on -addr")
	fs.StringVar(&o.TLSKey, "tls-key", "", "PEM private key for -tls-cert")
	fs.StringVar(&o.Upstream, "upstream", "log", "upstream app messages: log, echo (send back; for tests), drop")
	fs.StringVar(&o.DataDir, "data-dir", "", "directory of the embedded NATS server's files: stored pushes, cursors, rooms (default: <host>_<port> under _build/plexd of the plex checkout plexd is started in, else under <user cache dir>/plexd; a temporary one when -addr has port 0)")
	fs.StringVar(&o.Store, "store", "nats", "nats (embedded or -nats: durable, clusterable) or memory (this node alone; stored pushes lost on restart)")
	fs.StringVar(&o.Sync, "sync", "default", "when the embedded NATS server fsyncs stored pushes: default (every 2 minutes; a process crash loses nothing acknowledged, a power loss up to that much), always (before acknowledging each push), or an interval such as 1s (docs/operations.md, Durability)")
	fs.StringVar(&o.NATS, "nats", "", "NATS URL(s), comma-separated, to join a cluster instead of embedding a NATS server")
	fs.StringVar(&o.NATSCreds, "nats-creds", "", "NATS credentials file (JWT + NKey seed) for -nats")
	fs.StringVar(&o.NATSTLSCA, "nats-tls-ca", "", "PEM CA bundle to verify the NATS servers (-nats with tls://)")
	fs.StringVar(&o.NATSTLSCert, "nats-tls-cert", "", "PEM client certificate for NATS (mutual TLS)")
	fs.StringVar(&o.NATSTLSKey, "nats-tls-key", "", "PEM private key for -nats-tls-cert")
	fs.StringVar(&o.NATSPrefix, "nats-prefix", "plex", "names this plex cluster's NATS subjects, stream and buckets (several clusters can share one NATS)")
	fs.IntVar(&o.NATSReplicas, "nats-replicas", 0, "JetStream replicas when creating the stream and buckets (0: min(3, NATS servers); with -cluster-peers: min(3, the nodes named))")
	o.clusterOptions.register(fs)
	fs.Int64Var(&o.StoreMaxBytes, "store-max-bytes", 0, "disk bytes the embedded JetStream may use for stored pushes (0: 75% of the data dir's free space when plexd starts); ignored with -nats")
	fs.IntVar(&o.StoreMaxPerUser, "store-max-per-user", 1000, "stored pushes kept per user when creating the stream; the oldest is dropped beyond it")
	fs.DurationVar(&o.NodeHeartbeat, "node-heartbeat", 2*time.Second, "how often the node announces its address and load; silent for 3 of these = dead")
	fs.StringVar(&o.LogLevel, "log-level", "info", "debug, info, warn, error")
	fs.StringVar(&o.LogFormat, "log-format", "text", "text or json")
	fs.IntVar(&o.LogBurst, "log-burst", 10, "log lines per message and level per second; the rest are dropped and counted (suppressed=N on the next one); 0: every line")
	fs.StringVar(&o.Pprof, "pprof", "", "serve net/http/pprof on this address (debugging; keep it on loopback)")
	fs.StringVar(&o.APNsKey, "apns-key", "", "APNs .p8 auth key file: offline users get APNs notifications (docs/vendor-push.md)")
	fs.StringVar(&o.APNsKeyID, "apns-key-id", "", "APNs key id")
	fs.StringVar(&o.APNsTeamID, "apns-team-id", "", "APNs team id")
	fs.StringVar(&o.APNsTopic, "apns-topic", "", "APNs topic (the app's bundle id)")
	fs.BoolVar(&o.APNsSandbox, "apns-sandbox", false, "use the APNs development environment")
	fs.StringVar(&o.FCMServiceAccount, "fcm-service-account", "", "FCM service-account JSON file: offline users get FCM notifications")
	fs.StringVar(&o.FCMProject, "fcm-project", "", "FCM project id (default: from the service account)")
	o.webPushOptions.register(fs)
	fs.StringVar(&o.ReadyFile, "ready-file", "", "write {\"addr\",\"http\",\"node\"} JSON here once listening (\"http\" with -http, \"inner\" with -inner-addr)")
	return fs
}

// jetStreamSync is -sync: when the embedded NATS server fsyncs JetStream's
// files. It applies to the embedded server only: -store memory has no
// files, and an external NATS (-nats) has its own sync_interval setting.
func (o *options) jetStreamSync() (always bool, interval time.Duration, err error) {
	switch o.Sync {
	case "default", "":
		return false, 0, nil
	case "always":
		always = true
	default:
		if interval, err = time.ParseDuration(o.Sync); err != nil || interval <= 0 {
			return false, 0, fmt.Errorf("-sync %q: want default, always or a positive interval such as 1s", o.Sync)
		}
	}
	if o.Store != "nats" || o.NATS != "" {
		return false, 0, fmt.Errorf("-sync %s applies to the embedded NATS server only (with -nats, set sync_interval in the NATS servers' configuration)", o.Sync)
	}
	return always, interval, nil
}

// parseOptions applies flags, then environment, then the config file.
func parseOptions(args []string, env func(string) string) (*options, error) {
	o := &options{}
	fs := newFlagSet(o)
	fs.SetOutput(io.Discard) // run reports the error once; -h prints the usage on stdout
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.Version { // an action: nothing else is read, so it works in any environment
		return o, nil
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var file map[string]any
	if o.Config != "" {
		b, err := os.ReadFile(o.Config)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &file); err != nil {
			return nil, fmt.Errorf("config %s: %w", o.Config, err)
		}
		if err := checkKeys(o.Config, file, fs); err != nil {
			return nil, err
		}
		o.file = file
	}
	var errs []error
	given := map[string]bool{} // by any source: validate asks
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			given[f.Name] = true
			return
		}
		if actionFlag(f.Name) {
			return
		}
		if v := env("PLEX_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))); v != "" {
			given[f.Name] = true
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("env for -%s: %w", f.Name, err))
			}
			return
		}
		if v, ok := file[f.Name]; ok {
			given[f.Name] = true
			if err := f.Value.Set(jsonValue(v)); err != nil {
				errs = append(errs, fmt.Errorf("config key %s: %w", f.Name, err))
			}
		}
	})
	if len(errs) > 0 {
		return o, errors.Join(errs...)
	}
	return o, o.validate(given)
}

// checkKeys refuses a config file key that names no flag ("apps": apps.go)
// or names an action.
func checkKeys(path string, file map[string]any, fs *flag.FlagSet) error {
	for k := range file {
		if fs.Lookup(k) == nil && k != "apps" {
			return fmt.Errorf("config %s: unknown key %q", path, k)
		}
		if actionFlag(k) {
			return fmt.Errorf("config %s: key %q is a command-line action (plexd -%s), not a setting", path, k, k)
		}
	}
	return nil
}

// actionFlag reports whether flag name is an action of the command line
// rather than a setting: no environment variable sets it (PLEX_VERSION may
// well be another tool's variable, and a node must not print and exit
// because of it) and a config file key naming it is refused (a file that
// turned every start into a version print would be a mistake).
func actionFlag(name string) bool { return name == "version" }

// validate refuses settings that are out of range or that the chosen
// auth ignores, instead of running with something the operator did not
// ask for (a negative size read as the default, a JWT key never used).
func (o *options) validate(given map[string]bool) error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if err := o.clusterOptions.validate(o.NATS, o.InnerSecret); err != nil {
		bad("%v", err)
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"max-frame", o.MaxFrame}, {"max-conns", o.MaxConns}, {"max-inner-conns", o.MaxInnerConns}, {"max-logins", o.MaxLogins}, {"write-queue", o.WriteQueue},
		{"nats-replicas", o.NATSReplicas}, {"store-max-per-user", o.StoreMaxPerUser}, {"store-burst", o.StoreBurst}} {
		if v.n < 0 {
			bad("-%s %d: must not be negative", v.name, v.n)
		}
	}
	if o.MaxFrame > 0 && o.MaxFrame < 1024 {
		bad("-max-frame %d: at least 1024 bytes", o.MaxFrame)
	}
	if o.NATSReplicas > 5 {
		bad("-nats-replicas %d: JetStream allows 1 to 5", o.NATSReplicas)
	}
	for _, v := range []struct {
		name string
		d    time.Duration
	}{{"auth-timeout", o.AuthTimeout}, {"heartbeat", o.Heartbeat}, {"heartbeat-timeout", o.HeartbeatTimeout},
		{"background-heartbeat", o.BgHeartbeat}, {"background-heartbeat-timeout", o.BgTimeout},
		{"node-heartbeat", o.NodeHeartbeat}, {"webhook-timeout", o.WebhookTimout}} {
		if v.d < 0 {
			bad("-%s %s: must not be negative", v.name, v.d)
		}
	}
	if o.StoreMaxBytes < 0 {
		bad("-store-max-bytes %d: must not be negative", o.StoreMaxBytes)
	}
	if o.AckTimeout < 0 {
		bad("-ack-timeout %v: must not be negative", o.AckTimeout)
	}
	if o.StoreRate < 0 {
		bad("-store-rate %v: must not be negative", o.StoreRate)
	}
	if o.HeartbeatTimeout > 0 && o.HeartbeatTimeout <= o.Heartbeat {
		bad("-heartbeat-timeout %s must be longer than -heartbeat %s", o.HeartbeatTimeout, o.Heartbeat)
	}
	if o.BgTimeout > 0 && o.BgTimeout <= o.BgHeartbeat {
		bad("-background-heartbeat-timeout %s must be longer than -background-heartbeat %s", o.BgTimeout, o.BgHeartbeat)
	}
	// flags of one auth given with another: the operator meant something
	for _, f := range []struct{ name, auth string }{
		{"jwt-secret", "jwt"}, {"jwt-public-key", "jwt"}, {"jwt-issuer", "jwt"}, {"jwt-audience", "jwt"},
		{"webhook", "webhook"}, {"webhook-timeout", "webhook"},
	} {
		if given[f.name] && o.Auth != f.auth {
			bad("-%s is only used with -auth %s (this node runs -auth %s)", f.name, f.auth, o.Auth)
		}
	}
	return errors.Join(errs...)
}

// jsonValue renders a config file value as flag text (JSON numbers arrive
// as float64: 1048576 must not become "1.048576e+06").
func jsonValue(v any) string {
	if f, ok := v.(float64); ok && f == float64(int64(f)) {
		return strconv.FormatInt(int64(f), 10)
	}
	return fmt.Sprint(v)
}
