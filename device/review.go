package device

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
)

// Reviewed is a review of a proposal on this device: the rebuilt event's
// review (nil when the rebuild failed) and this device's own refusals and
// warnings. Sign consumes it.
type Reviewed struct {
	In     *Incoming
	Review *ceremony.Review
	// Err is the rebuild's verdict.
	Err error
	// Member is this device's member that takes part ("" when none);
	// SignKey its key among the signing keys ("" when it does not sign).
	Member  string
	SignKey string
	seat    seat
	hasSeat bool
	// Fresh names the identifiers first seen in the proposal's KELs.
	Fresh []string
	// Refusals say why this device must not sign; Warnings what to check
	// (the rebuilt event's warnings first); Critical the warnings to
	// repeat when the member confirms its signature.
	Refusals []string
	Warnings []string
	// Effect says what the event does to this device's member in the
	// group ("this rotation removes you from team1", "you stay in
	// reserve"); "" when no member takes part.
	Effect   string
	Critical []string
	// Roster is every member of the event with where this device learned
	// its key.
	Roster []api.RosterLine
	// Local is this device's ceremony of the proposal, if any.
	Local *ceremony.Ceremony
	// Group names the group: its alias here, else the alias the proposal
	// suggests, else its prefix.
	Group string
}

// Passed reports whether the review allows signing.
func (r *Reviewed) Passed() bool { return r.Err == nil && len(r.Refusals) == 0 }

// HasSeat reports whether a member of this device takes part.
func (r *Reviewed) HasSeat() bool { return r.hasSeat }

// Signed reports whether this device's member already signed this
// device's ceremony of the proposal.
func (r *Reviewed) Signed() bool {
	if r.Local == nil || r.SignKey == "" {
		return false
	}
	i := slices.Index(r.Local.SigningKeys(), r.SignKey)
	return i >= 0 && slices.Contains(r.Local.Progress().Signed, i)
}

// CanSign reports whether the review passed and this device's member signs
// and has not signed yet.
func (r *Reviewed) CanSign() bool { return r.Passed() && r.SignKey != "" && !r.Signed() }

// Review reviews a proposal against this device's KELs and the KELs that
// came with it, as member want (or the member that takes part); docs are
// documents (by name) a digest seal may commit to.
func (d *Device) Review(in *Incoming, want string, docs map[string][]byte) (*Reviewed, error) {
	prefix := in.Event.Prefix()
	r := &Reviewed{In: in, Group: firstNonEmpty(d.groups.aliasOf(prefix), in.Packet.Group, prefix)}
	v, fresh, err := d.contextVerifier(in.Event, in.Packet.Context)
	if err != nil {
		r.Err = err
		r.Refusals = append(r.Refusals, err.Error())
		return r, nil
	}
	r.Fresh = fresh
	if err := d.checkProposer(in, v); err != nil {
		r.Err = err
		r.Refusals = append(r.Refusals, err.Error())
		return r, nil
	}
	if cer, err := d.store.Ceremony(in.ID()); err == nil && cer.SAID() == in.Event.SAID() {
		r.Local = cer
	}
	signing, next := seatLists(in, v)
	r.seat, r.hasSeat, err = d.chooseSeat(want, in.Proposal.Kind, in.Event, signing, next)
	if err != nil {
		return nil, err
	}
	if r.hasSeat {
		r.Member, r.SignKey = r.seat.alias(), r.seat.key
	}
	me := ceremony.Reviewer{Key: r.seat.key, Next: r.seat.next, Labels: d.withWitnessNames(d.rosterBook(prefix)), Documents: docs}
	r.Review, r.Err = ceremony.ReviewProposal(in.Proposal, v, me)
	if r.Err != nil {
		r.Refusals = append(r.Refusals, r.Err.Error())
		r.refuseClosedLocal()
		return r, nil
	}
	r.Warnings = slices.Clone(r.Review.Warnings)
	if others := d.conflicts(in); len(others) > 0 {
		r.Warnings = append(r.Warnings, conflictText(others))
		if cer, err := d.store.Ceremony(in.ID()); err == nil && cer.SAID() != in.Event.SAID() {
			r.Refusals = append(r.Refusals, fmt.Sprintf("this device's ceremony %s, under the same id, signs another event (%s): this proposal cannot be signed here",
				cer.ID(), cer.SAID()))
		}
	}
	if slices.Contains(fresh, prefix) {
		r.Warnings = append(r.Warnings, fmt.Sprintf("this device did not hold the kel of %s: it came with the proposal and replays, but only the other members can confirm it is their group: compare the identifier and its fingerprint %s",
			prefix, ceremony.Fingerprint(prefix)))
	}
	for _, p := range fresh {
		if p != prefix {
			r.Warnings = append(r.Warnings, fmt.Sprintf("the kel of %s came with the proposal (it replays; this device did not hold it)", p))
		}
	}
	if r.seat.reveals {
		switch m := r.seat.ks; {
		case m.PendingNextDigest == "":
			r.Refusals = append(r.Refusals, fmt.Sprintf("member %s has not prepared this rotation: run keremony rotate contribute --group %s --member %s first",
				m.Member, d.GroupName(prefix), m.Member))
		case !slices.Contains(in.Event.Next(), m.PendingNextDigest):
			r.Refusals = append(r.Refusals, fmt.Sprintf("the rotation reveals the next key of member %s but does not commit its prepared next digest %s: signing would leave it unable to rotate again",
				m.Member, m.PendingNextDigest))
		}
	}
	foreign, err := d.foreignKeys(prefix, in.Event.Keys(), in.Event.Next())
	if err != nil {
		return nil, err
	}
	r.Refusals = append(r.Refusals, foreign...)
	if r.hasSeat {
		r.Effect = d.effect(r.seat, in, v)
		if ks := r.seat.ks; ks.Group == "" && ks.For != "" && in.Packet.Group != "" && in.Packet.Group != ks.For {
			r.Warnings = append(r.Warnings, fmt.Sprintf("the seat of %s in this event was made for %s; the proposal calls the group %s", ks.Member, ks.For, in.Packet.Group))
		}
	}
	storeRefused := false
	if r.hasSeat && r.seat.key != "" {
		if err := d.storeConflict(r.seat, in.Event); err != nil {
			r.Refusals = append(r.Refusals, err.Error())
			storeRefused = true
		}
	}
	r.refuseClosedLocal()
	d.preflight(r, storeRefused)
	r.Critical = critical(r)
	r.Roster = d.rosterLines(r, v)
	return r, nil
}

// effect says in one line what the proposed event does to seat s: for a
// rotation, whether it rotates, stays in reserve, joins or is removed.
func (d *Device) effect(s seat, in *Incoming, v *kel.Verifier) string {
	group := firstNonEmpty(d.groups.aliasOf(in.Event.Prefix()), in.Packet.Group, ShortID(in.Event.Prefix()))
	ev := in.Event
	cur := kel.EncodeVerKey(s.ks.PublicKey)
	switch in.Proposal.Kind {
	case ceremony.KindInception:
		if i := slices.Index(ev.Keys(), cur); i >= 0 {
			return fmt.Sprintf("this inception makes %s a signer of %s at k[%d], with keys that serve %s only", s.alias(), group, i, group)
		}
		if j := slices.Index(ev.Next(), s.ks.NextDigest); j >= 0 {
			return fmt.Sprintf("this inception commits your next key at n[%d]: you sign for %s from its first rotation on", j, group)
		}
		return fmt.Sprintf("this inception does not list you: you are not a member of %s", group)
	case ceremony.KindAnchoring:
		return "an anchoring changes no key: you stay a signer of " + group
	}
	next := ev.Next()
	committed := slices.Index(next, s.next)
	switch {
	case s.reveals:
		line := fmt.Sprintf("you rotate: the key you reveal becomes k[%d] of %s", slices.Index(ev.Keys(), s.key), group)
		if committed >= 0 {
			line += fmt.Sprintf(", and your prepared next key is committed at n[%d]", committed)
		}
		return line
	case s.key != "":
		return fmt.Sprintf("you stay a signer of %s at k[%d] with a key that was not pre-committed", group, slices.Index(ev.Keys(), s.key))
	case slices.Contains(next, s.ks.NextDigest):
		prior, _ := v.State(ev.Prefix())
		if slices.Contains(prior.Next, s.ks.NextDigest) {
			return fmt.Sprintf("you stay in reserve: you do not sign; your committed next key is carried, unexposed, to n[%d] of %s", slices.Index(next, s.ks.NextDigest), group)
		}
		return fmt.Sprintf("you join %s through the next commitment at n[%d]: you sign from its next rotation on", group, slices.Index(next, s.ks.NextDigest))
	}
	return fmt.Sprintf("this rotation removes you from %s: after it, %s lists neither your key nor your next digest", group, group)
}

// refuseClosedLocal refuses a proposal whose ceremony on this device is
// closed.
func (r *Reviewed) refuseClosedLocal() {
	if r.Local != nil && !r.Local.State().Open() {
		r.Refusals = append(r.Refusals, fmt.Sprintf("this device's ceremony %s of this proposal is %s", r.Local.ID(), r.Local.State()))
	}
}

// seatLists are the signing keys and the next list that say who takes part
// in a proposed event: the event's own, or for an anchoring the group's
// current ones (in v).
func seatLists(in *Incoming, v *kel.Verifier) (signing, next []string) {
	if in.Proposal.Kind == ceremony.KindAnchoring {
		st, _ := v.State(in.Event.Prefix())
		return st.Keys, st.Next
	}
	return in.Event.Keys(), in.Event.Next()
}

// SigningCount is how many signing positions the reviewed event has (for
// an anchoring, as far as the roster names them).
func (r *Reviewed) SigningCount() int {
	n := len(r.In.Event.Keys())
	if r.Review != nil && r.Review.Kind == ceremony.KindAnchoring {
		n = 0
		for _, m := range r.Review.Roster {
			if m.Index >= 0 {
				n = max(n, m.Index+1)
			}
		}
	}
	return n
}

// refusalText joins the refusals for an error.
func (r *Reviewed) refusalText() string { return strings.Join(r.Refusals, "; ") }
