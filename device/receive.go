package device

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/keystore"
	"github.com/keremony/keremony/transport"
)

// Poll ingests the files that appeared in the drop folder; it also reports
// what happened since the last call (ceremonies that expired, held
// signatures applied, rotations committed, files dropped).
func (d *Device) Poll() ([]api.Notice, error) {
	ns := d.TakeNotices()
	for _, id := range d.expireDue() {
		ns = append(ns, notice(id, "ceremony %s expired: it stays on record and takes no more signatures", ShortID(id)))
	}
	if d.drop == nil {
		return ns, nil
	}
	d.dropped = map[string][]api.Notice{}
	events, err := d.drop.Poll()
	for _, ev := range events {
		ns = append(ns, d.dropped[ev.Name]...)
		if ev.Err != nil {
			text := fmt.Sprintf("refused file %s: %v", ev.Name, ev.Err)
			if ev.MovedTo != "" {
				text += " (moved to " + transport.RejectedDir + "/)"
			}
			ns = append(ns, api.Notice{Text: text, Err: ev.Err})
		}
	}
	d.dropped = nil
	ns = append(ns, d.retryStreams()...)
	if err != nil {
		d.later = ns // reported with the next poll
		return nil, err
	}
	return ns, nil
}

// fromDropFolder is the drop folder's handler: it refuses (so the folder
// moves to rejected/) only what is malformed or hostile; a packet that does
// not concern this device is accepted and ignored, since the folder is
// shared with other devices.
func (d *Device) fromDropFolder(name string, data []byte) error {
	ns, err := d.ingest(name, data, false)
	if d.dropped != nil {
		d.dropped[name] = append(d.dropped[name], ns...)
	}
	return err
}

// Receive takes one packet that arrived another way (a file, QR frames, an
// image). Unlike a drop-folder file, it goes in even when no member of
// this device takes part (a proposal goes to the inbox, a KEL is imported),
// as the user asked for it.
func (d *Device) Receive(source string, data []byte) ([]api.Notice, error) {
	ns, err := d.ingest(source, data, true)
	if err != nil {
		return ns, fmt.Errorf("%s: %w", source, err)
	}
	return ns, nil
}

// takeProposal puts a proposal in the inbox, unless this device recorded
// it already or (from the drop folder) no member of it takes part. Its
// signer must be allowed to propose it (else it is refused); one that
// shares its ceremony id with another proposal or a ceremony of this
// device for another event is kept beside it, both flagged.
func (d *Device) takeProposal(source string, pk transport.Proposal, explicit bool) ([]api.Notice, error) {
	in, err := incomingOf(source, pk)
	if err != nil {
		return nil, err
	}
	id := in.ID()
	if cer, err := d.store.Ceremony(id); err == nil && cer.SAID() == in.Event.SAID() || d.sameProposal(in) {
		return nil, nil
	}
	if d.passed(in.Event) {
		d.adoptAlias(in)
		if explicit {
			return []api.Notice{notice(id, "proposal %s is for sn %d of %s, which this device already holds", ShortID(id), in.Event.Sn(), d.nameOf(in.Event.Prefix()))}, nil
		}
		return nil, nil
	}
	concerns := d.concerns(in)
	if !explicit && !concerns {
		return nil, nil
	}
	v, _, err := d.contextVerifier(in.Event, in.Packet.Context)
	if err != nil {
		return nil, err
	}
	if err := d.checkProposer(in, v); err != nil {
		return nil, err
	}
	ref := d.refFor(in)
	it := api.InboxItem{Kind: api.InboxProposal, Source: source, Label: d.proposalLabel(in), ID: ref, From: in.Packet.From}
	d.seen[ref] = in
	// Keyed by id and event: signing one of two conflicting proposals
	// leaves the other (pruneInbox drops the one recorded).
	ns := d.addItem("proposal/"+id+"/"+in.Event.SAID(), in.Proposal.Proposer.Key, concerns, it)
	ns = append(ns, notice(id, "proposal %s (%s) in the inbox", ShortID(ref), it.Label))
	if others := d.conflicts(in); len(others) > 0 {
		d.flagConflicts(id)
		ns = append(ns, api.Notice{Ceremony: id, Text: fmt.Sprintf("proposal %s shares its ceremony id with %s: both are kept; compare fingerprints with the other members before signing either",
			ShortID(ref), strings.Join(others, "; "))})
	}
	return ns, nil
}

// concerns reports whether a member of this device takes part in a
// proposed event, or sits in the group a rotation changes.
func (d *Device) concerns(in *Incoming) bool {
	v, _, err := d.contextVerifier(in.Event, in.Packet.Context)
	behind := errors.Is(err, ErrBehind) // its review says what to import
	if err != nil && !behind {
		return false
	}
	seats, err := d.ks.Seats()
	if err != nil {
		return false
	}
	if (in.Proposal.Kind == ceremony.KindRotation || behind) && slices.ContainsFunc(seats, func(ks keystore.Seat) bool { return ks.Group == in.Event.Prefix() }) {
		return true // a member of the group, even one the rotation drops, reviews it
	}
	signing, next := seatLists(in, v)
	return len(seatsIn(seats, in.Proposal.Kind, in.Event, signing, next)) > 0
}

// proposalLabel summarizes a proposal: "rotation of acme, sn 3, from alice".
func (d *Device) proposalLabel(in *Incoming) string {
	group := firstNonEmpty(d.groups.aliasOf(in.Event.Prefix()), in.Packet.Group, ShortID(in.Event.Prefix()))
	return fmt.Sprintf("%s of %s, sn %d, from %s", in.Proposal.Kind, group, in.Event.Sn(), in.Packet.From)
}

// takeCard puts a member card in the inbox, except the cards of this
// device's own members (also those from before a rotation).
func (d *Device) takeCard(source string, card transport.Card) ([]api.Notice, error) {
	seats, err := d.ks.Seats()
	if err != nil {
		return nil, err
	}
	key := "card/" + card.Key
	if keys, nexts := d.ownKeys(seats); ownCard(card.Card, keys, nexts) {
		return nil, nil
	}
	if _, dup := d.item(key); dup {
		return nil, nil
	}
	ns := d.addItem(key, card.Key, false, api.InboxItem{Kind: api.InboxCard, Source: source, Label: card.Label, Card: card.Card})
	return append(ns, notice("", "member card of %s in the inbox", card.Label)), nil
}

// takeContribution puts a rotation contribution in the inbox (a newer one
// of the same member replaces the older), if this device holds the group's
// KEL and it fits the group's key state. This device's own contributions
// are left out: a rotation proposal made here makes them itself.
func (d *Device) takeContribution(source string, t transport.Contribution, explicit bool) ([]api.Notice, error) {
	st, held := d.store.State(t.Group)
	cc := t.Contribution
	var err error
	if held {
		err = ceremony.CheckContribution(st, cc)
	} else {
		err = fmt.Errorf("%w: the contribution is for %s, whose kel this device does not hold", ErrGroupUnknown, t.Group)
	}
	if err != nil {
		if explicit {
			return nil, err
		}
		return nil, nil // another group's, or stale: not this device's business
	}
	mine, err := d.localMembersIn([]string{t.Signer})
	if err != nil || len(mine) > 0 {
		return nil, err
	}
	key := "contribution/" + t.Group + "/" + t.Signer
	if old, dup := d.item(key); dup && old.Contribution == cc {
		return nil, nil
	}
	ns := d.addItem(key, t.Signer, false, api.InboxItem{Kind: api.InboxContribution, Source: source, Label: t.Label, ID: t.Group, Contribution: cc})
	text := fmt.Sprintf("rotation contribution of %s to %s in the inbox", t.Label, d.nameOf(t.Group))
	if !slices.Contains(st.Keys, t.Signer) {
		text += fmt.Sprintf("; it is signed by %s, not a current key of the group: make sure it came from %s", t.Signer, t.Label)
	}
	return append(ns, api.Notice{Text: text}), nil
}

// takeStream imports a final event or KEL through authenticated replay
// (from the drop folder only the identifiers that concern this device),
// closes the ceremonies it finalizes and commits prepared rotations. Events
// refused only because earlier ones are missing do not make the file
// hostile.
func (d *Device) takeStream(s transport.Stream, explicit bool) ([]api.Notice, error) {
	if !explicit {
		whole := s
		if s = d.streamConcerning(s); len(s.Messages) == 0 {
			d.holdStream(whole)
			return nil, nil
		}
	}
	res, err := d.ImportStream(s, "")
	var ns []api.Notice
	var order []string
	events := map[string][]kel.Result{}
	for _, r := range res.Fresh {
		if _, ok := events[r.Prefix]; !ok {
			order = append(order, r.Prefix)
		}
		events[r.Prefix] = append(events[r.Prefix], r)
	}
	for _, id := range slices.Sorted(maps.Keys(d.seen)) {
		if in := d.seen[id]; events[in.Event.Prefix()] != nil {
			d.adoptAlias(in)
		}
	}
	for _, p := range order {
		rs := events[p]
		what := fmt.Sprintf("%d new events (sn %d to %d)", len(rs), rs[0].Sn, rs[len(rs)-1].Sn)
		if len(rs) == 1 {
			what = fmt.Sprintf("new event sn %d %s", rs[0].Sn, rs[0].Ilk)
		}
		ns = append(ns, notice("", "kel of %s: %s accepted", d.nameOf(p), what))
	}
	for _, r := range res.Fresh {
		if len(r.Supersedes) > 0 {
			ns = append(ns, notice("", "kel of %s: RECOVERY rotation sn %d supersedes %d interaction events", d.nameOf(r.Prefix), r.Sn, len(r.Supersedes)))
		}
	}
	for _, r := range res.Pending {
		ns = append(ns, notice("", "kel of %s: sn %d %s kept pending until its delegator's anchor arrives", d.nameOf(r.Prefix), r.Sn, r.Ilk))
	}
	for _, r := range res.Released {
		if r.OK() {
			ns = append(ns, notice("", "kel of %s: sn %d %s accepted: its delegator's anchor arrived", d.nameOf(r.Prefix), r.Sn, r.Ilk))
		} else {
			ns = append(ns, api.Notice{Text: fmt.Sprintf("kel of %s: sn %d %s refused once its delegator's anchor arrived: %v", d.nameOf(r.Prefix), r.Sn, r.Ilk, r.Err), Err: r.Err})
		}
	}
	for _, cer := range res.Closed {
		ns = append(ns, notice(cer.ID(), "ceremony %s finalized: the fully signed %s arrived", ShortID(cer.ID()), cer.Event().Ilk()))
	}
	if res.Receipts > 0 {
		ns = append(ns, notice("", "%d new witness receipts kept", res.Receipts))
	}
	ns = append(ns, res.Notices...)
	if err == nil {
		if explicit && len(ns) == 0 {
			ns = append(ns, notice("", "this device already holds every event of the stream"))
		}
		return ns, nil
	}
	if !explicit && !slices.ContainsFunc(res.Refused, func(r kel.Result) bool { return !waitsForEarlier(r.Err) }) {
		for _, r := range res.Refused {
			ns = append(ns, api.Notice{Text: fmt.Sprintf("kel of %s: sn %d %s not imported: %v", d.nameOf(r.Prefix), r.Sn, r.Ilk, r.Err), Err: r.Err})
		}
		return ns, nil
	}
	return ns, err
}

// Bounds of the drop-folder streams kept for a later look.
const (
	maxLaterStreams   = 8
	maxLaterStreamLen = 1 << 20
)

// holdStream keeps, for the rest of this Poll and the next ones, a small
// stream from the drop folder that does not concern this device yet: the
// folder hands files over in name order, so a group's KEL can come before
// the proposal (in the inbox) that makes it this device's business.
func (d *Device) holdStream(s transport.Stream) {
	if len(s.Raw) > maxLaterStreamLen || slices.ContainsFunc(d.laterStreams, func(o transport.Stream) bool { return bytes.Equal(o.Raw, s.Raw) }) {
		return
	}
	if len(d.laterStreams) >= maxLaterStreams {
		d.laterStreams = d.laterStreams[1:]
	}
	d.laterStreams = append(d.laterStreams, s)
}

// retryStreams imports the held streams that now concern this device.
func (d *Device) retryStreams() []api.Notice {
	var out []api.Notice
	held := d.laterStreams
	d.laterStreams = nil
	for _, s := range held {
		if len(d.streamConcerning(s).Messages) == 0 {
			d.laterStreams = append(d.laterStreams, s)
			continue
		}
		ns, err := d.takeStream(s, false)
		out = append(out, ns...)
		if err != nil {
			out = append(out, api.Notice{Text: fmt.Sprintf("a kel from the drop folder: %v", err), Err: err})
		}
	}
	return out
}

// waitsForEarlier reports whether an event was refused only because this
// device lacks earlier events (or the delegator's anchor).
func waitsForEarlier(err error) bool {
	return errors.Is(err, kel.ErrUnknownPrefix) || errors.Is(err, kel.ErrOutOfOrder) || errors.Is(err, kel.ErrDelegationMissing)
}

// isNotCollecting reports a delivery to a closed ceremony.
func isNotCollecting(err error) bool { return errors.Is(err, ceremony.ErrNotCollecting) }

// streamConcerning keeps, of a stream from the shared drop folder, the
// messages of the identifiers that concern this device: those whose KEL it
// holds, of which it has a ceremony or a proposal in its inbox, and those
// with an event anchoring an event of such an identifier (a delegator's
// approval). A stream never concerns the device because an event lists one
// of its keys: anyone can build a KEL whose keys are public, so a key match
// proves nothing (and no KEL moves a key of a seat that does not serve
// that identifier).
func (d *Device) streamConcerning(s transport.Stream) transport.Stream {
	ours := map[string]bool{}
	for _, cer := range d.store.Ceremonies() {
		ours[cer.Event().Prefix()] = true
	}
	for _, in := range d.seen {
		ours[in.Event.Prefix()] = true
	}
	held := func(p string) bool {
		_, ok := d.store.State(p)
		return ok || ours[p]
	}
	keep := map[string]bool{}
	for _, m := range s.Messages {
		ev := m.Event
		if held(ev.Prefix()) {
			keep[ev.Prefix()] = true
		}
		for _, sl := range ev.Seals() {
			if sl.Kind == kel.SealEvent && held(sl.I) {
				keep[ev.Prefix()] = true
			}
		}
	}
	out := transport.Stream{}
	for _, m := range s.Messages {
		if keep[m.Event.Prefix()] {
			out.Messages = append(out.Messages, m)
		}
	}
	return out
}

// adoptAlias records, for an identifier this device holds without an
// alias, the alias the proposal of one of its events suggested.
func (d *Device) adoptAlias(in *Incoming) {
	prefix := in.Event.Prefix()
	if in.Packet.Group == "" || d.groups.aliasOf(prefix) != "" {
		return
	}
	v, err := d.store.VerifierOf(prefix)
	if err != nil {
		return
	}
	msgs := v.Messages(prefix)
	if in.Event.Sn() >= uint64(len(msgs)) || msgs[in.Event.Sn()].Event.SAID() != in.Event.SAID() {
		return
	}
	_, _ = d.groups.add(in.Packet.Group, prefix) // an alias taken here already: the group stays without one
}

// proposed remembers the proposal packet of a ceremony made here and puts
// it in the drop folder.
func (d *Device) proposed(cer *ceremony.Ceremony, pk transport.Proposal) {
	if in, err := incomingOf(thisDevice, pk); err == nil {
		d.seen[cer.ID()] = in
	}
	d.dropLater(cer.ID(), "the proposal", proposalName(cer.ID()), pk.Marshal())
}

// thisDevice is the source of the proposals made here.
const thisDevice = "this device"

func proposalName(id string) string { return dropName("proposal", fileID(id)) + ".json" }

func signaturesName(id, signer string) string {
	return dropName("sig", fileID(id), signer) + ".json"
}

// fileID shortens a ceremony id for file names.
func fileID(id string) string { return id[:min(len(id), 9)] }

// dropLater puts a packet in the drop folder (when there is one) and
// reports it with the next Poll.
func (d *Device) dropLater(id, what, name string, data []byte) string {
	if d.drop == nil {
		return ""
	}
	path, err := d.Drop(name, data)
	if err != nil {
		d.later = append(d.later, api.Notice{Ceremony: id, Text: fmt.Sprintf("%s was not put in the drop folder: %v", what, err), Err: err})
		return ""
	}
	d.later = append(d.later, notice(id, "%s is in the drop folder as %s", what, name))
	return path
}
