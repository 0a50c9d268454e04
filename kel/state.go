package kel

import (
	"crypto/ed25519"
	"fmt"
	"slices"
)

// KeyState is an identifier's state after its last accepted event. Only the
// Verifier makes key states, and only from events whose signatures it
// checked.
type KeyState struct {
	Prefix    string
	Sn        uint64
	Last      string // SAID of the last accepted event
	Prior     string // its p ("" after an inception)
	LastIlk   string
	Keys      []string
	Kt        Threshold
	Next      []string
	Nt        Threshold
	Bt        uint64
	Witnesses []string
	Config    []string
	EstSn     uint64 // last establishment event
	EstSAID   string
	EstCuts   []string
	EstAdds   []string
	Delegator string

	pubs []ed25519.PublicKey // Keys, decoded once per establishment event
}

// Transferable reports whether the identifier can still rotate.
func (s KeyState) Transferable() bool { return len(s.Next) > 0 }

// clone gives a copy whose slices the caller may keep.
func (s KeyState) clone() KeyState {
	c := s
	c.Keys = slices.Clone(s.Keys)
	c.Next = slices.Clone(s.Next)
	c.Witnesses = slices.Clone(s.Witnesses)
	c.Config = slices.Clone(s.Config)
	c.EstCuts = slices.Clone(s.EstCuts)
	c.EstAdds = slices.Clone(s.EstAdds)
	c.pubs = nil
	return c
}

// MarshalJSON writes the state in keripy's KeyStateRecord shape (without vn,
// f and dt): i s p d et kt k nt n bt b c ee{s d br ba} di.
func (s KeyState) MarshalJSON() ([]byte, error) {
	ee := jsonValue{kind: jsonMap, mems: []jsonMember{
		{"s", jStr(formatHex(s.EstSn))}, {"d", jStr(s.EstSAID)},
		{"br", jStrList(nonNil(s.EstCuts))}, {"ba", jStrList(nonNil(s.EstAdds))},
	}}
	v := jsonValue{kind: jsonMap, mems: []jsonMember{
		{"i", jStr(s.Prefix)}, {"s", jStr(formatHex(s.Sn))}, {"p", jStr(s.Prior)},
		{"d", jStr(s.Last)}, {"et", jStr(s.LastIlk)}, {"kt", s.Kt.jsonValue()},
		{"k", jStrList(nonNil(s.Keys))}, {"nt", s.Nt.jsonValue()}, {"n", jStrList(nonNil(s.Next))},
		{"bt", jStr(formatHex(s.Bt))}, {"b", jStrList(nonNil(s.Witnesses))},
		{"c", jStrList(nonNil(s.Config))}, {"ee", ee}, {"di", jStr(s.Delegator)},
	}}
	return v.appendJSON(nil), nil
}

// transition computes the state an event would lead to from base (nil for an
// inception), checking every rule that needs key state but no signature. It
// is unexported on purpose: outside kel, key state only ever comes from a
// Verifier that has checked the signatures first.
func transition(base *KeyState, ev *Event) (KeyState, error) {
	if ev.IsInception() {
		if base != nil {
			return KeyState{}, fmt.Errorf("%w: second inception", ErrDuplicitous)
		}
		s := KeyState{
			Prefix: ev.prefix, Sn: 0, Last: ev.said, LastIlk: ev.ilk,
			Keys: ev.keys, Kt: ev.kt, Next: ev.next, Nt: ev.nt, Bt: ev.bt,
			Witnesses: ev.wits, Config: ev.config, EstSn: 0, EstSAID: ev.said,
			Delegator: ev.delegator,
		}
		return s, decodePubs(&s)
	}
	if base == nil {
		return KeyState{}, fmt.Errorf("%w: %s", ErrUnknownPrefix, ev.prefix)
	}
	if !base.Transferable() {
		return KeyState{}, fmt.Errorf("%w: %s has no next keys", ErrNotTransferable, ev.prefix)
	}
	if ev.sn != base.Sn+1 {
		return KeyState{}, fmt.Errorf("%w: sn %d after sn %d", ErrOutOfOrder, ev.sn, base.Sn)
	}
	if ev.prior != base.Last {
		return KeyState{}, fmt.Errorf("%w: p is %s, last event is %s", ErrPriorMismatch, ev.prior, base.Last)
	}
	s := *base
	s.Sn, s.Last, s.Prior, s.LastIlk = ev.sn, ev.said, ev.prior, ev.ilk
	if ev.ilk == IlkIxn {
		if slices.Contains(base.Config, "EO") {
			return KeyState{}, fmt.Errorf("%w: ixn on %s", ErrEstablishmentOnly, ev.prefix)
		}
		return s, nil
	}
	switch {
	case ev.ilk == IlkRot && base.Delegator != "":
		return KeyState{}, fmt.Errorf("%w: %s is delegated by %s", ErrDelegatedNeedsDrt, ev.prefix, base.Delegator)
	case ev.ilk == IlkDrt && base.Delegator == "":
		return KeyState{}, fmt.Errorf("%w: %s", ErrDrtNotDelegated, ev.prefix)
	}
	wits, err := RotateWitnesses(base.Witnesses, ev.cuts, ev.adds)
	if err != nil {
		return KeyState{}, err
	}
	if err := checkBt(ev.bt, len(wits)); err != nil {
		return KeyState{}, err
	}
	s.Keys, s.Kt, s.Next, s.Nt, s.Bt, s.Witnesses = ev.keys, ev.kt, ev.next, ev.nt, ev.bt, wits
	s.EstSn, s.EstSAID, s.EstCuts, s.EstAdds = ev.sn, ev.said, ev.cuts, ev.adds
	return s, decodePubs(&s)
}

// RotateWitnesses applies a rotation's cuts and adds to a witness list: every
// cut must be a witness, no add may already be one; the result keeps the
// remaining witnesses in order, then the adds.
func RotateWitnesses(wits, cuts, adds []string) ([]string, error) {
	for _, c := range cuts {
		if !slices.Contains(wits, c) {
			return nil, fmt.Errorf("%w: cut %s is not a witness", ErrWitnessConfig, c)
		}
	}
	var out []string
	for _, w := range wits {
		if !slices.Contains(cuts, w) {
			out = append(out, w)
		}
	}
	for _, a := range adds {
		if slices.Contains(out, a) {
			return nil, fmt.Errorf("%w: added %s is already a witness", ErrWitnessConfig, a)
		}
		out = append(out, a)
	}
	return nonNil(out), nil
}

func decodePubs(s *KeyState) error {
	s.pubs = make([]ed25519.PublicKey, len(s.Keys))
	for i, k := range s.Keys {
		p, err := DecodeVerKey(k)
		if err != nil {
			return fmt.Errorf("%w: key %d: %w", ErrField, i, err)
		}
		s.pubs[i] = p
	}
	return nil
}
