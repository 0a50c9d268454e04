package device

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/witness"
)

// Publishing: each finalized event goes, fully signed, to every witness of
// the key state that governs it that has not receipted it yet; each
// receipt is checked (it names the event, its witness is in the event's
// witness list, its signature covers the event's bytes) and stored; then
// every witness gets the others' receipts, so that each holds the toad
// and serves the KEL. A witness that fails is reported by name with the
// reason, after bounded retries (package witness), and nothing stored
// changes for it.

// ErrDuplicity: a witness accepted another event at the sequence number.
var ErrDuplicity = errors.New("witness holds another event at this sequence number")

// Publish is a request to publish a group's events to their witnesses.
type Publish struct {
	Group string
	// Sn names one event; nil publishes every event that lacks the receipt
	// of one of its witnesses, in order.
	Sn *uint64
	// Witnesses are OOBIs of witnesses to resolve first (for witnesses
	// whose URL this device does not know).
	Witnesses []string
}

// Outcome states of one witness for one event.
const (
	ReceiptNew     = "received"
	ReceiptHeld    = "held"    // received before
	ReceiptFailed  = "failed"  // Err says why
	ReceiptSkipped = "skipped" // unreachable earlier in this run
)

// WitnessOutcome is what one witness did for one event.
type WitnessOutcome struct {
	Prefix, Name, URL string
	State             string
	Err               error
	// Warning: received, but something is worth knowing.
	Warning string
}

// PublishedEvent is one event published.
type PublishedEvent struct {
	Sn         uint64
	Ilk, SAID  string
	Outcomes   []WitnessOutcome
	Witnessing api.Witnessing
}

// Published is what Publish did.
type Published struct {
	Prefix string
	Events []PublishedEvent
	// Complete: every published event holds its toad of receipts.
	Complete bool
	// Notices: receipts that did not travel on to a witness, …
	Notices []api.Notice
	// Packet is the published events with their receipts (a KEL stream
	// the other devices import), also put in the drop folder; empty when
	// nothing was published.
	Packet api.Outgoing
}

// Publish publishes a group's finalized events to their witnesses and
// stores the receipts. The error is a request the device cannot make (an
// unknown group, an event not held, an OOBI that does not resolve); a
// witness that fails is an outcome, and Complete says whether every event
// holds its toad.
func (d *Device) Publish(ctx context.Context, req Publish) (*Published, error) {
	prefix, st, err := d.ResolveAID(req.Group)
	if err != nil {
		return nil, err
	}
	v, err := d.store.VerifierOf(prefix)
	if err != nil {
		return nil, err
	}
	for _, o := range req.Witnesses {
		if _, err := d.ResolveWitness(ctx, o); err != nil {
			return nil, err
		}
	}
	var sns []uint64
	switch {
	case req.Sn != nil && *req.Sn > st.Sn:
		return nil, requestf("--sn %d: %s holds events 0 to %d", *req.Sn, d.GroupName(prefix), st.Sn)
	case req.Sn != nil:
		sns = []uint64{*req.Sn}
	default:
		for sn := uint64(0); sn <= st.Sn; sn++ {
			at, _ := v.StateAt(prefix, sn)
			if len(at.Witnesses) > 0 && len(d.receipts(prefix, sn)) < len(at.Witnesses) {
				sns = append(sns, sn)
			}
		}
	}
	out := &Published{Prefix: prefix, Complete: true}
	run := &publishRun{down: map[string]error{}, caught: map[string]bool{}}
	for _, sn := range sns {
		pe := d.publishEvent(ctx, v, prefix, sn, run)
		out.Events = append(out.Events, pe)
		out.Complete = out.Complete && pe.Witnessing.Complete
	}
	out.Notices = run.notices
	if len(sns) > 0 {
		out.Packet = d.receiptsOutgoing(prefix, sns)
		out.Packet.Dropped = d.dropLater("", out.Packet.Title, out.Packet.Name, out.Packet.Data)
	}
	return out, nil
}

// publishRun is what one Publish learns as it goes.
type publishRun struct {
	down    map[string]error // witnesses that did not answer
	caught  map[string]bool  // witnesses caught up on the earlier events
	notices []api.Notice
}

// publishEvent publishes event sn of prefix to each of its witnesses that
// has not receipted it, then passes every witness the others' receipts.
func (d *Device) publishEvent(ctx context.Context, v *kel.Verifier, prefix string, sn uint64, run *publishRun) PublishedEvent {
	m, _ := v.MessageAt(prefix, sn)
	ev := m.Event
	st, _ := v.StateAt(prefix, sn)
	pe := PublishedEvent{Sn: sn, Ilk: ev.Ilk(), SAID: ev.SAID()}
	held := map[string]bool{}
	for _, c := range d.receipts(prefix, sn) {
		held[c.Prefix] = true
	}
	fresh := false
	for _, w := range st.Witnesses {
		info, known := d.wits.get(w)
		o := WitnessOutcome{Prefix: w, Name: d.WitnessName(w), URL: info.URL}
		switch {
		case held[w]:
			o.State = ReceiptHeld
		case !known:
			o.State, o.Err = ReceiptFailed, fmt.Errorf("%w: %s (%s): give its OOBI (--witness OOBI)", ErrWitnessUnknown, o.Name, w)
		case run.down[w] != nil:
			o.State, o.Err = ReceiptSkipped, run.down[w]
		default:
			o.Warning, o.Err = d.receiptFrom(ctx, v, m, st, info, run)
			o.State = ReceiptNew
			if o.Err != nil {
				o.State = ReceiptFailed
				if errors.Is(o.Err, witness.ErrUnreachable) {
					run.down[w] = o.Err
				}
			} else {
				fresh = true
			}
		}
		pe.Outcomes = append(pe.Outcomes, o)
	}
	if fresh {
		d.passReceiptsOn(ctx, ev, st, run)
	}
	pe.Witnessing = d.witnessing(prefix, sn)
	return pe
}

// receiptFrom gets, checks and stores the receipt of one witness.
func (d *Device) receiptFrom(ctx context.Context, v *kel.Verifier, m kel.Message, st kel.KeyState, w WitnessInfo, run *publishRun) (warning string, err error) {
	ev := m.Event
	if err := d.catchUp(ctx, v, ev, w, run); err != nil {
		return "", err
	}
	rct, err := d.net.Receipt(ctx, w.URL, w.Prefix, m.WithWigs(nil))
	if err != nil {
		return "", err
	}
	c, err := coupleOf(rct, st.Witnesses, w.Prefix)
	if err != nil {
		return "", err
	}
	// A receipt does not show that the witness accepted the event: ask
	// which event it holds at this sequence number.
	acc, aerr := d.net.Accepted(ctx, w.URL, ev.Prefix(), ev.Sn())
	switch {
	case aerr == nil && acc.SAID != ev.SAID():
		return "", fmt.Errorf("%w: it accepted %s at sn %d of %s, not %s", ErrDuplicity, acc.SAID, ev.Sn(), ev.Prefix(), ev.SAID())
	case aerr != nil:
		warning = fmt.Sprintf("it signed the receipt but does not show the event as accepted (%v)", aerr)
	}
	if _, err := d.store.AddReceipt(ev.Prefix(), ev.Sn(), ev.SAID(), c); err != nil {
		return "", fmt.Errorf("%w: %w", witness.ErrGarbage, err)
	}
	return warning, nil
}

// coupleOf finds the witness's signature in its receipt (a couple, or a
// witness-indexed signature at its position).
func coupleOf(rct kel.Receipt, wits []string, w string) (kel.Couple, error) {
	for _, c := range rct.Couples {
		if c.Prefix == w {
			return c, nil
		}
	}
	i := slices.Index(wits, w)
	for _, s := range rct.Wigs {
		if s.Index == i {
			return kel.Couple{Prefix: w, Sig: s.Sig}, nil
		}
	}
	return kel.Couple{}, fmt.Errorf("%w: its receipt carries no signature of %s", witness.ErrGarbage, w)
}

// catchUp sends a witness that joined at this event (by a rotation) the
// identifier's earlier events with their receipts, once per run, so that
// it knows the key state the event builds on.
func (d *Device) catchUp(ctx context.Context, v *kel.Verifier, ev *kel.Event, w WitnessInfo, run *publishRun) error {
	if ev.Sn() == 0 || run.caught[w.Prefix] {
		return nil
	}
	prev, _ := v.StateAt(ev.Prefix(), ev.Sn()-1)
	if slices.Contains(prev.Witnesses, w.Prefix) {
		return nil
	}
	for sn := uint64(0); sn < ev.Sn(); sn++ {
		m, _, err := d.store.Witnessed(ev.Prefix(), sn)
		if err != nil {
			return err
		}
		if err := d.net.Submit(ctx, w.URL, w.Prefix, m); err != nil {
			return fmt.Errorf("catching it up on sn %d: %w", sn, err)
		}
	}
	run.caught[w.Prefix] = true
	return nil
}

// passReceiptsOn sends each witness of the event the receipts of the
// others, so that each holds the toad (keripy serves a KEL only when its
// last event is fully witnessed there). A failure is a notice.
func (d *Device) passReceiptsOn(ctx context.Context, ev *kel.Event, st kel.KeyState, run *publishRun) {
	all := d.receipts(ev.Prefix(), ev.Sn())
	for _, w := range st.Witnesses {
		info, known := d.wits.get(w)
		if !known || run.down[w] != nil {
			continue
		}
		var others []kel.Couple
		for _, c := range all {
			if c.Prefix != w {
				others = append(others, c)
			}
		}
		if err := d.net.SendReceipt(ctx, info.URL, w, kel.NewReceipt(ev, others)); err != nil {
			run.notices = append(run.notices, api.Notice{Text: fmt.Sprintf("warning: the other witnesses' receipts of sn %d did not reach witness %s: %v", ev.Sn(), d.WitnessName(w), err), Err: err})
		}
	}
}

// witnessing is how far event sn of prefix is witnessed here.
func (d *Device) witnessing(prefix string, sn uint64) api.Witnessing {
	st, _ := d.store.StateAt(prefix, sn)
	w := api.Witnessing{Sn: sn, Toad: st.Bt}
	held := map[string]bool{}
	for _, c := range d.receipts(prefix, sn) {
		held[c.Prefix] = true
	}
	var parts []string
	for _, p := range st.Witnesses {
		mark := api.WitnessMark{Prefix: p, Name: d.WitnessName(p), Held: held[p]}
		w.Marks = append(w.Marks, mark)
		if mark.Held {
			w.Held++
			parts = append(parts, mark.Name+" ✓")
		} else {
			parts = append(parts, mark.Name+" waiting")
		}
	}
	w.Complete = uint64(w.Held) >= w.Toad
	if len(st.Witnesses) == 0 {
		w.Line = "witnessed: no witnesses"
		return w
	}
	w.Line = fmt.Sprintf("witnessed: %d of %d receipts (toad %d): %s", w.Held, len(st.Witnesses), st.Bt, strings.Join(parts, ", "))
	return w
}

// Witnessing is how far the held event sn of a group is witnessed here
// (false when the group holds no such event or it has no witnesses).
func (d *Device) Witnessing(prefix string, sn uint64) (api.Witnessing, bool) {
	if !d.store.MayBeWitnessed(prefix) { // most groups: no KEL to restore
		return api.Witnessing{}, false
	}
	st, ok := d.store.StateAt(prefix, sn)
	if !ok || len(st.Witnesses) == 0 {
		return api.Witnessing{}, false
	}
	return d.witnessing(prefix, sn), true
}

// receiptsOutgoing is a group's events sns with their receipts, as a KEL
// stream for the other devices.
func (d *Device) receiptsOutgoing(prefix string, sns []uint64) api.Outgoing {
	var data []byte
	for _, sn := range sns {
		m, _, _ := d.store.Witnessed(prefix, sn) // read by Publish before
		data = append(data, m.Bytes()...)
	}
	first, last := sns[0], sns[len(sns)-1]
	span := fmt.Sprintf("sn %d", first)
	if last != first {
		span = fmt.Sprintf("sn %d to %d", first, last)
	}
	name := []string{"receipts"}
	if a := d.groups.aliasOf(prefix); a != "" {
		name = append(name, a)
	}
	name = append(name, prefix[1:9], strings.ReplaceAll(span, " ", ""))
	return api.Outgoing{Title: fmt.Sprintf("witness receipts of %s (%s)", d.nameOf(prefix), span), Name: dropName(name...) + ".cesr", Data: data}
}

// Publish publishes a finalized ceremony's event to the group's witnesses,
// with the group's earlier events that lack receipts.
func (b backend) Publish(ceremonyID string) (api.PublishReport, error) {
	cer, err := b.d.Ceremony(ceremonyID)
	if err != nil {
		return api.PublishReport{}, err
	}
	ev := cer.Event()
	if _, ok := b.d.Witnessing(ev.Prefix(), ev.Sn()); cer.State() != ceremony.StateFinalized || !ok {
		if cer.State() != ceremony.StateFinalized {
			return api.PublishReport{}, fmt.Errorf("%w: ceremony %s is %s", ErrNotFinalized, ShortID(cer.ID()), cer.State())
		}
		return api.PublishReport{}, fmt.Errorf("%w: %s sn %d has no witnesses", ErrRequest, b.d.nameOf(ev.Prefix()), ev.Sn())
	}
	p, err := b.d.Publish(context.Background(), Publish{Group: ev.Prefix()})
	if err != nil {
		return api.PublishReport{}, err
	}
	r := api.PublishReport{Packet: p.Packet}
	for _, n := range p.Notices {
		n.Ceremony = cer.ID()
		r.Notices = append(r.Notices, n)
	}
	r.Witnessing, _ = b.d.Witnessing(ev.Prefix(), ev.Sn())
	for _, pe := range p.Events {
		for _, o := range pe.Outcomes {
			if o.Err != nil {
				r.Failures = append(r.Failures, fmt.Sprintf("sn %d: witness %s: %v", pe.Sn, o.Name, o.Err))
			}
			if o.Warning != "" {
				r.Notices = append(r.Notices, api.Notice{Ceremony: cer.ID(), Text: fmt.Sprintf("sn %d: witness %s: %s", pe.Sn, o.Name, o.Warning)})
			}
		}
	}
	return r, nil
}

// receipts are the receipts held for event sn of prefix (none when its
// KEL does not restore: the operations that read it report why).
func (d *Device) receipts(prefix string, sn uint64) []kel.Couple {
	cs, _ := d.store.Receipts(prefix, sn)
	return cs
}
