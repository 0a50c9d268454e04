package cli

// The terminal UI's Backend: one device (a home) kept open for the TUI's
// lifetime, and optionally a drop folder it shares with other devices.
// Every operation goes through the same core functions as the CLI commands
// (proposeInception, signReviewed, finalEvent, importStream, ...); what
// those print for the command line is captured and dropped, and the
// backend reports what happened as tui.Notices instead.
//
// Packets that arrive (through the drop folder, a file, QR frames or an
// image) are handled by ingest: signatures go to their ceremony, final
// events and KELs are imported through authenticated replay, abort records
// are applied, and cards, proposals and contributions wait in an inbox in
// memory (the drop folder hands every file over again when the TUI starts,
// so the inbox is rebuilt). Signatures and abort records for a ceremony
// this device does not have yet are held in memory and applied when it is
// recorded (when a member signs the proposal).

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/keystore"
	"github.com/keremony/keremony/transport"
	"github.com/keremony/keremony/tui"
)

// Errors of the TUI backend.
var (
	errNoDropFolder  = errors.New("no drop folder (start keremony with --drop DIR)")
	errNoProposal    = errors.New("no such proposal on this device")
	errRequest       = errors.New("invalid request")
	errNotFinalized  = errors.New("ceremony is not finalized")
	errNothingSigned = errors.New("no member of this device has signed this ceremony")
	errConflict      = errors.New("proposal conflicts with another of the same id")
)

// Bounds of what the backend keeps in memory for packets that arrive.
const (
	maxInbox = 1024 // inbox items
	maxHeld  = 1024 // signatures and abort records held for unknown ceremonies
)

var _ tui.Backend = (*tuiBackend)(nil)

// tuiBackend implements tui.Backend on one device.
type tuiBackend struct {
	d    *device
	drop *transport.DropFolder // nil without a drop folder
	now  func() time.Time

	inbox []inboxEntry           // oldest first
	seen  map[string]*proposalIn // proposals in the inbox or made here, by id
	held  map[string][]heldPacket
	nHeld int
	// later are notices of things that happened outside Poll and Receive
	// (opening, held packets applied, rotations committed, files dropped),
	// reported by the next Poll.
	later []tui.Notice
	// dropped collects the notices of each drop-folder file during Poll.
	dropped map[string][]tui.Notice
}

// inboxEntry is an inbox item and the key that de-duplicates it.
type inboxEntry struct {
	key  string
	item tui.InboxItem
}

// heldPacket is a signature envelope or abort record for a ceremony this
// device does not have (yet).
type heldPacket struct {
	source string
	pk     transport.Packet
}

// openTUIBackend opens the device at home (as every command does: the
// keystore with backend keystoreMode, the ceremony store, the group
// aliases) for the TUI's lifetime. The file keystore's passphrase comes from
// KEREMONY_PASSPHRASE when set, else from ask. With dropDir (created if
// missing) packets are exchanged through that folder.
func openTUIBackend(home, keystoreMode, dropDir string, ask tui.Ask) (*tuiBackend, error) {
	if ask == nil {
		ask = func(bool) ([]byte, error) { return nil, keystore.ErrNoPassphrase }
	}
	var msgs bytes.Buffer
	d, err := openDevice(home, keystoreMode, envPassphrase(ask), &msgs)
	if err != nil {
		return nil, err
	}
	b := &tuiBackend{d: d, now: time.Now, seen: map[string]*proposalIn{}, held: map[string][]heldPacket{}}
	d.created = b.applyHeld
	b.later = append(b.later, capturedNotices(&msgs, "keremony: ")...)
	if dropDir != "" {
		if err := os.MkdirAll(dropDir, 0o700); err != nil {
			d.close()
			return nil, fmt.Errorf("%w: %w", transport.ErrDropUnreadable, err)
		}
		if b.drop, err = transport.NewDropFolder(dropDir, b.fromDropFolder); err != nil {
			d.close()
			return nil, err
		}
	}
	return b, nil
}

// Close releases the stores.
func (b *tuiBackend) Close() error { return b.d.close() }

// cmd is a command context for the CLI's core functions; what they print
// for the command line is dropped.
func (b *tuiBackend) cmd(name string) *cmd {
	c := newCmd(name, "", strings.NewReader(""), io.Discard, io.Discard)
	*c.home = b.d.home
	return c
}

// capturedNotices turns captured message lines into notices.
func capturedNotices(buf *bytes.Buffer, prefix string) []tui.Notice {
	var out []tui.Notice
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l = strings.TrimPrefix(l, prefix); l != "" {
			out = append(out, tui.Notice{Text: l})
		}
	}
	return out
}

func notice(ceremonyID, format string, a ...any) tui.Notice {
	return tui.Notice{Ceremony: ceremonyID, Text: fmt.Sprintf(format, a...)}
}

// shortID shortens a ceremony id or prefix for messages.
func shortID(id string) string {
	if len(id) <= 12 {
		return id
	}
	return id[:12] + "…"
}

// nameOf is a group's alias, else its shortened prefix.
func (b *tuiBackend) nameOf(prefix string) string {
	if a := b.d.groups.aliasOf(prefix); a != "" {
		return a
	}
	return shortID(prefix)
}

// Snapshot.

// Snapshot describes the device.
func (b *tuiBackend) Snapshot() (tui.Snapshot, error) {
	s := tui.Snapshot{Home: b.d.home, Keystore: backendName(b.d.ks)}
	if b.drop != nil {
		s.DropDir = b.drop.Dir()
	}
	ms, err := b.d.ks.Members()
	if err != nil {
		return tui.Snapshot{}, err
	}
	v := b.d.store.Verifier()
	for _, m := range ms {
		key := kel.EncodeVerKey(m.PublicKey)
		mi := tui.MemberInfo{Alias: m.Alias, Key: key, Next: m.NextDigest, RotationPending: m.PendingNextDigest != ""}
		for _, p := range v.Prefixes() {
			if st, _ := v.State(p); slices.Contains(st.Keys, key) {
				mi.Groups = append(mi.Groups, firstNonEmpty(b.d.groups.aliasOf(p), p))
			}
		}
		s.Members = append(s.Members, mi)
	}
	for _, p := range v.Prefixes() {
		st, _ := v.State(p)
		s.Groups = append(s.Groups, b.groupInfo(p, st, ms))
	}
	all := b.d.store.Ceremonies()
	for i := len(all) - 1; i >= 0; i-- {
		s.Ceremonies = append(s.Ceremonies, b.ceremonyInfo(all[i], ms))
	}
	b.pruneInbox()
	for i := len(b.inbox) - 1; i >= 0; i-- {
		s.Inbox = append(s.Inbox, b.inbox[i].item)
	}
	return s, nil
}

// groupInfo describes one identifier whose KEL this device holds.
func (b *tuiBackend) groupInfo(prefix string, st kel.KeyState, ms []keystore.Member) tui.GroupInfo {
	book := b.d.addressBook(prefix)
	learn := func(label string, keys ...string) {
		for _, k := range keys {
			if _, known := book[k]; k != "" && label != "" && !known {
				book[k] = label
			}
		}
	}
	for _, m := range ms {
		learn(m.Alias, kel.EncodeVerKey(m.PublicKey), m.NextDigest, m.PendingNextDigest)
	}
	// Labels the members gave themselves in proposals and cards seen here
	// (a device that only imported the KEL has no roster of its own).
	for _, id := range slices.Sorted(maps.Keys(b.seen)) {
		in := b.seen[id]
		if in.ev.Prefix() != prefix {
			continue
		}
		switch p := in.p; {
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
	for _, e := range b.inbox {
		if e.item.Kind == tui.InboxCard {
			learn(e.item.Card.Label, e.item.Card.Key, e.item.Card.Next)
		}
	}
	labelsOf := func(items []string) []string {
		out := make([]string, len(items))
		for i, it := range items {
			out[i] = book[it]
			if out[i] == "" {
				out[i] = fmt.Sprintf("#%d", i)
			}
		}
		return out
	}
	g := tui.GroupInfo{Alias: b.d.groups.aliasOf(prefix), Prefix: prefix, State: st, Labels: labelsOf(st.Keys), NextLabels: labelsOf(st.Next)}
	g.KtText, g.NtText = st.Kt.Describe(g.Labels), st.Nt.Describe(g.NextLabels)
	for _, m := range ms {
		if slices.Contains(st.Keys, kel.EncodeVerKey(m.PublicKey)) {
			g.Mine = append(g.Mine, m.Alias)
		}
	}
	return g
}

// ceremonyInfo describes one ceremony of this device.
func (b *tuiBackend) ceremonyInfo(cer *ceremony.Ceremony, ms []keystore.Member) tui.CeremonyInfo {
	ev := cer.Event()
	pr := cer.Progress()
	roster := cer.Roster()
	signing := cer.SigningKeys()
	ci := tui.CeremonyInfo{ID: cer.ID(), ProposalID: cer.Proposal().ID, Kind: cer.Kind(), Group: b.d.groups.aliasOf(ev.Prefix()),
		Prefix: ev.Prefix(), Ilk: ev.Ilk(), Sn: ev.Sn(), SAID: ev.SAID(), State: cer.State(), Reason: cer.AbortReason(),
		Created: cer.Created(), Deadline: cer.Deadline(), Progress: pr, Roster: roster, KeyLabels: roster.KeyLabels(len(signing)),
		Transcript: cer.Transcript()}
	if ci.Group == "" {
		ci.Group = ev.Prefix()
	}
	if pr.Rotation {
		ci.PriorLabels = priorLabels(roster, pr.Exposed)
	}
	for _, s := range seatsIn(ms, cer.Kind(), ev, signing, ev.Next()) {
		i := slices.Index(signing, s.key)
		switch {
		case i < 0:
		case slices.Contains(pr.Signed, i):
			ci.Signed = true
		case cer.State().Open():
			ci.CanSign = true
		}
	}
	return ci
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

// pruneInbox drops proposals whose event this device has recorded or
// holds (or whose sequence number its KEL has passed), and contributions
// that no longer fit their group's key state.
func (b *tuiBackend) pruneInbox() {
	b.inbox = slices.DeleteFunc(b.inbox, func(e inboxEntry) bool {
		switch e.item.Kind {
		case tui.InboxProposal:
			in := b.seen[e.item.ID]
			_, err := b.d.store.Ceremony(e.item.ID)
			return in == nil || err == nil || b.passed(in.ev)
		case tui.InboxContribution:
			st, ok := b.d.store.State(e.item.ID)
			return !ok || ceremony.CheckContribution(st, e.item.Contribution) != nil
		}
		return false
	})
}

// passed reports whether this device's KEL already holds an event at ev's
// sequence number.
func (b *tuiBackend) passed(ev *kel.Event) bool {
	st, ok := b.d.store.State(ev.Prefix())
	return ok && st.Sn >= ev.Sn()
}

// The inbox.

// addInbox adds an item under key; an item of the same key is replaced.
// It reports false when the inbox is full.
func (b *tuiBackend) addInbox(key string, it tui.InboxItem) bool {
	b.removeInbox(key)
	if len(b.inbox) >= maxInbox {
		return false
	}
	it.At = b.now()
	b.inbox = append(b.inbox, inboxEntry{key: key, item: it})
	return true
}

func (b *tuiBackend) removeInbox(key string) {
	b.inbox = slices.DeleteFunc(b.inbox, func(e inboxEntry) bool { return e.key == key })
}

func (b *tuiBackend) inInbox(key string) (tui.InboxItem, bool) {
	for _, e := range b.inbox {
		if e.key == key {
			return e.item, true
		}
	}
	return tui.InboxItem{}, false
}

// Packets that arrive.

// Poll ingests the files that appeared in the drop folder; it also reports
// what happened since the last call (ceremonies that expired, held
// signatures applied, rotations committed, files dropped).
func (b *tuiBackend) Poll() ([]tui.Notice, error) {
	ns := b.later
	b.later = nil
	for _, id := range b.d.expireDue(io.Discard) {
		ns = append(ns, notice(id, "ceremony %s expired: it stays on record and takes no more signatures", shortID(id)))
	}
	if b.drop == nil {
		return ns, nil
	}
	b.dropped = map[string][]tui.Notice{}
	events, err := b.drop.Poll()
	for _, ev := range events {
		ns = append(ns, b.dropped[ev.Name]...)
		if ev.Err != nil {
			text := fmt.Sprintf("refused file %s: %v", ev.Name, ev.Err)
			if ev.MovedTo != "" {
				text += " (moved to " + transport.RejectedDir + "/)"
			}
			ns = append(ns, tui.Notice{Text: text, Err: ev.Err})
		}
	}
	b.dropped = nil
	if err != nil {
		b.later = ns // reported with the next poll
		return nil, err
	}
	return ns, nil
}

// fromDropFolder is the drop folder's handler: it refuses (so the folder
// moves to rejected/) only what is malformed or hostile; a packet that does
// not concern this device is accepted and ignored, since the folder is
// shared with other devices.
func (b *tuiBackend) fromDropFolder(name string, data []byte) error {
	ns, err := b.ingest(name, data, false)
	if b.dropped != nil {
		b.dropped[name] = append(b.dropped[name], ns...)
	}
	return err
}

// Receive takes one packet that arrived another way (a file, QR frames, an
// image). Unlike a drop-folder file, it goes in even when no member of
// this device takes part (a proposal goes to the inbox, a KEL is imported),
// as the user asked for it.
func (b *tuiBackend) Receive(source string, data []byte) ([]tui.Notice, error) {
	ns, err := b.ingest(source, data, true)
	if err != nil {
		return ns, fmt.Errorf("%s: %w", source, err)
	}
	return ns, nil
}

// ingest handles one packet from source; explicit is set when the user
// handed it over (Receive) rather than the shared drop folder. The error
// refuses malformed or hostile packets.
func (b *tuiBackend) ingest(source string, data []byte, explicit bool) ([]tui.Notice, error) {
	pk, err := transport.ParsePacket(data)
	if err != nil {
		return nil, err
	}
	switch p := pk.(type) {
	case transport.Signatures, transport.Abort:
		id := ceremonyOf(p)
		cer, err := b.d.store.Ceremony(id)
		if err != nil {
			return b.hold(id, source, p, explicit), nil
		}
		return b.toCeremony(cer, p, explicit)
	case transport.Proposal:
		return b.takeProposal(source, p, explicit)
	case transport.Card:
		return b.takeCard(source, p)
	case transport.Contribution:
		return b.takeContribution(source, p, explicit)
	case transport.Stream:
		return b.takeStream(p, explicit)
	}
	return nil, fmt.Errorf("%w: %s", transport.ErrUnknownPacket, pk.PacketType().Describe())
}

// hold keeps a signature envelope or abort record for a ceremony this
// device does not have (a member may record it later, by signing its
// proposal); identical packets are kept once.
func (b *tuiBackend) hold(id, source string, pk transport.Packet, explicit bool) []tui.Notice {
	data := pk.Marshal()
	if slices.ContainsFunc(b.held[id], func(h heldPacket) bool { return bytes.Equal(h.pk.Marshal(), data) }) {
		return nil
	}
	if b.nHeld >= maxHeld {
		if explicit {
			return []tui.Notice{notice(id, "%s for ceremony %s not kept: %d packets already wait for their ceremonies", pk.PacketType().Describe(), shortID(id), maxHeld)}
		}
		return nil
	}
	b.held[id] = append(b.held[id], heldPacket{source: source, pk: pk})
	b.nHeld++
	if !explicit {
		return nil
	}
	return []tui.Notice{notice(id, "%s for ceremony %s kept until this device records the ceremony (sign its proposal)", pk.PacketType().Describe(), shortID(id))}
}

// applyHeld applies the packets held for a ceremony just recorded.
func (b *tuiBackend) applyHeld(cer *ceremony.Ceremony) {
	hs := b.held[cer.ID()]
	delete(b.held, cer.ID())
	b.nHeld -= len(hs)
	for _, h := range hs {
		ns, err := b.toCeremony(cer, h.pk, false)
		b.later = append(b.later, ns...)
		if err != nil {
			b.later = append(b.later, tui.Notice{Ceremony: cer.ID(), Text: fmt.Sprintf("refused %s: %v", h.source, err), Err: err})
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
func (b *tuiBackend) toCeremony(cer *ceremony.Ceremony, pk transport.Packet, explicit bool) ([]tui.Notice, error) {
	switch p := pk.(type) {
	case transport.Signatures:
		return b.signaturesFor(cer, p, explicit)
	case transport.Abort:
		return b.abortFor(cer, p, explicit)
	}
	return nil, fmt.Errorf("%w: a %s names no ceremony", errWrongPacket, pk.PacketType().Describe())
}

// signaturesFor adds an envelope's signatures to cer. A late envelope (the
// ceremony is closed) is no fault of the file.
func (b *tuiBackend) signaturesFor(cer *ceremony.Ceremony, env transport.Signatures, explicit bool) ([]tui.Notice, error) {
	_, intakes, err := deliverSignatures(cer, env)
	if errors.Is(err, ceremony.ErrNotCollecting) && len(intakes) == 0 {
		if explicit {
			return []tui.Notice{notice(cer.ID(), "ceremony %s is %s: the signature of %s is not needed", shortID(cer.ID()), cer.State(), env.Signer)}, nil
		}
		return nil, nil
	}
	var ns []tui.Notice
	for _, in := range intakes {
		if in.Outcome != ceremony.OutcomeAdded && in.Outcome != ceremony.OutcomeReplaced {
			continue
		}
		pr := in.Progress
		text := fmt.Sprintf("signature of %s (k[%d]) %s to ceremony %s: %d of %d", orDash(in.Label), in.Index, in.Outcome,
			shortID(cer.ID()), len(pr.Signed), len(cer.SigningKeys()))
		if pr.Met {
			text += ", ready to finalize"
		}
		ns = append(ns, notice(cer.ID(), "%s", text))
	}
	if explicit && len(ns) == 0 && err == nil {
		ns = append(ns, notice(cer.ID(), "the signature of %s for ceremony %s was already here", env.Signer, shortID(cer.ID())))
	}
	return ns, err
}

// abortFor applies another device's abort record to cer (nothing when the
// ceremony is closed already, e.g. by this very record).
func (b *tuiBackend) abortFor(cer *ceremony.Ceremony, a transport.Abort, explicit bool) ([]tui.Notice, error) {
	if !cer.State().Open() {
		if explicit {
			return []tui.Notice{notice(cer.ID(), "ceremony %s is %s already", shortID(cer.ID()), cer.State())}, nil
		}
		return nil, nil
	}
	c := b.cmd("abort")
	if err := c.applyAbortRecord(b.d, cer, a); err != nil {
		return nil, err
	}
	return []tui.Notice{notice(cer.ID(), "ceremony %s aborted by %s: %s", shortID(cer.ID()), a.By, a.Reason)}, nil
}

// takeProposal puts a proposal in the inbox, unless this device recorded
// it already or (from the drop folder) no member of it takes part.
func (b *tuiBackend) takeProposal(source string, pk transport.Proposal, explicit bool) ([]tui.Notice, error) {
	in, err := proposalFromPacket(source, pk)
	if err != nil {
		return nil, err
	}
	id := in.p.ID
	known := b.seen[id]
	if cer, err := b.d.store.Ceremony(id); err == nil {
		if cer.SAID() != in.ev.SAID() {
			return nil, fmt.Errorf("%w: ceremony %s on this device signs %s, the proposal %s", errConflict, id, cer.SAID(), in.ev.SAID())
		}
		return nil, nil
	}
	if known != nil {
		if known.ev.SAID() != in.ev.SAID() {
			return nil, fmt.Errorf("%w: proposal %s already came with event %s, this one has %s", errConflict, id, known.ev.SAID(), in.ev.SAID())
		}
		return nil, nil
	}
	if b.passed(in.ev) {
		b.adoptAlias(in)
		if explicit {
			return []tui.Notice{notice(id, "proposal %s is for sn %d of %s, which this device already holds", shortID(id), in.ev.Sn(), b.nameOf(in.ev.Prefix()))}, nil
		}
		return nil, nil
	}
	if !explicit && !b.concerns(in) {
		return nil, nil
	}
	it := tui.InboxItem{Kind: tui.InboxProposal, Source: source, Label: b.proposalLabel(in), ID: id}
	if !b.addInbox("proposal/"+id, it) {
		return []tui.Notice{notice(id, "inbox full: proposal %s not kept", shortID(id))}, nil
	}
	b.seen[id] = in
	return []tui.Notice{notice(id, "proposal %s (%s) in the inbox", shortID(id), it.Label)}, nil
}

// concerns reports whether a member of this device takes part in a
// proposed event.
func (b *tuiBackend) concerns(in *proposalIn) bool {
	v, _, err := b.d.contextVerifier(in.packet.KEL)
	if err != nil {
		return false
	}
	ms, err := b.d.ks.Members()
	if err != nil {
		return false
	}
	signing, next := seatLists(in, v)
	return len(seatsIn(ms, in.p.Kind, in.ev, signing, next)) > 0
}

// proposalLabel summarizes a proposal: "rotation of acme, sn 3, from alice".
func (b *tuiBackend) proposalLabel(in *proposalIn) string {
	group := b.d.groups.aliasOf(in.ev.Prefix())
	if group == "" {
		group = firstNonEmpty(in.packet.Group, shortID(in.ev.Prefix()))
	}
	s := fmt.Sprintf("%s of %s, sn %d", in.p.Kind, group, in.ev.Sn())
	if in.packet.From != "" {
		s += ", from " + in.packet.From
	}
	return s
}

// takeCard puts a member card in the inbox, except the cards of this
// device's own members.
func (b *tuiBackend) takeCard(source string, card transport.Card) ([]tui.Notice, error) {
	mine, err := b.d.localMembersIn([]string{card.Key})
	if err != nil {
		return nil, err
	}
	key := "card/" + card.Key
	if _, dup := b.inInbox(key); dup || len(mine) > 0 {
		return nil, nil
	}
	if !b.addInbox(key, tui.InboxItem{Kind: tui.InboxCard, Source: source, Label: card.Alias, Card: cardOf(card)}) {
		return []tui.Notice{notice("", "inbox full: the member card of %s was not kept", card.Alias)}, nil
	}
	return []tui.Notice{notice("", "member card of %s in the inbox", card.Alias)}, nil
}

// takeContribution puts a rotation contribution in the inbox (a newer one
// of the same member replaces the older), if this device holds the group's
// KEL and it fits the group's key state. This device's own contributions
// are left out: a rotation proposal made here makes them itself.
func (b *tuiBackend) takeContribution(source string, t transport.Contribution, explicit bool) ([]tui.Notice, error) {
	st, held := b.d.store.State(t.Group)
	cc := toCeremonyContribution(t)
	var err error
	if held {
		err = ceremony.CheckContribution(st, cc)
	} else {
		err = fmt.Errorf("%w: the contribution is for %s, whose kel this device does not hold", errGroupUnknown, t.Group)
	}
	if err != nil {
		if explicit {
			return nil, err
		}
		return nil, nil // another group's, or stale: not this device's business
	}
	mine, err := b.d.localMembersIn([]string{t.Signer})
	if err != nil || len(mine) > 0 {
		return nil, err
	}
	key := "contribution/" + t.Group + "/" + t.Signer
	if old, dup := b.inInbox(key); dup && old.Contribution == cc {
		return nil, nil
	}
	if !b.addInbox(key, tui.InboxItem{Kind: tui.InboxContribution, Source: source, Label: t.Label, ID: t.Group, Contribution: cc}) {
		return []tui.Notice{notice("", "inbox full: the contribution of %s was not kept", t.Label)}, nil
	}
	text := fmt.Sprintf("rotation contribution of %s to %s in the inbox", t.Label, b.nameOf(t.Group))
	if !slices.Contains(st.Keys, t.Signer) {
		text += fmt.Sprintf("; it is signed by %s, not a current key of the group: make sure it came from %s", t.Signer, t.Label)
	}
	return []tui.Notice{{Text: text}}, nil
}

// takeStream imports a final event or KEL through authenticated replay
// (from the drop folder only when it concerns this device), closes the
// ceremonies it finalizes and commits prepared rotations. Events refused
// only because earlier ones are missing do not make the file hostile.
func (b *tuiBackend) takeStream(s transport.Stream, explicit bool) ([]tui.Notice, error) {
	if !explicit && !b.streamConcerns(s) {
		return nil, nil
	}
	c := b.cmd("kel import")
	res, err := c.importStream(b.d, s, "")
	var ns []tui.Notice
	var order []string
	events := map[string][]kel.Result{}
	for _, r := range res.fresh {
		if _, ok := events[r.Prefix]; !ok {
			order = append(order, r.Prefix)
		}
		events[r.Prefix] = append(events[r.Prefix], r)
	}
	for _, id := range slices.Sorted(maps.Keys(b.seen)) {
		if in := b.seen[id]; events[in.ev.Prefix()] != nil {
			b.adoptAlias(in)
		}
	}
	for _, p := range order {
		rs := events[p]
		what := fmt.Sprintf("%d new events (sn %d to %d)", len(rs), rs[0].Sn, rs[len(rs)-1].Sn)
		if len(rs) == 1 {
			what = fmt.Sprintf("new event sn %d %s", rs[0].Sn, rs[0].Ilk)
		}
		ns = append(ns, notice("", "kel of %s: %s accepted", b.nameOf(p), what))
	}
	for _, cer := range res.closed {
		ns = append(ns, notice(cer.ID(), "ceremony %s finalized: the fully signed %s arrived", shortID(cer.ID()), cer.Event().Ilk()))
	}
	if len(res.fresh) > 0 {
		ns = append(ns, b.sync()...)
	}
	if err == nil {
		if explicit && len(ns) == 0 {
			ns = append(ns, notice("", "this device already holds every event of the stream"))
		}
		return ns, nil
	}
	if !explicit && !slices.ContainsFunc(res.refused, func(r kel.Result) bool { return !waitsForEarlier(r.Err) }) {
		for _, r := range res.refused {
			ns = append(ns, tui.Notice{Text: fmt.Sprintf("kel of %s: sn %d %s not imported: %v", b.nameOf(r.Prefix), r.Sn, r.Ilk, r.Err), Err: r.Err})
		}
		return ns, nil
	}
	return ns, err
}

// waitsForEarlier reports whether an event was refused only because this
// device lacks earlier events (or the delegator's anchor).
func waitsForEarlier(err error) bool {
	return errors.Is(err, kel.ErrUnknownPrefix) || errors.Is(err, kel.ErrOutOfOrder) || errors.Is(err, kel.ErrDelegationMissing)
}

// streamConcerns reports whether an event stream is for this device: it
// extends a KEL held here or one of its ceremonies' identifiers, lists a
// key or next digest of a member of this device, or anchors an event of
// such an identifier (a delegator's approval).
func (b *tuiBackend) streamConcerns(s transport.Stream) bool {
	ours := map[string]bool{}
	for _, cer := range b.d.store.Ceremonies() {
		ours[cer.Event().Prefix()] = true
	}
	mine := map[string]bool{}
	ms, _ := b.d.ks.Members()
	for _, m := range ms {
		mine[kel.EncodeVerKey(m.PublicKey)], mine[m.NextDigest] = true, true
		if m.PendingNextDigest != "" {
			mine[m.PendingNextDigest] = true
		}
	}
	held := func(p string) bool {
		_, ok := b.d.store.State(p)
		return ok || ours[p]
	}
	for _, m := range s.Messages {
		ev := m.Event
		if held(ev.Prefix()) {
			return true
		}
		for _, k := range ev.Keys() {
			if mine[k] || mine[kel.NextDigest(k)] {
				return true
			}
		}
		for _, n := range ev.Next() {
			if mine[n] {
				return true
			}
		}
		for _, sl := range ev.Seals() {
			if sl.Kind == kel.SealEvent && held(sl.I) {
				return true
			}
		}
	}
	return false
}

// adoptAlias records, for an identifier this device holds without an
// alias, the alias the proposal of one of its events suggested.
func (b *tuiBackend) adoptAlias(in *proposalIn) {
	prefix := in.ev.Prefix()
	msgs := b.d.store.Verifier().Messages(prefix)
	if in.packet.Group == "" || b.d.groups.aliasOf(prefix) != "" || in.ev.Sn() >= uint64(len(msgs)) || msgs[in.ev.Sn()].Event.SAID() != in.ev.SAID() {
		return
	}
	_, _ = b.d.groups.add(in.packet.Group, prefix) // an alias taken here already: the group stays without one
}

// sync commits the prepared rotations the local KELs now call for.
func (b *tuiBackend) sync() []tui.Notice {
	lines, err := b.d.syncRotations()
	var ns []tui.Notice
	for _, l := range lines {
		ns = append(ns, tui.Notice{Text: l})
	}
	if err != nil {
		ns = append(ns, tui.Notice{Text: fmt.Sprintf("committing rotations: %v", err), Err: err})
	}
	return ns
}

// Members.

// NewMember creates a member: a current and a pre-rotated next key.
func (b *tuiBackend) NewMember(alias string) error {
	return memberNew(b.d.ks, alias, io.Discard)
}

// Card is member alias's signed member card.
func (b *tuiBackend) Card(alias string) (tui.Outgoing, error) {
	card, err := cardPacket(b.d.ks, alias)
	if err != nil {
		return tui.Outgoing{}, err
	}
	return tui.Outgoing{Title: "member card of " + alias, Name: dropName("card", alias, card.Key[1:7]) + ".json", Data: card.Marshal()}, nil
}

// Contribute prepares member alias's rotation in group and returns its
// signed contribution (as keremony rotate contribute).
func (b *tuiBackend) Contribute(group, alias string) (tui.Outgoing, error) {
	c := b.cmd("rotate contribute")
	t, err := c.contribution(b.d, group, alias)
	if err != nil {
		return tui.Outgoing{}, err
	}
	return tui.Outgoing{Title: fmt.Sprintf("rotation contribution of %s to %s", t.Label, b.nameOf(t.Group)),
		Name: dropName("contribution", t.Group[1:9], t.Label) + ".json", Data: t.Marshal()}, nil
}

// dropName joins parts into a file name that the drop folder does not
// ignore and that names nothing outside it.
func dropName(parts ...string) string {
	for i, p := range parts {
		parts[i] = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
				return r
			}
			return '_'
		}, p)
	}
	return strings.Join(parts, "-")
}

// Proposing.

// thresholdOrDefault is nil for a zero threshold (the request leaves it to
// the default).
func thresholdOrDefault(t kel.Threshold) *kel.Threshold {
	if t.Equal(kel.Threshold{}) {
		return nil
	}
	return &t
}

// proposeCmd is the command context of a proposal that expires after
// expires (0: never).
func (b *tuiBackend) proposeCmd(name string, expires time.Duration) *cmd {
	c := b.cmd(name)
	c.expires = &expires
	return c
}

// ProposeInception proposes a group inception: this device's members
// (req.Local) and the others' cards, in the order of req.Order (default:
// Local, then Cards). Zero thresholds take the defaults (kt every member,
// nt kt).
func (b *tuiBackend) ProposeInception(req tui.InceptionRequest) (string, error) {
	byLabel := map[string]ceremony.Card{}
	var labels, local []string
	add := func(card ceremony.Card) error {
		if _, dup := byLabel[card.Label]; dup {
			return fmt.Errorf("%w: member %q appears twice", errRequest, card.Label)
		}
		byLabel[card.Label] = card
		labels = append(labels, card.Label)
		return nil
	}
	for _, alias := range req.Local {
		m, err := b.d.ks.Member(alias)
		if err != nil {
			return "", err
		}
		if err := add(memberCardOf(m)); err != nil {
			return "", err
		}
		local = append(local, m.Alias)
	}
	for _, card := range req.Cards {
		if err := add(card); err != nil {
			return "", err
		}
	}
	order := req.Order
	if len(order) == 0 {
		order = labels
	}
	var cards []ceremony.Card
	from := ""
	for _, l := range order {
		card, ok := byLabel[l]
		if !ok {
			return "", fmt.Errorf("%w: the order names %q, which is no member of the request (or appears twice)", errRequest, l)
		}
		delete(byLabel, l)
		cards = append(cards, card)
		if from == "" && slices.Contains(local, l) {
			from = l
		}
	}
	if len(byLabel) > 0 {
		return "", fmt.Errorf("%w: the order leaves out %d members", errRequest, len(byLabel))
	}
	c := b.proposeCmd("group incept", req.Expires)
	cer, pk, err := c.proposeInception(b.d, req.Alias, cards, from, thresholdOrDefault(req.Kt), thresholdOrDefault(req.Nt), req.Config, "")
	if err != nil {
		return "", err
	}
	return b.proposed(cer, pk), nil
}

// ProposeRotation proposes a rotation of req.Group from the contributions
// req.Parts and those of this device's members req.Local (made here, as
// keremony rotate contribute does). The members keep the order of their
// digests in the group's current next list; members without one (fresh
// keys, next-only joiners) follow in the order given. Zero thresholds keep
// the current ones.
func (b *tuiBackend) ProposeRotation(req tui.RotationRequest) (string, error) {
	prefix, st, err := b.d.resolveAID(req.Group)
	if err != nil {
		return "", err
	}
	c := b.proposeCmd("rotate propose", req.Expires)
	parts := slices.Clone(req.Parts)
	for _, p := range parts {
		if err := ceremony.CheckContribution(st, p); err != nil {
			return "", err
		}
	}
	for _, alias := range req.Local {
		t, err := c.contribution(b.d, prefix, alias)
		if err != nil {
			return "", err
		}
		parts = append(parts, toCeremonyContribution(t))
	}
	position := func(p ceremony.Contribution) int {
		prior := p.Prior
		if prior == "" && p.Key != "" {
			prior = kel.NextDigest(p.Key)
		}
		if i := slices.Index(st.Next, prior); i >= 0 {
			return i
		}
		return len(st.Next)
	}
	sort.SliceStable(parts, func(i, j int) bool { return position(parts[i]) < position(parts[j]) })
	cer, pk, err := c.proposeRotationOf(b.d, prefix, st, parts, thresholdOrDefault(req.Kt), thresholdOrDefault(req.Nt), "")
	if err != nil {
		return "", err
	}
	return b.proposed(cer, pk), nil
}

// ProposeAnchoring proposes an ixn of req.Group anchoring req.Seals.
func (b *tuiBackend) ProposeAnchoring(req tui.AnchoringRequest) (string, error) {
	prefix, st, err := b.d.resolveAID(req.Group)
	if err != nil {
		return "", err
	}
	c := b.proposeCmd("anchor", req.Expires)
	cer, pk, err := c.proposeAnchoring(b.d, prefix, st, req.Seals, "")
	if err != nil {
		return "", err
	}
	return b.proposed(cer, pk), nil
}

// proposed remembers the proposal packet of a ceremony made here and puts
// it in the drop folder; it returns the ceremony's id.
func (b *tuiBackend) proposed(cer *ceremony.Ceremony, pk transport.Proposal) string {
	if in, err := proposalFromPacket("this device", pk); err == nil {
		b.seen[cer.ID()] = in
	}
	b.dropLater(cer.ID(), "the proposal", proposalName(cer.ID()), pk.Marshal())
	return cer.ID()
}

func proposalName(id string) string { return dropName("proposal", fileID(id)) + ".json" }

// fileID shortens a ceremony id for file names.
func fileID(id string) string { return id[:min(len(id), 9)] }

// dropLater puts a packet in the drop folder (when there is one) and
// reports it with the next Poll.
func (b *tuiBackend) dropLater(id, what, name string, data []byte) string {
	if b.drop == nil {
		return ""
	}
	path, err := b.Drop(name, data)
	if err != nil {
		b.later = append(b.later, tui.Notice{Ceremony: id, Text: fmt.Sprintf("%s was not put in the drop folder: %v", what, err), Err: err})
		return ""
	}
	b.later = append(b.later, notice(id, "%s is in the drop folder as %s", what, name))
	return path
}

// Reviewing and signing.

// proposal finds a proposal by id: one in the inbox or made here, else the
// proposal of a ceremony of this device (rebuilt with the KELs it builds on).
func (b *tuiBackend) proposal(id string) (*proposalIn, error) {
	if in, ok := b.seen[id]; ok {
		return in, nil
	}
	cer, err := b.d.store.Ceremony(id)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", errNoProposal, id)
	}
	prefix := cer.Event().Prefix()
	from := ""
	if st, ok := b.d.store.State(prefix); ok {
		from = b.d.fromLabel(prefix, st)
	}
	pk, err := b.d.proposalPacket(cer, b.d.groups.aliasOf(prefix), from)
	if err != nil {
		return nil, err
	}
	return proposalFromPacket("ceremony "+id, pk)
}

// ceremony finds a ceremony of this device by id.
func (b *tuiBackend) ceremony(id string) (*ceremony.Ceremony, error) {
	cer, err := b.d.store.Ceremony(id)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", errNotFound, id)
	}
	return cer, nil
}

// Review reviews a proposal (of the inbox or of a ceremony of this device)
// for the member of this device that takes part, as keremony review.
func (b *tuiBackend) Review(proposalID string) (tui.ReviewInfo, error) {
	in, err := b.proposal(proposalID)
	if err != nil {
		return tui.ReviewInfo{}, err
	}
	c := b.cmd("review")
	r, err := c.review(b.d, in, "", nil)
	if err != nil {
		return tui.ReviewInfo{}, err
	}
	prefix := in.ev.Prefix()
	info := tui.ReviewInfo{ProposalID: in.p.ID, From: in.packet.From, Event: in.ev, Review: r.rev, Refusals: r.refusals,
		Group: firstNonEmpty(b.d.groups.aliasOf(prefix), firstNonEmpty(in.packet.Group, prefix))}
	if r.rev != nil {
		info.Warnings = slices.Clone(r.rev.Warnings)
	}
	info.Warnings = append(info.Warnings, r.warnings...)
	if r.hasSeat {
		info.Member = r.seat.alias
	}
	if r.local != nil {
		info.CeremonyID = r.local.ID()
		i := slices.Index(r.local.SigningKeys(), r.seat.key)
		info.Signed = r.seat.key != "" && i >= 0 && slices.Contains(r.local.Progress().Signed, i)
	}
	info.CanSign = r.passed() && r.hasSeat && r.seat.key != "" && !info.Signed
	return info, nil
}

// Sign reviews a proposal and signs it, as keremony sign: the ceremony is
// recorded if needed (the signatures held for it are applied), the
// proposal leaves the inbox, and the signature envelope goes to the drop
// folder.
func (b *tuiBackend) Sign(proposalID string) (tui.Outgoing, error) {
	in, err := b.proposal(proposalID)
	if err != nil {
		return tui.Outgoing{}, err
	}
	c := b.cmd("sign")
	r, err := c.review(b.d, in, "", nil)
	if err != nil {
		return tui.Outgoing{}, err
	}
	if !r.passed() {
		return tui.Outgoing{}, fmt.Errorf("%w: %s", errReviewFailed, strings.Join(r.refusals, "; "))
	}
	cer, env, err := c.signReviewed(b.d, in, r, "")
	if err != nil {
		return tui.Outgoing{}, err
	}
	b.removeInbox("proposal/" + proposalID)
	b.later = append(b.later, b.sync()...)
	out := tui.Outgoing{Title: fmt.Sprintf("signature of %s for ceremony %s", env.Signer, shortID(cer.ID())),
		Name: signaturesName(cer.ID(), env.Signer), Data: env.Marshal()}
	out.Dropped = b.dropLater(cer.ID(), out.Title, out.Name, out.Data)
	return out, nil
}

func signaturesName(id, signer string) string {
	return dropName("sig", fileID(id), signer) + ".json"
}

// Closing.

// Finalize finalizes a ceremony whose thresholds are met, as keremony
// finalize, and returns the group's whole KEL (also put in the drop
// folder), so that every member can import it.
func (b *tuiBackend) Finalize(ceremonyID string) (tui.Outgoing, error) {
	cer, err := b.ceremony(ceremonyID)
	if err != nil {
		return tui.Outgoing{}, err
	}
	c := b.cmd("finalize")
	_, fresh, err := c.finalEvent(b.d, cer)
	if err != nil {
		return tui.Outgoing{}, err
	}
	if fresh {
		b.later = append(b.later, b.sync()...)
	}
	out := b.kelOutgoing(cer.Event().Prefix())
	out.Dropped = b.dropLater(cer.ID(), out.Title, out.Name, out.Data)
	return out, nil
}

// kelOutgoing is the KEL of prefix as a packet.
func (b *tuiBackend) kelOutgoing(prefix string) tui.Outgoing {
	st, _ := b.d.store.State(prefix)
	name := []string{"kel"}
	if a := b.d.groups.aliasOf(prefix); a != "" {
		name = append(name, a)
	}
	name = append(name, prefix[1:9], fmt.Sprintf("sn%d", st.Sn))
	return tui.Outgoing{Title: fmt.Sprintf("kel of %s (sn 0 to %d)", b.nameOf(prefix), st.Sn),
		Name: dropName(name...) + ".cesr", Data: b.d.store.Export(prefix)}
}

// Abort closes an open ceremony for good, as keremony abort; the abort
// record, signed by a member of this device in the ceremony, goes to the
// drop folder.
func (b *tuiBackend) Abort(ceremonyID, reason string) error {
	if err := checkReason(reason); err != nil {
		return err
	}
	cer, err := b.ceremony(ceremonyID)
	if err != nil {
		return err
	}
	found, err := b.d.localMembersIn(b.d.memberKeys(cer))
	if err != nil {
		return err
	}
	member := ""
	if len(found) > 0 {
		member = found[0]
	}
	c := b.cmd("abort")
	rec, err := c.abortCeremony(b.d, cer, reason, member, false)
	if err != nil {
		return err
	}
	if rec != nil {
		b.dropLater(cer.ID(), "the abort record", dropName("abort", fileID(cer.ID()), rec.By)+".json", rec.Marshal())
	}
	return nil
}

// Export is a packet of a ceremony: its proposal, the signatures of this
// device's members, or (once finalized) the group's KEL.
func (b *tuiBackend) Export(ceremonyID string, what tui.ExportKind) (tui.Outgoing, error) {
	if what == tui.ExportProposal {
		in, err := b.proposal(ceremonyID)
		if err != nil {
			return tui.Outgoing{}, err
		}
		return tui.Outgoing{Title: fmt.Sprintf("proposal %s (%s)", shortID(ceremonyID), b.proposalLabel(in)),
			Name: proposalName(ceremonyID), Data: in.packet.Marshal()}, nil
	}
	cer, err := b.ceremony(ceremonyID)
	if err != nil {
		return tui.Outgoing{}, err
	}
	switch what {
	case tui.ExportSignatures:
		return b.ownSignatures(cer)
	case tui.ExportKEL:
		if cer.State() != ceremony.StateFinalized {
			return tui.Outgoing{}, fmt.Errorf("%w: ceremony %s is %s", errNotFinalized, cer.ID(), cer.State())
		}
		return b.kelOutgoing(cer.Event().Prefix()), nil
	}
	return tui.Outgoing{}, fmt.Errorf("%w: export %q", errRequest, what)
}

// ownSignatures is the envelope of the signatures this device's members
// made for cer.
func (b *tuiBackend) ownSignatures(cer *ceremony.Ceremony) (tui.Outgoing, error) {
	ms, err := b.d.ks.Members()
	if err != nil {
		return tui.Outgoing{}, err
	}
	ev := cer.Event()
	signing := cer.SigningKeys()
	env := transport.Signatures{Ceremony: cer.ID(), AID: ev.Prefix(), Sn: ev.Sn(), SAID: ev.SAID()}
	for _, s := range seatsIn(ms, cer.Kind(), ev, signing, ev.Next()) {
		i := slices.Index(signing, s.key)
		for _, sig := range cer.Signatures() {
			if i >= 0 && sig.Index == i {
				env.Sigs = append(env.Sigs, sig.Qb64())
				if env.Signer == "" {
					env.Signer = s.alias
					if m, ok := cer.Roster().ByIndex(i); ok {
						env.Signer = m.Label
					}
				}
			}
		}
	}
	if len(env.Sigs) == 0 {
		return tui.Outgoing{}, fmt.Errorf("%w: %s", errNothingSigned, cer.ID())
	}
	env, err = transport.NewSignatures(env)
	if err != nil {
		return tui.Outgoing{}, err
	}
	return tui.Outgoing{Title: fmt.Sprintf("signature of %s for ceremony %s", env.Signer, shortID(cer.ID())),
		Name: signaturesName(cer.ID(), env.Signer), Data: env.Marshal()}, nil
}

// Files.

// WriteFile writes data to path atomically.
func (b *tuiBackend) WriteFile(path string, data []byte) error { return writeFileAtomic(path, data) }

// ReadFile reads a file of at most limit bytes.
func (b *tuiBackend) ReadFile(path string, limit int) ([]byte, error) {
	if path == "-" {
		path = "." + string(filepath.Separator) + path // a file named "-", not standard input
	}
	return readBounded(path, nil, limit, nil)
}

// Drop puts data in the drop folder as name, atomically (the folder never
// sees a half-written file).
func (b *tuiBackend) Drop(name string, data []byte) (string, error) {
	if b.drop == nil {
		return "", errNoDropFolder
	}
	if name == "" || filepath.Base(name) != name || strings.HasPrefix(name, ".") || name == transport.RejectedDir {
		return "", fmt.Errorf("%w: drop file name %q", errRequest, name)
	}
	path := filepath.Join(b.drop.Dir(), name)
	if err := writeFileAtomic(path, data); err != nil {
		return "", err
	}
	return path, nil
}
