package kel

import (
	"fmt"
)

// InceptionOptions describe an icp, or a dip when Delegator is set.
type InceptionOptions struct {
	Keys      []string  // current signing keys, qb64 (D…)
	Kt        Threshold // signing threshold over Keys
	Next      []string  // next key digests, qb64 (E…)
	Nt        Threshold // next threshold over Next
	Witnesses []string  // witness prefixes (B…)
	Bt        uint64    // witness threshold
	Config    []string  // traits such as "EO", "DND"
	Seals     []Seal
	Delegator string // the delegator's prefix: makes a dip
	// BasicPrefix makes i the single key itself instead of the SAID. Groups
	// and delegated identifiers are always self-addressing.
	BasicPrefix bool
}

// RotationOptions describe a rot, or a drt when Delegated is set.
type RotationOptions struct {
	Prefix    string
	Sn        uint64
	Prior     string // SAID of the event at Sn-1
	Keys      []string
	Kt        Threshold
	Next      []string
	Nt        Threshold
	Bt        uint64
	Cuts      []string // witnesses removed
	Adds      []string // witnesses added
	Seals     []Seal
	Delegated bool
}

// InteractionOptions describe an ixn.
type InteractionOptions struct {
	Prefix string
	Sn     uint64
	Prior  string
	Seals  []Seal
}

// Incept builds an icp or dip.
func Incept(o InceptionOptions) (*Event, error) {
	ilk := IlkIcp
	if o.Delegator != "" {
		ilk = IlkDip
	}
	if o.BasicPrefix && (ilk == IlkDip || len(o.Keys) != 1) {
		return nil, fmt.Errorf("%w: a basic prefix needs exactly one key and no delegator", ErrInvalidOptions)
	}
	ev := &Event{ilk: ilk, seals: o.Seals, prefix: saidPlaceholder, estFields: &estFields{
		keys: o.Keys, kt: o.Kt, next: o.Next, nt: o.Nt,
		bt: o.Bt, wits: nonNil(o.Witnesses), config: nonNil(o.Config), delegator: o.Delegator,
	}}
	if o.BasicPrefix && len(o.Keys) == 1 {
		ev.prefix = o.Keys[0]
	}
	return finish(ev)
}

// Rotate builds a rot or drt.
func Rotate(o RotationOptions) (*Event, error) {
	ilk := IlkRot
	if o.Delegated {
		ilk = IlkDrt
	}
	ev := &Event{ilk: ilk, prefix: o.Prefix, sn: o.Sn, prior: o.Prior, seals: o.Seals, estFields: &estFields{
		keys: o.Keys, kt: o.Kt, next: o.Next, nt: o.Nt,
		bt: o.Bt, cuts: nonNil(o.Cuts), adds: nonNil(o.Adds),
	}}
	return finish(ev)
}

// Interact builds an ixn.
func Interact(o InteractionOptions) (*Event, error) {
	return finish(&Event{ilk: IlkIxn, prefix: o.Prefix, sn: o.Sn, prior: o.Prior, seals: o.Seals, estFields: noEst})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// finish serializes (placeholder SAID, true size in v, hash, final bytes)
// and parses the result back: the parser's checks are the builders' checks,
// so nothing impossible is ever built and the two cannot disagree.
func finish(ev *Event) (*Event, error) {
	self := ev.prefix == saidPlaceholder
	ev.said = saidPlaceholder
	size := len(ev.tree(versionString(0)).appendJSON(nil))
	ev.said = computeSAID(ev.tree(versionString(size)), self)
	if self {
		ev.prefix = ev.said
	}
	back, err := ParseEvent(ev.tree(versionString(size)).appendJSON(nil))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	return back, nil
}

// tree lays the event out in its ilk's field order.
func (e *Event) tree(version string) jsonValue {
	v := jsonValue{kind: jsonMap}
	for _, k := range fieldOrder[e.ilk] {
		var val jsonValue
		switch k {
		case "v":
			val = jStr(version)
		case "t":
			val = jStr(e.ilk)
		case "d":
			val = jStr(e.said)
		case "i":
			val = jStr(e.prefix)
		case "s":
			val = jStr(formatHex(e.sn))
		case "p":
			val = jStr(e.prior)
		case "kt":
			val = e.kt.jsonValue()
		case "k":
			val = jStrList(e.keys)
		case "nt":
			val = e.nt.jsonValue()
		case "n":
			val = jStrList(e.next)
		case "bt":
			val = jStr(formatHex(e.bt))
		case "b":
			val = jStrList(e.wits)
		case "br":
			val = jStrList(e.cuts)
		case "ba":
			val = jStrList(e.adds)
		case "c":
			val = jStrList(e.config)
		case "a":
			val = jsonValue{kind: jsonList, list: []jsonValue{}}
			for _, s := range e.seals {
				val.list = append(val.list, s.jsonValue())
			}
		case "di":
			val = jStr(e.delegator)
		}
		v.mems = append(v.mems, jsonMember{k, val})
	}
	return v
}
