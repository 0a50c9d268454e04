package device

import (
	"fmt"
	"time"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/transport"
)

// Signed is a signature made on this device.
type Signed struct {
	Ceremony *ceremony.Ceremony
	Member   string // this device's member that signed
	Intake   ceremony.Intake
	// Envelope is the signature packet for the device that collects.
	Envelope transport.Signatures
	// Notices: the ceremony recorded, KELs imported from the proposal, an
	// alias not recorded. Rotations: the prepared rotations committed.
	Notices   []api.Notice
	Rotations []api.Notice
}

// Sign signs a proposal after a passed review r (made by Review on this
// device just before): it records the ceremony (and the KELs that came
// with the proposal) if this device does not have it yet, records the
// group alias (default: the proposal's), signs through the keystore (which
// journals first) and returns the signature envelope for the other
// devices. expires applies to a ceremony recorded now.
func (d *Device) Sign(r *Reviewed, alias string, expires time.Duration) (*Signed, error) {
	in := r.In
	if !r.Passed() {
		return nil, fmt.Errorf("%w: %s", ErrReviewFailed, r.refusalText())
	}
	if !r.hasSeat || r.seat.key == "" {
		if r.hasSeat {
			return nil, fmt.Errorf("%w: member %s has no key among the signing keys of this %s", ceremony.ErrNotSigner, r.seat.alias, in.Event.Ilk())
		}
		return nil, fmt.Errorf("%w: no member of this device signs this %s", ErrNoMember, in.Event.Ilk())
	}
	if alias == "" {
		alias = in.Packet.Group
	}
	cer, ns, err := d.createFromProposal(in, expires)
	if err != nil {
		return nil, err
	}
	if alias != "" {
		if _, err := d.groups.add(alias, in.Event.Prefix()); err != nil {
			ns = append(ns, api.Notice{Text: fmt.Sprintf("warning: group alias not recorded: %v (use --group ALIAS)", err)})
		}
	}
	signerFor := d.ks.Signer
	if r.seat.reveals {
		signerFor = d.ks.RotationSigner
	}
	ksSigner, err := signerFor(r.seat.alias)
	if err != nil {
		return nil, err
	}
	if got := kel.EncodeVerKey(ksSigner.PublicKey()); got != r.seat.key {
		return nil, fmt.Errorf("%w: member %s holds %s, the event expects %s", ceremony.ErrNotSigner, r.seat.alias, got, r.seat.key)
	}
	// The review was made on this device's KELs plus the KELs that came
	// with the proposal, which are now stored: the same state.
	intake, err := cer.SignLocal(ksSigner, r.Review)
	if err != nil {
		return nil, err
	}
	label := r.Review.Label
	if label == "" {
		label = r.seat.alias
	}
	env, err := transport.NewSignatures(transport.Signatures{Ceremony: cer.ID(), AID: in.Event.Prefix(), Sn: in.Event.Sn(), SAID: in.Event.SAID(),
		Signer: label, Sigs: []string{intake.Sig.Qb64()}})
	if err != nil {
		return nil, err
	}
	d.removeItem("proposal/" + in.ID())
	return &Signed{Ceremony: cer, Member: r.seat.alias, Intake: intake, Envelope: env, Notices: ns, Rotations: d.syncRotations()}, nil
}
