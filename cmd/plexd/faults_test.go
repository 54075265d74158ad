package main

// Fault tests of the default daemon's durable path (issue 13): plexd killed
// with SIGKILL in the middle of a stream of persistent pushes, a full disk
// under the embedded NATS store, and an external NATS that goes away. Each
// checks the one promise of a persistent push: a Send that returned nil is
// delivered, once, in order; a Send that failed with 3005 is not.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/plexpush/plex/client"
	"github.com/plexpush/plex/cluster/embedded"
	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
)

// childArgsEnv carries plexd's arguments (newline-separated) to the child
// process that TestPlexdChildProcess turns into plexd.
const childArgsEnv = "PLEXD_FAULT_TEST_CHILD_ARGS"

// TestPlexdChildProcess is not a test: it is plexd, run by startPlexdProc
// in a child process (this test binary re-executed), so that a test can
// kill it with SIGKILL, which an in-process run cannot survive.
func TestPlexdChildProcess(t *testing.T) {
	args := os.Getenv(childArgsEnv)
	if args == "" {
		t.Skip("plexd for the fault tests; runs only in their child process")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, strings.Split(args, "\n"), noEnv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// plexdProc is plexd in a child process.
type plexdProc struct {
	cmd    *exec.Cmd
	addrs  map[string]string
	out    *syncBuf
	exited chan struct{}
}

func startPlexdProc(t *testing.T, args ...string) *plexdProc {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready.json")
	args = append([]string{"-http", "127.0.0.1:0", "-inner-secret", "s3cret", "-ready-file", ready, "-log-level", "warn"}, args...)
	cmd := exec.Command(os.Args[0], "-test.run=^TestPlexdChildProcess$")
	cmd.Env = append(os.Environ(), childArgsEnv+"="+strings.Join(args, "\n"))
	p := &plexdProc{cmd: cmd, out: &syncBuf{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	require.NoError(t, cmd.Start())
	go func() { _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.kill)
	require.Eventually(t, func() bool {
		select {
		case <-p.exited:
			return true
		default:
		}
		b, err := os.ReadFile(ready)
		return err == nil && json.Unmarshal(b, &p.addrs) == nil
	}, 30*time.Second, 10*time.Millisecond)
	require.NotEmpty(t, p.addrs["addr"], "plexd did not start: %s", p.out.String())
	return p
}

// kill is kill -9: no shutdown, no flush, the lock goes with the process.
func (p *plexdProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// freeAddr returns a loopback address with a port free right now, so that
// a restarted node listens where its clients reconnect.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// inbox records the persistent pushes an app's OnMessage got, in order.
type inbox struct {
	mu     sync.Mutex
	seqs   []int64
	bodies []string
}

func (b *inbox) onMessage(m *pack.Message) {
	if m.Get(pack.MetaPersist) != "1" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seqs = append(b.seqs, m.Seq)
	b.bodies = append(b.bodies, string(m.Body))
}

// snapshot returns body → seq, and fails on a body received twice or a
// seq that does not increase.
func (b *inbox) snapshot(t *testing.T, uid string) map[string]int64 {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	got := make(map[string]int64, len(b.bodies))
	for i, body := range b.bodies {
		_, dup := got[body]
		require.False(t, dup, "%s: %q delivered twice", uid, body)
		got[body] = b.seqs[i]
		if i > 0 {
			require.Greater(t, b.seqs[i], b.seqs[i-1], "%s: seq order at message %d", uid, i)
		}
	}
	return got
}

func (b *inbox) has(body string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.bodies {
		if s == body {
			return true
		}
	}
	return false
}

// dialInbox connects an acking app (device "phone") whose persistent
// pushes go to a new inbox.
func dialInbox(t *testing.T, addr, uid string) *inbox {
	t.Helper()
	b := &inbox{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.ConnConfig{Addrs: []string{addr}, Token: plog.Secret(uid), Device: "phone",
		Backoff: client.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}, OnMessage: b.onMessage})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return b
}

// acked is a persistent Send that returned nil.
type acked struct {
	uid, body string
	seq       int64
}

// TestKillDuringPersistentStream: plexd (default store: embedded NATS
// JetStream on disk) is killed with SIGKILL while 20,000 persistent pushes
// to five users stream in through one PlexClient with 512 in flight, and
// restarted on the same data directory and port. Two users are online
// through client.Conn (acks, device id) during the kill and resume by
// themselves; three log in only after the restart; one of these gets its
// pushes from a single goroutine, one Send after the other. Every push
// whose Send returned nil arrives exactly once, with the seq its Send
// returned, each user's pushes in increasing seq, and the sequential
// user's in the order they were sent. Sends answered with an error may or
// may not arrive (the kill took their answer), but never twice.
func TestKillDuringPersistentStream(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts plexd under a 20,000-push stream (about 10-20 s with -race)")
	}
	const total, inflight, killAfter = 20000, 512, 6000
	addr, dir := freeAddr(t), t.TempDir()
	args := []string{"-addr", addr, "-data-dir", dir, "-store-max-per-user", "100000"}
	p := startPlexdProc(t, args...)
	pc, err := client.New(client.Config{Addrs: []string{addr}, Secret: "s3cret",
		Backoff: client.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}})
	require.NoError(t, err)
	defer pc.Close()

	inboxes := map[string]*inbox{"alice": dialInbox(t, addr, "alice"), "bob": dialInbox(t, addr, "bob")}
	users := []string{"alice", "bob", "carol", "dave"}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var mu sync.Mutex
	var ok []acked
	var seqOK []acked // erin's, in the order sent
	var nOK, nFailed atomic.Int64
	killNow := make(chan struct{})
	send := func(uid, body string) error {
		res, err := pc.Send(ctx, uid, "/p", []byte(body), client.Persist(time.Hour))
		if err != nil {
			nFailed.Add(1)
			return err
		}
		mu.Lock()
		ok = append(ok, acked{uid, body, res.Seq})
		mu.Unlock()
		if nOK.Add(1) == killAfter {
			close(killNow)
		}
		return nil
	}
	var next atomic.Int64
	var streaming sync.WaitGroup
	for range inflight {
		streaming.Go(func() {
			for i := int(next.Add(1) - 1); i < total; i = int(next.Add(1) - 1) {
				uid := users[i%len(users)]
				_ = send(uid, fmt.Sprintf("%s-%05d", uid, i))
			}
		})
	}
	var stopSeq atomic.Bool
	seqDone := make(chan struct{})
	go func() {
		defer close(seqDone)
		for i := 0; !stopSeq.Load() && ctx.Err() == nil; i++ {
			body := fmt.Sprintf("erin-%05d", i)
			res, err := pc.Send(ctx, "erin", "/p", []byte(body), client.Persist(time.Hour))
			if err == nil {
				seqOK = append(seqOK, acked{"erin", body, res.Seq})
			}
		}
	}()

	select {
	case <-killNow:
	case <-ctx.Done():
		t.Fatalf("only %d Sends succeeded before the deadline: %s", nOK.Load(), p.out.String())
	}
	p.kill()
	killedAt := nOK.Load()
	p = startPlexdProc(t, args...)
	streaming.Wait()
	stopSeq.Store(true)
	<-seqDone
	require.NoError(t, ctx.Err())
	t.Logf("%d Sends returned nil (%d before the kill, %d from erin), %d failed", nOK.Load(), killedAt, len(seqOK), nFailed.Load())
	require.Greater(t, nOK.Load(), int64(total/2))

	for _, uid := range []string{"carol", "dave", "erin"} {
		inboxes[uid] = dialInbox(t, p.addrs["addr"], uid)
	}
	want := map[string][]acked{}
	for _, a := range append(ok, seqOK...) {
		want[a.uid] = append(want[a.uid], a)
	}
	for uid, list := range want {
		require.Eventually(t, func() bool {
			for _, a := range list {
				if !inboxes[uid].has(a.body) {
					return false
				}
			}
			return true
		}, 30*time.Second, 50*time.Millisecond, "%s: not every acknowledged push arrived", uid)
	}
	for uid, list := range want {
		got := inboxes[uid].snapshot(t, uid) // no duplicates, seqs increase
		for _, a := range list {
			require.Equal(t, a.seq, got[a.body], "%s: %q arrived with another seq than its Send returned", uid, a.body)
		}
	}
	for i := 1; i < len(seqOK); i++ {
		require.Greater(t, seqOK[i].seq, seqOK[i-1].seq, "erin's sequential Sends are stored in the order sent")
	}
}

// TestDiskFull: plexd's data directory is a small tmpfs (the test mounts
// one; it skips when it cannot, e.g. not root), and a filler file takes
// every free byte. Persistent Sends then fail with an error, never nil;
// the node stays up (health, heartbeat echo, transient pushes) and says
// it cannot store (/readyz?store=1 503, /readyz 200). Space comes back and
// persistent Sends succeed again without restarting plexd: nats-server
// (v2.15) keeps a stream's write error until JetStream restarts, so plexd
// restarts JetStream on the same files once its probe finds nothing stored
// and the disk has room (storewatch.go). Every push acknowledged before,
// during and after is delivered; none refused with 3005 is.
func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for stalled store writes (about 30 s)")
	}
	dir := mountTmpfs(t, 16<<20)
	p := runPlexd(t, "-data-dir", dir)
	const timeout = 3 * time.Second
	pc, err := client.New(client.Config{Addrs: []string{p.addrs["addr"]}, Secret: "s3cret", RequestTimeout: timeout})
	require.NoError(t, err)
	defer pc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	var ok, refused []string
	var unknown int
	attempt := 0
	persist := func(label string) error {
		attempt++
		body := fmt.Sprintf("%s-%d", label, attempt)
		_, err := pc.Send(ctx, "alice", "/p", []byte(body), client.Persist(time.Hour))
		switch {
		case err == nil:
			ok = append(ok, body)
		case errors.Is(err, pack.CodeInternal):
			refused = append(refused, body)
		default:
			unknown++
		}
		return err
	}
	for range 50 {
		require.NoError(t, persist("before"))
	}

	filler := fill(t, dir)
	var fullErr error
	for i := 0; i < 2000 && fullErr == nil; i++ {
		fullErr = persist("full") // the last page's slack still takes a few
	}
	require.Error(t, fullErr, "a persistent Send on a full disk returned nil 2000 times")
	t.Logf("full disk: %d acknowledged before the first error: %v", len(ok)-50, fullErr)
	require.Error(t, persist("still-full"), "while the disk is full")

	require.Equal(t, 200, p.status("/healthz"), "the node stays up")
	require.Eventually(t, func() bool { return p.status("/readyz?store=1") == 503 }, 20*time.Second, 50*time.Millisecond,
		"store readiness says it cannot store")
	require.Equal(t, 200, p.status("/readyz"), "apps are still welcome")
	a := dialApp(t, p.addrs["addr"], "bob")
	a.send(t, pack.Message{URI: pack.URIHeartbeat})
	require.Equal(t, pack.URIHeartbeat, a.read(t).URI)
	res, err := pc.Send(ctx, "bob", "/t", []byte("transient"))
	require.NoError(t, err, "transient pushes need no disk")
	require.Equal(t, 1, res.Delivered)
	require.Equal(t, "transient", string(a.read(t).Body))

	require.NoError(t, os.Remove(filler))
	require.Eventually(t, func() bool { return persist("space-back") == nil }, 60*time.Second, 200*time.Millisecond,
		"persistent Sends succeed again without a restart once space is back")
	require.Eventually(t, func() bool { return p.status("/readyz?store=1") == 200 }, 20*time.Second, 50*time.Millisecond)
	for range 20 {
		require.NoError(t, persist("after"), "persistent Sends succeed after space came back")
	}

	in := dialInbox(t, p.addrs["addr"], "alice")
	require.Eventually(t, func() bool {
		for _, b := range ok {
			if !in.has(b) {
				return false
			}
		}
		return true
	}, 20*time.Second, 50*time.Millisecond, "every acknowledged push arrives")
	got := in.snapshot(t, "alice")
	for _, b := range refused {
		require.NotContains(t, got, b, "a push refused with 3005 was stored")
	}
	t.Logf("%d acknowledged, %d refused (3005), %d outcome unknown", len(ok), len(refused), unknown)
}

// mountTmpfs mounts a tmpfs of size bytes on a new directory, unmounted
// at cleanup (after the cleanups registered later, such as plexd's stop).
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			_ = syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return dir
}

// fill writes a file that takes every free byte of dir's file system.
func fill(t *testing.T, dir string) string {
	t.Helper()
	name := filepath.Join(dir, "filler")
	f, err := os.Create(name)
	require.NoError(t, err)
	defer f.Close()
	for _, chunk := range []int{1 << 20, 4 << 10, 1} {
		buf := make([]byte, chunk)
		for {
			if _, err := f.Write(buf); err != nil {
				require.ErrorIs(t, err, syscall.ENOSPC)
				break
			}
		}
	}
	return name
}

// TestNATSAwayPersistentSendFails: plexd on an external NATS (-nats) whose
// server stops. A persistent Send then fails within the PlexClient's
// request timeout (an error, never nil); after NATS is back on the same
// store, every push acknowledged before the outage is delivered, and a
// push refused with 3005 is not.
func TestNATSAwayPersistentSendFails(t *testing.T) {
	natsDir, natsAddr := t.TempDir(), freeAddr(t)
	ns, err := embedded.Start(embedded.Config{StoreDir: natsDir, Listen: natsAddr})
	require.NoError(t, err)
	p := runPlexd(t, "-nats", "nats://"+natsAddr, "-node-heartbeat", "200ms")
	require.Eventually(t, func() bool { return p.status("/readyz") == 200 }, 20*time.Second, 20*time.Millisecond)
	const timeout = 30 * time.Second // generous: the node, not the client's timer, must answer
	pc, err := client.New(client.Config{Addrs: []string{p.addrs["addr"]}, Secret: "s3cret", RequestTimeout: timeout})
	require.NoError(t, err)
	defer pc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var before []string
	for i := range 200 {
		body := fmt.Sprintf("before-%d", i)
		_, err := pc.Send(ctx, "alice", "/p", []byte(body), client.Persist(time.Hour))
		require.NoError(t, err)
		before = append(before, body)
	}

	ns.Shutdown()
	start := time.Now()
	_, err = pc.Send(ctx, "alice", "/p", []byte("while away"), client.Persist(time.Hour))
	took := time.Since(start)
	require.Error(t, err, "a persistent Send with NATS away")
	code, _ := pack.CodeOf(err)
	require.True(t, code == pack.CodeInternal || code == pack.CodeOutcomeUnknown,
		"the node answers with a code (3005 or 3008), not the client's timeout: %v", err)
	t.Logf("Send with NATS away failed after %s: %v", took.Round(time.Millisecond), err)
	notStored := errors.Is(err, pack.CodeInternal)

	ns, err = embedded.Start(embedded.Config{StoreDir: natsDir, Listen: natsAddr})
	require.NoError(t, err)
	defer ns.Shutdown()
	require.Eventually(t, func() bool { return p.status("/readyz") == 200 }, 20*time.Second, 20*time.Millisecond)
	var back string
	require.Eventually(t, func() bool {
		back = fmt.Sprintf("back-%d", time.Now().UnixNano())
		_, err := pc.Send(ctx, "alice", "/p", []byte(back), client.Persist(time.Hour))
		return err == nil
	}, 20*time.Second, 100*time.Millisecond)

	in := dialInbox(t, p.addrs["addr"], "alice")
	require.Eventually(t, func() bool { return in.has(back) }, 20*time.Second, 20*time.Millisecond)
	got := in.snapshot(t, "alice")
	for _, b := range before {
		require.Contains(t, got, b, "acknowledged before NATS went away")
	}
	if notStored {
		require.NotContains(t, got, "while away", "refused with 3005, yet stored")
	}
	p.stop(t) // before NATS: plexd shuts down cleanly
}

// TestSyncOption: -sync (also PLEX_SYNC, config key "sync") picks when the
// embedded NATS server fsyncs, and is refused where it cannot apply.
func TestSyncOption(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		always   bool
		interval time.Duration
		err      string
	}{
		{args: nil},
		{args: []string{"-sync", "default"}},
		{args: []string{"-sync", "always"}, always: true},
		{args: []string{"-sync", "1s"}, interval: time.Second},
		{args: []string{"-sync", "sometimes"}, err: "want default, always"},
		{args: []string{"-sync", "0s"}, err: "want default, always"},
		{args: []string{"-sync", "always", "-store", "memory"}, err: "embedded NATS server only"},
		{args: []string{"-sync", "always", "-nats", "nats://127.0.0.1:4222"}, err: "embedded NATS server only"},
	} {
		o, err := parseOptions(tc.args, noEnv)
		require.NoError(t, err, "%v", tc.args)
		always, interval, err := o.jetStreamSync()
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, "%v", tc.args)
			continue
		}
		require.NoError(t, err, "%v", tc.args)
		require.Equal(t, tc.always, always, "%v: always", tc.args)
		require.Equal(t, tc.interval, interval, "%v: interval", tc.args)
	}
	o, err := parseOptions(nil, func(k string) string { return map[string]string{"PLEX_SYNC": "always"}[k] })
	require.NoError(t, err)
	require.Equal(t, "always", o.Sync, "from the environment")

	var stderr syncBuf
	require.Equal(t, 1, run(context.Background(), []string{"-store", "memory", "-sync", "always", "-addr", "127.0.0.1:0", "-http", ""}, noEnv, &syncBuf{}, &stderr))
	require.Contains(t, stderr.String(), "-sync")

	dir := t.TempDir()
	p := runPlexd(t, "-data-dir", dir, "-sync", "always")
	out := p.push(t, `{"uid":"alice","uri":"/p","body":"fsynced","persist":true}`)
	require.EqualValues(t, 1, out["stored"])
	p.stop(t)
	p = runPlexd(t, "-data-dir", dir, "-sync", "always")
	r, _ := login(t, p.addrs["addr"], "alice")
	var m pack.Message
	require.NoError(t, r.ReadMessage(&m))
	require.Equal(t, "fsynced", string(m.Body))
}
