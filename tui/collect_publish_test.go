package tui

import (
	"errors"
	"strings"
	"testing"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
)

// witnessedSnap is a finalized 2-of-3 inception whose event holds
// receipts from held of its two witnesses (toad 2).
func witnessedSnap(t *testing.T, held int) (*fx, Snapshot) {
	x := fxIncept(t, fxMembers("alice", "bob", "carol"), kel.IntThreshold(2), kel.IntThreshold(2)).sign("alice", "bob")
	snap := x.snapshot(false, true)
	ci := &snap.Ceremonies[0]
	ci.State = ceremony.StateFinalized
	w := Witnessing{Toad: 2, Held: held, Complete: held >= 2, Marks: []api.WitnessMark{{Name: "wan", Held: held > 0}, {Name: "wil", Held: held > 1}}}
	w.Line = "witnessed: 1 of 2 receipts (toad 2): wan ✓, wil waiting"
	if held == 2 {
		w.Line = "witnessed: 2 of 2 receipts (toad 2): wan ✓, wil ✓"
	}
	ci.Witnessing = &w
	return x, snap
}

func TestCollectWitnessedProgress(t *testing.T) {
	x, snap := witnessedSnap(t, 1)
	f := &fakeBackend{Snap: snap}
	c, s := collectOf(f, x.c.ID())
	hasAll(t, "view", screenView(c, s), "witnessed: 1 of 2 receipts (toad 2): wan ✓, wil waiting", "not met",
		"finalized — press p to publish to the witnesses", "p publish to witnesses")
	// Without witnesses there is no line and no key.
	x2 := fxIncept(t, fxMembers("alice", "bob"), kel.IntThreshold(2), kel.IntThreshold(2)).sign("alice", "bob")
	plain := x2.snapshot(false, true)
	plain.Ceremonies[0].State = ceremony.StateFinalized
	c2, s2 := collectOf(&fakeBackend{Snap: plain}, x2.c.ID())
	if v := screenView(c2, s2); strings.Contains(v, "witnessed") || strings.Contains(v, "publish") {
		t.Errorf("a group without witnesses:\n%s", v)
	}
}

func TestCollectPublish(t *testing.T) {
	x, snap := witnessedSnap(t, 1)
	f := &fakeBackend{Snap: snap}
	_, after := witnessedSnap(t, 2)
	f.OnPublish = func(id string) (PublishReport, error) {
		f.Snap = after
		return PublishReport{Witnessing: *after.Ceremonies[0].Witnessing, Packet: Outgoing{Dropped: "/drop/receipts.cesr"}}, nil
	}
	_, s := collectOf(f, x.c.ID())
	s, out := drive(s, keys("p")...)
	if n := count(f.Called(), "Publish "+x.c.ID()); n != 1 {
		t.Fatalf("Publish called %d times: %v", n, f.Called())
	}
	if !hasInfo(out, "witnessed: 2 of 2 receipts (toad 2): wan ✓, wil ✓; the receipts are in the drop folder") {
		t.Fatalf("no witnessed line: %#v", out)
	}
	// A witness that fails: named, with the reason, in the log and the
	// status line.
	f.OnPublish = func(id string) (PublishReport, error) {
		return PublishReport{Witnessing: *snap.Ceremonies[0].Witnessing, Failures: []string{"sn 0: witness wil: witness did not answer: EOF (4 tries)"}}, nil
	}
	_, out = drive(s, keys("p")...)
	var logged bool
	for _, m := range out {
		if n, ok := m.(noticesMsg); ok && len(n.notices) == 1 && strings.Contains(n.notices[0].Text, "witness wil: witness did not answer") {
			logged = true
		}
	}
	if !logged || !hasInfo(out, "cannot publish (L shows why, p tries again): sn 0: witness wil: witness did not answer") {
		t.Fatalf("failure not reported: %#v", out)
	}
	// A backend error.
	f.OnPublish = func(string) (PublishReport, error) { return PublishReport{}, errors.New("boom") }
	_, out = drive(s, keys("p")...)
	if !hasInfo(out, "cannot publish: boom") {
		t.Fatalf("error not reported: %#v", out)
	}
}

// p on an open ceremony says it must be finalized first.
func TestCollectPublishOpen(t *testing.T) {
	x := fxIncept(t, fxMembers("alice", "bob"), kel.IntThreshold(2), kel.IntThreshold(2)).sign("alice")
	f := &fakeBackend{Snap: x.snapshot(false, true)}
	f.Snap.Ceremonies[0].Witnessing = &Witnessing{Toad: 1}
	_, s := collectOf(f, x.c.ID())
	_, out := drive(s, keys("p")...)
	if count(f.Called(), "Publish "+x.c.ID()) != 0 || !hasInfo(out, "once it is finalized") {
		t.Fatalf("publish of an open ceremony: %v %#v", f.Called(), out)
	}
}

func TestCollectWitnessedGolden(t *testing.T) {
	x, snap := witnessedSnap(t, 1)
	c, s := collectOf(&fakeBackend{Snap: snap}, x.c.ID())
	requireTeaGolden(t, c, s)
}

// The ceremony's log screen shows this session's notices about it (a
// witness that failed), after the stored transcript.
func TestCeremonyLogShowsSessionNotices(t *testing.T) {
	x, snap := witnessedSnap(t, 1)
	c := testCommon(&fakeBackend{Snap: snap})
	c.snap = snap
	c.noteCeremony(x.c.ID(), "12:00:00 error: sn 0: witness wil: witness did not answer")
	v := newLogScreen(c, x.c.ID()).View()
	hasAll(t, "log", v, "this session (not stored):", "witness wil: witness did not answer")
	if v := newLogScreen(c, "").View(); strings.Contains(v, "not stored") {
		t.Errorf("the session log:\n%s", v)
	}
}
