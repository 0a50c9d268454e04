package device

// Cards that no longer work: a member card names a key and the digest of
// the member's next key; once a KEL this device holds reveals that next key,
// the member has rotated and no longer signs with the card's key. Such a
// card is stale: a proposal built from it reaches nobody. And a card of
// this device's own members (an older one, from before a rotation) is no
// card for its inbox.

import (
	"fmt"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/keystore"
)

// revealed is where a next digest was revealed: the identifier and the
// event that lists a key hashing to it.
type revealed struct {
	prefix string
	sn     uint64
}

// revelations maps each next digest that a KEL in v revealed (the digest
// of a key an establishment event lists) to where it was revealed first,
// looking at prefixes in their first-seen order.
func (d *Device) revelations(v *kel.Verifier, prefixes []string) map[string]revealed {
	out := map[string]revealed{}
	for _, p := range prefixes {
		for _, m := range v.Messages(p) {
			ev := m.Event
			if !ev.IsEstablishment() || ev.IsInception() {
				continue
			}
			for _, k := range ev.Keys() {
				if dig := kel.NextDigest(k); out[dig].prefix == "" {
					out[dig] = revealed{prefix: p, sn: ev.Sn()}
				}
			}
		}
	}
	return out
}

// staleWhy says why a card of label with next digest next is stale ("" when
// it is not): its member rotated, revealing the next key.
func (d *Device) staleWhy(label, next string, rev map[string]revealed) string {
	r, ok := rev[next]
	if next == "" || !ok {
		return ""
	}
	return fmt.Sprintf("%s's card is stale: %s rotated at sn %d of %s (the card's next key was revealed there), so %s no longer signs with the card's key",
		label, label, r.sn, d.nameOf(r.prefix), label)
}

// staleMembers says, for an open ceremony, which roster members came from
// stale cards: nobody can sign for them, and their devices never take the
// proposal.
func (d *Device) staleMembers(cer *ceremony.Ceremony, rev map[string]revealed) []string {
	if !cer.State().Open() || cer.Kind() == ceremony.KindAnchoring {
		return nil
	}
	var out []string
	for _, m := range cer.Roster() {
		if m.Role != ceremony.RoleSigner && m.Role != ceremony.RoleFresh && m.Role != ceremony.RoleNextOnly {
			continue
		}
		if why := d.staleWhy(m.Label, m.Next, rev); why != "" {
			out = append(out, why+": nobody can review this proposal for "+m.Label+"; abort it (x) and propose again with "+m.Label+"'s new card")
		}
	}
	return out
}

// ownKeys are the keys and next digests of this device's seats: their
// current keys, next and prepared digests, and, through the rosters of this
// device's ceremonies, the keys they held before a rotation.
func (d *Device) ownKeys(seats []keystore.Seat) (keys, nexts map[string]bool) {
	keys, nexts = map[string]bool{}, map[string]bool{}
	for _, ks := range seats {
		cur := kel.EncodeVerKey(ks.PublicKey)
		keys[cur] = true
		nexts[kel.NextDigest(cur)], nexts[ks.NextDigest] = true, true
		if ks.PendingNextDigest != "" {
			nexts[ks.PendingNextDigest] = true
		}
	}
	// A roster member whose next digest is ours held an earlier key of
	// ours; repeat until nothing is learned.
	var rosters []ceremony.Roster
	for _, c := range d.store.Ceremonies() {
		rosters = append(rosters, c.Roster())
	}
	for grew := true; grew; {
		grew = false
		for _, r := range rosters {
			for _, m := range r {
				if m.Key != "" && m.Next != "" && nexts[m.Next] && !keys[m.Key] {
					keys[m.Key], nexts[kel.NextDigest(m.Key)] = true, true
					grew = true
				}
			}
		}
	}
	return keys, nexts
}

// ownCard reports whether a card is of a member of this device (now or
// before a rotation).
func ownCard(c ceremony.Card, keys, nexts map[string]bool) bool {
	return c.Key != "" && keys[c.Key] || c.Next != "" && nexts[c.Next]
}
