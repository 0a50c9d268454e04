package tui

import (
	"strings"
	"testing"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// recFixture: the rotation wizard's acme, whose latest events (sn 2 and 3)
// are interactions after its rotation at sn 1.
func recFixture() (rotFixture, []kel.EventRef) {
	x := newRotFixture()
	g := &x.snap.Groups[0]
	g.State.EstSn, g.State.LastIlk = 1, kel.IlkIxn
	ixns := []kel.EventRef{
		{Prefix: x.prefix, Sn: 2, Ilk: kel.IlkIxn, SAID: kel.Digest([]byte("acme 2"))},
		{Prefix: x.prefix, Sn: 3, Ilk: kel.IlkIxn, SAID: kel.Digest([]byte("acme 3"))},
	}
	g.Recoverable = ixns
	return x, ixns
}

// The wizard offers a recovery when the latest events are interactions; R
// steps through where it may start; the request carries it.
func TestWizardRotationRecovery(t *testing.T) {
	x, ixns := recFixture()
	f := &fakeBackend{Snap: x.snap}
	c := testCommon(f)
	var s screen = newRotationWizard(c, x.prefix)
	view := s.View()
	viewHas(t, view, "The latest events of acme are interactions (sn 2 to 3)")
	viewHas(t, view, "R makes this a RECOVERY rotation")
	if !strings.Contains(screenView(c, s), "R recovery") {
		t.Errorf("the footer does not offer R:\n%s", screenView(c, s))
	}
	s, _ = drive(s, keyMsg("R"))
	viewHas(t, s.View(), "RECOVERY at sn 2: supersedes ixn sn 2 "+shortID(ixns[0].SAID)+", ixn sn 3 "+shortID(ixns[1].SAID))
	s, _ = drive(s, keyMsg("R"))
	viewHas(t, s.View(), "RECOVERY at sn 3: supersedes ixn sn 3 ")
	s, _ = drive(s, keyMsg("R"))
	viewHas(t, s.View(), "R makes this a RECOVERY rotation")
	s, _ = drive(s, keyMsg("R"))
	checkSizes(t, c, s, "recovery members")

	var got []RotationRequest
	f.OnProposeRotation = func(r RotationRequest) (string, error) {
		got = append(got, r)
		return "0ddba11-0000-4000-8000-000000000000", nil
	}
	s, _ = drive(s, keys("enter", "enter", "enter", "enter")...)
	if s.(*rotationWizard).step != rotPropose {
		t.Fatalf("step %d, want the summary", s.(*rotationWizard).step)
	}
	view = s.View()
	viewHas(t, view, "RECOVERY rotation of acme at sn 2")
	if strings.Contains(view, "(R: change)") {
		t.Errorf("the summary offers R:\n%s", view)
	}
	checkSizes(t, c, s, "recovery summary")
	drive(s, keyMsg("p"))
	if len(got) != 1 || got[0].Supersede != 2 {
		t.Fatalf("requests %+v, want one superseding from sn 2", got)
	}
}

// No interaction since the last establishment event: nothing is offered,
// and R does nothing.
func TestWizardRotationNoRecovery(t *testing.T) {
	_, _, c, s := newRotTest(t)
	if strings.Contains(s.View(), "RECOVERY") || strings.Contains(screenView(c, s), "R recovery") {
		t.Errorf("recovery offered without interactions:\n%s", screenView(c, s))
	}
	s, _ = drive(s, keyMsg("R"))
	if s.(*rotationWizard).supersede != 0 {
		t.Error("R started a recovery")
	}
}

// The group page shows superseded events as such.
func TestGroupShowsSuperseded(t *testing.T) {
	x, ixns := recFixture()
	g := &x.snap.Groups[0]
	ev, err := kel.Interact(kel.InteractionOptions{Prefix: x.prefix, Sn: 2, Prior: kel.Digest([]byte("acme 1"))})
	if err != nil {
		t.Fatal(err)
	}
	by := kel.EventRef{Prefix: x.prefix, Sn: 2, Ilk: kel.IlkRot, SAID: kel.Digest([]byte("recovery"))}
	g.Superseded = []kel.Superseded{{Message: kel.NewMessage(ev, nil), By: by}}
	c := testCommon(&fakeBackend{Snap: x.snap})
	view := newGroupScreen(c, x.prefix).View()
	viewHas(t, view, "Superseded by a recovery")
	viewHas(t, view, "SUPERSEDED by rot sn 2 "+shortID(by.SAID)+": ixn sn 2 "+shortID(ev.SAID()))
	viewHas(t, view, "the latest 2 events are interactions: r, then R, for a recovery rotation")
	_ = ixns
}

// A co-signer's review of a recovery says, in words, what it supersedes.
func TestReviewRecovery(t *testing.T) {
	x := fxIncept(t, fxMembers("alice", "bob"), kel.IntThreshold(2), kel.IntThreshold(2)).sign("alice", "bob")
	x.anchor(kel.DigestSeal([]byte("minutes"))).sign("alice", "bob")
	ixn := x.c.Event()
	if _, err := x.c.Finalize(); err != nil {
		t.Fatal(err)
	}
	params := ceremony.RotationParams{Prefix: ixn.Prefix(), Members: fxSigned(ixn.Prefix(), []ceremony.Contribution{x.member("alice").rotateTo(), x.member("bob").rotateTo()}),
		Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2), Supersede: 1}
	base, err := ceremony.RotationBase(x.v, params)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ceremony.ProposeRotation(base, params)
	if err != nil {
		t.Fatal(err)
	}
	x.open(p)
	x.keyIdx, x.prior = 1, 2
	ri := x.reviewInfo("bob")
	f := &fakeBackend{Snap: x.snapshot(true, false)}
	f.OnReview = func(string) (ReviewInfo, error) { return ri, nil }
	c, s := openReview(t, f, ri.ProposalID)
	all := reviewAll(s)
	hasAll(t, "review", flat(all), "RECOVERY", "this rotation takes sn 1 and supersedes 1 events of the group's kel:",
		"ixn sn 1 "+ixn.SAID()+", which anchored the data with digest "+kel.Digest([]byte("minutes")),
		"they stay on record as superseded")
	checkSizes(t, c, s, "recovery review")
}

// A finalized ceremony whose event a recovery superseded says so on Home.
func TestHomeShowsSupersededCeremony(t *testing.T) {
	snap := sampleSnapshot()
	ci := snap.Ceremonies[0]
	ci.State, ci.Kind, ci.Ilk, ci.Superseded = ceremony.StateFinalized, ceremony.KindAnchoring, kel.IlkIxn, true
	snap.Ceremonies = []CeremonyInfo{ci}
	f := &fakeBackend{Snap: snap}
	h, _ := drive(newHomeScreen(testCommon(f)), snapshotMsg{f.Snap})
	viewHas(t, h.View(), "anchoring  acme sn 0  finalized, SUPERSEDED")
	ci.Superseded = false
	snap.Ceremonies = []CeremonyInfo{ci}
	f.Snap = snap
	h, _ = drive(newHomeScreen(testCommon(f)), snapshotMsg{snap})
	if strings.Contains(h.View(), "SUPERSEDED") {
		t.Errorf("a standing ceremony is shown superseded:\n%s", h.View())
	}
}
