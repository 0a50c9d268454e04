package device

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/keystore"
	"github.com/keremony/keremony/transport"
)

// Member is a member of this device (its public half): an alias and its
// seats, one per group.
type Member = keystore.Member

// Seat is one member's place in one group: a key pair of its own.
type Seat = keystore.Seat

// SeatRef names a seat.
type SeatRef = keystore.SeatRef

// Members lists this device's members.
func (d *Device) Members() ([]Member, error) { return d.ks.Members() }

// CreateMember creates member alias with one seat in no group yet: a
// current and a pre-rotated next key.
func (d *Device) CreateMember(alias string) (Member, error) { return d.ks.NewMember(alias) }

// NewMember creates a member (the TUI's Backend).
func (d *Device) NewMember(alias string) error {
	_, err := d.ks.NewMember(alias)
	return err
}

// FreeSeat is the seat through which member alias joins a new group:
// one in no group yet (the one made for forGroup, else one made for no
// group in particular, which is then marked for forGroup); when the member
// has none, a fresh seat with new keys is made for forGroup. Note says
// what happened, for the user ("" when an existing seat was taken).
func (d *Device) FreeSeat(alias, forGroup string) (ks Seat, note string, err error) {
	m, err := d.ks.Member(alias)
	if err != nil {
		return Seat{}, "", err
	}
	var free []Seat
	for _, s := range m.Seats {
		if s.Group == "" && !s.Legacy {
			free = append(free, s)
		}
	}
	pick := func(ok func(Seat) bool) (Seat, bool) {
		i := slices.IndexFunc(free, ok)
		if i < 0 {
			return Seat{}, false
		}
		return free[i], true
	}
	if s, ok := pick(func(s Seat) bool { return forGroup != "" && s.For == forGroup }); ok {
		return s, "", nil
	}
	if s, ok := pick(func(s Seat) bool { return s.For == "" }); ok {
		if forGroup == "" {
			return s, "", nil
		}
		s, err = d.ks.SetSeatFor(s.SeatRef, forGroup)
		return s, "", err
	}
	if s, ok := pick(func(Seat) bool { return forGroup == "" }); ok {
		return s, "", nil
	}
	var in []string
	for _, s := range m.Seats {
		if s.Group != "" {
			in = append(in, d.nameOf(s.Group))
		} else if s.For != "" {
			in = append(in, "(for) "+s.For)
		}
	}
	s, err := d.ks.NewSeat(alias, forGroup)
	if err != nil {
		return Seat{}, "", err
	}
	what := "a new group"
	if forGroup != "" {
		what = forGroup
	}
	return s, fmt.Sprintf("member %s already sits in %s: it joins %s with a fresh seat (new keys, which serve that group only)",
		alias, strings.Join(in, ", "), what), nil
}

// CardPacket is the card of member alias for a new group (named forGroup,
// "" for none): the card of its free seat (see FreeSeat), signed with the
// seat's current key. note says when a fresh seat was made.
func (d *Device) CardPacket(alias, forGroup string) (card transport.Card, ks Seat, note string, err error) {
	ks, note, err = d.FreeSeat(alias, forGroup)
	if err != nil {
		return transport.Card{}, Seat{}, "", err
	}
	card, err = transport.NewCard(ks.Member, kel.EncodeVerKey(ks.PublicKey), ks.NextDigest, func(b []byte) ([]byte, error) {
		return d.ks.SignProof(ks.SeatRef, b)
	})
	return card, ks, note, err
}

// MemberCard is member alias of this device as a member of the new group
// alias group, through its free seat (see FreeSeat; note says when a fresh
// seat was made): its card, signed, as the proposal carries it (the label
// it binds is what the other members' reviews show).
func (d *Device) MemberCard(alias, group string) (ceremony.Card, string, error) {
	card, _, note, err := d.CardPacket(alias, group)
	if err != nil {
		return ceremony.Card{}, "", err
	}
	return card.Card, note, nil
}

// CancelRotation discards the prepared rotation of member alias's seat in
// group ("": its one seat with a prepared rotation).
func (d *Device) CancelRotation(alias, group string) (Seat, error) {
	m, err := d.ks.Member(alias)
	if err != nil {
		return Seat{}, err
	}
	prefix := ""
	if group != "" {
		if prefix, _, err = d.ResolveAID(group); err != nil {
			return Seat{}, err
		}
	}
	var found []Seat
	for _, s := range m.Seats {
		if s.PendingNextDigest != "" && (prefix == "" || s.Group == prefix) {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 0:
		where := ""
		if prefix != "" {
			where = " in " + d.GroupName(prefix)
		}
		return Seat{}, fmt.Errorf("%w for member %q%s", keystore.ErrNoPendingRotation, alias, where)
	case 1:
		return d.ks.AbortRotation(found[0].SeatRef)
	}
	return Seat{}, fmt.Errorf("%w: member %s has prepared rotations in several groups: choose one with --group", ErrAmbiguous, alias)
}

// SeatName is a seat in words: "alice in team1", "alice for wgroup2" (a
// fresh seat made for a group), "alice".
func (d *Device) SeatName(ks Seat) string { return d.seatName(ks) }

// Member is this device's member alias.
func (d *Device) Member(alias string) (Member, error) { return d.ks.Member(alias) }

// SignProof signs a packet's proof bytes (a card, a contribution, an abort
// record) with a seat's current key.
func (d *Device) SignProof(ref SeatRef, b []byte) ([]byte, error) { return d.ks.SignProof(ref, b) }

// KDFParams are the file keystore's key derivation parameters.
type KDFParams = keystore.KDFParams

// CheckAlias checks a member or group alias.
func CheckAlias(alias string) error { return keystore.CheckAlias(alias) }
