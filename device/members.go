package device

import (
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/keystore"
	"github.com/keremony/keremony/transport"
)

// Member is a member of this device (its public half).
type Member = keystore.Member

// Members lists this device's members.
func (d *Device) Members() ([]Member, error) { return d.ks.Members() }

// CreateMember creates member alias: a current and a pre-rotated next key.
func (d *Device) CreateMember(alias string) (Member, error) { return d.ks.NewMember(alias) }

// NewMember creates a member (the TUI's Backend).
func (d *Device) NewMember(alias string) error {
	_, err := d.ks.NewMember(alias)
	return err
}

// CardPacket is member alias's card, signed with its current key.
func (d *Device) CardPacket(alias string) (transport.Card, error) {
	m, err := d.ks.Member(alias)
	if err != nil {
		return transport.Card{}, err
	}
	return transport.NewCard(m.Alias, kel.EncodeVerKey(m.PublicKey), m.NextDigest, func(b []byte) ([]byte, error) {
		return d.ks.SignProof(alias, b)
	})
}

// CancelRotation discards member alias's prepared rotation.
func (d *Device) CancelRotation(alias string) (Member, error) { return d.ks.AbortRotation(alias) }

// Readiness is the recovery drill's verdict on one member.
type Readiness = keystore.Readiness

// Check is the recovery drill: every member's keys are in the keystore,
// and the journal reads.
type Check struct {
	Members []Readiness
	// Journal: its entries, a torn last line's size, or why it is not
	// ready.
	JournalEntries int
	JournalTorn    int
	JournalErr     error
}

// Ready reports whether every member and the journal are ready (and there
// is at least one member).
func (c *Check) Ready() bool {
	if len(c.Members) == 0 || c.JournalErr != nil {
		return false
	}
	for _, r := range c.Members {
		if !r.Ready {
			return false
		}
	}
	return true
}

// CheckMembers runs the recovery drill.
func (d *Device) CheckMembers() (*Check, error) {
	rs, err := d.ks.CheckReadiness()
	if err != nil {
		return nil, err
	}
	c := &Check{Members: rs}
	entries, torn, err := d.ks.Journal().Entries()
	c.JournalEntries, c.JournalTorn, c.JournalErr = len(entries), torn, err
	return c, nil
}

// Member is this device's member alias.
func (d *Device) Member(alias string) (Member, error) { return d.ks.Member(alias) }

// SignProof signs a packet's proof bytes (a card, a contribution, an abort
// record) with member alias's current key.
func (d *Device) SignProof(alias string, b []byte) ([]byte, error) { return d.ks.SignProof(alias, b) }

// KDFParams are the file keystore's key derivation parameters.
type KDFParams = keystore.KDFParams

// CheckAlias checks a member or group alias.
func CheckAlias(alias string) error { return keystore.CheckAlias(alias) }
