package kel

import (
	"bytes"
	"fmt"
)

// ParseKeyState reads a key state back from the form MarshalJSON writes
// (keripy's KeyStateRecord shape without vn, f and dt). It accepts exactly
// that form: the input must be what MarshalJSON writes for the state it
// describes, byte for byte.
//
// A parsed state is a record of a state a Verifier reached, kept by the
// caller (a store's summary of a KEL it accepted); it carries no proof. It
// never authorizes an event: only a Verifier's replay does that.
func ParseKeyState(b []byte) (KeyState, error) {
	tree, err := parseJSON(b)
	if err != nil {
		return KeyState{}, fmt.Errorf("%w: key state: %w", ErrKeyState, err)
	}
	if tree.kind != jsonMap {
		return KeyState{}, fmt.Errorf("%w: key state is not an object", ErrKeyState)
	}
	f := fieldReader{tree: tree}
	var none []string
	s := KeyState{
		Prefix: f.str("i"), Sn: f.hex("s"), Prior: f.str("p"), Last: f.str("d"), LastIlk: f.str("et"),
		Keys: f.strList("k"), Next: f.strList("n"), Bt: f.hex("bt"), Witnesses: f.strList("b"),
		Config: f.strList("c"), Delegator: f.str("di"),
	}
	s.Kt = f.threshold("kt", &none, "kt_not_string")
	s.Nt = f.threshold("nt", &none, "nt_not_string")
	ee, _ := tree.get("ee")
	if ee.kind != jsonMap {
		f.fail("ee", "not an object")
	} else {
		g := fieldReader{tree: ee}
		s.EstSn, s.EstSAID, s.EstCuts, s.EstAdds = g.hex("s"), g.str("d"), g.strList("br"), g.strList("ba")
		if f.err == nil {
			f.err = g.err
		}
	}
	if f.err != nil {
		return KeyState{}, fmt.Errorf("%w: %w", ErrKeyState, f.err)
	}
	// Only the canonical form: whatever else the input holds (other
	// fields, another order, other spellings) is refused.
	if back, _ := s.MarshalJSON(); !bytes.Equal(back, b) {
		return KeyState{}, fmt.Errorf("%w: not in canonical form", ErrKeyState)
	}
	return s, nil
}
