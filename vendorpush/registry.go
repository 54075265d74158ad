package vendorpush

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Platform names a vendor push service; it selects the Sender of a device.
type Platform string

// The platforms this module has senders for. Other values work with any
// Sender the embedder registers under them.
const (
	APNs Platform = "apns" // Apple Push Notification service: vendorpush/apns
	FCM  Platform = "fcm"  // Firebase Cloud Messaging HTTP v1: vendorpush/fcm
	// WebPush: browsers, through their vendor's push service (RFC 8030,
	// 8291, 8292): vendorpush/webpush. The token is the subscription JSON.
	WebPush Platform = "webpush"
)

// Device is one installation of an app that can receive vendor pushes.
//
// A device is identified by its Platform and Token (see SameToken): ID is
// what the registry knows about the token, not part of its identity, so
// registering a token again with another ID updates the ID.
type Device struct {
	Platform Platform
	Token    string
	// ID is the plex device id of the installation that registered the
	// token: the meta "device" its connection logged in with
	// (server.Session.Device); "" when the app sent none. The Dispatcher
	// sends a push to one device (meta "device") only to the tokens with
	// that ID.
	ID string
}

// SameToken reports whether d and o are the same vendor token (platform
// and token), whatever their IDs: the identity a DeviceRegistry keys on.
func (d Device) SameToken(o Device) bool {
	return d.Platform == o.Platform && d.Token == o.Token
}

// tokenKey is a Device's identity, as a map key.
type tokenKey struct {
	platform Platform
	token    string
}

func keyOf(d Device) tokenKey { return tokenKey{d.Platform, d.Token} }

// DeviceRegistry maps a user id to the devices that receive the user's
// vendor pushes. The Dispatcher reads it from its workers, never from the
// hook goroutine, so an implementation may query a database; ctx bounds
// each call. Implementations must be safe for concurrent use.
type DeviceRegistry interface {
	// Devices returns uid's devices; none is not an error.
	Devices(ctx context.Context, uid string) ([]Device, error)
	// Remove forgets d's token (platform and token, whatever d.ID) for
	// uid, because its vendor said the token is no longer valid. Removing
	// what is not there is not an error.
	Remove(ctx context.Context, uid string, d Device) error
}

// DefaultMaxDevices bounds the devices a MemoryRegistry keeps per user when
// NewMemoryRegistry is given zero: ten covers phones, tablets and a
// reinstall or two, and bounds what one account can make the node send.
const DefaultMaxDevices = 10

// MemoryRegistry is an in-memory DeviceRegistry: for one node, tests, or a
// cache in front of a database. Its contents die with the process; a real
// deployment keeps tokens in its own store and implements DeviceRegistry
// over it. Safe for concurrent use.
//
// A token belongs to one device and a device to one user at a time: adding
// a token under a new uid moves it (the phone changed hands or accounts),
// so one user's notifications never reach another's device. A token is
// its platform and token: adding it again with another Device.ID replaces
// the ID.
type MemoryRegistry struct {
	max   int
	mu    sync.RWMutex
	users map[string][]Device // oldest first
	owner map[tokenKey]string
}

// NewMemoryRegistry returns an empty registry that keeps at most
// maxPerUser devices per user (zero: DefaultMaxDevices); adding one more
// forgets that user's oldest.
func NewMemoryRegistry(maxPerUser int) *MemoryRegistry {
	if maxPerUser <= 0 {
		maxPerUser = DefaultMaxDevices
	}
	return &MemoryRegistry{max: maxPerUser, users: map[string][]Device{}, owner: map[tokenKey]string{}}
}

// Add registers d for uid, typically when the app reports its token after
// login. Adding it again makes it the newest, with d.ID as its ID. The
// token and platform must be non-empty.
func (r *MemoryRegistry) Add(uid string, d Device) error {
	if uid == "" || d.Token == "" || d.Platform == "" {
		return fmt.Errorf("%w: empty uid, token or platform", ErrBadConfig)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok := r.owner[keyOf(d)]; ok {
		r.remove(prev, d)
	}
	devs := append(r.users[uid], d)
	if len(devs) > r.max {
		for _, old := range devs[:len(devs)-r.max] {
			delete(r.owner, keyOf(old))
		}
		devs = slices.Clone(devs[len(devs)-r.max:])
	}
	r.users[uid] = devs
	r.owner[keyOf(d)] = uid
	return nil
}

// Devices implements DeviceRegistry. The slice is the caller's.
func (r *MemoryRegistry) Devices(_ context.Context, uid string) ([]Device, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.users[uid]), nil
}

// Remove implements DeviceRegistry.
func (r *MemoryRegistry) Remove(_ context.Context, uid string, d Device) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if owner, ok := r.owner[keyOf(d)]; ok && owner == uid {
		r.remove(uid, d)
	}
	return nil
}

// remove drops d's token from uid's list; r.mu is held.
func (r *MemoryRegistry) remove(uid string, d Device) {
	devs := slices.DeleteFunc(r.users[uid], d.SameToken)
	if len(devs) == 0 {
		delete(r.users, uid)
	} else {
		r.users[uid] = devs
	}
	delete(r.owner, keyOf(d))
}

// Len returns the number of devices registered, all users together.
func (r *MemoryRegistry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.owner)
}
