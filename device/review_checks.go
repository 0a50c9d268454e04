package device

// What a review adds to the rebuilt event's own review: the pre-flight of
// the signature (the key is usable, no other event was signed at this
// sequence number), the roster with where each key was learned, and the
// warnings to repeat when the member confirms.

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/keystore"
)

// preflight checks, before the member is asked to sign, what would make
// the signature fail: a key the keystore cannot use, or a signature of
// another event at this identifier and sequence number in the journal
// (when the ceremony store found none: storeRefused). Each becomes a
// refusal that says why.
func (d *Device) preflight(r *Reviewed, storeRefused bool) {
	if !r.hasSeat || r.seat.key == "" || r.Signed() {
		return
	}
	ev := r.In.Event
	alias := r.seat.alias()
	if err := d.ks.CheckKey(r.seat.ks.SeatRef, r.seat.reveals); err != nil {
		which := "its key"
		if r.seat.reveals {
			which = "its pre-rotated next key (the key this rotation reveals)"
		}
		r.Refusals = append(r.Refusals, fmt.Sprintf("member %s cannot sign: the keystore cannot use %s: %v", alias, which, err))
	}
	if storeRefused {
		return
	}
	ref := keystore.EventRef{AID: ev.Prefix(), SN: ev.Sn(), SAID: ev.SAID()}
	if err := d.ks.SignConflict(r.seat.ks.SeatRef, r.seat.reveals, ref); err != nil {
		if errors.Is(err, keystore.ErrConflictingSignature) {
			r.Refusals = append(r.Refusals, fmt.Sprintf("member %s already signed a different event at sn %d of %s (the signing journal): signing this one as well would be duplicity; %v",
				alias, ev.Sn(), d.nameOf(ev.Prefix()), err))
		} else {
			r.Refusals = append(r.Refusals, fmt.Sprintf("the signing journal cannot be read: %v", err))
		}
	}
}

// critical are the warnings a member must see again when confirming the
// signature: seals not checked here, its own removal, reserve or
// uncommitted next key.
func critical(r *Reviewed) []string {
	rv := r.Review
	if rv == nil {
		return nil
	}
	var out []string
	for _, s := range rv.Seals {
		if s.Known {
			continue
		}
		switch s.Seal.Kind {
		case kel.SealDigest:
			text := fmt.Sprintf("unchecked: the digest seal %s matches no document you opened", s.Seal.D)
			if s.Proposer != "" {
				text += " (the proposer says: " + s.Proposer + ")"
			}
			out = append(out, text)
		case kel.SealEvent:
			out = append(out, fmt.Sprintf("unchecked: this device does not hold event %d of %s", s.Seal.S, s.Seal.I))
		default:
			out = append(out, "unchecked: "+s.Text)
		}
	}
	if r.hasSeat {
		m, ok := yourMember(r)
		switch {
		case ok && m.Role == ceremony.RoleDrop, !ok && rv.Kind == ceremony.KindRotation && r.seat.key == "" && !rv.NextCommitted:
			out = append(out, firstNonEmpty(r.Effect, "you are removed: "+m.Label+" leaves the group with this rotation"))
		case ok && m.Role == ceremony.RoleReserve:
			out = append(out, firstNonEmpty(r.Effect, "you are in reserve: "+m.Label+" does not sign now; its committed next key is carried for a later rotation"))
		}
		if !rv.NextCommitted && r.seat.next != "" {
			out = append(out, rv.NextText)
		}
	}
	return out
}

// yourMember is the roster member of this device's seat.
func yourMember(r *Reviewed) (ceremony.Member, bool) {
	for _, m := range r.Review.Roster {
		if r.seat.key != "" && m.Key == r.seat.key {
			return m, true
		}
		if m.Prior != "" && m.Prior == r.seat.ks.NextDigest {
			return m, true
		}
		if r.seat.next != "" && (m.Next == r.seat.next) {
			return m, true
		}
	}
	return ceremony.Member{}, false
}

// rosterLines are the event's members with the key each signs with (else
// the digest it is known by) and where this device learned it.
func (d *Device) rosterLines(r *Reviewed, v *kel.Verifier) []api.RosterLine {
	rv := r.Review
	if rv == nil {
		return nil
	}
	in := r.In
	prefix := in.Event.Prefix()
	st, held := v.State(prefix)
	fromProposal := slices.Contains(r.Fresh, prefix)
	seats, _ := d.ks.Seats()
	local := map[string]bool{}
	for _, ks := range seats {
		local[kel.EncodeVerKey(ks.PublicKey)] = true
		local[ks.NextDigest] = true
		if ks.PendingNextDigest != "" {
			local[ks.PendingNextDigest] = true
		}
	}
	inbox := map[string]api.InboxKind{}
	for _, e := range d.items {
		switch e.item.Kind {
		case api.InboxCard:
			inbox[e.item.Card.Key], inbox[e.item.Card.Next] = api.InboxCard, api.InboxCard
		case api.InboxContribution:
			c := e.item.Contribution
			for _, k := range []string{c.Key, c.Next, c.Prior} {
				if k != "" {
					inbox[k] = api.InboxContribution
				}
			}
		}
	}
	kelSource := "the group's KEL"
	if fromProposal {
		kelSource = "the group's KEL that came with the proposal"
	}
	var out []api.RosterLine
	for _, m := range rv.Roster {
		l := api.RosterLine{Label: m.Label, Role: m.Role, Index: m.Index, Key: m.Key}
		if l.Key == "" {
			l.Key, l.Digest = firstNonEmpty(m.Next, m.Prior), true
		}
		if mine, ok := yourMember(r); ok && r.hasSeat && mine.Label == m.Label {
			l.You = true
		}
		switch {
		case local[m.Key] || local[m.Next] || (m.Key != "" && local[kel.NextDigest(m.Key)]):
			l.Source = "this device"
		case held && m.Key != "" && slices.Contains(st.Keys, m.Key):
			l.Source = kelSource
		case held && m.Key != "" && slices.Contains(st.Next, kel.NextDigest(m.Key)):
			l.Source = "pre-committed in " + kelSource
		case held && m.Key == "" && m.Prior != "" && slices.Contains(st.Next, m.Prior):
			l.Source = kelSource
		case inbox[firstNonEmpty(m.Key, m.Next)] == api.InboxCard:
			l.Source = "a card in the inbox"
		case inbox[firstNonEmpty(m.Key, m.Next)] == api.InboxContribution:
			l.Source = "a contribution in the inbox"
		case in.Proposal.Kind == ceremony.KindInception:
			l.Source = "the proposal's card"
		case in.Proposal.Kind == ceremony.KindRotation:
			l.Source = "the proposal's contribution"
		default:
			l.Source = "the proposal"
		}
		out = append(out, l)
	}
	return out
}

// readDocuments reads the files a review checks digest seals against:
// by base name (by path when two share a name), with what each matched.
func readDocuments(paths []string, seals []kel.Seal) (map[string][]byte, []api.DocumentCheck) {
	docs := map[string][]byte{}
	var checks []api.DocumentCheck
	for _, p := range paths {
		c := api.DocumentCheck{Path: p}
		data, err := ReadBounded(p, nil, maxDocument, nil)
		if err != nil {
			c.Err = err.Error()
			checks = append(checks, c)
			continue
		}
		c.Size, c.Digest = int64(len(data)), kel.Digest(data)
		c.Matches = slices.ContainsFunc(seals, func(s kel.Seal) bool { return s.Kind == kel.SealDigest && s.D == c.Digest })
		name := filepath.Base(p)
		if _, dup := docs[name]; dup {
			name = p
		}
		docs[name] = data
		checks = append(checks, c)
	}
	return docs, checks
}
