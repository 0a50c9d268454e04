// Package device is keremony's application: it opens a home (its keystore,
// its ceremony store, its group aliases and optionally a drop folder shared
// with other devices) and does every operation a front-end offers: create
// members, propose, review, sign, collect, finalize, abort, import and
// export KELs, and take in the packets that arrive. Each operation returns
// typed results (what happened, what to tell the user, what to send); the
// package prints nothing. Package cli and package tui only present it.
package device

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/keystore"
	"github.com/keremony/keremony/transport"
	"github.com/keremony/keremony/witness"
)

// Errors of the application layer. ErrRequest marks a request a user can
// fix by asking differently (a front-end shows it as a usage error).
var (
	ErrRequest      = errors.New("invalid request")
	ErrGroupUnknown = errors.New("unknown group")
	ErrGroupAlias   = errors.New("group alias already names another identifier")
	ErrNotFound     = errors.New("no such ceremony on this device")
	ErrAmbiguous    = errors.New("ambiguous")
	ErrNoMember     = errors.New("no member of this device can do this")
	ErrReviewFailed = errors.New("review failed")
	ErrContext      = errors.New("the kel that came with the proposal does not replay on this device's kel")
	// ErrBehind: this device lacks events of a KEL the proposal builds on
	// (the message names them and the catch-up bundle that brings them).
	ErrBehind         = errors.New("this device's kel is behind the proposal")
	ErrSinceBeyond    = errors.New("--since is past the identifier's last event")
	ErrWrongPacket    = errors.New("packet does not belong here")
	ErrAbortNotMember = errors.New("abort record signed by a key that is not a member's")
	ErrNoDropFolder   = errors.New("no drop folder (start keremony with --drop DIR)")
	ErrNoProposal     = errors.New("no such proposal on this device")
	ErrNotFinalized   = errors.New("ceremony is not finalized")
	ErrNothingSigned  = errors.New("no member of this device has signed this ceremony")
)

// Errors of the packages below that a front-end gives hints for.
var (
	ErrKeyringUnavailable = keystore.ErrKeyringUnavailable
	ErrNoPassphrase       = keystore.ErrNoPassphrase
	ErrStoreBusy          = ceremony.ErrStoreBusy
	// ErrBusy: another process is changing the home's keys, members,
	// group aliases or journal, and did not finish within the wait.
	ErrBusy = keystore.ErrBusy
	// ErrSeatBound: a key pair of this device serves another identifier.
	ErrSeatBound = keystore.ErrSeatBound
	// ErrConflictingSignature: the seat already signed another event at
	// that identifier and sequence number (journal or ceremony store).
	ErrConflictingSignature = keystore.ErrConflictingSignature
)

// requestf makes an ErrRequest.
func requestf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrRequest, fmt.Sprintf(format, a...))
}

// Options say which home to open and how.
type Options struct {
	// Home is the data directory (default: keystore.DefaultHome()).
	Home string
	// Keystore names the keystore backend: "auto" (or ""), "keyring" or
	// "file".
	Keystore string
	// Passphrase asks for the file keystore's passphrase (called at most
	// once, and only when a private key is needed).
	Passphrase func(create bool) ([]byte, error)
	// Drop is a folder shared with other devices ("": none); created when
	// missing.
	Drop string
	// Clock is the clock (default time.Now).
	Clock func() time.Time
	// KDF, when set, replaces the file keystore's key derivation
	// parameters for new keystores (tests).
	KDF *keystore.KDFParams
	// KeysOnly opens the keystore alone (the member commands): the
	// ceremony store stays free for another process, and only the member
	// methods may be called.
	KeysOnly bool
	// Witnesses reaches witnesses (default: package witness's client).
	Witnesses WitnessNet
}

// Device is one open home.
type Device struct {
	home   string
	ks     *keystore.Store
	store  *ceremony.Store
	groups *groupBook
	wits   *witnessBook
	net    WitnessNet
	drop   *transport.DropFolder // nil without a drop folder
	now    func() time.Time

	inbox
	// later are notices of things that happened outside Poll and Receive
	// (opening, held packets applied, rotations committed, files dropped),
	// handed out by Poll or TakeNotices.
	later []api.Notice
	// laterStreams are drop-folder KELs that did not concern this device
	// when they arrived (see holdStream).
	laterStreams []transport.Stream
}

var _ api.Backend = backend{}

// Open opens the home o names: its keystore, its ceremony store (KELs are
// restored once, here) and its group aliases; ceremonies past their
// deadline are marked expired. What the user should know about opening is
// in TakeNotices.
func Open(o Options) (*Device, error) {
	backend, err := keystore.ParseBackend(o.Keystore)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRequest, err)
	}
	dir := o.Home
	if dir == "" {
		if dir, err = keystore.DefaultHome(); err != nil {
			return nil, err
		}
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	pass := o.Passphrase
	if pass == nil {
		pass = func(bool) ([]byte, error) { return nil, keystore.ErrNoPassphrase }
	}
	ks, note, err := keystore.Open(keystore.Options{Home: dir, Backend: backend, Passphrase: pass,
		NextDigest: nextDigest, Now: o.Clock, KDF: o.KDF})
	if err != nil {
		return nil, err
	}
	d := &Device{home: dir, ks: ks, now: o.Clock, inbox: newInbox()}
	if note != "" {
		d.later = append(d.later, api.Notice{Text: "notice: " + note})
	}
	gb, err := loadGroupBook(dir)
	if err != nil && o.KeysOnly {
		// The member commands only name groups with it.
		d.later = append(d.later, api.Notice{Text: fmt.Sprintf("warning: %v", err), Err: err})
		gb, err = &groupBook{path: gb.path, V: 1}, nil
	}
	if err != nil {
		ks.Close()
		return nil, err
	}
	d.groups = gb
	if o.KeysOnly {
		// Without the KELs nothing can tell whether an identifier still
		// lists an old key: none is destroyed.
		ks.SetKeyInUse(func(ed25519.PublicKey, string) bool { return true })
		return d, nil
	}
	st, err := ceremony.OpenStore(dir, ceremony.StoreOptions{Clock: o.Clock})
	if err != nil {
		ks.Close()
		return nil, err
	}
	wb, err := loadWitnessBook(dir)
	if err != nil {
		st.Close()
		ks.Close()
		return nil, err
	}
	d.store, d.wits, d.net = st, wb, o.Witnesses
	if d.net == nil {
		d.net = witness.New(witness.Options{})
	}
	ks.SetKeyInUse(d.keyInUse)
	d.later = append(d.later, d.settleSeats()...)
	for _, id := range d.expireDue() {
		d.later = append(d.later, api.Notice{Ceremony: id, Text: fmt.Sprintf("ceremony %s expired", id)})
	}
	if o.Drop != "" {
		if err := os.MkdirAll(o.Drop, 0o700); err != nil {
			d.Close()
			return nil, fmt.Errorf("%w: %w", transport.ErrDropUnreadable, err)
		}
		if d.drop, err = transport.NewDropFolder(o.Drop, d.fromDropFolder); err != nil {
			d.Close()
			return nil, err
		}
	}
	return d, nil
}

// Close releases the stores.
func (d *Device) Close() error {
	if d.store == nil {
		return d.ks.Close()
	}
	return errors.Join(d.store.Close(), d.ks.Close())
}

// Home is the data directory.
func (d *Device) Home() string { return d.home }

// TakeNotices hands out (once) what happened that the user was not told
// yet: notices of opening, held packets applied, files dropped.
func (d *Device) TakeNotices() []api.Notice {
	ns := d.later
	d.later = nil
	return ns
}

// KeystoreName says in words where the private keys are.
func (d *Device) KeystoreName() string {
	if d.ks.Backend() == keystore.BackendKeyring {
		return "the OS keyring"
	}
	return "the passphrase-protected file " + d.ks.KeystorePath()
}

// expireDue marks the ceremonies past their deadline expired (they stay on
// record) and returns their ids; a failure to store it is a notice.
func (d *Device) expireDue() []string {
	expired, err := d.store.ExpireDue()
	if err != nil {
		d.later = append(d.later, api.Notice{Text: fmt.Sprintf("warning: %v", err), Err: err})
	}
	return expired
}

// record records a proposal built or received on this device as an open
// ceremony (deadline may be zero), and applies what was held for it.
func (d *Device) record(p ceremony.Proposal, deadline time.Time) (*ceremony.Ceremony, error) {
	cer, err := d.store.Create(p, deadline)
	if err != nil {
		return nil, err
	}
	if err := cer.Open(); err != nil {
		return nil, err
	}
	d.applyHeld(cer)
	return cer, nil
}

// deadline is when a ceremony created now with expires expires (zero:
// never).
func (d *Device) deadline(expires time.Duration) time.Time {
	if expires <= 0 {
		return time.Time{}
	}
	return d.now().Add(expires)
}
