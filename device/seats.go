package device

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/keystore"
)

// seat is how a local member takes part in a proposed event.
type seat struct {
	alias string
	m     keystore.Member
	// key is the member's key among the signing keys ("" when it does not
	// sign): its current key, or for a rotation the next key it reveals.
	key string
	// next is the digest the member expects in the event's next list.
	next string
	// reveals: a rotation in which the member reveals its next key.
	reveals bool
}

// seatFor works out how member m takes part in event ev, whose signatures
// index signing (for an ixn: the group's current keys); ok is false when it
// takes no part at all.
func seatFor(m keystore.Member, kind ceremony.Kind, ev *kel.Event, signing, next []string) (s seat, ok bool) {
	cur := kel.EncodeVerKey(m.PublicKey)
	s = seat{alias: m.Alias, m: m, next: m.NextDigest}
	if kind == ceremony.KindRotation {
		for _, k := range ev.Keys() {
			if kel.NextDigest(k) == m.NextDigest {
				s.key, s.reveals, s.next = k, true, m.PendingNextDigest
			}
		}
		if s.key == "" && slices.Contains(ev.Keys(), cur) {
			s.key = cur
		}
		return s, s.key != "" || slices.Contains(next, m.NextDigest)
	}
	if slices.Contains(signing, cur) {
		s.key = cur
	}
	return s, s.key != "" || slices.Contains(next, m.NextDigest)
}

// seatsIn are the seats of the members ms that take part in an event.
func seatsIn(ms []keystore.Member, kind ceremony.Kind, ev *kel.Event, signing, next []string) []seat {
	var out []seat
	for _, m := range ms {
		if s, ok := seatFor(m, kind, ev, signing, next); ok {
			out = append(out, s)
		}
	}
	return out
}

// chooseSeat picks the local member that takes part in the event: the one
// named (want), else the only one that does. ok is false when no member
// takes part (and none was named).
func (d *Device) chooseSeat(want string, kind ceremony.Kind, ev *kel.Event, signing, next []string) (seat, bool, error) {
	if want != "" {
		m, err := d.ks.Member(want)
		if err != nil {
			return seat{}, false, err
		}
		s, _ := seatFor(m, kind, ev, signing, next)
		return s, true, nil
	}
	ms, err := d.ks.Members()
	if err != nil {
		return seat{}, false, err
	}
	found := seatsIn(ms, kind, ev, signing, next)
	switch len(found) {
	case 0:
		return seat{}, false, nil
	case 1:
		return found[0], true, nil
	}
	var names []string
	for _, s := range found {
		names = append(names, s.alias)
	}
	return seat{}, false, fmt.Errorf("%w: members %s of this device all take part: choose one with --member", ErrAmbiguous, strings.Join(names, ", "))
}

// labelBook maps keys and digests of an identifier to member labels: first
// from the rosters of this device's ceremonies of it (what the members
// called themselves), then, where those say nothing, from this device's
// own members, the proposals seen and the cards in the inbox.
func (d *Device) labelBook(prefix string) map[string]string {
	book := d.rosterBook(prefix)
	learn := func(label string, keys ...string) {
		for _, k := range keys {
			if _, known := book[k]; k != "" && label != "" && !known {
				book[k] = label
			}
		}
	}
	if ms, err := d.ks.Members(); err == nil {
		for _, m := range ms {
			learn(m.Alias, kel.EncodeVerKey(m.PublicKey), m.NextDigest, m.PendingNextDigest)
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

// LabelsOf names items (keys or digests of prefix) by member where this
// device knows them, else "#i".
func (d *Device) LabelsOf(prefix string, items []string) []string {
	book := d.labelBook(prefix)
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = book[it]
		if out[i] == "" {
			out[i] = fmt.Sprintf("#%d", i)
		}
	}
	return out
}

// fromLabel is the label of a local member among the group's current keys
// or next digests ("" when none).
func (d *Device) fromLabel(prefix string, st kel.KeyState) string {
	ms, _ := d.ks.Members()
	book := d.rosterBook(prefix)
	for _, m := range ms {
		cur := kel.EncodeVerKey(m.PublicKey)
		if slices.Contains(st.Keys, cur) || slices.Contains(st.Next, m.NextDigest) {
			if l := book[cur]; l != "" {
				return l
			}
			if l := book[m.NextDigest]; l != "" {
				return l
			}
			return m.Alias
		}
	}
	return ""
}

// localMembersIn names the members of this device whose current key is
// among keys.
func (d *Device) localMembersIn(keys []string) ([]string, error) {
	ms, err := d.ks.Members()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range ms {
		if slices.Contains(keys, kel.EncodeVerKey(m.PublicKey)) {
			out = append(out, m.Alias)
		}
	}
	return out, nil
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

// syncRotations commits the prepared rotation of every local member whose
// revealed next key is now a current key of an identifier this device
// holds, with its prepared next digest committed; it runs after every
// change of the local KELs (finalize, kel import, sign). It returns what it
// did, for the user.
func (d *Device) syncRotations() []api.Notice {
	ms, err := d.ks.Members()
	if err != nil {
		return []api.Notice{{Text: fmt.Sprintf("committing rotations: %v", err), Err: err}}
	}
	var out []api.Notice
	var errs []error
	v := d.store.Verifier()
	for _, m := range ms {
		for _, p := range v.Prefixes() {
			st, _ := v.State(p)
			i := slices.IndexFunc(st.Keys, func(k string) bool { return kel.NextDigest(k) == m.NextDigest })
			if i < 0 {
				continue
			}
			switch {
			case m.PendingNextDigest == "":
				out = append(out, api.Notice{Text: fmt.Sprintf("member %s: its next key is now k[%d] of %s (sn %d), but this device prepared no rotation for it: run keremony member check", m.Alias, i, d.GroupName(p), st.EstSn)})
			case !slices.Contains(st.Next, m.PendingNextDigest):
				out = append(out, api.Notice{Text: fmt.Sprintf("member %s: its next key is now k[%d] of %s (sn %d), but its prepared next digest %s is not in the new next list: rotation NOT committed", m.Alias, i, d.GroupName(p), st.EstSn, m.PendingNextDigest)})
			default:
				nm, err := d.ks.CommitRotation(m.Alias)
				if err != nil {
					errs = append(errs, fmt.Errorf("member %s: %w", m.Alias, err))
					continue
				}
				out = append(out, api.Notice{Text: fmt.Sprintf("member %s: rotation committed: its key %s is now k[%d] of %s (sn %d); next digest %s", m.Alias, kel.EncodeVerKey(nm.PublicKey), i, d.GroupName(p), st.EstSn, nm.NextDigest)})
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		out = append(out, api.Notice{Text: fmt.Sprintf("committing rotations: %v", err), Err: err})
	}
	return out
}
