package device

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/transport"
)

// CheckReason checks an abort reason: one line of at most
// transport.MaxReasonSize bytes.
func CheckReason(reason string) error {
	if len(reason) > transport.MaxReasonSize || strings.ContainsFunc(reason, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return requestf("--reason: at most %d bytes on one line", transport.MaxReasonSize)
	}
	return nil
}

// Abort closes the open ceremony cer for good and returns the abort record
// signed by member ("": the one member of this device in the ceremony), or
// nil when no member of this device belongs to it (an error when
// needRecord).
func (d *Device) Abort(cer *ceremony.Ceremony, reason, member string, needRecord bool) (*transport.Abort, error) {
	if err := CheckReason(reason); err != nil {
		return nil, err
	}
	if !cer.State().Open() {
		return nil, fmt.Errorf("%w: ceremony %s is %s", ceremony.ErrNotCollecting, cer.ID(), cer.State())
	}
	keys := d.memberKeys(cer)
	if member == "" {
		found, err := d.localMembersIn(keys)
		if err != nil {
			return nil, err
		}
		if len(found) > 1 {
			return nil, fmt.Errorf("%w: several members of this device could sign the abort record: choose one with --member", ErrAmbiguous)
		}
		if len(found) == 1 {
			member = found[0]
		}
	}
	var rec *transport.Abort
	if member != "" {
		ks, ok, err := d.seatAmong(member, keys)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: member %s is not a member of ceremony %s", ErrNoMember, member, cer.ID())
		}
		key := kel.EncodeVerKey(ks.PublicKey)
		label := member
		if rm, ok := cer.Roster().ByKey(key); ok {
			label = rm.Label
		}
		ev := cer.Event()
		a, err := transport.NewAbort(transport.Abort{Ceremony: cer.ID(), AID: ev.Prefix(), Sn: ev.Sn(), SAID: ev.SAID(),
			Reason: reason, By: label, Key: key}, func(b []byte) ([]byte, error) { return d.ks.SignProof(ks.SeatRef, b) })
		if err != nil {
			return nil, err
		}
		rec = &a
	} else if needRecord {
		return nil, fmt.Errorf("%w: no member of this device belongs to ceremony %s, so no abort record can be signed", ErrNoMember, cer.ID())
	}
	if err := cer.Abort(reason); err != nil {
		return nil, err
	}
	return rec, nil
}

// AppliedAbort is another device's abort record applied here (Ceremony is
// nil when this device has no ceremony of it).
type AppliedAbort struct {
	Record   transport.Abort
	Ceremony *ceremony.Ceremony
}

// ApplyAbortFile applies another device's abort record file.
func (d *Device) ApplyAbortFile(path string, stdin io.Reader) (*AppliedAbort, error) {
	pk, err := ReadPacket(path, stdin, transport.PacketAbort)
	if err != nil {
		return nil, err
	}
	a := pk.(transport.Abort)
	cer, err := d.store.Ceremony(a.Ceremony)
	if err != nil {
		return &AppliedAbort{Record: a}, nil
	}
	if err := d.applyAbortRecord(cer, a); err != nil {
		return nil, err
	}
	return &AppliedAbort{Record: a, Ceremony: cer}, nil
}

// applyAbortRecord closes cer as another device's abort record asks, if the
// record names its event and is signed by a member of the ceremony.
func (d *Device) applyAbortRecord(cer *ceremony.Ceremony, a transport.Abort) error {
	ev := cer.Event()
	if a.SAID != ev.SAID() || a.AID != ev.Prefix() || a.Sn != ev.Sn() {
		return fmt.Errorf("%w: the record names %s sn %d %s, ceremony %s signs %s", ceremony.ErrWrongEvent, a.AID, a.Sn, a.SAID, cer.ID(), EventLine(ev))
	}
	if !slices.Contains(d.memberKeys(cer), a.Key) {
		return fmt.Errorf("%w: %s (%q) in ceremony %s", ErrAbortNotMember, a.Key, a.By, cer.ID())
	}
	return cer.Abort(fmt.Sprintf("aborted by %s: %s", a.By, a.Reason))
}
