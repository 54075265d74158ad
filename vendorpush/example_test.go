package vendorpush_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
	"github.com/plexpush/plex/vendorpush"
	"github.com/plexpush/plex/vendorpush/apns"
	"github.com/plexpush/plex/vendorpush/fcm"
)

// Example wires APNs and FCM into a node's offline hook. It needs real
// credentials, so it is compiled but not run.
func Example() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))

	p8, err := os.ReadFile("AuthKey_ABC123DEFG.p8") // from the Apple developer account
	if err != nil {
		log.Fatal(err)
	}
	ap, err := apns.New(apns.Config{
		AuthKey: p8,
		KeyID:   "ABC123DEFG",
		TeamID:  "DEF123GHIJ",
		Topic:   "com.example.chat", // the app's bundle id
		Logger:  logger,
	})
	if err != nil {
		log.Fatal(err)
	}
	sa, err := os.ReadFile("service-account.json") // from the Firebase project
	if err != nil {
		log.Fatal(err)
	}
	fc, err := fcm.New(fcm.Config{ServiceAccount: sa, Logger: logger})
	if err != nil {
		log.Fatal(err)
	}

	// The app reports its device token after login; keep it per user.
	reg := vendorpush.NewMemoryRegistry(0)
	_ = reg.Add("alice", vendorpush.Device{Platform: vendorpush.APNs, Token: "5f1c2b7a9e0d…"})

	d, err := vendorpush.New(reg, map[vendorpush.Platform]vendorpush.Sender{
		vendorpush.APNs: ap,
		vendorpush.FCM:  fc,
	}, vendorpush.Config{Logger: logger})
	if err != nil {
		log.Fatal(err)
	}

	srv, err := server.New(server.Config{Addr: ":9578", OnUndelivered: d.Hook, Logger: logger})
	if err != nil {
		log.Fatal(err)
	}
	go func() { _ = srv.ListenAndServe() }()

	// … and on the way out: the node first (it runs the last hooks), then
	// the dispatcher (it sends what they queued).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	_ = d.Shutdown(ctx)
	ap.CloseIdleConnections()
	fc.CloseIdleConnections()
}

// ExampleDispatcher_Hook shows what a plex push becomes, with a Sender that
// prints instead of calling a vendor.
func ExampleDispatcher_Hook() {
	reg := vendorpush.NewMemoryRegistry(0)
	_ = reg.Add("alice", vendorpush.Device{Platform: vendorpush.FCM, Token: "fcm-token-of-alices-phone"})
	printer := vendorpush.SenderFunc(func(_ context.Context, n vendorpush.Notification) error {
		fmt.Printf("to %s: %q %q data=%v\n", vendorpush.Redact(n.Token), n.Title, n.Body, n.Data)
		return nil
	})
	d, err := vendorpush.New(reg, map[vendorpush.Platform]vendorpush.Sender{vendorpush.FCM: printer}, vendorpush.Config{})
	if err != nil {
		log.Fatal(err)
	}

	// The node calls this when a push finds no connection of alice's
	// (server.Config{OnUndelivered: d.Hook}).
	d.Hook("alice", &pack.Message{
		URI:  "/chat",
		Body: []byte(`{"text":"hi"}`),
		Meta: map[string]string{"title": "Bob", "alert": "hi", "data.conv": "42"},
	}, true)
	// A push that must not become a notification.
	d.Hook("alice", &pack.Message{URI: "/typing", Meta: map[string]string{"push": "0"}}, false)

	_ = d.Shutdown(context.Background())
	fmt.Printf("%+v\n", d.Stats())
	// Output:
	// to fcm-to…(25): "Bob" "hi" data=map[body:{"text":"hi"} conv:42 persist:1 uri:/chat]
	// {Queued:1 Skipped:1 Dropped:0 Discarded:0 NoDevices:0 Sent:1 Failed:0 NoSender:0 Removed:0}
}
