package kel

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The spec's six co-signing scenarios and the rules around them, built from
// scratch with the public builders and deterministic keys (helpers_test.go).
// Expected key state comes from the inputs (keys, digests, thresholds), never
// from kel.

// wantState compares the verifier's state of prefix with the expected
// establishment values.
func wantState(t *testing.T, v *Verifier, prefix string, sn uint64, last string, keys, next []string, kt, nt string) KeyState {
	t.Helper()
	st, ok := v.State(prefix)
	if !ok {
		t.Fatalf("no state for %s", prefix)
	}
	if st.Prefix != prefix || st.Sn != sn || st.Last != last {
		t.Errorf("state at %s sn %d %s, want sn %d %s", st.Prefix, st.Sn, st.Last, sn, last)
	}
	if !slices.Equal(st.Keys, keys) || !slices.Equal(st.Next, next) {
		t.Errorf("state keys %v next %v, want %v %v", st.Keys, st.Next, keys, next)
	}
	if st.Kt.String() != kt || st.Nt.String() != nt {
		t.Errorf("state kt %s nt %s, want %s %s", st.Kt, st.Nt, kt, nt)
	}
	return st
}

// Scenario 1: 1-of-1 inception and rotation.
func TestScenario1SingleSig(t *testing.T) {
	for _, basic := range []bool{false, true} {
		t.Run(fmt.Sprintf("basic prefix %v", basic), func(t *testing.T) {
			a := newTMember("solo", 3)
			icp := mustIncept(t, InceptionOptions{
				Keys: pubsOf(a.keys[0]), Kt: IntThreshold(1),
				Next: digsOf(a.keys[1]), Nt: IntThreshold(1), BasicPrefix: basic,
			})
			wantPrefix := icp.SAID()
			if basic {
				wantPrefix = a.keys[0].Pub
				if icp.Prefix() == icp.SAID() {
					t.Errorf("basic prefix equals the SAID")
				}
			}
			if icp.Prefix() != wantPrefix {
				t.Errorf("prefix %s, want %s", icp.Prefix(), wantPrefix)
			}
			// The body matches an independent construction.
			self := `"i":"` + saidPH + `"`
			if basic {
				self = `"i":"` + a.keys[0].Pub + `"`
			}
			tpl := `{"v":"` + versionPH + `","t":"icp","d":"` + saidPH + `",` + self + `,"s":"0","kt":"1","k":["` + a.keys[0].Pub +
				`"],"nt":"1","n":["` + a.keys[1].Dig + `"],"bt":"0","b":[],"c":[],"a":[]}`
			if want := indepSAIDify(tpl); string(icp.Raw()) != want {
				t.Errorf("icp:\n got %s\nwant %s", icp.Raw(), want)
			}
			v := NewVerifier()
			mustAccept(t, v, NewMessage(icp, []Siger{signA(t, a.keys[0], icp, 0, 0)}))
			wantState(t, v, icp.Prefix(), 0, icp.SAID(), pubsOf(a.keys[0]), digsOf(a.keys[1]), `"1"`, `"1"`)

			rot := mustRotate(t, RotationOptions{Prefix: icp.Prefix(), Sn: 1, Prior: icp.SAID(),
				Keys: pubsOf(a.keys[1]), Kt: IntThreshold(1), Next: digsOf(a.keys[2]), Nt: IntThreshold(1)})
			// Signed with the old key: bad signature, threshold and prior next.
			wantRejected(t, v.Accept(NewMessage(rot, []Siger{signA(t, a.keys[0], rot, 0, 0)})), rsnBadSig, rsnThreshold, rsnPriorNext)
			mustAccept(t, v, NewMessage(rot, []Siger{signA(t, a.keys[1], rot, 0, 0)}))
			st := wantState(t, v, icp.Prefix(), 1, rot.SAID(), pubsOf(a.keys[1]), digsOf(a.keys[2]), `"1"`, `"1"`)
			if st.EstSAID != rot.SAID() || st.EstSn != 1 || st.Prior != icp.SAID() || st.LastIlk != IlkRot {
				t.Errorf("state %+v", st)
			}
		})
	}
}

// twoOfTwo incepts a 2-of-2 group of members a and b.
func twoOfTwo(t *testing.T, a, b tMember) *Event {
	t.Helper()
	return mustIncept(t, InceptionOptions{
		Keys: pubsOf(a.keys[0], b.keys[0]), Kt: IntThreshold(2),
		Next: digsOf(a.keys[1], b.keys[1]), Nt: IntThreshold(2),
	})
}

// Scenario 2: 2-of-2 inception signed by both, and by one.
func TestScenario2TwoOfTwoInception(t *testing.T) {
	a, b := newTMember("alice", 3), newTMember("bob", 3)
	icp := twoOfTwo(t, a, b)
	tests := []struct {
		name    string
		sigs    []Siger
		reasons []reason
	}{
		{"both", []Siger{signB(t, a.keys[0], icp, 0), signB(t, b.keys[0], icp, 1)}, nil},
		{"both, reversed", []Siger{signB(t, b.keys[0], icp, 1), signB(t, a.keys[0], icp, 0)}, nil},
		{"both with A codes", []Siger{signA(t, a.keys[0], icp, 0, 0), signA(t, b.keys[0], icp, 1, 1)}, nil},
		{"alice only", []Siger{signB(t, a.keys[0], icp, 0)}, []reason{rsnThreshold}},
		{"bob only", []Siger{signB(t, b.keys[0], icp, 1)}, []reason{rsnThreshold}},
		{"alice twice", []Siger{signB(t, a.keys[0], icp, 0), signB(t, a.keys[0], icp, 0)}, []reason{rsnThreshold}},
		{"bob at alice's index", []Siger{signB(t, a.keys[0], icp, 0), signB(t, b.keys[0], icp, 0)}, []reason{rsnBadSig}},
		{"none", nil, []reason{rsnMissingSigs}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.sigs) > 0 && !strings.HasPrefix(tc.sigs[0].Qb64(), tc.sigs[0].Code) {
				t.Fatalf("code %s not at the start of %s", tc.sigs[0].Code, tc.sigs[0].Qb64())
			}
			v := NewVerifier()
			// Through the wire form: Message.Bytes → ParseStream → Accept.
			res, err := v.AcceptStream(NewMessage(icp, tc.sigs).Bytes())
			if err != nil || len(res) != 1 {
				t.Fatalf("stream: %v", err)
			}
			if tc.reasons == nil {
				if !res[0].OK() {
					t.Fatalf("rejected: %v", res[0].Err)
				}
				wantState(t, v, icp.Prefix(), 0, icp.SAID(), pubsOf(a.keys[0], b.keys[0]), digsOf(a.keys[1], b.keys[1]), `"2"`, `"2"`)
				return
			}
			wantRejected(t, res[0], tc.reasons...)
			if _, ok := v.State(icp.Prefix()); ok {
				t.Errorf("a rejected inception left key state")
			}
		})
	}
	// B codes are what keripy group members emit on icp.
	if s := signB(t, b.keys[0], icp, 1); s.Code != CodeSigCurrent || !strings.HasPrefix(s.Qb64(), "BB") {
		t.Errorf("member signature %s", s.Qb64())
	}
}

// Scenario 3: AID A (2-of-2) anchors AID C's inception with an ixn event seal.
func TestScenario3AnchorSeal(t *testing.T) {
	a, b, c := newTMember("alice", 2), newTMember("bob", 2), newTMember("carol", 2)
	icpA := twoOfTwo(t, a, b)
	icpC := mustIncept(t, InceptionOptions{Keys: pubsOf(c.keys[0]), Kt: IntThreshold(1), Next: digsOf(c.keys[1]), Nt: IntThreshold(1)})
	seal := EventSeal(icpC.Prefix(), 0, icpC.SAID())
	ixn := mustInteract(t, InteractionOptions{Prefix: icpA.Prefix(), Sn: 1, Prior: icpA.SAID(), Seals: []Seal{seal}})
	// Independent construction of the ixn body.
	tpl := `{"v":"` + versionPH + `","t":"ixn","d":"` + saidPH + `","i":"` + icpA.Prefix() + `","s":"1","p":"` + icpA.SAID() +
		`","a":[{"i":"` + icpC.Prefix() + `","s":"0","d":"` + icpC.SAID() + `"}]}`
	if want := indepSAIDify(tpl); string(ixn.Raw()) != want {
		t.Errorf("ixn:\n got %s\nwant %s", ixn.Raw(), want)
	}
	mA := NewMessage(icpA, []Siger{signB(t, a.keys[0], icpA, 0), signB(t, b.keys[0], icpA, 1)})
	mC := NewMessage(icpC, []Siger{signA(t, c.keys[0], icpC, 0, 0)})
	mIxn := NewMessage(ixn, []Siger{signB(t, a.keys[0], ixn, 0), signB(t, b.keys[0], ixn, 1)})

	for _, order := range [][]Message{{mC, mA, mIxn}, {mA, mIxn, mC}} {
		v := NewVerifier()
		for _, m := range order {
			mustAccept(t, v, m)
		}
		ref, ok := v.AnchorOf(icpC.Prefix(), 0, icpC.SAID())
		if want := (AnchorRef{Prefix: icpA.Prefix(), Sn: 1, SAID: ixn.SAID()}); !ok || ref != want {
			t.Errorf("AnchorOf = %+v %v, want %+v", ref, ok, want)
		}
		if _, ok := v.AnchorOf(icpC.Prefix(), 0, icpA.SAID()); ok {
			t.Errorf("AnchorOf found a seal for a SAID nobody anchored")
		}
		wantState(t, v, icpA.Prefix(), 1, ixn.SAID(), pubsOf(a.keys[0], b.keys[0]), digsOf(a.keys[1], b.keys[1]), `"2"`, `"2"`)
		if got := v.Prefixes(); got[0] != order[0].Event.Prefix() || len(got) != 2 {
			t.Errorf("prefixes %v", got)
		}
	}

	// The ixn signed by only one of A's two keys.
	v := NewVerifier()
	mustAccept(t, v, mC)
	mustAccept(t, v, mA)
	wantRejected(t, v.Accept(NewMessage(ixn, []Siger{signB(t, a.keys[0], ixn, 0)})), rsnThreshold)

	// A seal that contradicts C's accepted inception (C first in the stream).
	otherC := mustIncept(t, InceptionOptions{Keys: pubsOf(c.keys[1]), Kt: IntThreshold(1), Next: digsOf(c.keys[0]), Nt: IntThreshold(1)})
	for _, bad := range []Seal{
		EventSeal(icpC.Prefix(), 0, otherC.SAID()),
		EventSeal(icpC.Prefix(), 0, icpA.SAID()),
	} {
		badIxn := mustInteract(t, InteractionOptions{Prefix: icpA.Prefix(), Sn: 1, Prior: icpA.SAID(), Seals: []Seal{bad}})
		rep := Replay(streamOf(mC, mA, NewMessage(badIxn, []Siger{signB(t, a.keys[0], badIxn, 0), signB(t, b.keys[0], badIxn, 1)})))
		if rep.Err != nil || len(rep.Results) != 3 || !rep.Results[0].OK() || !rep.Results[1].OK() {
			t.Fatalf("report %+v", rep)
		}
		wantRejected(t, rep.Results[2], rsnAnchor)
		if rep.States[icpA.Prefix()].Sn != 0 {
			t.Errorf("rejected ixn advanced A")
		}
	}
}

// Scenario 4: 2-of-2 rotation signed by both with the pre-committed keys.
func TestScenario4TwoOfTwoRotation(t *testing.T) {
	a, b := newTMember("alice", 3), newTMember("bob", 3)
	icp := twoOfTwo(t, a, b)
	rot := mustRotate(t, RotationOptions{Prefix: icp.Prefix(), Sn: 1, Prior: icp.SAID(),
		Keys: pubsOf(a.keys[1], b.keys[1]), Kt: IntThreshold(2), Next: digsOf(a.keys[2], b.keys[2]), Nt: IntThreshold(2)})
	sigs := []Siger{signA(t, a.keys[1], rot, 0, 0), signA(t, b.keys[1], rot, 1, 1)}
	for i, s := range sigs {
		if s.Code != CodeSigBoth || s.Qb64()[:2] != "A"+b64Alphabet[i:i+1] {
			t.Errorf("sig %d: %s", i, s.Qb64()[:4])
		}
	}
	v := NewVerifier()
	mustAccept(t, v, NewMessage(icp, []Siger{signB(t, a.keys[0], icp, 0), signB(t, b.keys[0], icp, 1)}))
	p, err := v.Progress(NewMessage(rot, sigs))
	if err != nil || !p.Met || !slices.Equal(p.Exposed, []int{0, 1}) || !slices.Equal(p.Signed, []int{0, 1}) {
		t.Errorf("progress %+v %v", p, err)
	}
	mustAccept(t, v, NewMessage(rot, sigs))
	wantState(t, v, icp.Prefix(), 1, rot.SAID(), pubsOf(a.keys[1], b.keys[1]), digsOf(a.keys[2], b.keys[2]), `"2"`, `"2"`)
	// The rotated keys now sign an ixn; the old ones no longer can.
	ixn := mustInteract(t, InteractionOptions{Prefix: icp.Prefix(), Sn: 2, Prior: rot.SAID()})
	wantRejected(t, v.Accept(NewMessage(ixn, []Siger{signB(t, a.keys[0], ixn, 0), signB(t, b.keys[0], ixn, 1)})), rsnBadSig, rsnThreshold)
	mustAccept(t, v, NewMessage(ixn, []Siger{signB(t, a.keys[1], ixn, 0), signB(t, b.keys[1], ixn, 1)}))
}

// Scenario 5: a 2-of-2 rotation signed by only one member.
func TestScenario5RotationOneSignature(t *testing.T) {
	a, b := newTMember("alice", 3), newTMember("bob", 3)
	icp := twoOfTwo(t, a, b)
	rot := mustRotate(t, RotationOptions{Prefix: icp.Prefix(), Sn: 1, Prior: icp.SAID(),
		Keys: pubsOf(a.keys[1], b.keys[1]), Kt: IntThreshold(2), Next: digsOf(a.keys[2], b.keys[2]), Nt: IntThreshold(2)})
	tests := []struct {
		name    string
		sigs    []Siger
		reasons []reason
		absent  []string
	}{
		{"alice only", []Siger{signA(t, a.keys[1], rot, 0, 0)}, []reason{rsnThreshold, rsnPriorNext}, []string{"signature_invalid"}},
		{"bob only", []Siger{signA(t, b.keys[1], rot, 1, 1)}, []reason{rsnThreshold, rsnPriorNext}, []string{"signature_invalid"}},
		{"both current-only", []Siger{signB(t, a.keys[1], rot, 0), signB(t, b.keys[1], rot, 1)}, []reason{rsnPriorNext}, []string{"threshold_not_met"}},
		{"stale inception keys", []Siger{signA(t, a.keys[0], rot, 0, 0), signA(t, b.keys[0], rot, 1, 1)}, []reason{rsnBadSig, rsnThreshold, rsnPriorNext}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := NewVerifier()
			mustAccept(t, v, NewMessage(icp, []Siger{signB(t, a.keys[0], icp, 0), signB(t, b.keys[0], icp, 1)}))
			r := v.Accept(NewMessage(rot, tc.sigs))
			wantRejected(t, r, tc.reasons...)
			for _, c := range tc.absent {
				if slices.Contains(ErrorCodes(r.Err), c) {
					t.Errorf("unexpected reason %s in %v", c, ErrorCodes(r.Err))
				}
			}
			// Key state is untouched.
			wantState(t, v, icp.Prefix(), 0, icp.SAID(), pubsOf(a.keys[0], b.keys[0]), digsOf(a.keys[1], b.keys[1]), `"2"`, `"2"`)
		})
	}
}

// Scenario 6: a 2-of-2 grows into 2-of-3 through the next commitment.
func TestScenario6GrowTo2of3(t *testing.T) {
	a, b, c := newTMember("alice", 4), newTMember("bob", 4), newTMember("carol", 2)
	icp := twoOfTwo(t, a, b)
	rot1 := mustRotate(t, RotationOptions{Prefix: icp.Prefix(), Sn: 1, Prior: icp.SAID(),
		Keys: pubsOf(a.keys[1], b.keys[1]), Kt: IntThreshold(2),
		Next: digsOf(a.keys[2], b.keys[2], c.keys[0]), Nt: IntThreshold(2)})
	rot2 := mustRotate(t, RotationOptions{Prefix: icp.Prefix(), Sn: 2, Prior: rot1.SAID(),
		Keys: pubsOf(a.keys[2], b.keys[2], c.keys[0]), Kt: IntThreshold(2),
		Next: digsOf(a.keys[3], b.keys[3], c.keys[1]), Nt: IntThreshold(2)})
	start := func(t *testing.T) *Verifier {
		v := NewVerifier()
		mustAccept(t, v, NewMessage(icp, []Siger{signB(t, a.keys[0], icp, 0), signB(t, b.keys[0], icp, 1)}))
		mustAccept(t, v, NewMessage(rot1, []Siger{signA(t, a.keys[1], rot1, 0, 0), signA(t, b.keys[1], rot1, 1, 1)}))
		wantState(t, v, icp.Prefix(), 1, rot1.SAID(), pubsOf(a.keys[1], b.keys[1]), digsOf(a.keys[2], b.keys[2], c.keys[0]), `"2"`, `"2"`)
		return v
	}
	tests := []struct {
		name    string
		sigs    func() []Siger
		reasons []reason
		exposed []int
	}{
		{"bob and carol", func() []Siger {
			return []Siger{signA(t, b.keys[2], rot2, 1, 1), signA(t, c.keys[0], rot2, 2, 2)}
		}, nil, []int{1, 2}},
		{"alice and carol", func() []Siger {
			return []Siger{signA(t, c.keys[0], rot2, 2, 2), signA(t, a.keys[2], rot2, 0, 0)}
		}, nil, []int{0, 2}},
		{"carol only", func() []Siger { return []Siger{signA(t, c.keys[0], rot2, 2, 2)} }, []reason{rsnThreshold, rsnPriorNext}, []int{2}},
		{"carol with a wrong ondex", func() []Siger {
			return []Siger{signA(t, b.keys[2], rot2, 1, 1), signA(t, c.keys[0], rot2, 2, 0)}
		}, []reason{rsnPriorNext}, []int{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := start(t)
			m := NewMessage(rot2, tc.sigs())
			p, err := v.Progress(m)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Exposed, tc.exposed) {
				t.Errorf("exposed %v, want %v", p.Exposed, tc.exposed)
			}
			r := v.Accept(m)
			if tc.reasons != nil {
				wantRejected(t, r, tc.reasons...)
				return
			}
			if !r.OK() {
				t.Fatalf("rejected: %v", r.Err)
			}
			wantState(t, v, icp.Prefix(), 2, rot2.SAID(), pubsOf(a.keys[2], b.keys[2], c.keys[0]), digsOf(a.keys[3], b.keys[3], c.keys[1]), `"2"`, `"2"`)
			// Any two of the three now sign an ixn.
			ixn := mustInteract(t, InteractionOptions{Prefix: icp.Prefix(), Sn: 3, Prior: rot2.SAID()})
			mustAccept(t, v, NewMessage(ixn, []Siger{signB(t, a.keys[2], ixn, 0), signB(t, c.keys[0], ixn, 2)}))
		})
	}
}

// ratSum adds weight strings independently of kel (math/big).
func ratSum(t *testing.T, ws ...string) *big.Rat {
	t.Helper()
	sum := new(big.Rat)
	for _, w := range ws {
		r, ok := new(big.Rat).SetString(w)
		if !ok {
			t.Fatalf("weight %q", w)
		}
		sum.Add(sum, r)
	}
	return sum
}

func TestScenarioWeightedThresholds(t *testing.T) {
	seven := slices.Repeat([]string{"1/7"}, 7)
	tests := []struct {
		name    string
		clauses [][]string
		signers []int
		met     bool // keripy's verdict (keri-1.0.md §10) or exact arithmetic
	}{
		{"half half quarter quarter {0,2}", [][]string{{"1/2", "1/2", "1/4", "1/4"}}, []int{0, 2}, false},
		{"half half quarter quarter {0,2,3}", [][]string{{"1/2", "1/2", "1/4", "1/4"}}, []int{0, 2, 3}, true},
		{"half half quarter quarter {0,1}", [][]string{{"1/2", "1/2", "1/4", "1/4"}}, []int{0, 1}, true},
		{"two clauses {0,1}", [][]string{{"1/2", "1/2", "1/2"}, {"1", "1"}}, []int{0, 1}, false},
		{"two clauses {0,1,3}", [][]string{{"1/2", "1/2", "1/2"}, {"1", "1"}}, []int{0, 1, 3}, true},
		{"two clauses {3,4}", [][]string{{"1/2", "1/2", "1/2"}, {"1", "1"}}, []int{3, 4}, false},
		{"two clauses {1,2,4}", [][]string{{"1/2", "1/2", "1/2"}, {"1", "1"}}, []int{1, 2, 4}, true},
		{"half quarter quarter {0,1}", [][]string{{"1/2", "1/4", "1/4"}}, []int{0, 1}, false},
		{"half quarter quarter all", [][]string{{"1/2", "1/4", "1/4"}}, []int{0, 1, 2}, true},
		{"7 x 1/7 all", [][]string{seven}, []int{0, 1, 2, 3, 4, 5, 6}, true},
		{"7 x 1/7 six", [][]string{seven}, []int{0, 1, 2, 3, 4, 6}, false},
		{"thirds and sixths", [][]string{{"1/3", "1/3", "1/6", "1/6"}}, []int{0, 2, 3}, false},
		{"thirds and sixths {0,1,2,3}", [][]string{{"1/3", "1/3", "1/6", "1/6"}}, []int{0, 1, 2, 3}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kt := mustWeighted(t, tc.clauses...)
			var all []string
			for _, c := range tc.clauses {
				all = append(all, c...)
			}
			var members []tKey
			for i := range all {
				members = append(members, newTKey(fmt.Sprintf("w%s#%d", tc.name, i)))
			}
			icp := mustIncept(t, InceptionOptions{Keys: pubsOf(members...), Kt: kt, Next: digsOf(members...), Nt: kt})
			// kt is written as keripy does (a single clause flat).
			wantJSON, _ := json.Marshal(tc.clauses)
			if len(tc.clauses) == 1 {
				wantJSON, _ = json.Marshal(tc.clauses[0])
			}
			if !strings.Contains(string(icp.Raw()), `"kt":`+string(wantJSON)+`,`) {
				t.Errorf("kt not written as %s in %s", wantJSON, icp.Raw())
			}
			var sigs []Siger
			for _, i := range tc.signers {
				sigs = append(sigs, signB(t, members[i], icp, i))
			}
			m := NewMessage(icp, sigs)
			v := NewVerifier()
			p, err := v.Progress(m)
			if err != nil {
				t.Fatal(err)
			}
			if p.Met != tc.met || p.Kt.Met != tc.met || !slices.Equal(p.Signed, tc.signers) {
				t.Errorf("met %v (kt %v) signed %v, want %v %v", p.Met, p.Kt.Met, p.Signed, tc.met, tc.signers)
			}
			if len(p.Kt.Clauses) != len(tc.clauses) {
				t.Fatalf("%d clauses", len(p.Kt.Clauses))
			}
			pos := 0
			for ci, c := range tc.clauses {
				var ws []string
				var counted []int
				for j, w := range c {
					if slices.Contains(tc.signers, pos+j) {
						ws = append(ws, w)
						counted = append(counted, pos+j)
					}
				}
				want := ratSum(t, ws...)
				got := p.Kt.Clauses[ci]
				if got.Sum == nil || got.Sum.Cmp(want) != 0 || !slices.Equal(got.Counted, counted) || got.Met != (want.Cmp(big.NewRat(1, 1)) >= 0) {
					t.Errorf("clause %d: sum %v counted %v met %v, want %v %v", ci, got.Sum, got.Counted, got.Met, want, counted)
				}
				pos += len(c)
			}
			r := v.Accept(m)
			if tc.met {
				if !r.OK() {
					t.Fatalf("rejected: %v", r.Err)
				}
				wantState(t, v, icp.Prefix(), 0, icp.SAID(), pubsOf(members...), digsOf(members...), kt.String(), kt.String())
			} else {
				wantRejected(t, r, rsnThreshold)
			}
		})
	}
}

// A partial rotation built with the builders: a reserve key stays
// unexposed, is re-committed, and is exposed later at another position.
func TestScenarioPartialRotation(t *testing.T) {
	a, b, c := newTMember("alice", 4), newTMember("bob", 4), newTMember("carol", 3)
	icp := mustIncept(t, InceptionOptions{Keys: pubsOf(a.keys[0], b.keys[0], c.keys[0]), Kt: IntThreshold(2),
		Next: digsOf(a.keys[1], b.keys[1], c.keys[1]), Nt: IntThreshold(2)})
	// rot1: carol's committed key stays in reserve and is re-committed.
	rot1 := mustRotate(t, RotationOptions{Prefix: icp.Prefix(), Sn: 1, Prior: icp.SAID(),
		Keys: pubsOf(a.keys[1], b.keys[1]), Kt: IntThreshold(2),
		Next: digsOf(a.keys[2], b.keys[2], c.keys[1]), Nt: IntThreshold(2)})
	// rot2: carol's reserve key comes first (prior n[2] → k[0]) and alice's
	// key moves too (prior n[0] → k[1]); bob stays out this time.
	rot2 := mustRotate(t, RotationOptions{Prefix: icp.Prefix(), Sn: 2, Prior: rot1.SAID(),
		Keys: pubsOf(c.keys[1], a.keys[2]), Kt: IntThreshold(2),
		Next: digsOf(c.keys[2], a.keys[3], b.keys[2]), Nt: IntThreshold(2)})

	v := NewVerifier()
	mustAccept(t, v, NewMessage(icp, []Siger{signB(t, a.keys[0], icp, 0), signB(t, b.keys[0], icp, 1), signB(t, c.keys[0], icp, 2)}))
	mustAccept(t, v, NewMessage(rot1, []Siger{signA(t, a.keys[1], rot1, 0, 0), signA(t, b.keys[1], rot1, 1, 1)}))
	st := wantState(t, v, icp.Prefix(), 1, rot1.SAID(), pubsOf(a.keys[1], b.keys[1]), digsOf(a.keys[2], b.keys[2], c.keys[1]), `"2"`, `"2"`)
	if slices.Contains(st.Keys, c.keys[1].Pub) {
		t.Errorf("reserve key exposed")
	}

	good := []Siger{signA(t, c.keys[1], rot2, 0, 2), signA(t, a.keys[2], rot2, 1, 0)}
	for _, s := range good {
		if s.Code != CodeSigBigBoth {
			t.Errorf("moved key signs with %s, want 2A", s.Code)
		}
	}
	if got := good[0].Qb64()[:6]; got != "2AAAAC" {
		t.Errorf("2A index 0 ondex 2 encodes as %s", got)
	}
	tests := []struct {
		name    string
		sigs    []Siger
		reasons []reason
		absent  string
		exposed []int
	}{
		{"2A at moved positions", good, nil, "", []int{0, 2}},
		{"small A code for the moved reserve key", []Siger{signA(t, c.keys[1], rot2, 0, 0), good[1]}, []reason{rsnPriorNext}, "threshold_not_met", []int{0}},
		{"small A codes for both", []Siger{signA(t, c.keys[1], rot2, 0, 0), signA(t, a.keys[2], rot2, 1, 1)}, []reason{rsnPriorNext}, "threshold_not_met", nil},
		{"current-only codes", []Siger{signB(t, c.keys[1], rot2, 0), signB(t, a.keys[2], rot2, 1)}, []reason{rsnPriorNext}, "threshold_not_met", nil},
		{"ondex out of the prior list", []Siger{signA(t, c.keys[1], rot2, 0, 7), good[1]}, []reason{rsnPriorNext}, "", []int{0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMessage(rot2, tc.sigs)
			// Through the wire form.
			msgs, err := ParseStream(m.Bytes())
			if err != nil || len(msgs) != 1 {
				t.Fatal(err)
			}
			p, err := v.Progress(msgs[0])
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Exposed, tc.exposed) || !p.Kt.Met {
				t.Errorf("exposed %v kt %v, want %v", p.Exposed, p.Kt.Met, tc.exposed)
			}
			if tc.reasons != nil {
				r := v.Accept(msgs[0])
				wantRejected(t, r, tc.reasons...)
				if slices.Contains(ErrorCodes(r.Err), tc.absent) {
					t.Errorf("unexpected %s in %v", tc.absent, ErrorCodes(r.Err))
				}
			}
		})
	}
	mustAccept(t, v, NewMessage(rot2, good))
	wantState(t, v, icp.Prefix(), 2, rot2.SAID(), pubsOf(c.keys[1], a.keys[2]), digsOf(c.keys[2], a.keys[3], b.keys[2]), `"2"`, `"2"`)
}

// A 70-key group: indices above 63 need the big codes.
func TestScenarioLargeGroup(t *testing.T) {
	const n = 70
	var cur, nxt []tKey
	for i := 0; i < n; i++ {
		cur = append(cur, newTKey(fmt.Sprintf("big#%d/0", i)))
		nxt = append(nxt, newTKey(fmt.Sprintf("big#%d/1", i)))
	}
	icp := mustIncept(t, InceptionOptions{Keys: pubsOf(cur...), Kt: IntThreshold(36), Next: digsOf(nxt...), Nt: IntThreshold(36)})
	if !strings.Contains(string(icp.Raw()), `"kt":"24"`) || !strings.HasPrefix(string(icp.Raw()), `{"v":"KERI10JSON001a83_"`) {
		// 205 + 94×70 + 2 (two-digit kt and nt) = 6787 + 2 bytes (keri-1.0.md §18).
		t.Errorf("icp head %.40s", icp.Raw())
	}
	if icp.Size() != 205+94*n+2 {
		t.Errorf("icp size %d", icp.Size())
	}
	var sigs []Siger
	for i, k := range cur {
		sigs = append(sigs, signB(t, k, icp, i))
	}
	for _, c := range []struct {
		i      int
		prefix string
	}{{0, "BA"}, {63, "B_"}, {64, "2BBAAA"}, {69, "2BBFAA"}} {
		if q := sigs[c.i].Qb64(); !strings.HasPrefix(q, c.prefix) || len(q) != 88+4*b2i(c.i > 63) {
			t.Errorf("index %d encodes as %.6s (%d chars), want %s", c.i, q, len(q), c.prefix)
		}
	}
	wire := NewMessage(icp, sigs).Bytes()
	if att := string(wire[icp.Size():]); !strings.HasPrefix(att, "-ABG") || len(att) != 4+64*88+6*92 {
		t.Errorf("attachment %.4s of %d chars", att, len(att))
	}
	v := NewVerifier()
	res, err := v.AcceptStream(wire)
	if err != nil || len(res) != 1 || !res[0].OK() {
		t.Fatalf("icp: %v %+v", err, res)
	}

	rot := mustRotate(t, RotationOptions{Prefix: icp.Prefix(), Sn: 1, Prior: icp.SAID(), Keys: pubsOf(nxt...), Kt: IntThreshold(36),
		Next: digsOf(cur...), Nt: IntThreshold(36)})
	// Only the last 36 sign: 30 A codes and 6 2A codes.
	var rsigs []Siger
	for i := n - 36; i < n; i++ {
		rsigs = append(rsigs, signA(t, nxt[i], rot, i, i))
	}
	if q := rsigs[len(rsigs)-6].Qb64(); !strings.HasPrefix(q, "2ABABA") {
		t.Errorf("index 64 both: %.6s", q)
	}
	msgs, err := ParseStream(NewMessage(rot, rsigs).Bytes())
	if err != nil || len(msgs) != 1 || len(msgs[0].Sigs) != 36 {
		t.Fatalf("rot stream %v", err)
	}
	p, err := v.Progress(msgs[0])
	if err != nil || !p.Met || len(p.Exposed) != 36 || p.Exposed[35] != 69 {
		t.Errorf("progress %v %+v", err, p.Exposed)
	}
	// One short of 36: both thresholds fail.
	short, _ := ParseStream(NewMessage(rot, rsigs[1:]).Bytes())
	wantRejected(t, v.Accept(short[0]), rsnThreshold, rsnPriorNext)
	mustAccept(t, v, msgs[0])
	wantState(t, v, icp.Prefix(), 1, rot.SAID(), pubsOf(nxt...), digsOf(cur...), `"24"`, `"24"`)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestScenarioDuplicity(t *testing.T) {
	a, b := newTMember("alice", 2), newTMember("bob", 2)
	icp := twoOfTwo(t, a, b)
	ixn1 := mustInteract(t, InteractionOptions{Prefix: icp.Prefix(), Sn: 1, Prior: icp.SAID(), Seals: []Seal{DigestSeal([]byte("one"))}})
	ixn2 := mustInteract(t, InteractionOptions{Prefix: icp.Prefix(), Sn: 1, Prior: icp.SAID(), Seals: []Seal{DigestSeal([]byte("two"))}})
	sign := func(ev *Event) []Siger { return []Siger{signB(t, a.keys[0], ev, 0), signB(t, b.keys[0], ev, 1)} }
	v := NewVerifier()
	mIcp := NewMessage(icp, sign(icp))
	mustAccept(t, v, mIcp)
	mustAccept(t, v, NewMessage(ixn1, sign(ixn1)))

	r := v.Accept(NewMessage(ixn2, sign(ixn2)))
	wantRejected(t, r, rsnDuplicitous)
	if msg := r.Err.Error(); !strings.Contains(msg, ixn1.SAID()) || !strings.Contains(msg, ixn2.SAID()) {
		t.Errorf("duplicity message does not name both SAIDs: %s", msg)
	}
	// A differing event that is not validly signed is refused for its
	// signatures, not reported as duplicity.
	r = v.Accept(NewMessage(ixn2, sign(ixn2)[:1]))
	wantRejected(t, r, rsnThreshold)
	if errors.Is(r.Err, ErrDuplicitous) {
		t.Errorf("half-signed duplicate reported as duplicity: %v", r.Err)
	}
	// A second, different inception for the same basic prefix.
	solo := newTMember("solo", 3)
	icpS1 := mustIncept(t, InceptionOptions{Keys: pubsOf(solo.keys[0]), Kt: IntThreshold(1), Next: digsOf(solo.keys[1]), Nt: IntThreshold(1), BasicPrefix: true})
	icpS2 := mustIncept(t, InceptionOptions{Keys: pubsOf(solo.keys[0]), Kt: IntThreshold(1), Next: digsOf(solo.keys[2]), Nt: IntThreshold(1), BasicPrefix: true})
	mustAccept(t, v, NewMessage(icpS1, []Siger{signA(t, solo.keys[0], icpS1, 0, 0)}))
	wantRejected(t, v.Accept(NewMessage(icpS2, []Siger{signA(t, solo.keys[0], icpS2, 0, 0)})), rsnDuplicitous)

	// The same event again is a duplicate: accepted, with a warning, and
	// nothing changes.
	for _, m := range []Message{NewMessage(ixn1, sign(ixn1)), mIcp} {
		r = v.Accept(m)
		if !r.OK() || !slices.Contains(r.Warnings, "duplicate_event") {
			t.Errorf("duplicate %s: %v %v", m.Event.Ilk(), r.Err, r.Warnings)
		}
	}
	wantState(t, v, icp.Prefix(), 1, ixn1.SAID(), pubsOf(a.keys[0], b.keys[0]), digsOf(a.keys[1], b.keys[1]), `"2"`, `"2"`)
	if got := len(v.Messages(icp.Prefix())); got != 2 {
		t.Errorf("%d messages kept", got)
	}
}

func TestScenarioStateRules(t *testing.T) {
	a := newTMember("alice", 3)
	d := newTMember("dora", 3) // delegator
	one := IntThreshold(1)
	signed := func(ev *Event, k tKey) Message { return NewMessage(ev, []Siger{signA(t, k, ev, 0, 0)}) }

	t.Run("EO refuses ixn", func(t *testing.T) {
		icp := mustIncept(t, InceptionOptions{Keys: pubsOf(a.keys[0]), Kt: one, Next: digsOf(a.keys[1]), Nt: one, Config: []string{"EO"}})
		if !strings.Contains(string(icp.Raw()), `"c":["EO"]`) {
			t.Errorf("config not written: %s", icp.Raw())
		}
		v := NewVerifier()
		mustAccept(t, v, signed(icp, a.keys[0]))
		ixn := mustInteract(t, InteractionOptions{Prefix: icp.Prefix(), Sn: 1, Prior: icp.SAID()})
		wantRejected(t, v.Accept(signed(ixn, a.keys[0])), rsnEO)
		// Establishment events are still allowed.
		rot := mustRotate(t, RotationOptions{Prefix: icp.Prefix(), Sn: 1, Prior: icp.SAID(), Keys: pubsOf(a.keys[1]), Kt: one, Next: digsOf(a.keys[2]), Nt: one})
		mustAccept(t, v, signed(rot, a.keys[1]))
		st, _ := v.State(icp.Prefix())
		if !slices.Equal(st.Config, []string{"EO"}) {
			t.Errorf("config %v", st.Config)
		}
	})
	t.Run("ordering", func(t *testing.T) {
		icp := mustIncept(t, InceptionOptions{Keys: pubsOf(a.keys[0]), Kt: one, Next: digsOf(a.keys[1]), Nt: one})
		v := NewVerifier()
		ixnEarly := mustInteract(t, InteractionOptions{Prefix: icp.Prefix(), Sn: 1, Prior: icp.SAID()})
		wantRejected(t, v.Accept(signed(ixnEarly, a.keys[0])), rsnUnknownPrefix)
		mustAccept(t, v, signed(icp, a.keys[0]))
		skip := mustInteract(t, InteractionOptions{Prefix: icp.Prefix(), Sn: 2, Prior: icp.SAID()})
		wantRejected(t, v.Accept(signed(skip, a.keys[0])), rsnOutOfOrder)
		wrongPrior := mustInteract(t, InteractionOptions{Prefix: icp.Prefix(), Sn: 1, Prior: ixnEarly.SAID()})
		wantRejected(t, v.Accept(signed(wrongPrior, a.keys[0])), rsnPrior)
		mustAccept(t, v, signed(ixnEarly, a.keys[0]))
		wantState(t, v, icp.Prefix(), 1, ixnEarly.SAID(), pubsOf(a.keys[0]), digsOf(a.keys[1]), `"1"`, `"1"`)
	})
	t.Run("drt on a non-delegated AID", func(t *testing.T) {
		icp := mustIncept(t, InceptionOptions{Keys: pubsOf(a.keys[0]), Kt: one, Next: digsOf(a.keys[1]), Nt: one})
		v := NewVerifier()
		mustAccept(t, v, signed(icp, a.keys[0]))
		drt := mustRotate(t, RotationOptions{Prefix: icp.Prefix(), Sn: 1, Prior: icp.SAID(), Keys: pubsOf(a.keys[1]), Kt: one, Next: digsOf(a.keys[2]), Nt: one, Delegated: true})
		if drt.Ilk() != IlkDrt {
			t.Fatalf("ilk %s", drt.Ilk())
		}
		wantRejected(t, v.Accept(signed(drt, a.keys[1])), rsnDrtNotDel)
	})

	// Delegation: D anchors G's dip (and G's drt).
	dIcp := mustIncept(t, InceptionOptions{Keys: pubsOf(d.keys[0]), Kt: one, Next: digsOf(d.keys[1]), Nt: one})
	dip := mustIncept(t, InceptionOptions{Keys: pubsOf(a.keys[0]), Kt: one, Next: digsOf(a.keys[1]), Nt: one, Delegator: dIcp.Prefix()})
	if dip.Ilk() != IlkDip || !strings.HasSuffix(string(dip.Raw()), `,"a":[],"di":"`+dIcp.Prefix()+`"}`) {
		t.Fatalf("dip %s", dip.Raw())
	}
	dIxn := mustInteract(t, InteractionOptions{Prefix: dIcp.Prefix(), Sn: 1, Prior: dIcp.SAID(), Seals: []Seal{EventSeal(dip.Prefix(), 0, dip.SAID())}})
	mD, mDIxn := signed(dIcp, d.keys[0]), signed(dIxn, d.keys[0])
	mDip := signed(dip, a.keys[0])
	withSrc := func(m Message, sn uint64, said string) Message {
		return NewMessage(m.Event, m.Sigs, SourceSeal{Sn: sn, SAID: said})
	}
	// The -GAB couple as keripy writes it (keri-1.0.md §13).
	if att := string(withSrc(mDip, 1, dIxn.SAID()).Bytes()[dip.Size()+92:]); att != "-GAB0AAAAAAAAAAAAAAAAAAAAAAB"+dIxn.SAID() {
		t.Errorf("source couple %s", att)
	}

	t.Run("rot on a delegated AID", func(t *testing.T) {
		v := NewVerifier()
		mustAccept(t, v, mD)
		mustAccept(t, v, mDIxn)
		mustAccept(t, v, withSrc(mDip, 1, dIxn.SAID()))
		rot := mustRotate(t, RotationOptions{Prefix: dip.Prefix(), Sn: 1, Prior: dip.SAID(), Keys: pubsOf(a.keys[1]), Kt: one, Next: digsOf(a.keys[2]), Nt: one})
		wantRejected(t, v.Accept(signed(rot, a.keys[1])), rsnNeedsDrt)
		drt := mustRotate(t, RotationOptions{Prefix: dip.Prefix(), Sn: 1, Prior: dip.SAID(), Keys: pubsOf(a.keys[1]), Kt: one, Next: digsOf(a.keys[2]), Nt: one, Delegated: true})
		// Not yet anchored by D.
		wantRejected(t, v.Accept(signed(drt, a.keys[1])), rsnDelMissing)
		dIxn2 := mustInteract(t, InteractionOptions{Prefix: dIcp.Prefix(), Sn: 2, Prior: dIxn.SAID(), Seals: []Seal{EventSeal(drt.Prefix(), 1, drt.SAID())}})
		mustAccept(t, v, signed(dIxn2, d.keys[0]))
		mustAccept(t, v, withSrc(signed(drt, a.keys[1]), 2, dIxn2.SAID()))
		st := wantState(t, v, dip.Prefix(), 1, drt.SAID(), pubsOf(a.keys[1]), digsOf(a.keys[2]), `"1"`, `"1"`)
		if st.Delegator != dIcp.Prefix() {
			t.Errorf("delegator %s", st.Delegator)
		}
	})

	wrongDip := mustIncept(t, InceptionOptions{Keys: pubsOf(a.keys[1]), Kt: one, Next: digsOf(a.keys[2]), Nt: one, Delegator: dIcp.Prefix()})
	dIxnWrong := mustInteract(t, InteractionOptions{Prefix: dIcp.Prefix(), Sn: 1, Prior: dIcp.SAID(), Seals: []Seal{EventSeal(dip.Prefix(), 0, wrongDip.SAID())}})
	dnd := mustIncept(t, InceptionOptions{Keys: pubsOf(d.keys[0]), Kt: one, Next: digsOf(d.keys[1]), Nt: one, Config: []string{"DND"}})
	dipDND := mustIncept(t, InceptionOptions{Keys: pubsOf(a.keys[0]), Kt: one, Next: digsOf(a.keys[1]), Nt: one, Delegator: dnd.Prefix()})
	dndIxn := mustInteract(t, InteractionOptions{Prefix: dnd.Prefix(), Sn: 1, Prior: dnd.SAID(), Seals: []Seal{EventSeal(dipDND.Prefix(), 0, dipDND.SAID())}})

	tests := []struct {
		name     string
		msgs     []Message
		reasons  []reason
		warnings []string
	}{
		{"anchor present with couple", []Message{mD, mDIxn, withSrc(mDip, 1, dIxn.SAID())}, nil, nil},
		{"anchor present, no couple", []Message{mD, mDIxn, mDip}, nil, []string{"delegation_source_seal_not_attached"}},
		{"delegator unknown", []Message{mDip}, []reason{rsnDelMissing}, nil},
		{"anchor absent, couple names D's icp", []Message{mD, withSrc(mDip, 0, dIcp.SAID())}, []reason{rsnDelMismatch}, nil},
		{"anchor absent, no couple", []Message{mD, mDip}, []reason{rsnDelMissing}, nil},
		{"couple names an event without the seal", []Message{mD, mDIxn, withSrc(mDip, 0, dIcp.SAID())}, []reason{rsnDelMismatch}, nil},
		// The couple is a hint: an anchor found elsewhere in D's KEL counts.
		{"couple names an event D does not hold", []Message{mD, mDIxn, withSrc(mDip, 1, dip.SAID())}, nil, []string{"delegation_source_seal_mismatch"}},
		{"couple names an sn beyond D's kel", []Message{mD, mDIxn, withSrc(mDip, 7, dIxn.SAID())}, nil, []string{"delegation_source_seal_mismatch"}},
		{"anchor seal names another dip", []Message{mD, signed(dIxnWrong, d.keys[0]), withSrc(mDip, 1, dIxnWrong.SAID())}, []reason{rsnDelMissing}, nil},
		{"delegator refuses (DND)", []Message{signed(dnd, d.keys[0]), signed(dndIxn, d.keys[0]), withSrc(signed(dipDND, a.keys[0]), 1, dndIxn.SAID())}, []reason{rsnDelRefuses}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := Replay(streamOf(tc.msgs...))
			if rep.Err != nil || len(rep.Results) != len(tc.msgs) {
				t.Fatalf("report %+v", rep)
			}
			for _, r := range rep.Results[:len(tc.msgs)-1] {
				if !r.OK() {
					t.Fatalf("setup message %s rejected: %v", r.Ilk, r.Err)
				}
			}
			last := rep.Results[len(tc.msgs)-1]
			if tc.reasons != nil {
				wantRejected(t, last, tc.reasons...)
				if _, ok := rep.States[last.Prefix]; ok {
					t.Errorf("rejected dip left state")
				}
				return
			}
			if !last.OK() {
				t.Fatalf("rejected: %v", last.Err)
			}
			for _, w := range tc.warnings {
				if !slices.Contains(last.Warnings, w) {
					t.Errorf("warning %s not among %v", w, last.Warnings)
				}
			}
			if st := rep.States[dip.Prefix()]; st.Delegator != dIcp.Prefix() || !slices.Equal(st.Keys, pubsOf(a.keys[0])) {
				t.Errorf("state %+v", st)
			}
		})
	}
}

func TestScenarioProgressPartial(t *testing.T) {
	m := []tKey{newTKey("p0"), newTKey("p1"), newTKey("p2")}
	icp := mustIncept(t, InceptionOptions{Keys: pubsOf(m...), Kt: IntThreshold(2), Next: digsOf(m...), Nt: IntThreshold(2)})
	v := NewVerifier()
	tests := []struct {
		name    string
		sigs    []Siger
		signed  []int
		met     bool
		sigErrs []error
	}{
		{"one of three", []Siger{signB(t, m[1], icp, 1)}, []int{1}, false, []error{nil}},
		{"one good, one bad", []Siger{signB(t, m[2], icp, 2), signB(t, m[0], icp, 1)}, []int{2}, false, []error{nil, ErrBadSignature}},
		{"one good, one out of range", []Siger{signB(t, m[0], icp, 0), signB(t, m[1], icp, 5)}, []int{0}, false, []error{nil, ErrIndexOutOfRange}},
		{"two of three", []Siger{signB(t, m[2], icp, 2), signB(t, m[0], icp, 0)}, []int{0, 2}, true, []error{nil, nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := v.Progress(NewMessage(icp, tc.sigs))
			if err != nil {
				t.Fatal(err)
			}
			if p.Met != tc.met || !slices.Equal(p.Signed, tc.signed) || p.Kt.Have != len(tc.signed) || p.Kt.Need != 2 || p.Rotated {
				t.Errorf("progress met %v signed %v have %d need %d", p.Met, p.Signed, p.Kt.Have, p.Kt.Need)
			}
			for i, want := range tc.sigErrs {
				if got := p.Sigs[i].Err; (want == nil) != (got == nil) || (want != nil && !errors.Is(got, want)) {
					t.Errorf("sig %d: %v, want %v", i, got, want)
				}
			}
			if tc.met != (p.Err() == nil) {
				t.Errorf("Err() = %v", p.Err())
			}
			if _, ok := v.State(icp.Prefix()); ok {
				t.Errorf("Progress accepted the event")
			}
		})
	}
}

func TestScenarioExportRoundTrip(t *testing.T) {
	a, b, c := newTMember("alice", 4), newTMember("bob", 4), newTMember("carol", 2)
	d := newTMember("dora", 2)
	v := NewVerifier()
	icp := twoOfTwo(t, a, b)
	mustAccept(t, v, NewMessage(icp, []Siger{signB(t, a.keys[0], icp, 0), signB(t, b.keys[0], icp, 1)}))
	rot := mustRotate(t, RotationOptions{Prefix: icp.Prefix(), Sn: 1, Prior: icp.SAID(), Keys: pubsOf(a.keys[1], b.keys[1]),
		Kt: mustWeighted(t, []string{"1/2", "1/2"}), Next: digsOf(a.keys[2], b.keys[2], c.keys[0]), Nt: IntThreshold(2)})
	mustAccept(t, v, NewMessage(rot, []Siger{signA(t, a.keys[1], rot, 0, 0), signA(t, b.keys[1], rot, 1, 1)}))
	dIcp := mustIncept(t, InceptionOptions{Keys: pubsOf(d.keys[0]), Kt: IntThreshold(1), Next: digsOf(d.keys[1]), Nt: IntThreshold(1)})
	dip := mustIncept(t, InceptionOptions{Keys: pubsOf(c.keys[0]), Kt: IntThreshold(1), Next: digsOf(c.keys[1]), Nt: IntThreshold(1), Delegator: dIcp.Prefix()})
	dIxn := mustInteract(t, InteractionOptions{Prefix: dIcp.Prefix(), Sn: 1, Prior: dIcp.SAID(), Seals: []Seal{EventSeal(dip.Prefix(), 0, dip.SAID())}})
	mustAccept(t, v, NewMessage(dIcp, []Siger{signA(t, d.keys[0], dIcp, 0, 0)}))
	mustAccept(t, v, NewMessage(dIxn, []Siger{signA(t, d.keys[0], dIxn, 0, 0)}))
	mustAccept(t, v, NewMessage(dip, []Siger{signA(t, c.keys[0], dip, 0, 0)}, SourceSeal{Sn: 1, SAID: dIxn.SAID()}))
	ixn := mustInteract(t, InteractionOptions{Prefix: icp.Prefix(), Sn: 2, Prior: rot.SAID(), Seals: []Seal{EventSeal(dip.Prefix(), 0, dip.SAID())}})
	mustAccept(t, v, NewMessage(ixn, []Siger{signB(t, b.keys[1], ixn, 1), signB(t, a.keys[1], ixn, 0)}))

	// Delegators first, as Replay documents.
	var streams [][]byte
	for _, p := range []string{dIcp.Prefix(), icp.Prefix(), dip.Prefix()} {
		streams = append(streams, v.Export(p))
	}
	rep := Replay(streams...)
	if !rep.OK() || len(rep.Results) != 6 {
		t.Fatalf("replay of the export: %+v", rep)
	}
	for _, p := range v.Prefixes() {
		want, _ := v.State(p)
		got := rep.States[p]
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: state %+v, want %+v", p, got, want)
		}
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		if string(wj) != string(gj) {
			t.Errorf("%s: json %s, want %s", p, gj, wj)
		}
	}
	// The export is exactly what was accepted, in order.
	ms, err := ParseStream(v.Export(icp.Prefix()))
	if err != nil || len(ms) != 3 || ms[0].Event.SAID() != icp.SAID() || ms[1].Event.SAID() != rot.SAID() || ms[2].Event.SAID() != ixn.SAID() {
		t.Fatalf("export: %v", err)
	}
	if got := streamOf(ms...); string(got) != string(v.Export(icp.Prefix())) {
		t.Errorf("export is not stable under parse and emit")
	}
	if len(v.Export("Eunknown")) != 0 {
		t.Errorf("export of an unknown prefix")
	}
}

// Before any signature arrives, Progress still describes both conditions.
func TestProgressWithoutSignatures(t *testing.T) {
	m := newTMember("nosig", 2)
	icp := mustIncept(t, InceptionOptions{Keys: pubsOf(m.keys[0]), Kt: IntThreshold(1), Next: digsOf(m.keys[1]), Nt: IntThreshold(1)})
	v := NewVerifier()
	p, err := v.Progress(NewMessage(icp, nil))
	if !errors.Is(err, ErrMissingSignatures) {
		t.Fatalf("err %v, want ErrMissingSignatures", err)
	}
	if p.Met || p.Kt.Need != 1 || p.Kt.Have != 0 || len(p.Signed) != 0 {
		t.Errorf("progress %+v, want 0 of 1 and not met", p.Kt)
	}
}
