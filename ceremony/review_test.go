package ceremony

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keremony/keremony/kel"
)

// A co-signer never signs bytes it did not rebuild.
func TestReviewRefusesWhatItCannotRebuild(t *testing.T) {
	a, b, c := newMember("alice", 3), newMember("bob", 3), newMember("carol", 3)
	v, st := memGroup(t, kel.IntThreshold(2), kel.IntThreshold(2), nil, a, b)
	two := kel.IntThreshold(2)
	honest, err := ProposeRotation(st, signedParts(RotationParams{Prefix: st.Prefix, Members: []Contribution{a.rotate(1), b.rotate(1)}, Kt: two, Nt: two}))
	if err != nil {
		t.Fatal(err)
	}
	lowered, err := ProposeRotation(st, signedParts(RotationParams{Prefix: st.Prefix, Members: []Contribution{a.rotate(1), b.rotate(1)}, Kt: one(), Nt: one()}))
	if err != nil {
		t.Fatal(err)
	}
	honest.ID, lowered.ID = "c1", "c2"

	// The bytes of a kt-1 rotation sent with the parameters of the kt-2 one.
	swapped := honest.clone()
	swapped.Event = lowered.Event
	// Parameters edited after the bytes were built.
	edited := honest.clone()
	edited.Rotation.Nt = one()

	// A local KEL that has moved on (an ixn was accepted meanwhile).
	vAhead, _ := memGroup(t, two, two, nil, a, b)
	ixn, err := ProposeAnchoring(st, AnchoringParams{Prefix: st.Prefix, Seals: []kel.Seal{kel.DigestSeal([]byte("x"))}})
	if err != nil {
		t.Fatal(err)
	}
	ci, err := New(ixn, vAhead, Options{})
	if err != nil || ci.Open() != nil {
		t.Fatal(err)
	}
	for i, m := range []*member{a, b} {
		if _, err := ci.AddSignature(rawSig(t, m.keys[0], ci.Raw(), i, 0, true), "x"); err != nil {
			t.Fatal(err)
		}
	}
	mustFinalize(t, ci)

	// An anchoring whose seal contradicts an event this device holds.
	icp := v.Messages(st.Prefix)[0].Event
	badSeal, err := ProposeAnchoring(st, AnchoringParams{Prefix: st.Prefix, Seals: []kel.Seal{kel.EventSeal(st.Prefix, 0, kel.Digest([]byte("not the icp")))}})
	if err != nil {
		t.Fatal(err)
	}
	goodSeal, err := ProposeAnchoring(st, AnchoringParams{Prefix: st.Prefix, Seals: []kel.Seal{kel.EventSeal(st.Prefix, 0, icp.SAID())}})
	if err != nil {
		t.Fatal(err)
	}
	// The group's own inception again.
	again, err := ProposeInception(InceptionParams{Members: []Card{a.card(0), b.card(0)}, Kt: two, Nt: two})
	if err != nil {
		t.Fatal(err)
	}
	// A group this device does not know.
	_, other := memGroup(t, one(), one(), nil, c)
	unknown, err := ProposeAnchoring(other, AnchoringParams{Prefix: other.Prefix, Seals: []kel.Seal{kel.DigestSeal([]byte("y"))}})
	if err != nil {
		t.Fatal(err)
	}
	wrongKind := honest.clone()
	wrongKind.Kind = KindAnchoring

	tests := []struct {
		name  string
		p     Proposal
		local *kel.Verifier
		want  error
	}{
		{"bytes of another event", swapped, v, ErrProposalMismatch},
		{"edited parameters", edited, v, ErrProposalMismatch},
		{"local kel moved on", honest, vAhead, ErrDoesNotChain},
		{"seal contradicts a held event", badSeal, v, ErrAnchorConflict},
		{"already incepted", again, v, ErrDoesNotChain},
		{"unknown group", unknown, v, ErrUnknownGroup},
		{"kind without its parameters", wrongKind, v, ErrMalformedProposal},
		{"garbage bytes", Proposal{Kind: KindInception, Inception: again.Inception, Event: []byte(`{"v":"KERI10JSON000010_"}`)}, v, ErrMalformedProposal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rev, err := ReviewProposal(tc.p, tc.local, a.reviewer(1))
			if !errors.Is(err, tc.want) || rev.Passed() {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			// Nor can the ceremony be created from it.
			if tc.want != ErrAnchorConflict && tc.want != ErrMalformedProposal {
				if _, err := New(tc.p, tc.local, Options{}); err == nil {
					t.Errorf("New accepted it")
				}
			}
		})
	}
	if rev, err := ReviewProposal(goodSeal, v, a.reviewer(0)); err != nil || !rev.Seals[0].Known || !strings.Contains(rev.Seals[0].Text, "icp this device holds") {
		t.Errorf("good seal: %v %+v", err, rev)
	}
	if _, err := ReviewProposal(honest, v, a.reviewer(1)); err != nil {
		t.Errorf("honest proposal: %v", err)
	}
	// The edited proposal's error names both SAIDs and where they differ.
	_, err = ReviewProposal(swapped, v, a.reviewer(1))
	if msg := err.Error(); !strings.Contains(msg, "first difference at byte") || !strings.Contains(msg, `kt\":\"1`) {
		t.Errorf("mismatch message %q", msg)
	}
}

// A proposer who replaces a member's key: the review passes (the bytes
// match the parameters) but says the reviewer is not a signer, and signing
// is refused.
func TestReviewSaysYouAreLeftOut(t *testing.T) {
	a, b, m := newMember("alice", 2), newMember("bob", 2), newMember("mallory", 2)
	fake := m.card(0) // mallory's own card, calling itself bob
	fake.Label = "bob"
	fake.Sig = kel.EncodeSignature(ed25519.Sign(m.keys[0].priv, fake.SigningBytes()))
	p, err := ProposeInception(InceptionParams{Members: []Card{a.card(0), fake},
		Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2)})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := ReviewProposal(p, nil, b.reviewer(0))
	if err != nil {
		t.Fatal(err)
	}
	if rev.Index != -1 || rev.NextCommitted || len(rev.Warnings) != 2 ||
		!strings.Contains(rev.Warnings[0], "not among the signing keys") || !strings.Contains(rev.Warnings[1], "will not be able to take part") {
		t.Errorf("review %+v", rev)
	}
	c, err := New(p, nil, Options{})
	if err != nil || c.Open() != nil {
		t.Fatal(err)
	}
	if _, err := c.SignLocal(b.keys[0], rev); !errors.Is(err, ErrNotSigner) {
		t.Errorf("bob signs: %v", err)
	}
}

// What a rotation review tells each member, in plain words.
func TestReviewRotationDiff(t *testing.T) {
	a, b, c, d := newMember("alice", 3), newMember("bob", 3), newMember("carol", 3), newMember("dave", 2)
	v, st := memGroup(t, kel.IntThreshold(2), kel.IntThreshold(2), nil, a, b, c)
	p, err := ProposeRotation(st, signedParts(RotationParams{Prefix: st.Prefix, Members: []Contribution{
		a.rotate(1),
		{Label: "dave", Role: RoleFresh, Key: d.keys[0].Key(), Next: d.keys[1].Dig()},
		{Label: "carol", Role: RoleDrop, Prior: c.keys[1].Dig()},
	}, Kt: one(), Nt: one()}))
	// Only alice reveals: prior nt 2 cannot be met.
	if !errors.Is(err, ErrPriorNextUnreachable) {
		t.Fatalf("pre-flight: %v", err)
	}
	p, err = ProposeRotation(st, signedParts(RotationParams{Prefix: st.Prefix, Members: []Contribution{
		a.rotate(1),
		{Label: "dave", Role: RoleFresh, Key: d.keys[0].Key(), Next: d.keys[1].Dig()},
		b.rotate(1),
		{Label: "carol", Role: RoleDrop, Prior: c.keys[1].Dig()},
	}, Kt: one(), Nt: kel.IntThreshold(2)}))
	if err != nil {
		t.Fatal(err)
	}
	book := map[string]string{c.keys[0].Key(): "carol", a.keys[0].Key(): "alice", b.keys[0].Key(): "bob"}
	rev, err := ReviewProposal(p, v, Reviewer{Key: b.keys[1].Key(), Next: b.keys[2].Dig(), Labels: book})
	if err != nil {
		t.Fatal(err)
	}
	diff := rev.Diff
	if diff.KtBefore != `"2"` || diff.KtAfter != `"1"` || diff.KtBeforeText != "any 2 of 3: alice, bob, carol" || diff.KtAfterText != "any 1 of 3: alice, dave, bob" {
		t.Errorf("thresholds %q %q / %q %q", diff.KtBefore, diff.KtAfter, diff.KtBeforeText, diff.KtAfterText)
	}
	if len(diff.AddedKeys) != 3 || len(diff.RemovedKeys) != 3 || len(diff.KeptNext) != 0 || len(diff.RemovedNext) != 3 {
		t.Errorf("diff %+v", diff)
	}
	all := strings.Join(rev.Warnings, "\n")
	for _, want := range []string{"kt lowers from 2 to 1", "carol is dropped", "any one of the 3 keys can sign for the group alone"} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
	if rev.Index != 2 || rev.Ondex != 1 || !rev.NextCommitted {
		t.Errorf("bob %+v", rev)
	}
	if !strings.Contains(strings.Join(diff.Members, "\n"), "bob reveals the key committed at prior n[1] and signs at k[2] (moved: signs with 2A)") {
		t.Errorf("members %q", diff.Members)
	}
	// Dave's key was never committed: he is told so.
	revD, err := ReviewProposal(p, v, Reviewer{Key: d.keys[0].Key(), Next: d.keys[1].Dig()})
	if err != nil || revD.Ondex != -1 || !strings.Contains(strings.Join(revD.Warnings, "\n"), "was not pre-committed") {
		t.Errorf("dave %v %+v", err, revD)
	}
	// Carol sees she is out of the next rotation too.
	revC, err := ReviewProposal(p, v, Reviewer{Key: c.keys[1].Key(), Next: c.keys[1].Dig()})
	if err != nil || revC.Index != -1 || revC.NextCommitted {
		t.Errorf("carol %v %+v", err, revC)
	}
	// Signing codes follow keripy: bob's moved key 2A, dave's fresh key B.
	cer, err := New(p, v, Options{})
	if err != nil || cer.Open() != nil {
		t.Fatal(err)
	}
	inB, err := cer.SignLocal(b.keys[1], rev)
	if err != nil || inB.Sig.Code != kel.CodeSigBigBoth || inB.Sig.Index != 2 || inB.Sig.Ondex != 1 {
		t.Fatalf("bob %v %+v", err, inB.Sig)
	}
	inD, err := cer.SignLocal(d.keys[0], revD)
	if err != nil || inD.Sig.Code != kel.CodeSigCurrent || inD.Sig.Index != 1 {
		t.Fatalf("dave %v %+v", err, inD.Sig)
	}
	// kt 1 is met, the prior nt 2 is not: only bob revealed.
	pr := cer.Progress()
	if pr.Met || !pr.Kt.Met || pr.PriorNt.Met {
		t.Errorf("progress %v", pr.Summary())
	}
	revA, _ := ReviewProposal(p, v, a.reviewer(1))
	if _, err := cer.SignLocal(a.keys[1], revA); err != nil {
		t.Fatal(err)
	}
	mustFinalize(t, cer)
}

func TestProposalWire(t *testing.T) {
	a, b := newMember("alice", 3), newMember("bob", 3)
	_, st := memGroup(t, kel.IntThreshold(2), kel.IntThreshold(2), nil, a, b)
	w := mustWeighted(t, "1/2", "1/2")
	props := []Proposal{}
	p1, err := ProposeInception(InceptionParams{Members: []Card{a.card(0), b.card(0)}, Kt: w, Nt: kel.IntThreshold(1), Config: []string{"DND"}})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := ProposeRotation(st, signedParts(RotationParams{Prefix: st.Prefix, Members: []Contribution{a.rotate(1), b.rotate(1)}, Kt: w, Nt: w,
		Seals: []kel.Seal{kel.DigestSeal([]byte("r"))}}))
	if err != nil {
		t.Fatal(err)
	}
	p3, err := ProposeAnchoring(st, AnchoringParams{Prefix: st.Prefix, Seals: []kel.Seal{kel.EventSeal(st.Prefix, 0, st.EstSAID), kel.DigestSeal([]byte("d"))}, Members: []Card{a.card(0)}})
	if err != nil {
		t.Fatal(err)
	}
	props = append(props, p1, p2, p3)
	for i, p := range props {
		p.ID = NewID()
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParseProposal(b)
		if err != nil {
			t.Fatalf("%d: %v\n%s", i, err, b)
		}
		b2, _ := q.Marshal()
		if string(b) != string(b2) || string(q.Event) != string(p.Event) || q.ID != p.ID || q.Kind != p.Kind {
			t.Errorf("%d: round trip\n%s\n%s", i, b, b2)
		}
		if p.Anchoring != nil && !reflect.DeepEqual(q.Anchoring.Seals, p.Anchoring.Seals) {
			t.Errorf("seals %+v", q.Anchoring.Seals)
		}
	}
	good, _ := func() ([]byte, error) { p := p1; p.ID = "abc"; return p.Marshal() }()
	var m map[string]any
	if err := json.Unmarshal(good, &m); err != nil {
		t.Fatal(err)
	}
	mutate := func(f func(map[string]any)) []byte {
		c := map[string]any{}
		j, _ := json.Marshal(m)
		json.Unmarshal(j, &c)
		f(c)
		out, _ := json.Marshal(c)
		return out
	}
	bad := map[string][]byte{
		"unknown field":     mutate(func(c map[string]any) { c["extra"] = 1 }),
		"format":            mutate(func(c map[string]any) { c["format"] = "keremony-proposal/9" }),
		"id with a slash":   mutate(func(c map[string]any) { c["id"] = "a/b" }),
		"empty id":          mutate(func(c map[string]any) { c["id"] = "" }),
		"two parameter set": mutate(func(c map[string]any) { c["anchoring"] = map[string]any{"prefix": "x", "seals": []any{}} }),
		"bad threshold":     mutate(func(c map[string]any) { c["inception"].(map[string]any)["kt"] = []any{"1/3"} }),
		"tampered event":    mutate(func(c map[string]any) { c["event"] = strings.Replace(c["event"].(string), `"kt"`, `"kT"`, 1) }),
		"trailing data":     append(append([]byte{}, good...), []byte(" {}")...),
		"not json":          []byte("proposal"),
		"too large":         make([]byte, maxProposalSize+1),
	}
	for name, b := range bad {
		if _, err := ParseProposal(b); !errors.Is(err, ErrMalformedProposal) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Transcript entries use the injected clock.
func TestTranscriptClock(t *testing.T) {
	clk := newClock()
	solo := newMember("solo", 2)
	p, err := ProposeInception(InceptionParams{Members: []Card{solo.card(0)}, Kt: one(), Nt: one()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(p, nil, Options{Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	rev, _ := ReviewProposal(c.Proposal(), nil, solo.reviewer(0))
	if _, err := c.SignLocal(solo.keys[0], rev); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	mustFinalize(t, c)
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, e := range c.Transcript() {
		if want := start.Add(time.Duration(i) * time.Minute); !e.At.Equal(want) || e.Seq != i {
			t.Errorf("entry %d: %s", i, e)
		}
	}
	if !c.Created().Equal(start) {
		t.Errorf("created %s", c.Created())
	}
	if s := c.Transcript()[2].String(); !strings.Contains(s, "signed index 0 (solo) from local: B") {
		t.Errorf("entry text %q", s)
	}
}
