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
type Device struct {
	Platform Platform
	Token    string
}

// DeviceRegistry maps a user id to the devices that receive the user's
// vendor pushes. The Dispatcher reads it from its workers, never from the
// hook goroutine, so an implementation may query a database; ctx bounds
// each call. Implementations must be safe for concurrent use.
type DeviceRegistry interface {
	// Devices returns uid's devices; none is not an error.
	Devices(ctx context.Context, uid string) ([]Device, error)
	// Remove forgets d for uid, because its vendor said the token is no
	// longer valid. Removing what is not there is not an error.
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
// so one user's notifications never reach another's device.
type MemoryRegistry struct {
	max   int
	mu    sync.RWMutex
	users map[string][]Device // oldest first
	owner map[Device]string
}

// NewMemoryRegistry returns an empty registry that keeps at most
// maxPerUser devices per user (zero: DefaultMaxDevices); adding one more
// forgets that user's oldest.
func NewMemoryRegistry(maxPerUser int) *MemoryRegistry {
	if maxPerUser <= 0 {
		maxPerUser = DefaultMaxDevices
	}
	return &MemoryRegistry{max: maxPerUser, users: map[string][]Device{}, owner: map[Device]string{}}
}

// Add registers d for uid, typically when the app reports its token after
// login. Adding it again makes it the newest. The token and platform must
// be non-empty.
func (r *MemoryRegistry) Add(uid string, d Device) error {
	if uid == "" || d.Token == "" || d.Platform == "" {
		return fmt.Errorf("%w: empty uid, token or platform", ErrBadConfig)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok := r.owner[d]; ok {
		r.remove(prev, d)
	}
	devs := append(r.users[uid], d)
	if len(devs) > r.max {
		for _, old := range devs[:len(devs)-r.max] {
			delete(r.owner, old)
		}
		devs = slices.Clone(devs[len(devs)-r.max:])
	}
	r.users[uid] = devs
	r.owner[d] = uid
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
	if r.owner[d] == uid {
		r.remove(uid, d)
	}
	return nil
}

// remove drops d from uid's list; r.mu is held.
func (r *MemoryRegistry) remove(uid string, d Device) {
	devs := slices.DeleteFunc(r.users[uid], func(x Device) bool { return x == d })
	if len(devs) == 0 {
		delete(r.users, uid)
	} else {
		r.users[uid] = devs
	}
	delete(r.owner, d)
}

// Len returns the number of devices registered, all users together.
func (r *MemoryRegistry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.owner)
}
