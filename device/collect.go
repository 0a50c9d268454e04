package device

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/transport"
)

// Ceremonies lists this device's ceremonies, oldest first.
func (d *Device) Ceremonies() []*ceremony.Ceremony { return d.store.Ceremonies() }

// Ceremony finds a ceremony of this device by id.
func (d *Device) Ceremony(id string) (*ceremony.Ceremony, error) {
	cer, err := d.store.Ceremony(id)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return cer, nil
}

// ResolveCeremony finds a local ceremony by a proposal, signature or abort
// file, a ceremony id (or a unique prefix of one), or a group alias or
// prefix (its open ceremony, else its latest).
func (d *Device) ResolveCeremony(arg string, stdin io.Reader) (*ceremony.Ceremony, error) {
	if fi, err := os.Stat(arg); err == nil && !fi.IsDir() {
		return d.ceremonyOfFile(arg, stdin)
	}
	if c, err := d.store.Ceremony(arg); err == nil {
		return c, nil
	}
	all := d.store.Ceremonies()
	if prefix, ok := d.groups.lookup(arg); ok || strings.HasPrefix(arg, "E") && len(arg) == 44 {
		if !ok {
			prefix = arg
		}
		return groupCeremony(all, arg, prefix)
	}
	var match []*ceremony.Ceremony
	if len(arg) >= 4 {
		for _, c := range all {
			if strings.HasPrefix(c.ID(), arg) {
				match = append(match, c)
			}
		}
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		return nil, fmt.Errorf("%w: %q is no file, ceremony id or group here (keremony status lists them)", ErrNotFound, arg)
	}
	return nil, fmt.Errorf("%w: %q matches %s", ErrAmbiguous, arg, ceremonyIDs(match))
}

// ceremonyOfFile finds the ceremony a packet file names.
func (d *Device) ceremonyOfFile(path string, stdin io.Reader) (*ceremony.Ceremony, error) {
	pk, err := ReadAnyPacket(path, stdin)
	if err != nil {
		return nil, err
	}
	var id string
	switch p := pk.(type) {
	case transport.Proposal:
		in, err := incomingOf(path, p)
		if err != nil {
			return nil, err
		}
		id = in.ID()
	case transport.Signatures:
		id = p.Ceremony
	case transport.Abort:
		id = p.Ceremony
	default:
		return nil, fmt.Errorf("%s: %w: a %s names no ceremony", path, transport.ErrWrongPacketType, pk.PacketType().Describe())
	}
	c, err := d.store.Ceremony(id)
	if err != nil {
		return nil, fmt.Errorf("%w: %s (from %s)", ErrNotFound, id, path)
	}
	return c, nil
}

// groupCeremony is a group's open ceremony, else its latest.
func groupCeremony(all []*ceremony.Ceremony, name, prefix string) (*ceremony.Ceremony, error) {
	var open, any []*ceremony.Ceremony
	for _, c := range all {
		if c.Event().Prefix() == prefix {
			any = append(any, c)
			if c.State().Open() {
				open = append(open, c)
			}
		}
	}
	switch {
	case len(open) == 1:
		return open[0], nil
	case len(open) > 1:
		return nil, fmt.Errorf("%w: group %s has %d open ceremonies (%s): name one", ErrAmbiguous, name, len(open), ceremonyIDs(open))
	case len(any) > 0:
		return any[len(any)-1], nil
	}
	return nil, fmt.Errorf("%w: group %s has no ceremony here", ErrNotFound, name)
}

func ceremonyIDs(cs []*ceremony.Ceremony) string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID())
	}
	return strings.Join(ids, ", ")
}

// CollectTarget resolves the ceremony signatures are collected for: a
// proposal file this device has no ceremony for is recorded (see
// ResolveCeremony for the other forms).
func (d *Device) CollectTarget(arg string, stdin io.Reader) (*ceremony.Ceremony, []api.Notice, error) {
	if fi, err := os.Stat(arg); err == nil && !fi.IsDir() && SniffFile(arg) == transport.PacketProposal {
		in, err := ReadProposal(arg, stdin)
		if err != nil {
			return nil, nil, err
		}
		cer, ns, err := d.createFromProposal(in, 0)
		return cer, ns, err
	}
	cer, err := d.ResolveCeremony(arg, stdin)
	return cer, nil, err
}

// CollectFile delivers the signatures of one envelope file to target (or,
// when target is nil, to the ceremony the envelope names). A file that is
// not a signature envelope, or names another event, changes nothing.
func (d *Device) CollectFile(target *ceremony.Ceremony, path string) (*ceremony.Ceremony, []ceremony.Intake, error) {
	pk, err := ReadPacket(path, nil, transport.PacketSignatures)
	if err != nil {
		return nil, nil, err
	}
	env := pk.(transport.Signatures)
	if target == nil {
		if target, err = d.store.Ceremony(env.Ceremony); err != nil {
			return nil, nil, fmt.Errorf("%w: %w (receive the proposal first: keremony collect PROPOSAL %s)", ceremony.ErrWrongCeremony, err, path)
		}
	}
	return deliverSignatures(target, env)
}

// deliverSignatures adds the signatures of an envelope to cer, verifying
// each; an envelope that names another event changes nothing.
func deliverSignatures(cer *ceremony.Ceremony, env transport.Signatures) (*ceremony.Ceremony, []ceremony.Intake, error) {
	ev := cer.Event()
	if env.Ceremony == cer.ID() && env.SAID == ev.SAID() && (env.AID != ev.Prefix() || env.Sn != ev.Sn()) {
		return cer, nil, fmt.Errorf("%w: envelope names %s sn %d, the event is %s sn %d", ceremony.ErrWrongEvent, env.AID, env.Sn, ev.Prefix(), ev.Sn())
	}
	var out []ceremony.Intake
	var errs []error
	for _, s := range env.Sigs {
		in, err := cer.Receive(env.Ceremony, env.SAID, s, env.Signer)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, in)
	}
	return cer, out, errors.Join(errs...)
}

// Finalized is a finalized ceremony: the fully signed event (a CESR
// message) and, when it was finalized now, what followed.
type Finalized struct {
	Ceremony *ceremony.Ceremony
	Message  []byte
	// Fresh: finalized now (else it was finalized before and Message is
	// its event again).
	Fresh   bool
	Notices []api.Notice
}

// Finalize joins the collected signatures of cer into the fully signed
// event and accepts it into this device's KEL (through authenticated
// replay), then commits the prepared rotations it calls for. A ceremony
// finalized before gives its event again.
func (d *Device) Finalize(cer *ceremony.Ceremony) (*Finalized, error) {
	if cer.State() == ceremony.StateFinalized {
		return &Finalized{Ceremony: cer, Message: cer.Finalized()}, nil
	}
	msg, err := cer.Finalize()
	if err != nil {
		return nil, err
	}
	ev := cer.Event()
	return &Finalized{Ceremony: cer, Message: msg, Fresh: true, Notices: d.syncRotations(map[string]uint64{ev.Prefix(): ev.Sn()})}, nil
}
