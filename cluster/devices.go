package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/plexpush/plex/plog"
	"github.com/plexpush/plex/vendorpush"
)

// DeviceRegistry is a vendorpush.DeviceRegistry kept in the JetStream KV
// bucket <p>_devices, so every node of the cluster sees the device tokens
// registered on any of them, and they survive restarts. Get one with
// Cluster.Devices. Safe for concurrent use, also by several nodes.
//
// It follows vendorpush.MemoryRegistry's rules: at most maxPerUser devices
// per user (adding one more forgets the oldest), adding a device again
// makes it the newest, and a token belongs to one user at a time (adding it
// under another uid moves it). A device is its platform and token
// (vendorpush.Device.SameToken): adding it again with another ID updates
// the ID of its one entry.
//
// The bucket has two kinds of keys:
//
//	u.<key(uid)>                       the user's devices, oldest first (JSON, storedDevice)
//	t.<sha256(platform NUL token)>     the uid that owns the token
//
// The owner key is the truth about ownership; a user's list gives the
// order and the candidates. Every write is a compare-and-set on one key,
// read again and retried on conflict, so two nodes updating one user at
// the same moment lose nothing. Keys cannot be changed together, so a
// user's list may briefly (or, after a failure, until the user's next
// changes) name a token that another user took over: Devices checks each
// listed token's owner and leaves out the ones owned by someone else, so
// one user's notifications never reach another's device. A listed token
// without an owner key (a removal or an eviction raced with a new Add)
// counts as the listing user's.
//
// Costs: Devices reads 1 + n keys (n devices, at most maxPerUser); Add of
// the device that is already the user's newest reads 2 and writes none
// (apps register on every connect); other changes write 1 to 3 keys.
type DeviceRegistry struct {
	c   *Cluster
	max int

	mu sync.Mutex
	kv jetstream.KeyValue // nil until opened
}

// Devices returns the cluster's device registry, keeping at most
// maxPerUser devices per user (zero: vendorpush.DefaultMaxDevices). Give
// every node the same maxPerUser. The bucket is opened, and created when
// missing, on first use: a cluster without vendor push never has it.
func (c *Cluster) Devices(maxPerUser int) *DeviceRegistry {
	if maxPerUser <= 0 {
		maxPerUser = vendorpush.DefaultMaxDevices
	}
	return &DeviceRegistry{c: c, max: maxPerUser}
}

// casAttempts bounds the compare-and-set retries of one key: a conflict
// needs another writer of the same user (or token) at the same moment,
// and the jittered backoff between attempts spreads such writers out.
const casAttempts = 32

var errTooManyConflicts = errors.New("cluster: devices: too many concurrent updates of one key")

// Add registers d for uid (typically when the app reports its token after
// login), moving the token from the user who had it. The token and
// platform must be non-empty (vendorpush.ErrBadConfig otherwise).
func (r *DeviceRegistry) Add(ctx context.Context, uid string, d vendorpush.Device) error {
	if uid == "" || d.Token == "" || d.Platform == "" {
		return fmt.Errorf("%w: empty uid, token or platform", vendorpush.ErrBadConfig)
	}
	kv, err := r.bucket(ctx)
	if err != nil {
		return err
	}
	prev, err := r.claim(ctx, kv, uid, d)
	if err != nil {
		return err
	}
	var evicted []vendorpush.Device
	err = r.updateList(ctx, kv, uid, func(devs []vendorpush.Device) ([]vendorpush.Device, bool, error) {
		evicted = nil
		if n := len(devs); n > 0 && devs[n-1] == d && n <= r.max {
			return nil, false, nil // already the newest, with this ID: nothing to write
		}
		next := slices.DeleteFunc(slices.Clone(devs), d.SameToken)
		next = append(next, d)
		if over := len(next) - r.max; over > 0 {
			evicted = slices.Clone(next[:over])
			next = next[over:]
		}
		return next, true, nil
	})
	if err != nil {
		return err
	}
	if owner, _, ok, err := r.owner(ctx, kv, d); err == nil && ok && owner != uid {
		// Another user took the token between our claim and our write:
		// the clean-up of our list that came with the move may have run
		// before we listed it, so do it here.
		_ = r.forget(ctx, kv, uid, d)
	}
	// What follows tidies up: the registration is complete, and Devices
	// already ignores what these steps would remove.
	for _, e := range evicted {
		if owner, rev, ok, err := r.owner(ctx, kv, e); err == nil && ok && owner == uid {
			err = kv.Delete(ctx, tokenKey(e), jetstream.LastRevision(rev))
			if err != nil && !casConflict(err) {
				r.c.log.Debug("cluster: devices: forget evicted token", plog.KeyUID, uid, "device", vendorpush.Redact(e.Token), "err", err)
			}
		}
	}
	if prev != "" && prev != uid {
		if err := r.forget(ctx, kv, prev, d); err != nil {
			r.c.log.Warn("cluster: devices: token moved, but not removed from its previous user's list (it is ignored there)",
				plog.KeyUID, uid, "device", vendorpush.Redact(d.Token), "err", err)
		}
	}
	return nil
}

// Devices implements vendorpush.DeviceRegistry: uid's devices, oldest
// first. The slice is the caller's.
func (r *DeviceRegistry) Devices(ctx context.Context, uid string) ([]vendorpush.Device, error) {
	kv, err := r.bucket(ctx)
	if err != nil {
		return nil, err
	}
	devs, _, err := r.readList(ctx, kv, uid)
	if err != nil {
		return nil, err
	}
	out := devs[:0]
	for _, d := range devs {
		owner, _, ok, err := r.owner(ctx, kv, d)
		if err != nil {
			return nil, err
		}
		if !ok || owner == uid {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// Remove implements vendorpush.DeviceRegistry: it forgets d if uid owns
// it. Removing what is not there, or what another user owns now, is not
// an error (and leaves the other user's registration alone).
func (r *DeviceRegistry) Remove(ctx context.Context, uid string, d vendorpush.Device) error {
	kv, err := r.bucket(ctx)
	if err != nil {
		return err
	}
	owner, rev, ok, err := r.owner(ctx, kv, d)
	if err != nil {
		return err
	}
	if ok && owner != uid {
		return r.forget(ctx, kv, uid, d) // only a stale entry of uid's list, if any
	}
	err = r.updateList(ctx, kv, uid, func(devs []vendorpush.Device) ([]vendorpush.Device, bool, error) {
		if !slices.ContainsFunc(devs, d.SameToken) {
			return nil, false, nil
		}
		return slices.DeleteFunc(slices.Clone(devs), d.SameToken), true, nil
	})
	if err != nil || !ok {
		return err
	}
	// A conflict: the token was registered again (or moved) meanwhile; the
	// newer registration stands.
	if err := kv.Delete(ctx, tokenKey(d), jetstream.LastRevision(rev)); err != nil && !casConflict(err) {
		return unavailable("remove token owner", err)
	}
	return nil
}

// claim makes uid the owner of d's token and returns the previous owner
// ("" when none). It writes nothing when uid owns it already.
func (r *DeviceRegistry) claim(ctx context.Context, kv jetstream.KeyValue, uid string, d vendorpush.Device) (string, error) {
	k := tokenKey(d)
	for attempt := range casAttempts {
		prev, rev, ok, err := r.owner(ctx, kv, d)
		if err != nil {
			return "", err
		}
		if ok && prev == uid {
			return prev, nil
		}
		if ok {
			_, err = kv.Update(ctx, k, []byte(uid), rev)
		} else {
			_, err = kv.Create(ctx, k, []byte(uid))
		}
		if err == nil {
			return prev, nil
		}
		if !casConflict(err) {
			return "", unavailable("claim token", err)
		}
		if err := casWait(ctx, attempt); err != nil {
			return "", err
		}
	}
	return "", errTooManyConflicts
}

// forget drops d from uid's list unless uid owns it now: the clean-up
// after a move (or after a removal that raced with one). Re-checking the
// owner in every attempt keeps a token that moved back to uid meanwhile.
func (r *DeviceRegistry) forget(ctx context.Context, kv jetstream.KeyValue, uid string, d vendorpush.Device) error {
	return r.updateList(ctx, kv, uid, func(devs []vendorpush.Device) ([]vendorpush.Device, bool, error) {
		if !slices.ContainsFunc(devs, d.SameToken) {
			return nil, false, nil
		}
		owner, _, ok, err := r.owner(ctx, kv, d)
		if err != nil || (ok && owner == uid) {
			return nil, false, err
		}
		return slices.DeleteFunc(slices.Clone(devs), d.SameToken), true, nil
	})
}

// updateList reads uid's list, asks change for the new one (and whether to
// write it), and writes it if the list did not change meanwhile; on a
// conflict it starts over, so change may run more than once.
func (r *DeviceRegistry) updateList(ctx context.Context, kv jetstream.KeyValue, uid string,
	change func([]vendorpush.Device) ([]vendorpush.Device, bool, error)) error {
	k := userKey(uid)
	for attempt := range casAttempts {
		devs, rev, err := r.readList(ctx, kv, uid)
		if err != nil {
			return err
		}
		next, write, err := change(devs)
		if err != nil || !write {
			return err
		}
		switch {
		case len(next) == 0 && rev == 0:
			return nil
		case len(next) == 0:
			err = kv.Delete(ctx, k, jetstream.LastRevision(rev))
		case rev == 0:
			_, err = kv.Create(ctx, k, encodeDevices(next))
		default:
			_, err = kv.Update(ctx, k, encodeDevices(next), rev)
		}
		if err == nil {
			return nil
		}
		if !casConflict(err) {
			return unavailable("write user's devices", err)
		}
		if err := casWait(ctx, attempt); err != nil {
			return err
		}
	}
	return errTooManyConflicts
}

// readList returns uid's devices and the revision of their key (0: none).
func (r *DeviceRegistry) readList(ctx context.Context, kv jetstream.KeyValue, uid string) ([]vendorpush.Device, uint64, error) {
	e, err := kv.Get(ctx, userKey(uid))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, unavailable("read user's devices", err)
	}
	var stored []storedDevice
	if err := json.Unmarshal(e.Value(), &stored); err != nil {
		// Not ours (written by hand?): start over; the next Add replaces it.
		r.c.log.Warn("cluster: devices: unreadable entry ignored", plog.KeyUID, uid, "err", err)
		return nil, e.Revision(), nil
	}
	devs := make([]vendorpush.Device, 0, len(stored))
	for _, s := range stored {
		if s.Platform != "" && s.Token != "" {
			devs = append(devs, vendorpush.Device{Platform: s.Platform, Token: s.Token, ID: s.ID})
		}
	}
	return devs, e.Revision(), nil
}

// owner returns the uid that owns d's token and the revision of its key;
// ok is false when no one does.
func (r *DeviceRegistry) owner(ctx context.Context, kv jetstream.KeyValue, d vendorpush.Device) (uid string, rev uint64, ok bool, err error) {
	e, err := kv.Get(ctx, tokenKey(d))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, unavailable("read token owner", err)
	}
	return string(e.Value()), e.Revision(), true, nil
}

// bucket opens the bucket, creating it when missing, on first use.
func (r *DeviceRegistry) bucket(ctx context.Context) (jetstream.KeyValue, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.kv != nil {
		return r.kv, nil
	}
	if !r.c.nc.IsConnected() {
		return nil, fmt.Errorf("%w: connection %s", ErrUnavailable, r.c.nc.Status())
	}
	kv, err := r.c.bucket(ctx, jetstream.KeyValueConfig{
		Bucket:      r.c.names.devices,
		Description: "plex vendor push devices: u.<uid> → devices, t.<sha256 of platform and token> → uid",
		History:     1,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: open bucket %s: %w", ErrUnavailable, r.c.names.devices, err)
	}
	r.kv = kv
	return kv, nil
}

// storedDevice is a device as the bucket keeps it (short names: the
// format is the bucket's, not vendorpush's). "d" came later: an entry
// written without it reads as ID "" (the app registers again on its next
// connect, with its ID), and a node that predates it ignores it.
type storedDevice struct {
	Platform vendorpush.Platform `json:"p"`
	Token    string              `json:"t"`
	ID       string              `json:"d,omitempty"`
}

func encodeDevices(devs []vendorpush.Device) []byte {
	stored := make([]storedDevice, len(devs))
	for i, d := range devs {
		stored[i] = storedDevice{d.Platform, d.Token, d.ID}
	}
	b, _ := json.Marshal(stored) // cannot fail: strings only
	return b
}

func userKey(uid string) string { return "u." + key(uid) }

// tokenKey hashes the platform and token: tokens are long and may hold
// bytes a key cannot, and a hash keeps them out of key listings. The NUL
// separates the two, so ("ab","c") and ("a","bc") differ.
func tokenKey(d vendorpush.Device) string {
	h := sha256.New()
	h.Write([]byte(d.Platform))
	h.Write([]byte{0})
	h.Write([]byte(d.Token))
	return "t." + hex.EncodeToString(h.Sum(nil))
}

// casConflict: a compare-and-set lost to another writer.
func casConflict(err error) bool {
	return errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) || wrongLast(err)
}

func unavailable(op string, err error) error {
	return fmt.Errorf("%w: devices: %s: %w", ErrUnavailable, op, err)
}

// casWait waits before the next compare-and-set attempt: a random time
// up to 1ms·2^attempt (at most 32ms), so writers that collided spread out.
func casWait(ctx context.Context, attempt int) error {
	d := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 5)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("cluster: devices: %w", ctx.Err())
	case <-t.C:
		return nil
	}
}
