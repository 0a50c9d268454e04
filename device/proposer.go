package device

// Every proposal is signed by its proposer (ceremony.Proposal.Sign): a
// member of the proposing device whose key is one of the inception's
// listed keys, or a current key of the group. A receiver verifies the
// signature when it reads the packet and checks here that the key may
// propose; a proposal that fails either is refused, and never displaces
// another. Two different proposals with one ceremony id are both kept, each
// flagged as a conflict.

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
)

// ErrProposer: a proposal signed by a key that may not propose it.
var ErrProposer = errors.New("proposal is not signed by a key that may propose it")

// signProposal makes this device's member alias ("": the first member of
// this device with a seat that may) the proposer of p and signs it: with
// the seat's current key when it is among keys (the listed keys of an
// inception, else the group's current keys, and for a rotation the keys it
// reveals), else, for a seat whose current key was lost, with the next key
// the rotation reveals. Its label is what p's members or book call that
// key, else the alias. group is the group's alias here (a suggestion for
// the others).
func (d *Device) signProposal(p *ceremony.Proposal, keys []string, alias, group string, book map[string]string) error {
	seats, err := d.ks.Seats()
	if err != nil {
		return err
	}
	type choice struct {
		seat      Seat
		key       string
		revealing bool
	}
	var found *choice
	for _, s := range seats {
		if alias != "" && s.Member != alias {
			continue
		}
		if cur := kel.EncodeVerKey(s.PublicKey); !s.LostCurrent && slices.Contains(keys, cur) {
			found = &choice{s, cur, false}
			break
		}
		for _, k := range keys {
			if s.PendingNextDigest != "" && kel.NextDigest(k) == s.NextDigest && found == nil {
				found = &choice{s, k, true}
			}
		}
	}
	if found == nil {
		who := "no member of this device"
		if alias != "" {
			who = "member " + alias
		}
		return fmt.Errorf("%w: %s holds one of the keys that may propose this %s (%s): only a member that signs the group's events may propose",
			ErrNoMember, who, p.Kind, strings.Join(keys, ", "))
	}
	label := firstNonEmpty(keyLabels(*p, book)[found.key], found.seat.Member)
	pr := ceremony.Proposer{Group: group, Label: label, Key: found.key}
	ref := found.seat.SeatRef
	if found.revealing {
		return p.Sign(pr, func(b []byte) ([]byte, error) { return d.ks.SignProofRevealing(ref, b) })
	}
	return p.Sign(pr, func(b []byte) ([]byte, error) { return d.ks.SignProof(ref, b) })
}

// proposerKeys are the keys that may propose an event of a group in state
// st: its current keys, and for a rotation the keys it reveals (committed
// in the group's next list).
func proposerKeys(st kel.KeyState, ev *kel.Event, rotation bool) []string {
	keys := slices.Clone(st.Keys)
	if rotation {
		for _, k := range ev.Keys() {
			if slices.Contains(st.Next, kel.NextDigest(k)) && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// signLocalCards signs the cards of members without a signature whose key
// a seat of this device holds (a card made here rather than received): a
// proposal carries every member's signed card, which binds its label.
func (d *Device) signLocalCards(cards []ceremony.Card) ([]ceremony.Card, error) {
	seats, err := d.ks.Seats()
	if err != nil {
		return nil, err
	}
	out := slices.Clone(cards)
	for i, c := range out {
		if c.Sig != "" {
			continue
		}
		for _, s := range seats {
			if kel.EncodeVerKey(s.PublicKey) != c.Key {
				continue
			}
			sig, err := d.ks.SignProof(s.SeatRef, c.SigningBytes())
			if err != nil {
				return nil, err
			}
			out[i].Sig = kel.EncodeSignature(sig)
			break
		}
	}
	return out, nil
}

// signLocalParts signs, for a rotation of group, the parts without a
// signature that reveal or add a key of a seat of this device: signed by
// the seat's current key, as Contribute signs them.
func (d *Device) signLocalParts(group string, parts []ceremony.Contribution) ([]ceremony.Contribution, error) {
	seats, err := d.ks.Seats()
	if err != nil {
		return nil, err
	}
	out := slices.Clone(parts)
	for i, c := range out {
		if c.Sig != "" || c.Key == "" || c.Role != ceremony.RoleRotate && c.Role != ceremony.RoleFresh {
			continue
		}
		for _, s := range seats {
			cur := kel.EncodeVerKey(s.PublicKey)
			if s.NextDigest != kel.NextDigest(c.Key) && cur != c.Key {
				continue
			}
			c.Signer = cur
			sig, err := d.ks.SignProof(s.SeatRef, c.SigningBytes(group))
			if err != nil {
				return nil, err
			}
			c.Sig = kel.EncodeSignature(sig)
			out[i] = c
			break
		}
	}
	return out, nil
}

// keyLabels is what a proposal's members, then book, call their keys: an
// inception's or anchoring's cards by key, a rotation's contributions by
// signer.
func keyLabels(p ceremony.Proposal, book map[string]string) map[string]string {
	out := maps.Clone(book)
	if out == nil {
		out = map[string]string{}
	}
	switch {
	case p.Inception != nil:
		for _, c := range p.Inception.Members {
			out[c.Key] = c.Label
		}
	case p.Rotation != nil:
		for _, c := range p.Rotation.Members {
			for _, k := range []string{c.Signer, c.Key} {
				if k != "" {
					out[k] = c.Label
				}
			}
		}
	case p.Anchoring != nil:
		for _, c := range p.Anchoring.Members {
			out[c.Key] = c.Label
		}
	}
	delete(out, "")
	return out
}

// checkProposer checks that a proposal's signer may propose it: one of an
// inception's listed keys, else a current key of the group in v (this
// device's KELs and those that came with the proposal); and that its label
// is the one the proposal's members and this device's record give that
// key. The signature itself was verified when the packet was read.
func (d *Device) checkProposer(in *Incoming, v *kel.Verifier) error {
	pr := in.Proposal.Proposer
	if pr == nil {
		return fmt.Errorf("%w: %w", ErrProposer, ceremony.ErrUnsigned)
	}
	prefix := in.Event.Prefix()
	keys, what := in.Event.Keys(), "one of the keys the inception lists"
	if in.Proposal.Kind != ceremony.KindInception {
		st, ok := v.State(prefix)
		if !ok {
			return fmt.Errorf("%w: this device holds no kel of %s to check the proposer %s against", ErrProposer, prefix, pr.Key)
		}
		keys, what = proposerKeys(st, in.Event, in.Proposal.Kind == ceremony.KindRotation), "a current key of "+d.nameOf(prefix)
		if in.Proposal.Kind == ceremony.KindRotation {
			what += " or a key the rotation reveals"
		}
	}
	if !slices.Contains(keys, pr.Key) {
		return fmt.Errorf("%w: it is signed by %s (%q), which is not %s", ErrProposer, pr.Key, pr.Label, what)
	}
	if l := keyLabels(in.Proposal, d.rosterBook(prefix))[pr.Key]; l != "" && l != pr.Label {
		return fmt.Errorf("%w: the proposer signs as %q, but its key %s is %q", ceremony.ErrUnboundLabel, pr.Label, pr.Key, l)
	}
	return nil
}

// proposerText names who proposed: "alice (D…)".
func proposerText(in *Incoming) string {
	if pr := in.Proposal.Proposer; pr != nil {
		return fmt.Sprintf("%s (%s)", pr.Label, pr.Key)
	}
	return "nobody"
}

// refFor is the inbox reference of a proposal: its ceremony id, or, for a
// second proposal of an id already in the inbox, the id with the start of
// its event's SAID ("c…~EAbc…").
func (d *Device) refFor(in *Incoming) string {
	ref := in.ID()
	if _, taken := d.seen[ref]; taken {
		ref = in.ID() + "~" + in.Event.SAID()[:12]
	}
	return ref
}

// sameProposal finds a proposal already seen with the same id and event.
func (d *Device) sameProposal(in *Incoming) bool {
	for _, s := range d.seen {
		if s.ID() == in.ID() && s.Event.SAID() == in.Event.SAID() {
			return true
		}
	}
	return false
}

// conflicts lists the other proposals of in's ceremony id that this device
// holds (in the inbox, made here, or recorded as a ceremony) with another
// event, in words.
func (d *Device) conflicts(in *Incoming) []string {
	var out []string
	for _, ref := range slices.Sorted(maps.Keys(d.seen)) {
		s := d.seen[ref]
		if s.ID() == in.ID() && s.Event.SAID() != in.Event.SAID() {
			out = append(out, fmt.Sprintf("proposal %s from %s of event %s", ref, proposerText(s), s.Event.SAID()))
		}
	}
	if cer, err := d.store.Ceremony(in.ID()); err == nil && cer.SAID() != in.Event.SAID() {
		out = append(out, fmt.Sprintf("this device's ceremony %s of event %s", cer.ID(), cer.SAID()))
	}
	return out
}

// conflictText is the flag of a proposal that shares its id with others.
func conflictText(others []string) string {
	if len(others) == 0 {
		return ""
	}
	return fmt.Sprintf("CONFLICT: ceremony id shared with %s; only one can be signed here: compare the fingerprint with the other members",
		strings.Join(others, "; "))
}

// flagConflicts refreshes the conflict flag of every inbox proposal of
// ceremony id.
func (d *Device) flagConflicts(id string) {
	for i, e := range d.items {
		if e.item.Kind != api.InboxProposal {
			continue
		}
		if in := d.seen[e.item.ID]; in != nil && in.ID() == id {
			d.items[i].item.Conflict = conflictText(d.conflicts(in))
		}
	}
}
