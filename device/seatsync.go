package device

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/keystore"
)

// syncRotations runs after every change of the local KELs (finalize, kel
// import, sign): it commits the prepared rotation of every seat whose own
// identifier's latest establishment event, accepted into this device's
// KEL, lists the seat's revealed next key as current and its prepared
// digest as next. A KEL of any other identifier never moves a seat's keys.
// fresh maps the identifiers that just gained events to the first new
// sequence number (nil: none known); a seat that such an event dropped
// from its group is reported. It returns what it did, for the user.
func (d *Device) syncRotations(fresh map[string]uint64) []api.Notice {
	ss, err := d.ks.Seats()
	if err != nil {
		return []api.Notice{{Text: fmt.Sprintf("committing rotations: %v", err), Err: err}}
	}
	var out []api.Notice
	var errs []error
	for _, ks := range ss {
		if ks.Group == "" {
			continue
		}
		st, held := d.store.State(ks.Group)
		if !held {
			continue
		}
		i := slices.IndexFunc(st.Keys, func(k string) bool { return kel.NextDigest(k) == ks.NextDigest })
		if i < 0 {
			if first, ok := fresh[ks.Group]; ok && st.EstSn >= first {
				out = append(out, d.droppedNotice(ks, st)...)
			}
			continue
		}
		switch {
		case ks.PendingNextDigest == "":
			out = append(out, api.Notice{Text: fmt.Sprintf("member %s: its next key is now k[%d] of %s (sn %d), but this device prepared no rotation for it: run keremony member check", ks.Member, i, d.GroupName(ks.Group), st.EstSn)})
		case !slices.Contains(st.Next, ks.PendingNextDigest):
			out = append(out, api.Notice{Text: fmt.Sprintf("member %s: its next key is now k[%d] of %s (sn %d), but its prepared next digest %s is not in the new next list: rotation NOT committed", ks.Member, i, d.GroupName(ks.Group), st.EstSn, ks.PendingNextDigest)})
		default:
			nk, err := d.ks.CommitRotation(ks.SeatRef)
			if err != nil {
				errs = append(errs, fmt.Errorf("member %s: %w", ks.Member, err))
				continue
			}
			out = append(out, api.Notice{Text: fmt.Sprintf("member %s: rotation committed: its key %s is now k[%d] of %s (sn %d); next digest %s", ks.Member, kel.EncodeVerKey(nk.PublicKey), i, d.GroupName(ks.Group), st.EstSn, nk.NextDigest)})
		}
	}
	if err := errors.Join(errs...); err != nil {
		out = append(out, api.Notice{Text: fmt.Sprintf("committing rotations: %v", err), Err: err})
	}
	return out
}

// droppedNotice says, when the group's latest establishment event no
// longer lists seat ks (neither its key nor its next digest) but the one
// before did, that the member is no longer a signer of the group.
func (d *Device) droppedNotice(ks keystore.Seat, st kel.KeyState) []api.Notice {
	cur := kel.EncodeVerKey(ks.PublicKey)
	lists := func(keys, next []string) bool {
		return slices.Contains(keys, cur) || slices.Contains(next, ks.NextDigest) || ks.PendingNextDigest != "" && slices.Contains(next, ks.PendingNextDigest)
	}
	if lists(st.Keys, st.Next) {
		return nil
	}
	v, err := d.store.VerifierOf(ks.Group)
	if err != nil {
		return []api.Notice{{Text: fmt.Sprintf("member %s: %v", ks.Member, err), Err: err}}
	}
	msgs := v.Messages(ks.Group)
	for sn := int(st.EstSn) - 1; sn >= 0; sn-- {
		ev := msgs[sn].Event
		if !ev.IsEstablishment() {
			continue
		}
		if !lists(ev.Keys(), ev.Next()) {
			return nil
		}
		return []api.Notice{{Text: fmt.Sprintf("%s is no longer a signer of %s: the %s at sn %d lists neither its key nor its next digest", ks.Member, d.nameOf(ks.Group), ev.Ilk(), st.EstSn)}}
	}
	return nil
}

// freshFrom maps the identifiers of results that are new on this device
// to their first new sequence number.
func freshFrom(rs []kel.Result) map[string]uint64 {
	out := map[string]uint64{}
	for _, r := range rs {
		if first, ok := out[r.Prefix]; !ok || r.Sn < first {
			out[r.Prefix] = r.Sn
		}
	}
	return out
}

// keyInUse reports whether an identifier held on this device lists a key:
// pub among its current keys, or digest among its next digests. The
// keystore destroys no key for which it does.
func (d *Device) keyInUse(pub ed25519.PublicKey, digest string) bool {
	k := kel.EncodeVerKey(pub)
	for _, p := range d.store.Prefixes() {
		st, _ := d.store.State(p)
		if slices.Contains(st.Keys, k) || slices.Contains(st.Next, digest) {
			return true
		}
	}
	return false
}

// settleSeats gives each seat whose keys were made before seats (a home
// of an earlier keremony) the groups that list them: the identifiers held
// here whose key state lists its current key, its next digest, a key its
// next digest commits to, or its prepared digest; failing those, the
// ceremonies of this device whose event does. One group: the seat serves
// it. Several: each gets a seat of its own holding the same keys, which
// nothing destroys while any of them lists them. None: an ordinary seat
// in no group.
func (d *Device) settleSeats() []api.Notice {
	ss, err := d.ks.Seats()
	if err != nil {
		return []api.Notice{{Text: fmt.Sprintf("settling seats: %v", err), Err: err}}
	}
	var out []api.Notice
	states := map[string]kel.KeyState{}
	prefixes := d.store.Prefixes()
	for _, p := range prefixes {
		states[p], _ = d.store.State(p)
	}
	for _, ks := range ss {
		if !ks.Legacy {
			continue
		}
		cur := kel.EncodeVerKey(ks.PublicKey)
		lists := func(keys, next []string) bool {
			return slices.Contains(keys, cur) || slices.Contains(next, ks.NextDigest) ||
				ks.PendingNextDigest != "" && slices.Contains(next, ks.PendingNextDigest) ||
				slices.ContainsFunc(keys, func(k string) bool { return kel.NextDigest(k) == ks.NextDigest })
		}
		var groups []string
		var settle []keystore.Settle
		for _, p := range prefixes {
			if st := states[p]; lists(st.Keys, st.Next) {
				groups = append(groups, p)
				settle = append(settle, keystore.Settle{Prefix: p})
			}
		}
		if len(groups) == 0 {
			for _, cer := range d.store.Ceremonies() {
				ev := cer.Event()
				if p := ev.Prefix(); !slices.Contains(groups, p) && lists(ev.Keys(), ev.Next()) {
					groups = append(groups, p)
					settle = append(settle, keystore.Settle{Prefix: p})
				}
			}
		}
		// An identifier that commits the seat's current key as a next key,
		// but lists neither it nor the seat's next: a rotation of another
		// identifier moved the seat's keys on and destroyed the key this
		// one still lists (what keremony did before seats).
		for _, p := range prefixes {
			st := states[p]
			if j := slices.Index(st.Next, kel.NextDigest(cur)); j >= 0 && j < len(st.Keys) && !slices.Contains(groups, p) {
				if lost, err := kel.DecodeVerKey(st.Keys[j]); err == nil {
					groups = append(groups, p)
					settle = append(settle, keystore.Settle{Prefix: p, LostCurrent: lost})
				}
			}
		}
		settled, err := d.ks.SettleSeat(ks.SeatRef, settle)
		if err != nil {
			out = append(out, api.Notice{Text: fmt.Sprintf("settling the seat of member %s: %v", ks.Member, err), Err: err})
			continue
		}
		for _, st := range settled {
			if st.LostCurrent {
				out = append(out, api.Notice{Text: fmt.Sprintf("member %s: %s still lists a key of it that a rotation of another group destroyed before seats: it cannot sign there until %s rotates; run keremony member check",
					ks.Member, d.nameOf(st.Group), d.nameOf(st.Group)), Err: ErrSeatNotReady})
			}
		}
		if len(settled) > 1 {
			var names []string
			for _, p := range groups {
				names = append(names, d.nameOf(p))
			}
			out = append(out, api.Notice{Text: fmt.Sprintf("member %s: its keys, made before seats, serve %s: each group now has a seat of its own, sharing those keys until the groups rotate; run keremony member check",
				ks.Member, strings.Join(names, " and "))})
		}
	}
	return out
}
