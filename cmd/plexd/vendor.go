package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/plog"
	"github.com/plexpush/plex/server"
	"github.com/plexpush/plex/vendorpush"
	"github.com/plexpush/plex/vendorpush/apns"
	"github.com/plexpush/plex/vendorpush/fcm"
	"github.com/plexpush/plex/vendorpush/webpush"
)

// Device registration URIs: upstream conventions of plexd (not of the wire
// protocol) that apps use when vendor push is enabled. Body:
// {"platform":"apns"|"fcm"|"webpush","token":"…"} (for webpush the token
// is the subscription's JSON, as a string); answered /reply {"ok":true}, or
// /error 4004 (bad request), 4029 (too many registrations in progress) or
// 3005 (the registry cannot be reached), with the request's seq. A token
// is recorded with the registering connection's device id (meta "device"
// of its /auth/server; "" without one), so that the vendor fallback of a
// push to one device goes to that device's tokens only.
const (
	uriDeviceRegister   = "/device/register"
	uriDeviceUnregister = "/device/unregister"
)

// startVendorPush wires APNs, FCM and/or Web Push behind the offline hook
// when their credentials are given; nil when none is. Device tokens are kept in the
// cluster's KV bucket with the NATS store (shared by every node, durable),
// or in memory with -store memory (apps register again after they
// reconnect to a restarted node).
func startVendorPush(o *options, cfg *server.Config, cl *clusterNode, log *slog.Logger) (*vendorpush.Dispatcher, error) {
	senders := map[vendorpush.Platform]vendorpush.Sender{}
	if o.APNsKey != "" {
		key, err := os.ReadFile(o.APNsKey)
		if err != nil {
			return nil, fmt.Errorf("-apns-key: %w", err)
		}
		c, err := apns.New(apns.Config{AuthKey: key, KeyID: o.APNsKeyID, TeamID: o.APNsTeamID,
			Topic: o.APNsTopic, Sandbox: o.APNsSandbox, Logger: log})
		if err != nil {
			return nil, err
		}
		senders[vendorpush.APNs] = c
	}
	if o.FCMServiceAccount != "" {
		sa, err := os.ReadFile(o.FCMServiceAccount)
		if err != nil {
			return nil, fmt.Errorf("-fcm-service-account: %w", err)
		}
		c, err := fcm.New(fcm.Config{ServiceAccount: sa, ProjectID: o.FCMProject, Logger: log})
		if err != nil {
			return nil, err
		}
		senders[vendorpush.FCM] = c
	}
	wp, err := startWebPush(o, cfg, cl, log)
	if err != nil {
		return nil, err
	}
	if wp != nil {
		senders[vendorpush.WebPush] = wp
	}
	if len(senders) == 0 {
		return nil, nil
	}
	rg := &registrar{senders: senders, log: log, pending: map[string][]deviceRequest{}}
	if cl != nil && cl.c != nil {
		rg.reg, rg.async = cl.c.Devices(maxDevicesPerUser), true
	} else {
		rg.reg = memoryDevices{vendorpush.NewMemoryRegistry(maxDevicesPerUser)}
	}
	d, err := vendorpush.New(rg.reg, senders, vendorpush.Config{Logger: log})
	if err != nil {
		return nil, err
	}
	cfg.OnUndelivered = d.Hook
	// delivered but not acked within the push's ack timeout: the same
	// notification (server/ack_deadline.go)
	cfg.OnUnacked = func(uid string, m *pack.Message) { d.Hook(uid, m, true) }
	next := cfg.OnUpstream
	cfg.OnUpstream = func(s *server.Session, m *pack.Message) {
		switch m.URI {
		case uriDeviceRegister, uriDeviceUnregister:
			rg.handle(s, m)
		default:
			if next != nil {
				next(s, m)
			}
		}
	}
	return d, nil
}

const (
	// maxDevicesPerUser: phones, tablets and a reinstall or two; it bounds
	// what one account can make the node send.
	maxDevicesPerUser = vendorpush.DefaultMaxDevices
	// registerTimeout bounds one registration in the cluster's bucket: a
	// few KV round trips, each bounded by the cluster's request timeout
	// (3s), with room for a retry after a conflict.
	registerTimeout = 10 * time.Second
	// maxPendingRegistrations bounds the registrations waiting for the
	// bucket, all users together: apps register once per connect, so even
	// a reconnect storm of many thousand apps fits through at KV speed;
	// beyond it the node answers 4029 (retry later) instead of piling up.
	maxPendingRegistrations = 1024
)

// deviceStore is where plexd keeps device tokens.
type deviceStore interface {
	vendorpush.DeviceRegistry
	Add(ctx context.Context, uid string, d vendorpush.Device) error
}

// memoryDevices adapts vendorpush.MemoryRegistry (no I/O, no ctx).
type memoryDevices struct{ *vendorpush.MemoryRegistry }

func (m memoryDevices) Add(_ context.Context, uid string, d vendorpush.Device) error {
	return m.MemoryRegistry.Add(uid, d)
}

// registrar answers /device/register and /device/unregister.
//
// It is called on the connection's read path, which must not block. The
// memory registry answers at once; the cluster's bucket is a network
// round trip away, so its requests are queued per user and run by one
// goroutine per user with requests pending, which answers each (/reply or
// /error with the request's seq) and exits when the user's queue is
// empty. One user's requests thus run in the order they arrived (a
// register followed by an unregister ends unregistered), every request
// ends within registerTimeout, and at most maxPendingRegistrations wait.
type registrar struct {
	reg     deviceStore
	async   bool // reg does I/O: run requests off the read path
	senders map[vendorpush.Platform]vendorpush.Sender
	log     *slog.Logger

	mu      sync.Mutex
	pending map[string][]deviceRequest // uid → requests in arrival order; present while its goroutine runs
	n       int                        // requests queued or running, all users
}

// deviceRequest is one parsed registration request.
type deviceRequest struct {
	s      *server.Session
	seq    int64
	remove bool
	uid    string
	dev    vendorpush.Device
}

func (rg *registrar) handle(s *server.Session, m *pack.Message) {
	var body struct {
		Platform vendorpush.Platform `json:"platform"`
		Token    string              `json:"token"`
	}
	uid := server.QualifiedUID(s.App(), s.UID()) // the offline hook's name for the user
	err := json.Unmarshal(m.Body, &body)
	if err == nil && (body.Token == "" || rg.senders[body.Platform] == nil) {
		err = fmt.Errorf("platform must be one of the enabled vendors and token non-empty")
	}
	if err == nil && body.Platform == vendorpush.WebPush {
		// One form per subscription, so that a browser registering again
		// is the same device; a bad one is refused now, not at send time.
		body.Token, err = webpush.CanonicalToken(body.Token)
	}
	if err != nil {
		replyError(s, m.Seq, pack.CodeBadRequest, err.Error())
		return
	}
	req := deviceRequest{s: s, seq: m.Seq, remove: m.URI == uriDeviceUnregister, uid: uid,
		dev: vendorpush.Device{Platform: body.Platform, Token: body.Token, ID: s.Device()}}
	if !rg.async {
		rg.run(req)
		return
	}
	rg.mu.Lock()
	if rg.n >= maxPendingRegistrations {
		rg.mu.Unlock()
		replyError(s, m.Seq, pack.CodeRateLimited, "too many device registrations in progress; retry later")
		return
	}
	rg.n++
	q, running := rg.pending[uid]
	rg.pending[uid] = append(q, req)
	rg.mu.Unlock()
	if !running {
		go rg.drain(uid)
	}
}

// drain runs uid's queued requests in order and exits when there are none.
func (rg *registrar) drain(uid string) {
	for {
		rg.mu.Lock()
		q := rg.pending[uid]
		if len(q) == 0 {
			delete(rg.pending, uid)
			rg.mu.Unlock()
			return
		}
		req := q[0]
		q[0] = deviceRequest{} // let the session go
		rg.pending[uid] = q[1:]
		rg.mu.Unlock()
		rg.run(req)
		rg.mu.Lock()
		rg.n--
		rg.mu.Unlock()
	}
}

// run applies one request and answers it.
func (rg *registrar) run(req deviceRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), registerTimeout)
	defer cancel()
	var err error
	if req.remove {
		err = rg.reg.Remove(ctx, req.uid, req.dev)
	} else {
		err = rg.reg.Add(ctx, req.uid, req.dev)
	}
	switch {
	case err == nil:
		_ = req.s.Send(&pack.Message{Seq: req.seq, URI: pack.URIReply, Body: []byte(`{"ok":true}`)})
	case errors.Is(err, vendorpush.ErrBadConfig):
		replyError(req.s, req.seq, pack.CodeBadRequest, err.Error())
	default:
		rg.log.Warn("device registration failed", plog.KeyUID, req.uid, "platform", string(req.dev.Platform),
			"device", vendorpush.Redact(req.dev.Token), "err", err)
		replyError(req.s, req.seq, pack.CodeInternal, "device registry unavailable; retry later")
	}
}

func replyError(s *server.Session, seq int64, code pack.Code, reason string) {
	e := pack.ErrorMessage(pack.URIError, seq, code, reason)
	_ = s.Send(&e)
}
