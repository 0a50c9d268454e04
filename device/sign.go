package device

import (
	"fmt"
	"slices"
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
			return nil, fmt.Errorf("%w: member %s has no key among the signing keys of this %s", ceremony.ErrNotSigner, r.seat.alias(), in.Event.Ilk())
		}
		return nil, fmt.Errorf("%w: no member of this device signs this %s", ErrNoMember, in.Event.Ilk())
	}
	if alias == "" {
		alias = in.Packet.Group
	}
	if err := d.storeConflict(r.seat, in.Event); err != nil {
		return nil, err
	}
	if r.seat.ks.Group == "" && !r.seat.ks.Legacy {
		// A seat in no group yet joins this one, for good. (A seat made
		// before seats is settled when the device opens: settleSeats.)
		ks, err := d.ks.BindSeat(r.seat.ks.SeatRef, in.Event.Prefix())
		if err != nil {
			return nil, err
		}
		r.seat.ks = ks
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
	ksSigner, err := signerFor(r.seat.ks.SeatRef)
	if err != nil {
		return nil, err
	}
	if got := kel.EncodeVerKey(ksSigner.PublicKey()); got != r.seat.key {
		return nil, fmt.Errorf("%w: member %s holds %s, the event expects %s", ceremony.ErrNotSigner, r.seat.alias(), got, r.seat.key)
	}
	// The review was made on this device's KELs plus the KELs that came
	// with the proposal, which are now stored: the same state.
	intake, err := cer.SignLocal(ksSigner, r.Review)
	if err != nil {
		return nil, err
	}
	label := r.Review.Label
	if label == "" {
		label = r.seat.alias()
	}
	env, err := transport.NewSignatures(transport.Signatures{Ceremony: cer.ID(), AID: in.Event.Prefix(), Sn: in.Event.Sn(), SAID: in.Event.SAID(),
		Signer: label, Sigs: []string{intake.Sig.Qb64()}})
	if err != nil {
		return nil, err
	}
	d.removeItem("proposal/" + in.ID())
	return &Signed{Ceremony: cer, Member: r.seat.alias(), Intake: intake, Envelope: env, Notices: ns, Rotations: d.syncRotations(nil)}, nil
}

// storeConflict refuses to sign ev with seat s when the ceremony store
// shows that s already signed another event at the same identifier and
// sequence number (a signature by its current key, or by the next key it
// reveals, in a ceremony of another event): the journal says the same, but
// a journal deleted, truncated or edited must not let the seat equivocate.
// A recovery rotation is no equivocation: signed with the revealed next
// key, it may supersede an interaction the current key signed at its sn.
func (d *Device) storeConflict(s seat, ev *kel.Event) error {
	keys := []string{kel.EncodeVerKey(s.ks.PublicKey)}
	if s.key != "" {
		keys = append(keys, s.key)
	}
	signKey := keys[len(keys)-1]
	rotation := ev.Ilk() == kel.IlkRot || ev.Ilk() == kel.IlkDrt
	for _, cer := range d.store.Ceremonies() {
		other := cer.Event()
		if other.Prefix() != ev.Prefix() || other.Sn() != ev.Sn() || other.SAID() == ev.SAID() {
			continue
		}
		recovery := rotation && other.Ilk() == kel.IlkIxn
		signing := cer.SigningKeys()
		for _, sig := range cer.Signatures() {
			if recovery && sig.Index < len(signing) && signing[sig.Index] != signKey {
				continue
			}
			if sig.Index < len(signing) && (slices.Contains(keys, signing[sig.Index]) || kel.NextDigest(signing[sig.Index]) == s.ks.NextDigest) {
				return fmt.Errorf("%w: the ceremony store shows member %s signed %s at sn %d of %s (ceremony %s, k[%d]), refusing to sign %s",
					ErrConflictingSignature, s.alias(), other.SAID(), ev.Sn(), ev.Prefix(), cer.ID(), sig.Index, ev.SAID())
			}
		}
	}
	return nil
}
