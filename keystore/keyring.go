package keystore

import (
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/zalando/go-keyring"
)

// keyringService is the service name of every keyring entry keremony writes.
const keyringService = "keremony"

// keyringTimeout bounds every keyring call: a locked keyring can show an
// unlock prompt that nobody answers. Tests shorten it.
var keyringTimeout = 10 * time.Second

// keyringAPI is go-keyring's package API. Tests replace it with a provider
// that blocks, to exercise the timeout; everything else uses keyring.MockInit.
var keyringAPI = struct {
	get func(service, user string) (string, error)
	set func(service, user, secret string) error
	del func(service, user string) error
}{keyring.Get, keyring.Set, keyring.Delete}

// callKeyring runs f in a goroutine and gives up after keyringTimeout. A call
// that times out keeps running in the background until the keyring answers;
// Go cannot cancel it. keyring.ErrNotFound passes through unwrapped; any
// other failure means the keyring is unavailable.
func callKeyring[T any](op string, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	timer := time.NewTimer(keyringTimeout)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.err != nil && !errors.Is(r.err, keyring.ErrNotFound) {
			return r.v, fmt.Errorf("%w: %s: %w", ErrKeyringUnavailable, op, r.err)
		}
		return r.v, r.err
	case <-timer.C:
		var zero T
		return zero, fmt.Errorf("%w: %w: %s: no answer after %s (is an unlock prompt waiting?)",
			ErrKeyringUnavailable, ErrKeyringTimeout, op, keyringTimeout)
	}
}

// probeKeyring checks that the keyring answers: reading an entry that does
// not exist must fail with keyring.ErrNotFound.
func probeKeyring(keystoreID string) error {
	_, err := callKeyring("probe", func() (string, error) {
		return keyringAPI.get(keyringService, keystoreID+"/probe")
	})
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return err
}

// keyringStore keeps each seed as its own keyring entry, base64 encoded
// (44 characters, far below the Windows 2560-byte and macOS ~3000-byte
// limits). The entry's user is "<keystore id>/<key id>".
//
// go-keyring passes secrets as Go strings, which cannot be wiped; the seed's
// base64 text may linger in memory until the garbage collector reuses it.
type keyringStore struct {
	id string // keystore id of the home
}

func (k keyringStore) user(keyID string) string { return k.id + "/" + keyID }

func (k keyringStore) load(keyID string) ([]byte, error) {
	text, err := callKeyring("read key", func() (string, error) {
		return keyringAPI.get(keyringService, k.user(keyID))
	})
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, fmt.Errorf("%w: keyring entry %q", ErrKeyNotFound, k.user(keyID))
	}
	if err != nil {
		return nil, err
	}
	seed, err := base64.StdEncoding.Strict().DecodeString(text)
	if err != nil || len(seed) != seedSize {
		wipe(seed)
		return nil, fmt.Errorf("%w: keyring entry %q does not hold a %d-byte seed", ErrCorruptKeystore, k.user(keyID), seedSize)
	}
	return seed, nil
}

func (k keyringStore) store(keyID string, seed []byte) error {
	_, err := callKeyring("write key", func() (struct{}, error) {
		return struct{}{}, keyringAPI.set(keyringService, k.user(keyID), base64.StdEncoding.EncodeToString(seed))
	})
	return err
}

func (k keyringStore) remove(keyID string) error {
	_, err := callKeyring("delete key", func() (struct{}, error) {
		return struct{}{}, keyringAPI.del(keyringService, k.user(keyID))
	})
	if errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return err
}

func (k keyringStore) close() {}

// prepare: keyring entries are independent; nothing to unlock.
func (k keyringStore) prepare() error { return nil }
