package kel

import (
	"fmt"
)

// SealKind names a seal by its field list (keripy recognises seals by the
// exact key sequence, so {"s","i","d"} is not an event seal).
type SealKind string

const (
	SealDigest SealKind = "digest" // {"d"}
	SealRoot   SealKind = "root"   // {"rd"}
	SealEvent  SealKind = "event"  // {"i","s","d"}: an event of another KEL
	SealSource SealKind = "source" // {"s","d"}: an event of the same KEL
	SealLast   SealKind = "last"   // {"i"}: latest establishment event of i
	SealBacker SealKind = "backer" // {"bi","d"}
)

var sealFields = []struct {
	kind   SealKind
	fields []string
}{
	{SealDigest, []string{"d"}},
	{SealRoot, []string{"rd"}},
	{SealEvent, []string{"i", "s", "d"}},
	{SealSource, []string{"s", "d"}},
	{SealLast, []string{"i"}},
	{SealBacker, []string{"bi", "d"}},
}

// Seal is one entry of an event's a list.
type Seal struct {
	Kind SealKind
	I    string // prefix (event, last)
	S    uint64 // sequence number (event, source)
	D    string // digest (digest, event, source, backer)
	RD   string // root digest
	BI   string // backer prefix
}

// EventSeal anchors event sn/said of prefix.
func EventSeal(prefix string, sn uint64, said string) Seal {
	return Seal{Kind: SealEvent, I: prefix, S: sn, D: said}
}

// DigestSeal commits to data by its Blake3-256 digest.
func DigestSeal(data []byte) Seal { return Seal{Kind: SealDigest, D: Digest(data)} }

func sealFromJSON(v jsonValue) (Seal, error) {
	if v.kind != jsonMap {
		return Seal{}, fmt.Errorf("%w: not a map", ErrSeal)
	}
	for _, sf := range sealFields {
		if !v.hasKeys(sf.fields) {
			continue
		}
		s := Seal{Kind: sf.kind}
		for _, m := range v.mems {
			if m.val.kind != jsonString {
				return Seal{}, fmt.Errorf("%w: %s is not a string", ErrSeal, m.key)
			}
			var err error
			switch m.key {
			case "i":
				s.I = m.val.str
				err = checkMatter(s.I, CodeEd25519, CodeEd25519N, CodeBlake3_256)
			case "bi":
				s.BI = m.val.str
				err = checkMatter(s.BI, CodeEd25519, CodeEd25519N, CodeBlake3_256)
			case "s":
				s.S, err = parseHex(m.val.str)
			case "d":
				s.D = m.val.str
				err = checkMatter(s.D, CodeBlake3_256, CodeBlake2b256, CodeSHA3_256, CodeBlake3_512)
			case "rd":
				s.RD = m.val.str
				err = checkMatter(s.RD, CodeBlake3_256, CodeBlake2b256, CodeSHA3_256, CodeBlake3_512)
			}
			if err != nil {
				return Seal{}, fmt.Errorf("%w: %s: %w", ErrSeal, m.key, err)
			}
		}
		return s, nil
	}
	return Seal{}, fmt.Errorf("%w: fields %v are no known seal", ErrSeal, v.keys())
}

func (s Seal) jsonValue() jsonValue {
	v := jsonValue{kind: jsonMap}
	add := func(k, val string) { v.mems = append(v.mems, jsonMember{k, jStr(val)}) }
	for _, sf := range sealFields {
		if sf.kind != s.Kind {
			continue
		}
		for _, k := range sf.fields {
			switch k {
			case "i":
				add(k, s.I)
			case "s":
				add(k, formatHex(s.S))
			case "d":
				add(k, s.D)
			case "rd":
				add(k, s.RD)
			case "bi":
				add(k, s.BI)
			}
		}
	}
	return v
}

// String shows the seal as its JSON text.
func (s Seal) String() string { return string(s.jsonValue().appendJSON(nil)) }
