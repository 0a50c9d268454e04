package device

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/transport"
)

// Incoming is a proposal packet and what it carries, parsed once.
type Incoming struct {
	// Source names where it came from (a file, "qr frames", "this device").
	Source   string
	Packet   transport.Proposal
	Proposal ceremony.Proposal
	Event    *kel.Event
}

// ID is the proposal's (and its ceremony's) id.
func (in *Incoming) ID() string { return in.Proposal.ID }

// ProposerKey is the key that signed the proposal.
func (in *Incoming) ProposerKey() string {
	if pr := in.Proposal.Proposer; pr != nil {
		return pr.Key
	}
	return ""
}

// ReadProposal reads a proposal packet file ("-": stdin).
func ReadProposal(path string, stdin io.Reader) (*Incoming, error) {
	pk, err := ReadPacket(path, stdin, transport.PacketProposal)
	if err != nil {
		return nil, err
	}
	return incomingOf(path, pk.(transport.Proposal))
}

func incomingOf(source string, pk transport.Proposal) (*Incoming, error) {
	p := pk.Proposal
	ev, err := kel.ParseEvent(p.Event)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return &Incoming{Source: source, Packet: pk, Proposal: p, Event: ev}, nil
}

// contextVerifier is a copy of this device's KELs with, on top, the
// events that came with a proposal, without storing anything. It names the
// identifiers this device did not hold before (fresh), refuses a context
// that does not chain to this device's KELs (ErrBehind, naming the
// sequence numbers this device lacks; v is then this device's KELs alone)
// and one that does not replay (ErrContext).
func (d *Device) contextVerifier(ev *kel.Event, context []kel.Message) (*kel.Verifier, []string, error) {
	reads := ev.KELsRead()
	for _, m := range context {
		reads = append(reads, m.Event.KELsRead()...)
	}
	v, err := d.store.VerifierOf(reads...)
	if err != nil {
		return nil, nil, err
	}
	if len(context) == 0 {
		return v, nil, nil
	}
	if err := d.behind(v, context); err != nil {
		return v, nil, err
	}
	before := d.store.Prefixes()
	for _, r := range v.AcceptMessages(context) {
		if !r.OK() {
			return nil, nil, fmt.Errorf("%w: %s sn %d %s: %w", ErrContext, r.Prefix, r.Sn, r.Ilk, r.Err)
		}
	}
	var fresh []string
	for _, p := range v.Prefixes() {
		if !slices.Contains(before, p) {
			fresh = append(fresh, p)
		}
	}
	return v, fresh, nil
}

// importContext stores the events of a proposal's KELs this device does
// not hold yet (accepted only through authenticated replay) and says what
// it imported.
func (d *Device) importContext(msgs []kel.Message) ([]api.Notice, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	before := map[string]uint64{}
	known := map[string]bool{}
	var prefixes []string
	for _, m := range msgs {
		p := m.Event.Prefix()
		if !slices.Contains(prefixes, p) {
			prefixes = append(prefixes, p)
		}
		if st, ok := d.store.State(p); ok && !known[p] {
			before[p], known[p] = st.Sn, true
		}
	}
	if _, err := d.store.ImportMessages(msgs); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrContext, err)
	}
	var ns []api.Notice
	for _, p := range prefixes {
		st, _ := d.store.State(p)
		switch {
		case !known[p]:
			ns = append(ns, api.Notice{Text: fmt.Sprintf("imported the kel of %s (sn 0 to %d) that came with the proposal", d.GroupName(p), st.Sn)})
		case st.Sn > before[p]:
			ns = append(ns, api.Notice{Text: fmt.Sprintf("imported events %d to %d of %s that came with the proposal", before[p]+1, st.Sn, d.GroupName(p))})
		}
	}
	return ns, nil
}

// createFromProposal records a received proposal as a local ceremony
// (collecting), after storing the KELs it came with; an existing ceremony
// of the same id must be of the same event.
func (d *Device) createFromProposal(in *Incoming, expires time.Duration) (*ceremony.Ceremony, []api.Notice, error) {
	if cer, err := d.store.Ceremony(in.ID()); err == nil {
		if cer.SAID() != in.Event.SAID() {
			return nil, nil, fmt.Errorf("%w: ceremony %s on this device signs %s, the proposal %s", ceremony.ErrWrongEvent, in.ID(), cer.SAID(), in.Event.SAID())
		}
		if cer.State() == ceremony.StateDrafting {
			if err := cer.Open(); err != nil {
				return nil, nil, err
			}
		}
		return cer, nil, nil
	}
	ns, err := d.importContext(in.Packet.Context)
	if err != nil {
		return nil, nil, err
	}
	cer, err := d.record(in.Proposal, d.deadline(expires))
	if err != nil {
		return nil, nil, err
	}
	return cer, append(ns, api.Notice{Ceremony: cer.ID(), Text: fmt.Sprintf("recorded ceremony %s", cer.ID())}), nil
}

// proposalPacket is the proposal packet of a ceremony of this device: its
// proposal as its proposer signed it, and the KELs the event builds on.
func (d *Device) proposalPacket(cer *ceremony.Ceremony) (transport.Proposal, error) {
	context, err := d.proposalContext(cer)
	if err != nil {
		return transport.Proposal{}, err
	}
	return transport.NewProposal(cer.Proposal(), context)
}

// ProposalOf is the proposal of a ceremony of this device, as its proposer
// signed it, with the KELs it builds on (for sharing it again).
func (d *Device) ProposalOf(cer *ceremony.Ceremony) (*Incoming, error) {
	pk, err := d.proposalPacket(cer)
	if err != nil {
		return nil, err
	}
	return incomingOf("ceremony "+cer.ID(), pk)
}
