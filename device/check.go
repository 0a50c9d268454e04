package device

import (
	"errors"
	"fmt"
	"slices"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/keystore"
)

// SeatCheck is the recovery drill's verdict on one seat: its keys are in
// the keystore, and its group's key state lists them as it should.
type SeatCheck struct {
	Seat Seat
	// Name is the seat in words: "alice in team1".
	Name  string
	Ready bool
	// Err says why the seat is not ready (nil when ready).
	Err error
	// Role says what the seat is in its group ("signs at k[0]; its next key
	// is committed at n[0]"), "" when unknown.
	Role string
	// Notes are what the user should know (shared keys, a group that
	// dropped the seat).
	Notes []string
}

// Check is the recovery drill: every seat of every member is checked
// against the keystore and against its group's KEL, and the journal
// against the ceremony store.
type Check struct {
	Seats []SeatCheck
	// The journal: its entries, a torn last line's size, or why it does
	// not read.
	JournalEntries int
	JournalTorn    int
	JournalErr     error
	// Disagreements are signatures of this device that the ceremony store
	// records and the journal does not (a journal deleted, truncated or
	// edited).
	Disagreements []string
	// KeysOnly: the ceremony store was in use by another process, so the
	// seats were checked against their keys only.
	KeysOnly bool
	// Retained names the members keeping old keys because an identifier
	// held here still lists them.
	Retained []string
}

// ErrSeatNotReady: a seat's keys do not fit its group's key state.
var ErrSeatNotReady = errors.New("seat does not fit its group's key state")

// ErrJournalDisagrees: the journal lacks signatures the ceremony store
// records.
var ErrJournalDisagrees = errors.New("signing journal disagrees with the ceremony store")

// Ready reports whether every seat and the journal are ready (and there is
// at least one seat).
func (c *Check) Ready() bool {
	if len(c.Seats) == 0 || c.JournalErr != nil || len(c.Disagreements) > 0 {
		return false
	}
	for _, s := range c.Seats {
		if !s.Ready {
			return false
		}
	}
	return true
}

// CheckMembers runs the recovery drill. On a device opened for its keys
// only it checks the keys and the journal.
func (d *Device) CheckMembers() (*Check, error) {
	rs, err := d.ks.CheckReadiness()
	if err != nil {
		return nil, err
	}
	c := &Check{KeysOnly: d.store == nil}
	entries, torn, err := d.ks.Journal().Entries()
	c.JournalEntries, c.JournalTorn, c.JournalErr = len(entries), torn, err
	all := make([]Seat, len(rs))
	for i, r := range rs {
		all[i] = r.Seat
	}
	for _, r := range rs {
		sc := SeatCheck{Seat: r.Seat, Name: d.seatName(r.Seat), Ready: r.Ready, Err: r.Err}
		if r.Seat.LostCurrent {
			g := d.nameOf(r.Seat.Group)
			sc.Ready, sc.Err = false, fmt.Errorf("%w: its current key was destroyed before seats, by a rotation of another group that listed the same keys; it cannot sign in %s until %s rotates, revealing its next key, which it still holds: contribute to that rotation (keremony rotate contribute --group %s --member %s)",
				ErrSeatNotReady, g, g, g, r.Seat.Member)
		}
		if !c.KeysOnly && r.Seat.Group != "" {
			d.checkInGroup(&sc)
		}
		switch {
		case r.Seat.Legacy:
			sc.Notes = append(sc.Notes, "its keys were made before seats; the next full start of keremony (any ceremony command or the TUI) finds the groups that list them")
		case r.Seat.Group == "" && sc.Role == "":
			sc.Role = "in no group yet; its card can join a new group"
		}
		for _, n := range r.Seat.SharesWith {
			if o := slices.IndexFunc(all, func(s Seat) bool { return s.Member == r.Seat.Member && s.N == n }); o >= 0 {
				sc.Notes = append(sc.Notes, fmt.Sprintf("shares keys with %s: both groups listed one key pair made before seats; no shared key is destroyed while a group lists it, and each rotation of a group gives its seat keys of its own (after the groups have rotated, check again)",
					d.seatName(all[o])))
			}
		}
		c.Seats = append(c.Seats, sc)
	}
	if ms, err := d.ks.Members(); err == nil {
		for _, m := range ms {
			if m.Retained > 0 {
				c.Retained = append(c.Retained, fmt.Sprintf("member %s keeps %d rotated-out key(s) that an identifier held on this device still lists; they are destroyed once none does", m.Alias, m.Retained))
			}
		}
	}
	if !c.KeysOnly && err == nil {
		c.Disagreements = d.journalDisagreements(entries)
	}
	return c, nil
}

// checkInGroup checks a bound seat against its group's key state.
func (d *Device) checkInGroup(sc *SeatCheck) {
	ks := sc.Seat
	st, held := d.store.State(ks.Group)
	if !held {
		for _, cer := range d.store.Ceremonies() {
			if cer.Event().Prefix() == ks.Group && cer.State().Open() {
				sc.Role = fmt.Sprintf("waits for the inception of %s, ceremony %s", d.nameOf(ks.Group), ShortID(cer.ID()))
				return
			}
		}
		sc.Role = fmt.Sprintf("its group %s has no kel on this device (its inception never completed here)", d.nameOf(ks.Group))
		return
	}
	cur := kel.EncodeVerKey(ks.PublicKey)
	i, j := slices.Index(st.Keys, cur), slices.Index(st.Next, ks.NextDigest)
	notReady := func(format string, a ...any) {
		sc.Ready = false
		if sc.Err == nil {
			sc.Err = fmt.Errorf("%w: %s", ErrSeatNotReady, fmt.Sprintf(format, a...))
		}
	}
	switch {
	case i >= 0 && j >= 0:
		sc.Role = fmt.Sprintf("signs at k[%d]; its next key is committed at n[%d]", i, j)
	case i >= 0:
		sc.Role = fmt.Sprintf("signs at k[%d]", i)
		notReady("%s does not commit its next key: it cannot take part in the next rotation", d.nameOf(ks.Group))
	case j >= 0:
		sc.Role = fmt.Sprintf("does not sign now; its next key is committed at n[%d] (reserve, or joined through the next commitment)", j)
	case slices.Contains(st.Next, kel.NextDigest(cur)):
		notReady("%s commits this seat's current key as a next key and lists a current key this seat no longer holds: a rotation of another identifier replaced it before seats; %s needs a rotation by its other members that drops %s and adds a fresh seat (rotate propose --add-next CARD)",
			d.nameOf(ks.Group), d.nameOf(ks.Group), ks.Member)
	default:
		sc.Role = "no longer a signer: the group's key state lists neither its key nor its next digest"
	}
}

// journalDisagreements lists the signatures this device made (its
// ceremonies' transcripts record them as local) that the journal does not
// record: a journal deleted, truncated or edited is not trusted.
func (d *Device) journalDisagreements(entries []keystore.JournalEntry) []string {
	type ref struct {
		aid  string
		sn   uint64
		said string
	}
	have := map[ref]bool{}
	for _, e := range entries {
		if e.Proof == "" {
			have[ref{e.AID, e.SN, e.SAID}] = true
		}
	}
	var out []string
	for _, cer := range d.store.Ceremonies() {
		ev := cer.Event()
		if have[ref{ev.Prefix(), ev.Sn(), ev.SAID()}] {
			continue
		}
		for _, e := range cer.Transcript() {
			if e.Kind == ceremony.EntrySigned && e.From == "local" {
				out = append(out, fmt.Sprintf("%s: the ceremony store records this device's signature of %s sn %d of %s (said %s, ceremony %s), which the journal does not have",
					ErrJournalDisagrees, ev.Ilk(), ev.Sn(), d.nameOf(ev.Prefix()), ev.SAID(), ShortID(cer.ID())))
				break
			}
		}
	}
	return out
}

// Lines renders a check for a front-end: one line per seat, then the
// notes, the journal and its disagreements.
func (c *Check) Lines() []string {
	var out []string
	for _, s := range c.Seats {
		line := s.Name + ": ready"
		if !s.Ready {
			line = fmt.Sprintf("%s: NOT READY: %v", s.Name, s.Err)
		}
		if s.Role != "" && s.Ready {
			line += " (" + s.Role + ")"
		}
		out = append(out, line)
		for _, n := range s.Notes {
			out = append(out, "  note: "+n)
		}
	}
	out = append(out, c.Retained...)
	switch {
	case c.JournalErr != nil:
		out = append(out, fmt.Sprintf("journal: NOT READY: %v", c.JournalErr))
	case c.JournalTorn > 0:
		out = append(out, fmt.Sprintf("journal: %d signatures; a torn last line (%d bytes, from a crash; its signature was never released) will be dropped", c.JournalEntries, c.JournalTorn))
	default:
		out = append(out, fmt.Sprintf("journal: %d signatures", c.JournalEntries))
	}
	for _, dis := range c.Disagreements {
		out = append(out, "journal: NOT READY: "+dis)
	}
	if len(c.Disagreements) > 0 {
		out = append(out, "  note: the journal was deleted, truncated or edited: signing still refuses what the ceremony store shows; restore journal.jsonl from a backup if there is one")
	}
	if c.KeysOnly {
		out = append(out, "the ceremony store is in use by another keremony process (the TUI?): seats were checked against their keys only, not against their groups' kels")
	}
	return out
}
