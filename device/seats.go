package device

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/keystore"
)

// A seat is one member's place in one group: its own current and next key
// pair (keystore.Seat). A member sits in many groups, each through its own
// seat, and no key pair serves two identifiers: a seat bound to an
// identifier takes part only in that identifier's events, and a seat in
// no group yet joins the first group whose ceremony it takes part in.

// seat is how a seat of this device takes part in a proposed event.
type seat struct {
	ks keystore.Seat
	// key is the seat's key among the signing keys ("" when it does not
	// sign): its current key, or for a rotation the next key it reveals.
	key string
	// next is the digest the seat expects in the event's next list.
	next string
	// reveals: a rotation in which the seat reveals its next key.
	reveals bool
}

// alias is the seat's member.
func (s seat) alias() string { return s.ks.Member }

// seatFor works out how seat ks takes part in event ev, whose signatures
// index signing (for an ixn: the group's current keys); ok is false when it
// takes no part at all, and always for a seat that serves another
// identifier.
func seatFor(ks keystore.Seat, kind ceremony.Kind, ev *kel.Event, signing, next []string) (s seat, ok bool) {
	if ks.Group != "" && ks.Group != ev.Prefix() {
		return seat{}, false
	}
	cur := kel.EncodeVerKey(ks.PublicKey)
	s = seat{ks: ks, next: ks.NextDigest}
	if kind == ceremony.KindRotation {
		for _, k := range ev.Keys() {
			if kel.NextDigest(k) == ks.NextDigest {
				s.key, s.reveals, s.next = k, true, ks.PendingNextDigest
			}
		}
		if s.key == "" && slices.Contains(ev.Keys(), cur) {
			s.key = cur
		}
		return s, s.key != "" || slices.Contains(next, ks.NextDigest)
	}
	if slices.Contains(signing, cur) {
		s.key = cur
	}
	return s, s.key != "" || slices.Contains(next, ks.NextDigest)
}

// seatsIn are the seats among ss that take part in an event. Where a
// member takes part through a seat bound to the event's identifier and a
// seat in no group (cannot happen with keys made here, which differ), the
// bound one wins.
func seatsIn(ss []keystore.Seat, kind ceremony.Kind, ev *kel.Event, signing, next []string) []seat {
	var out []seat
	for _, ks := range ss {
		if s, ok := seatFor(ks, kind, ev, signing, next); ok {
			out = append(out, s)
		}
	}
	return out
}

// chooseSeat picks the seat of this device that takes part in the event:
// one of the member named (want), else the only one that does; for a
// rotation, a seat of the group that takes no part (a dropped member) is
// still chosen, so that its review says what the rotation does to it. ok
// is false when no seat takes part (and no member was named).
func (d *Device) chooseSeat(want string, kind ceremony.Kind, ev *kel.Event, signing, next []string) (seat, bool, error) {
	all, err := d.ks.Seats()
	if err != nil {
		return seat{}, false, err
	}
	prefix := ev.Prefix()
	if want != "" {
		m, err := d.ks.Member(want)
		if err != nil {
			return seat{}, false, err
		}
		if found := seatsIn(m.Seats, kind, ev, signing, next); len(found) > 0 {
			return found[0], true, nil
		}
		// Not taking part: its seat in the group, else a seat in no group,
		// else its first; the review says it does not sign.
		pick := m.Seats[0]
		for _, ks := range slices.Backward(m.Seats) {
			if ks.Group == prefix || ks.Group == "" && pick.Group != prefix {
				pick = ks
			}
		}
		return seat{ks: pick, next: pick.NextDigest}, true, nil
	}
	found := seatsIn(all, kind, ev, signing, next)
	if len(found) == 0 && kind == ceremony.KindRotation {
		for _, ks := range all {
			if ks.Group == prefix {
				found = append(found, seat{ks: ks, next: ks.NextDigest})
			}
		}
	}
	switch len(found) {
	case 0:
		return seat{}, false, nil
	case 1:
		return found[0], true, nil
	}
	var names []string
	for _, s := range found {
		names = append(names, s.alias())
	}
	return seat{}, false, fmt.Errorf("%w: members %s of this device all take part: choose one with --member", ErrAmbiguous, strings.Join(names, ", "))
}

// foreignKeys names the keys and digests of seats that serve another
// identifier and that an event of prefix lists: its keys (or the digests
// they reveal) and its next digests. An event that lists them would make
// one key pair serve two identifiers. A key a seat of prefix holds too (a
// home made before seats) is not foreign.
func (d *Device) foreignKeys(prefix string, keys, next []string) ([]string, error) {
	all, err := d.ks.Seats()
	if err != nil {
		return nil, err
	}
	// What a seat of prefix (or one in no group yet) holds: its current
	// key, and its next and prepared digests. A key of the event is ours
	// when it is such a current key or reveals such a digest.
	ours := map[string]bool{}
	for _, ks := range all {
		if ks.Group == prefix || ks.Group == "" {
			ours[kel.EncodeVerKey(ks.PublicKey)], ours[ks.NextDigest] = true, true
			if ks.PendingNextDigest != "" {
				ours[ks.PendingNextDigest] = true
			}
		}
	}
	oursKey := func(k string) bool { return ours[k] || ours[kel.NextDigest(k)] }
	var out []string
	for _, ks := range all {
		if ks.Group == "" || ks.Group == prefix {
			continue
		}
		cur := kel.EncodeVerKey(ks.PublicKey)
		var where []string
		for i, k := range keys {
			switch {
			case oursKey(k):
			case k == cur:
				where = append(where, fmt.Sprintf("its current key at k[%d]", i))
			case kel.NextDigest(k) == ks.NextDigest:
				where = append(where, fmt.Sprintf("its next key at k[%d]", i))
			}
		}
		for i, n := range next {
			if !ours[n] && (n == ks.NextDigest || n == ks.PendingNextDigest && n != "") {
				where = append(where, fmt.Sprintf("its next digest at n[%d]", i))
			}
		}
		if len(where) > 0 {
			out = append(out, fmt.Sprintf("the event lists %s of %s, which serves %s only: a key pair serves one group; %s joins with a fresh seat (keremony member card %s --for GROUP)",
				strings.Join(where, " and "), d.seatName(ks), d.GroupName(ks.Group), ks.Member, ks.Member))
		}
	}
	return out, nil
}

// seatName is "alice in team1", "alice for wgroup2" (a fresh seat whose
// card was made for it) or "alice" (a seat in no group yet).
func (d *Device) seatName(ks keystore.Seat) string {
	switch {
	case ks.Group != "":
		return ks.Member + " in " + d.nameOf(ks.Group)
	case ks.For != "":
		return ks.Member + " for " + ks.For
	case ks.N > 1:
		return fmt.Sprintf("%s (seat %d)", ks.Member, ks.N)
	}
	return ks.Member
}

// labelBook maps keys and digests of an identifier to member labels: first
// from the rosters of this device's ceremonies of it (what the members
// called themselves), then, where those say nothing, from this device's
// own seats, the proposals seen and the cards in the inbox.
func (d *Device) labelBook(prefix string) map[string]string {
	book := d.rosterBook(prefix)
	learn := func(label string, keys ...string) {
		for _, k := range keys {
			if _, known := book[k]; k != "" && label != "" && !known {
				book[k] = label
			}
		}
	}
	if ss, err := d.ks.Seats(); err == nil {
		for _, ks := range ss {
			if ks.Group == prefix || ks.Group == "" {
				learn(ks.Member, kel.EncodeVerKey(ks.PublicKey), ks.NextDigest, ks.PendingNextDigest)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(d.seen)) {
		in := d.seen[id]
		if in.Event.Prefix() != prefix {
			continue
		}
		switch p := in.Proposal; {
		case p.Inception != nil:
			for _, c := range p.Inception.Members {
				learn(c.Label, c.Key, c.Next)
			}
		case p.Rotation != nil:
			for _, c := range p.Rotation.Members {
				learn(c.Label, c.Key, c.Next, c.Prior)
			}
		}
	}
	for _, e := range d.items {
		if e.item.Kind == api.InboxCard {
			learn(e.item.Card.Label, e.item.Card.Key, e.item.Card.Next)
		}
	}
	return book
}

// rosterBook is labelBook restricted to the rosters of this device's
// ceremonies (what a proposal built here may name members by).
func (d *Device) rosterBook(prefix string) map[string]string {
	book := map[string]string{}
	for _, c := range d.store.Ceremonies() {
		if c.Event().Prefix() != prefix {
			continue
		}
		for _, m := range c.Roster() {
			for _, k := range []string{m.Key, m.Next, m.Prior} {
				if k != "" && !strings.HasPrefix(m.Label, "#") {
					book[k] = m.Label
				}
			}
		}
	}
	return book
}

// labelsIn names items (keys or digests) by member from book, else "#i".
func labelsIn(book map[string]string, items []string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = book[it]
		if out[i] == "" {
			out[i] = fmt.Sprintf("#%d", i)
		}
	}
	return out
}

// localMembersIn names the members of this device with a seat whose
// current key is among keys.
func (d *Device) localMembersIn(keys []string) ([]string, error) {
	ss, err := d.ks.Seats()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ks := range ss {
		if slices.Contains(keys, kel.EncodeVerKey(ks.PublicKey)) && !slices.Contains(out, ks.Member) {
			out = append(out, ks.Member)
		}
	}
	return out, nil
}

// seatAmong is member alias's seat whose current key is among keys.
func (d *Device) seatAmong(alias string, keys []string) (keystore.Seat, bool, error) {
	m, err := d.ks.Member(alias)
	if err != nil {
		return keystore.Seat{}, false, err
	}
	for _, ks := range m.Seats {
		if slices.Contains(keys, kel.EncodeVerKey(ks.PublicKey)) {
			return ks, true, nil
		}
	}
	return keystore.Seat{}, false, nil
}

// memberKeys are the keys whose holders may abort a ceremony: its signing
// keys, its roster's keys and the group's current keys.
func (d *Device) memberKeys(cer *ceremony.Ceremony) []string {
	keys := cer.SigningKeys()
	for _, m := range cer.Roster() {
		if m.Key != "" {
			keys = append(keys, m.Key)
		}
	}
	if st, ok := d.store.State(cer.Event().Prefix()); ok {
		keys = append(keys, st.Keys...)
	}
	return keys
}
