package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"github.com/plexpush/plex/pack"
	"github.com/plexpush/plex/server"
	"github.com/plexpush/plex/vendorpush"
	"github.com/plexpush/plex/vendorpush/apns"
	"github.com/plexpush/plex/vendorpush/fcm"
)

// Device registration URIs: upstream conventions of plexd (not of the wire
// protocol) that apps use when vendor push is enabled. Body:
// {"platform":"apns"|"fcm","token":"…"}; answered /reply {"ok":true} or
// /error 4004.
const (
	uriDeviceRegister   = "/device/register"
	uriDeviceUnregister = "/device/unregister"
)

// startVendorPush wires APNs and/or FCM behind the offline hook when their
// credentials are given; nil when neither is. Device tokens are kept in
// memory (apps register again after they reconnect to a restarted node).
func startVendorPush(o *options, cfg *server.Config, log *slog.Logger) (*vendorpush.Dispatcher, error) {
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
	if len(senders) == 0 {
		return nil, nil
	}
	reg := vendorpush.NewMemoryRegistry(10)
	d, err := vendorpush.New(reg, senders, vendorpush.Config{Logger: log})
	if err != nil {
		return nil, err
	}
	cfg.OnUndelivered = d.Hook
	next := cfg.OnUpstream
	cfg.OnUpstream = func(s *server.Session, m *pack.Message) {
		switch m.URI {
		case uriDeviceRegister, uriDeviceUnregister:
			registerDevice(reg, s, m, senders)
		default:
			if next != nil {
				next(s, m)
			}
		}
	}
	return d, nil
}

func registerDevice(reg *vendorpush.MemoryRegistry, s *server.Session, m *pack.Message, senders map[vendorpush.Platform]vendorpush.Sender) {
	var req struct {
		Platform vendorpush.Platform `json:"platform"`
		Token    string              `json:"token"`
	}
	uid := s.UID()
	if s.App() != "" {
		uid = s.App() + "/" + uid // the offline hook's qualified uid
	}
	err := json.Unmarshal(m.Body, &req)
	if err == nil && (req.Token == "" || senders[req.Platform] == nil) {
		err = fmt.Errorf("platform must be one of the enabled vendors and token non-empty")
	}
	if err == nil {
		dev := vendorpush.Device{Platform: req.Platform, Token: req.Token}
		if m.URI == uriDeviceRegister {
			err = reg.Add(uid, dev)
		} else {
			err = reg.Remove(context.Background(), uid, dev)
		}
	}
	if err != nil {
		e := pack.ErrorMessage(pack.URIError, m.Seq, pack.CodeBadRequest, err.Error())
		_ = s.Send(&e)
		return
	}
	_ = s.Send(&pack.Message{Seq: m.Seq, URI: pack.URIReply, Body: []byte(`{"ok":true}`)})
}
