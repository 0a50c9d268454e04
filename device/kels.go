package device

import (
	"fmt"
	"io"
	"slices"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/transport"
)

// Imported is what importing an event stream did.
type Imported struct {
	// Results are the verdicts on each event, in stream order; Fresh are
	// the events new on this device, Refused those refused, Known those it
	// already had, Pending the delegated events (and the later events of
	// their identifiers) kept waiting for their delegator's anchor.
	Results []kel.Result
	Fresh   []kel.Result
	Refused []kel.Result
	Known   []kel.Result
	Pending []kel.Result
	// Released are events of earlier imports that were waiting for their
	// delegator's anchor and that this stream decided.
	Released []kel.Result
	// Closed are the open ceremonies the stream finalized.
	Closed []*ceremony.Ceremony
	// Receipts counts the witness receipts the stream brought that this
	// device did not hold (kept for events new or held).
	Receipts int
	// Notices: rotations committed.
	Notices []api.Notice
}

// ImportFile imports a CESR stream file ("-": stdin) through authenticated
// replay; alias ("": none) is recorded for the stream's one identifier.
// The error reports the first refusal.
func (d *Device) ImportFile(path string, stdin io.Reader, alias string) (*Imported, error) {
	pk, err := ReadPacket(path, stdin, transport.PacketCESR)
	if err != nil {
		return nil, err
	}
	return d.ImportStream(pk.(transport.Stream), alias)
}

// ImportStream accepts a CESR stream into this device's KELs through
// authenticated replay, saying what became of each event, records alias
// ("": none) for the stream's one identifier and commits the prepared
// rotations the new events call for. The error reports the first refusal.
func (d *Device) ImportStream(s transport.Stream, alias string) (*Imported, error) {
	out := &Imported{}
	var prefixes []string
	for _, m := range s.Messages {
		if p := m.Event.Prefix(); !slices.Contains(prefixes, p) {
			prefixes = append(prefixes, p)
		}
	}
	if alias != "" && len(prefixes) != 1 {
		return out, requestf("--group: the stream holds %d identifiers, want one", len(prefixes))
	}
	before := map[string]int{}
	for _, p := range prefixes {
		if st, ok := d.store.State(p); ok {
			before[p] = int(st.Sn) + 1
		}
	}
	open := map[string]*ceremony.Ceremony{}
	for _, cer := range d.store.Ceremonies() {
		if cer.State().Open() {
			open[cer.SAID()] = cer
		}
	}
	receipts := func() int { // held for the events the stream brings receipts for
		n := 0
		seen := map[[2]string]bool{}
		for _, m := range s.Messages {
			k := [2]string{m.Event.Prefix(), m.Event.SAID()}
			if len(m.Wigs) > 0 && !seen[k] {
				seen[k] = true
				n += len(d.receipts(k[0], m.Event.Sn())) // an unreadable KEL fails the import below
			}
		}
		return n
	}
	heldBefore := receipts()
	results, err := d.store.ImportMessages(s.Messages)
	out.Results = results
	if _, kerr := d.store.KeepWitnessSigs(s.Messages, results); err == nil {
		err = kerr
	}
	out.Receipts = receipts() - heldBefore
	inStream := map[string]bool{}
	for _, m := range s.Messages {
		inStream[m.Event.SAID()] = true
	}
	closed := func(r kel.Result) {
		if cer, ok := open[r.SAID]; ok && r.OK() && cer.State() == ceremony.StateFinalized && !slices.Contains(out.Closed, cer) {
			out.Closed = append(out.Closed, cer)
		}
	}
	for _, r := range results {
		switch {
		case r.Held:
			out.Pending = append(out.Pending, r)
		case !r.OK():
			out.Refused = append(out.Refused, r)
		case slices.Contains(r.Warnings, "duplicate_event"), int(r.Sn) < before[r.Prefix] && len(r.Supersedes) == 0:
			out.Known = append(out.Known, r)
		default:
			out.Fresh = append(out.Fresh, r)
		}
		closed(r)
		for _, rel := range r.Released {
			if !inStream[rel.Result.SAID] {
				out.Released = append(out.Released, rel.Result)
				closed(rel.Result)
			}
		}
	}
	if alias != "" {
		if _, aerr := d.groups.add(alias, prefixes[0]); aerr != nil && err == nil {
			err = aerr
		}
	}
	if s.Trailing > 0 {
		out.Notices = append(out.Notices, api.Notice{Text: "warning: " + transport.TrailingWarning(s.Trailing)})
	}
	if len(out.Fresh) > 0 || len(out.Released) > 0 {
		out.Notices = append(out.Notices, d.syncRotations(freshFrom(append(slices.Clone(out.Fresh), out.Released...)))...)
	}
	return out, err
}

// Export is the KEL of each named identifier (alias or prefix), joined.
func (d *Device) Export(names ...string) ([]byte, error) { return d.ExportSince(0, names...) }

// ExportSince is Export without the events before sequence number since:
// the catch-up bundle for a device that holds sn 0 to since-1 of each
// identifier. A since past an identifier's last event is refused
// (ErrSinceBeyond): the bundle would be empty.
func (d *Device) ExportSince(since uint64, names ...string) ([]byte, error) {
	var stream []byte
	for _, n := range names {
		prefix, st, err := d.ResolveAID(n)
		if err != nil {
			return nil, err
		}
		if since > st.Sn {
			return nil, fmt.Errorf("%w: %s ends at sn %d, --since %d", ErrSinceBeyond, d.GroupName(prefix), st.Sn, since)
		}
		b, err := d.store.ExportSince(prefix, since)
		if err != nil {
			return nil, err
		}
		stream = append(stream, b...)
	}
	return stream, nil
}

// Group is one identifier whose KEL this device holds.
type Group struct {
	Alias  string
	Prefix string
	State  kel.KeyState
}

// Groups lists the identifiers whose KEL this device holds, in the order
// first seen.
func (d *Device) Groups() []Group {
	var out []Group
	for _, p := range d.store.Prefixes() {
		st, _ := d.store.State(p)
		out = append(out, Group{Alias: d.groups.aliasOf(p), Prefix: p, State: st})
	}
	return out
}

// KELEvent is one event of a KEL as shown to the user.
type KELEvent struct {
	Message kel.Message
	// Anchors: for each event seal of the event, the anchored event's ilk
	// when this device holds it ("" when not).
	Anchored []string
	// AnchoredBy lists the events that anchor this one.
	AnchoredBy []kel.AnchorRef
	// SupersededBy names the recovery rotation that superseded the event
	// (nil when it stands); Supersedes lists, for a recovery rotation, the
	// events it superseded.
	SupersededBy *kel.EventRef
	Supersedes   []kel.EventRef
}

// KEL is an identifier's KEL as shown to the user.
type KEL struct {
	Prefix string
	State  kel.KeyState
	Events []KELEvent
	// Labels names keys and digests by member where this device knows
	// them.
	Labels map[string]string
}

// ShowKEL is the KEL of an identifier (alias or prefix).
func (d *Device) ShowKEL(name string) (*KEL, error) {
	prefix, st, err := d.ResolveAID(name)
	if err != nil {
		return nil, err
	}
	v, err := d.store.Verifier() // every KEL: the events anchoring this one
	if err != nil {
		return nil, err
	}
	out := &KEL{Prefix: prefix, State: st, Labels: d.labelBook(prefix)}
	event := func(m kel.Message) KELEvent {
		ev := m.Event
		e := KELEvent{Message: m, AnchoredBy: v.AnchorsOf(prefix, ev.Sn(), ev.SAID())}
		for _, s := range ev.Seals() {
			ilk := ""
			if s.Kind == kel.SealEvent {
				if msgs := v.Messages(s.I); s.S < uint64(len(msgs)) && msgs[s.S].Event.SAID() == s.D {
					ilk = msgs[s.S].Event.Ilk()
				}
			}
			e.Anchored = append(e.Anchored, ilk)
		}
		return e
	}
	// In first-seen order: superseded events before their recovery.
	runs := map[uint64][]kel.Superseded{}
	for _, s := range v.Superseded(prefix) {
		runs[s.By.Sn] = append(runs[s.By.Sn], s)
	}
	for sn, m := range v.Messages(prefix) {
		var refs []kel.EventRef
		for _, s := range runs[uint64(sn)] {
			e := event(s.Message)
			e.SupersededBy = &s.By
			out.Events = append(out.Events, e)
			ev := s.Message.Event
			refs = append(refs, kel.EventRef{Prefix: prefix, Sn: ev.Sn(), Ilk: ev.Ilk(), SAID: ev.SAID()})
		}
		e := event(m)
		e.Supersedes = refs
		out.Events = append(out.Events, e)
	}
	return out, nil
}

// kelOutgoing is the KEL of prefix as a packet to share.
func (d *Device) kelOutgoing(prefix string) (api.Outgoing, error) {
	st, _ := d.store.State(prefix)
	name := []string{"kel"}
	if a := d.groups.aliasOf(prefix); a != "" {
		name = append(name, a)
	}
	name = append(name, prefix[1:9], fmt.Sprintf("sn%d", st.Sn))
	data, err := d.store.Export(prefix)
	return api.Outgoing{Title: fmt.Sprintf("kel of %s (sn 0 to %d)", d.nameOf(prefix), st.Sn),
		Name: dropName(name...) + ".cesr", Data: data}, err
}
