package ceremony

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keremony/keremony/kel"
)

func rawSig(t *testing.T, k *fakeSigner, msg []byte, index, ondex int, currentOnly bool) kel.Siger {
	t.Helper()
	s, err := kel.NewSiger(ed25519.Sign(k.priv, msg), index, ondex, currentOnly)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Every refused signature gets its specific error, one transcript entry, and
// leaves the collected signatures, state and KEL exactly as they were, in
// memory and on disk.
func TestIntakeHostile(t *testing.T) {
	g := incept2of2(t, newClock())
	ca, _, _ := rotate2of2(t, g, 1)
	bob := g.b.m
	ev := ca.Event()
	g.a.sign(ca, g.a.review(ca, 1), 1)
	msgs, _ := kel.ParseStream(mustExport(t, g.a.store, g.prefix))
	icpRaw := msgs[0].Event.Raw()
	goodBob := rawSig(t, bob.keys[1], ev.Raw(), 1, 1, false)
	aSig := goodBob.Qb64()
	env := func(ceremony, said, sig string) *delivery {
		return &delivery{ceremony, said, sig, "mallory"}
	}
	random := make([]byte, 64)
	for i := range random {
		random[i] = byte(i*7 + 1)
	}
	tests := []struct {
		name    string
		env     *delivery
		sig     kel.Siger
		want    error
		invalid bool // bob's slot shows the refusal
	}{
		{"another ceremony", env("c0123456789", ev.SAID(), aSig), kel.Siger{}, ErrWrongCeremony, false},
		{"another event", env(ca.ID(), ev.Prior(), aSig), kel.Siger{}, ErrWrongEvent, false},
		{"empty said", env(ca.ID(), "", aSig), kel.Siger{}, ErrWrongEvent, false},
		{"not base64", env(ca.ID(), ev.SAID(), "AB!!"+aSig[4:]), kel.Siger{}, ErrBadSignature, false},
		{"truncated", env(ca.ID(), ev.SAID(), aSig[:80]), kel.Siger{}, ErrBadSignature, false},
		{"trailing characters", env(ca.ID(), ev.SAID(), aSig+"AAAA"), kel.Siger{}, ErrBadSignature, false},
		{"secp256k1 code", env(ca.ID(), ev.SAID(), "C"+aSig[1:]), kel.Siger{}, ErrBadSignature, false},
		{"empty", env(ca.ID(), ev.SAID(), ""), kel.Siger{}, ErrBadSignature, false},
		{"index beyond k", nil, rawSig(t, bob.keys[1], ev.Raw(), 2, 0, true), ErrIndexOutOfRange, false},
		{"big index", nil, rawSig(t, bob.keys[1], ev.Raw(), 4000, 0, true), ErrIndexOutOfRange, false},
		{"negative index", nil, kel.Siger{Code: "B", Index: -1, Sig: goodBob.Sig}, ErrIndexOutOfRange, false},
		{"bob at alice's index", nil, rawSig(t, bob.keys[1], ev.Raw(), 0, 0, false), ErrBadSignature, false},
		{"bob's old key", nil, rawSig(t, bob.keys[0], ev.Raw(), 1, 1, false), ErrBadSignature, true},
		{"over other bytes", nil, rawSig(t, bob.keys[1], icpRaw, 1, 1, false), ErrBadSignature, true},
		{"random bytes", nil, kel.Siger{Code: "B", Index: 1, Sig: random}, ErrBadSignature, true},
		{"short signature", nil, kel.Siger{Code: "B", Index: 1, Sig: goodBob.Sig[:63]}, ErrBadSignature, true},
		{"unknown code", nil, kel.Siger{Code: "Z", Index: 1, Sig: goodBob.Sig}, ErrBadSignature, true},
		{"A with a foreign ondex", nil, kel.Siger{Code: "A", Index: 1, Ondex: 0, HasOndex: true, Sig: goodBob.Sig}, ErrBadSignature, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, n := snap(ca), len(ca.Transcript())
			kelBefore := string(mustExport(t, g.a.store, g.prefix))
			var err error
			if tc.env != nil {
				_, err = g.a.receive(*tc.env)
				if errors.Is(tc.want, ErrWrongCeremony) {
					// Unknown to the store; the ceremony itself refuses it too.
					_, err = ca.Receive(tc.env.ceremony, tc.env.said, tc.env.sig, tc.env.from)
				}
			} else {
				_, err = ca.AddSignature(tc.sig, "mallory")
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if after := snap(ca); !sameSnap(before, after) {
				t.Errorf("collected state changed: %+v → %+v", before, after)
			}
			if string(mustExport(t, g.a.store, g.prefix)) != kelBefore {
				t.Errorf("kel changed")
			}
			tr := ca.Transcript()
			if len(tr) != n+1 || tr[n].Kind != EntryRejected || tr[n].From != "mallory" || tr[n].Detail == "" {
				t.Errorf("transcript %v", tr[n:])
			}
			s := slot(t, ca.Progress(), "bob")
			if tc.invalid != (s.Status == SlotInvalid) || (tc.invalid && s.Why == "") {
				t.Errorf("bob's slot %+v", s)
			}
		})
	}
	// The refusals are on disk; the signatures are unchanged after a restart.
	want := snap(ca)
	g.a.reopen()
	c, err := g.a.store.Ceremony(ca.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got := snap(c); !sameSnap(want, got) || len(c.Transcript()) != len(ca.Transcript()) {
		t.Errorf("after restart %+v, want %+v", got, want)
	}
	if s := slot(t, c.Progress(), "bob"); s.Status != SlotInvalid {
		t.Errorf("bob's slot after restart %+v", s)
	}
	// Bob's good signature clears the slot and is harmless twice.
	in, err := c.AddSignature(goodBob, "bob")
	if err != nil || in.Outcome != OutcomeAdded || !in.Progress.Met {
		t.Fatalf("good signature: %v %+v", err, in)
	}
	n := len(c.Transcript())
	in, err = c.AddSignature(goodBob, "bob")
	if err != nil || in.Outcome != OutcomeDuplicate || len(c.Transcript()) != n || len(c.Signatures()) != 2 {
		t.Errorf("duplicate: %v %+v, transcript %d → %d", err, in, n, len(c.Transcript()))
	}
	if s := slot(t, in.Progress, "bob"); s.Status != SlotSigned || !s.Exposes {
		t.Errorf("bob's slot %+v", s)
	}
}

// A second, different valid signature for a held index is kept only when it
// improves the rotation condition.
func TestIntakeReplaceOnlyWhenBetter(t *testing.T) {
	g := incept2of2(t, newClock())
	ca, _, _ := rotate2of2(t, g, 1)
	bob := g.b.m
	raw := ca.Event().Raw()
	g.a.sign(ca, g.a.review(ca, 1), 1)

	bSig := rawSig(t, bob.keys[1], raw, 1, 0, true)        // current only
	wrongOndex := rawSig(t, bob.keys[1], raw, 1, 0, false) // 2A pointing at alice's digest
	aSig := rawSig(t, bob.keys[1], raw, 1, 1, false)       // A: reveals prior n[1]
	if wrongOndex.Code != kel.CodeSigBigBoth || aSig.Code != kel.CodeSigBoth {
		t.Fatalf("codes %s %s", wrongOndex.Code, aSig.Code)
	}
	steps := []struct {
		sig      kel.Siger
		outcome  Outcome
		held     string
		priorMet bool
	}{
		{bSig, OutcomeAdded, "B", false},
		{wrongOndex, OutcomeIgnored, "B", false}, // valid, but exposes nothing either
		{aSig, OutcomeReplaced, "A", true},
		{bSig, OutcomeIgnored, "A", true},
		{wrongOndex, OutcomeIgnored, "A", true},
		{aSig, OutcomeDuplicate, "A", true},
	}
	for i, st := range steps {
		in, err := ca.AddSignature(st.sig, "bob")
		if err != nil || in.Outcome != st.outcome {
			t.Fatalf("step %d: %v %s, want %s", i, err, in.Outcome, st.outcome)
		}
		sigs := ca.Signatures()
		if len(sigs) != 2 || sigs[1].Code != st.held || in.Progress.PriorNt.Met != st.priorMet || !in.Progress.Kt.Met {
			t.Errorf("step %d: held %s prior nt met %v", i, sigs[1].Code, in.Progress.PriorNt.Met)
		}
	}
	kinds := ""
	for _, e := range ca.Transcript() {
		kinds += string(e.Kind) + " "
	}
	if !strings.HasSuffix(kinds, "signed signed ignored replaced ignored ignored ") {
		t.Errorf("transcript kinds %s", kinds)
	}
	mustFinalize(t, ca)
}

// Wrong-ondex signature first, then the correct one.
func TestIntakeWrongOndexThenRight(t *testing.T) {
	g := incept2of2(t, newClock())
	ca, _, _ := rotate2of2(t, g, 1)
	raw := ca.Event().Raw()
	g.a.sign(ca, g.a.review(ca, 1), 1)
	in, err := ca.AddSignature(rawSig(t, g.b.m.keys[1], raw, 1, 0, false), "bob")
	if err != nil || in.Outcome != OutcomeAdded || in.Progress.Met || in.Progress.PriorNt.Met {
		t.Fatalf("wrong ondex: %v %+v", err, in)
	}
	if e := ca.Transcript()[len(ca.Transcript())-1]; !strings.Contains(e.Detail, "counts toward kt only") {
		t.Errorf("transcript %v", e)
	}
	if _, err := ca.Finalize(); !errors.Is(err, ErrNotReady) {
		t.Errorf("finalize: %v", err)
	}
	in, err = ca.AddSignature(rawSig(t, g.b.m.keys[1], raw, 1, 1, false), "bob")
	if err != nil || in.Outcome != OutcomeReplaced || !in.Progress.Met {
		t.Fatalf("right ondex: %v %+v", err, in)
	}
}

// Closed and drafting ceremonies take no signature and do not change.
func TestIntakeNotCollecting(t *testing.T) {
	clk := newClock()
	g := incept2of2(t, clk)
	raw := func(c *Ceremony) []byte { return c.Event().Raw() }
	good := func(c *Ceremony, ks ...*fakeSigner) {
		for i, k := range ks {
			if _, err := c.AddSignature(rawSig(t, k, raw(c), i, 0, true), "x"); err != nil {
				t.Fatal(err)
			}
		}
	}
	anchor := func(data string) Proposal {
		st, _ := g.a.store.State(g.prefix)
		p, err := ProposeAnchoring(st, AnchoringParams{Prefix: g.prefix, Seals: []kel.Seal{kel.DigestSeal([]byte(data))}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	alice, bob := g.a.m.keys[0], g.b.m.keys[0]

	drafting, err := g.a.store.Create(anchor("drafting"), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	aborted, _ := g.a.propose(anchor("aborted"))
	good(aborted, alice)
	if err := aborted.Abort("changed our minds"); err != nil {
		t.Fatal(err)
	}
	expiring, err := g.a.store.Create(anchor("expiring"), clk.Now().Add(time.Hour))
	if err != nil || expiring.Open() != nil {
		t.Fatal(err)
	}
	good(expiring, alice)
	clk.Advance(time.Hour)
	finalized, _ := g.a.propose(anchor("finalized"))
	good(finalized, alice, bob)
	mustFinalize(t, finalized)

	for _, c := range []*Ceremony{drafting, aborted, expiring, finalized} {
		before := snap(c)
		n := len(c.Transcript())
		if c == expiring {
			n++ // the expiry itself is recorded on first touch
		}
		_, err := c.AddSignature(rawSig(t, bob, raw(c), 1, 0, true), "bob")
		if !errors.Is(err, ErrNotCollecting) {
			t.Errorf("%s: %v", before.state, err)
		}
		env := delivery{c.ID(), c.SAID(), rawSig(t, bob, raw(c), 1, 0, true).Qb64(), "bob"}
		if _, err := g.a.receive(env); !errors.Is(err, ErrNotCollecting) {
			t.Errorf("%s deliver: %v", before.state, err)
		}
		if _, err := c.SignLocal(bob, nil); !errors.Is(err, ErrNotCollecting) {
			t.Errorf("%s sign: %v", before.state, err)
		}
		if _, err := c.Finalize(); !errors.Is(err, ErrNotCollecting) {
			t.Errorf("%s finalize: %v", before.state, err)
		}
		after := snap(c)
		if c == expiring {
			before.state = StateExpired
		}
		if !sameSnap(before, after) || len(c.Transcript()) != n {
			t.Errorf("%s changed: %+v → %+v, transcript %d", before.state, before, after, len(c.Transcript()))
		}
	}
	if expiring.State() != StateExpired || len(expiring.Signatures()) != 1 {
		t.Errorf("expired ceremony %s with %d signatures", expiring.State(), len(expiring.Signatures()))
	}
	if err := expiring.Abort("late"); !errors.Is(err, ErrNotCollecting) {
		t.Errorf("abort after expiry: %v", err)
	}
	if err := drafting.Abort(""); err != nil || drafting.AbortReason() != "no reason given" {
		t.Errorf("abort a draft: %v", err)
	}
	// All four stay on record across a restart.
	g.a.reopen()
	want := map[string]State{drafting.ID(): StateAborted, aborted.ID(): StateAborted, expiring.ID(): StateExpired, finalized.ID(): StateFinalized}
	for id, st := range want {
		c, err := g.a.store.Ceremony(id)
		if err != nil || c.State() != st {
			t.Errorf("%s after restart: %v %v, want %s", id, err, c, st)
		}
	}
}

// Expiry through the store's sweep, with the injected clock.
func TestExpireDue(t *testing.T) {
	clk := newClock()
	solo := newMember("solo", 2)
	d := newDevice(t, solo, clk)
	p, err := ProposeInception(InceptionParams{Members: []Card{solo.card(0)}, Kt: kel.IntThreshold(1), Nt: kel.IntThreshold(1)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.store.Create(p, clk.Now().Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := d.store.ExpireDue(); err != nil || len(ids) != 0 {
		t.Fatalf("early sweep: %v %v", ids, err)
	}
	clk.Advance(10 * time.Minute)
	if ids, err := d.store.ExpireDue(); err != nil || len(ids) != 1 || ids[0] != c.ID() {
		t.Fatalf("sweep: %v %v", ids, err)
	}
	if ids, _ := d.store.ExpireDue(); len(ids) != 0 {
		t.Errorf("second sweep: %v", ids)
	}
	tr := c.Transcript()
	if e := tr[len(tr)-1]; e.Kind != EntryExpired || !e.At.Equal(clk.Now()) {
		t.Errorf("last entry %v", e)
	}
	if err := c.Open(); !errors.Is(err, ErrNotCollecting) {
		t.Errorf("open after expiry: %v", err)
	}
}

// SignLocal requires a passed review of this event for the signer's key and
// goes through the signer's journal.
func TestSignLocalGuards(t *testing.T) {
	g := incept2of2(t, newClock())
	ca, _, _ := rotate2of2(t, g, 1)
	alice := g.a.m
	revA := g.a.review(ca, 1)
	revOld := g.a.review(ca, 0) // made for alice's old key
	tests := []struct {
		name   string
		signer Signer
		rev    *Review
		want   error
	}{
		{"no review", alice.keys[1], nil, ErrReviewRequired},
		{"forged review", alice.keys[1], &Review{SAID: ca.SAID(), Key: alice.keys[1].Key(), raw: ca.Raw()}, ErrReviewRequired},
		{"review for another key", alice.keys[1], revOld, ErrReviewRequired},
		{"key not in k", alice.keys[0], revOld, ErrNotSigner},
		{"carol's key", newMember("carol", 1).keys[0], revA, ErrReviewRequired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := alice.journal.count
			if _, err := ca.SignLocal(tc.signer, tc.rev); !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if len(ca.Signatures()) != 0 || alice.journal.count != n {
				t.Errorf("something was signed")
			}
		})
	}
	// A review of another event.
	st, _ := g.a.store.State(g.prefix)
	other, err := ProposeRotation(st, signedParts(RotationParams{Prefix: g.prefix, Members: []Contribution{alice.rotate(1), g.b.m.rotate(1)},
		Kt: kel.IntThreshold(1), Nt: kel.IntThreshold(2)}))
	if err != nil {
		t.Fatal(err)
	}
	co, err := g.a.store.Create(other, time.Time{})
	if err != nil || co.Open() != nil {
		t.Fatal(err)
	}
	revOther := g.a.review(co, 1)
	if _, err := ca.SignLocal(alice.keys[1], revOther); !errors.Is(err, ErrReviewRequired) {
		t.Errorf("review of another event: %v", err)
	}
	// The journal: alice signs one rotation at sn 1 and then refuses the
	// competing one.
	if _, err := ca.SignLocal(alice.keys[1], revA); err != nil {
		t.Fatal(err)
	}
	if _, err := co.SignLocal(alice.keys[1], revOther); !errors.Is(err, ErrSignerRefused) || !errors.Is(err, errJournalConflict) {
		t.Errorf("competing rotation: %v", err)
	}
	if len(co.Signatures()) != 0 {
		t.Errorf("the refused signature was collected")
	}
	// Signing again the same event is harmless.
	if in, err := ca.SignLocal(alice.keys[1], revA); err != nil || in.Outcome != OutcomeDuplicate {
		t.Errorf("sign twice: %v %+v", err, in)
	}
}

// A ceremony whose group KEL moved on is blocked, not merely unsigned.
func TestBlockedWhenKELMovesOn(t *testing.T) {
	g := incept2of2(t, newClock())
	st, _ := g.a.store.State(g.prefix)
	mk := func(data string) *Ceremony {
		p, err := ProposeAnchoring(st, AnchoringParams{Prefix: g.prefix, Seals: []kel.Seal{kel.DigestSeal([]byte(data))}})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := g.a.propose(p)
		for i, k := range []*fakeSigner{g.a.m.keys[0], g.b.m.keys[0]} {
			if _, err := c.AddSignature(rawSig(t, k, c.Event().Raw(), i, 0, true), "x"); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	one, two := mk("one"), mk("two")
	mustFinalize(t, one)
	pr := two.Progress()
	if pr.Met || pr.Blocked == nil || !errors.Is(pr.Blocked, kel.ErrOutOfOrder) {
		t.Errorf("progress of the competitor %+v", pr)
	}
	if _, err := two.Finalize(); !errors.Is(err, ErrBlocked) {
		t.Errorf("finalize the competitor: %v", err)
	}
	if err := two.Abort("superseded"); err != nil {
		t.Fatal(err)
	}
	g.a.reopen()
	if c, err := g.a.store.Ceremony(two.ID()); err != nil || c.State() != StateAborted || len(c.Signatures()) != 2 {
		t.Errorf("competitor after restart: %v", err)
	}
}

// A flood of refused signatures records at most MaxRecordedRefusals
// entries and is refused all the same.
func TestIntakeFloodIsBounded(t *testing.T) {
	solo := newMember("solo", 2)
	p, err := ProposeInception(InceptionParams{Members: []Card{solo.card(0)}, Kt: one(), Nt: one()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(p, nil, Options{})
	if err != nil || c.Open() != nil {
		t.Fatal(err)
	}
	n := len(c.Transcript())
	bad := kel.Siger{Code: "B", Index: 0, Sig: make([]byte, 64)}
	for i := 0; i < MaxRecordedRefusals+50; i++ {
		if _, err := c.AddSignature(bad, "mallory"); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("%d: %v", i, err)
		}
	}
	if got := len(c.Transcript()) - n; got != MaxRecordedRefusals {
		t.Errorf("%d refusals recorded", got)
	}
	rev, _ := ReviewProposal(p, nil, solo.reviewer(0))
	if _, err := c.SignLocal(solo.keys[0], rev); err != nil {
		t.Fatal(err)
	}
	mustFinalize(t, c)
}

// Signatures delivered concurrently to a stored ceremony are all kept.
func TestIntakeConcurrent(t *testing.T) {
	var ms []*member
	var cards []Card
	for i := 0; i < 6; i++ {
		m := newMember(fmt.Sprintf("m%d", i), 2)
		ms = append(ms, m)
		cards = append(cards, m.card(0))
	}
	d := newDevice(t, ms[0], newClock())
	p, err := ProposeInception(InceptionParams{Members: cards, Kt: kel.IntThreshold(6), Nt: kel.IntThreshold(4)})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := d.propose(p)
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Add(2)
		go func() {
			defer wg.Done()
			env := delivery{c.ID(), c.SAID(), rawSig(t, m.keys[0], c.Raw(), i, 0, true).Qb64(), m.name}
			if _, err := d.receive(env); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			_ = c.Progress()
			_, _ = c.AddSignature(kel.Siger{Code: "B", Index: i, Sig: make([]byte, 64)}, "noise")
		}()
	}
	wg.Wait()
	if pr := c.Progress(); !pr.Met || len(pr.Signed) != 6 {
		t.Fatalf("progress %v", pr.Summary())
	}
	mustFinalize(t, c)
	d.reopen()
	if c2, err := d.store.Ceremony(c.ID()); err != nil || len(c2.Signatures()) != 6 || c2.State() != StateFinalized {
		t.Errorf("after restart: %v", err)
	}
}
