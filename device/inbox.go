package device

// Packets that arrive (through the drop folder, a file, QR frames or an
// image) are handled by ingest: signatures go to their ceremony, final
// events and KELs are imported through authenticated replay, abort records
// are applied, and cards, proposals and contributions wait in an inbox in
// memory (the drop folder hands every file over again when a device opens,
// so the inbox is rebuilt). Signatures and abort records for a ceremony
// this device does not have yet are held in memory and applied when it is
// recorded (when a member signs the proposal).

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/transport"
)

// Bounds of what a device keeps in memory for packets that arrive. Anyone
// can make member cards (a card needs only a fresh key), so the inbox is
// bounded per sender and in all, always keeping the newest; proposals for
// this device's groups (signed by a key of the group) are never displaced
// by anything but newer proposals of the same signer.
const (
	maxInbox     = 1024 // inbox items other than proposals for this device's groups
	maxPerSender = 16   // items of one sender: a card's key, a contribution's or proposal's signer
	maxHeld      = 1024 // signatures and abort records held for unknown ceremonies
)

// inbox is what arrived and waits: items for the user, the proposals seen,
// and packets held for ceremonies not recorded yet.
type inbox struct {
	items []inboxEntry         // oldest first
	seen  map[string]*Incoming // proposals in the inbox or made here, by id
	held  map[string][]heldPacket
	nHeld int
	// dropped collects the notices of each drop-folder file during Poll.
	dropped map[string][]api.Notice
}

func newInbox() inbox {
	return inbox{seen: map[string]*Incoming{}, held: map[string][]heldPacket{}}
}

// inboxEntry is an inbox item, the key that de-duplicates it, its sender
// and whether it is a proposal for this device's groups (kept).
type inboxEntry struct {
	key    string
	sender string
	kept   bool
	item   api.InboxItem
}

// heldPacket is a signature envelope or abort record for a ceremony this
// device does not have (yet).
type heldPacket struct {
	source string
	pk     transport.Packet
}

func notice(ceremonyID, format string, a ...any) api.Notice {
	return api.Notice{Ceremony: ceremonyID, Text: fmt.Sprintf(format, a...)}
}

// addItem adds an item of sender under key (an item of the same key is
// replaced); kept marks a proposal for this device's groups. The inbox
// keeps the newest: past maxPerSender the sender's oldest item gives way,
// past maxInbox the oldest item that is not kept. It says what gave way.
func (d *Device) addItem(key, sender string, kept bool, it api.InboxItem) []api.Notice {
	d.removeItem(key)
	it.At = d.now()
	d.items = append(d.items, inboxEntry{key: key, sender: sender, kept: kept, item: it})
	var ns []api.Notice
	evict := func(match func(inboxEntry) bool, why string) {
		i := slices.IndexFunc(d.items, match)
		if i < 0 || i == len(d.items)-1 {
			return
		}
		e := d.items[i]
		d.items = slices.Delete(d.items, i, i+1)
		if e.item.Kind == api.InboxProposal {
			d.forget(e.item.ID)
		}
		ns = append(ns, api.Notice{Text: fmt.Sprintf("%s: the oldest %s (%s, from %s) left the inbox for a newer one", why, e.item.Kind, e.item.Label, e.item.Source)})
	}
	n := 0
	for _, e := range d.items {
		if e.sender == sender {
			n++
		}
	}
	if n > maxPerSender {
		evict(func(e inboxEntry) bool { return e.sender == sender }, fmt.Sprintf("more than %d packets of one sender", maxPerSender))
	}
	n = 0
	for _, e := range d.items {
		if !e.kept {
			n++
		}
	}
	if n > maxInbox {
		evict(func(e inboxEntry) bool { return !e.kept }, "inbox full")
	}
	return ns
}

// forget drops an inbox proposal from the proposals seen (those made on
// this device stay).
func (d *Device) forget(ref string) {
	if in := d.seen[ref]; in != nil && in.Source != thisDevice {
		delete(d.seen, ref)
	}
}

func (d *Device) removeItem(key string) {
	d.items = slices.DeleteFunc(d.items, func(e inboxEntry) bool { return e.key == key })
}

func (d *Device) item(key string) (api.InboxItem, bool) {
	for _, e := range d.items {
		if e.key == key {
			return e.item, true
		}
	}
	return api.InboxItem{}, false
}

// pruneInbox drops proposals whose event this device has recorded or
// holds (or whose sequence number its KEL has passed), and contributions
// that no longer fit their group's key state; the conflict flags of the
// proposals left are refreshed.
func (d *Device) pruneInbox() {
	defer func() {
		for _, e := range d.items {
			if in := d.seen[e.item.ID]; e.item.Kind == api.InboxProposal && in != nil {
				d.flagConflicts(in.ID())
			}
		}
	}()
	d.items = slices.DeleteFunc(d.items, func(e inboxEntry) bool {
		switch e.item.Kind {
		case api.InboxProposal:
			in := d.seen[e.item.ID]
			if in == nil || d.passed(in.Event) {
				return true
			}
			// Recorded here (signed): gone; a ceremony of another event
			// under its id leaves it in, flagged.
			cer, err := d.store.Ceremony(in.ID())
			return err == nil && cer.SAID() == in.Event.SAID()
		case api.InboxContribution:
			st, ok := d.store.State(e.item.ID)
			return !ok || ceremony.CheckContribution(st, e.item.Contribution) != nil
		}
		return false
	})
}

// passed reports whether this device's KEL already holds an event at ev's
// sequence number that ev cannot supersede (a recovery rotation at the sn
// of an interaction it may supersede has not passed).
func (d *Device) passed(ev *kel.Event) bool {
	st, ok := d.store.State(ev.Prefix())
	if !ok || st.Sn < ev.Sn() {
		return false
	}
	v, err := d.store.VerifierOf(ev.Prefix())
	if err != nil {
		return false // kept: the error shows where the KEL is read
	}
	if ev.Ilk() == kel.IlkRot || ev.Ilk() == kel.IlkDrt {
		msgs := v.Messages(ev.Prefix())
		return msgs[ev.Sn()].Event.SAID() == ev.SAID() || !v.MayRecoverAt(ev.Prefix(), ev.Sn())
	}
	return true
}

// ingest handles one packet from source; explicit is set when the user
// handed it over rather than the shared drop folder. The error refuses
// malformed or hostile packets.
func (d *Device) ingest(source string, data []byte, explicit bool) ([]api.Notice, error) {
	pk, err := transport.ParsePacket(data)
	if err != nil {
		return nil, err
	}
	switch p := pk.(type) {
	case transport.Signatures, transport.Abort:
		id := ceremonyOf(p)
		cer, err := d.store.Ceremony(id)
		if err != nil {
			return d.hold(id, source, p, explicit), nil
		}
		return d.toCeremony(cer, p, explicit)
	case transport.Proposal:
		return d.takeProposal(source, p, explicit)
	case transport.Card:
		return d.takeCard(source, p)
	case transport.Contribution:
		return d.takeContribution(source, p, explicit)
	case transport.Stream:
		return d.takeStream(p, explicit)
	}
	return nil, fmt.Errorf("%w: %s", transport.ErrUnknownPacket, pk.PacketType().Describe())
}

// hold keeps a signature envelope or abort record for a ceremony this
// device does not have (a member may record it later, by signing its
// proposal); identical packets are kept once.
func (d *Device) hold(id, source string, pk transport.Packet, explicit bool) []api.Notice {
	data := pk.Marshal()
	if slices.ContainsFunc(d.held[id], func(h heldPacket) bool { return bytes.Equal(h.pk.Marshal(), data) }) {
		return nil
	}
	if d.nHeld >= maxHeld {
		if explicit {
			return []api.Notice{notice(id, "%s for ceremony %s not kept: %d packets already wait for their ceremonies", pk.PacketType().Describe(), ShortID(id), maxHeld)}
		}
		return nil
	}
	d.held[id] = append(d.held[id], heldPacket{source: source, pk: pk})
	d.nHeld++
	if !explicit {
		return nil
	}
	return []api.Notice{notice(id, "%s for ceremony %s kept until this device records the ceremony (sign its proposal)", pk.PacketType().Describe(), ShortID(id))}
}

// applyHeld applies the packets held for a ceremony just recorded.
func (d *Device) applyHeld(cer *ceremony.Ceremony) {
	hs := d.held[cer.ID()]
	delete(d.held, cer.ID())
	d.nHeld -= len(hs)
	for _, h := range hs {
		ns, err := d.toCeremony(cer, h.pk, false)
		d.later = append(d.later, ns...)
		if err != nil {
			d.later = append(d.later, api.Notice{Ceremony: cer.ID(), Text: fmt.Sprintf("refused %s: %v", h.source, err), Err: err})
		}
	}
}

// ceremonyOf is the ceremony a signature envelope or abort record names.
func ceremonyOf(pk transport.Packet) string {
	switch p := pk.(type) {
	case transport.Signatures:
		return p.Ceremony
	case transport.Abort:
		return p.Ceremony
	}
	return ""
}

// toCeremony applies a signature envelope or abort record to cer.
func (d *Device) toCeremony(cer *ceremony.Ceremony, pk transport.Packet, explicit bool) ([]api.Notice, error) {
	switch p := pk.(type) {
	case transport.Signatures:
		return d.signaturesFor(cer, p, explicit)
	case transport.Abort:
		return d.abortFor(cer, p, explicit)
	}
	return nil, fmt.Errorf("%w: a %s names no ceremony", ErrWrongPacket, pk.PacketType().Describe())
}

// signaturesFor adds an envelope's signatures to cer. A late envelope (the
// ceremony is closed) is no fault of the file.
func (d *Device) signaturesFor(cer *ceremony.Ceremony, env transport.Signatures, explicit bool) ([]api.Notice, error) {
	if !explicit && env.SAID != cer.SAID() {
		// Another proposal reused this ceremony's id: the envelope may be
		// good for the devices that hold that one, so it stays in the
		// shared folder.
		return []api.Notice{notice(cer.ID(), "the signature of %s names event %s, ceremony %s here signs %s: left in the drop folder for the devices of that event",
			env.Signer, env.SAID, ShortID(cer.ID()), cer.SAID())}, nil
	}
	_, intakes, err := deliverSignatures(cer, env)
	if isNotCollecting(err) && len(intakes) == 0 {
		if explicit {
			return []api.Notice{notice(cer.ID(), "ceremony %s is %s: the signature of %s is not needed", ShortID(cer.ID()), cer.State(), env.Signer)}, nil
		}
		return nil, nil
	}
	var ns []api.Notice
	for _, in := range intakes {
		if in.Outcome != ceremony.OutcomeAdded && in.Outcome != ceremony.OutcomeReplaced {
			continue
		}
		pr := in.Progress
		text := fmt.Sprintf("signature of %s (k[%d]) %s to ceremony %s: %d of %d", OrDash(in.Label), in.Index, in.Outcome,
			ShortID(cer.ID()), len(pr.Signed), len(cer.SigningKeys()))
		if pr.Met {
			text += ", ready to finalize"
		}
		ns = append(ns, notice(cer.ID(), "%s", text))
	}
	if explicit && len(ns) == 0 && err == nil {
		ns = append(ns, notice(cer.ID(), "the signature of %s for ceremony %s was already here", env.Signer, ShortID(cer.ID())))
	}
	return ns, err
}

// abortFor applies another device's abort record to cer (nothing when the
// ceremony is closed already, e.g. by this very record).
func (d *Device) abortFor(cer *ceremony.Ceremony, a transport.Abort, explicit bool) ([]api.Notice, error) {
	if !cer.State().Open() {
		if explicit {
			return []api.Notice{notice(cer.ID(), "ceremony %s is %s already", ShortID(cer.ID()), cer.State())}, nil
		}
		return nil, nil
	}
	if !explicit && a.SAID != cer.SAID() {
		return []api.Notice{notice(cer.ID(), "the abort record of %s names event %s, ceremony %s here signs %s: left in the drop folder",
			a.By, a.SAID, ShortID(cer.ID()), cer.SAID())}, nil
	}
	if err := d.applyAbortRecord(cer, a); err != nil {
		return nil, err
	}
	return []api.Notice{notice(cer.ID(), "ceremony %s aborted by %s: %s", ShortID(cer.ID()), a.By, a.Reason)}, nil
}

// OrDash is s, or "-" when empty.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
