package tui

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// rotFixture is a 2-of-3 group acme of alice (this device), bob and carol,
// with bob's contribution, erin's contribution to join, dave's card, and
// two contributions the wizard must leave out (another group's, and one
// revealing a key acme never committed).
type rotFixture struct {
	snap                Snapshot
	prefix              string
	bobPart, erinPart   ceremony.Contribution
	daveCard            ceremony.Card
	carolNext, daveNext string
}

func newRotFixture() rotFixture {
	var x rotFixture
	x.prefix = kel.Digest([]byte("acme"))
	next := []string{kel.NextDigest(wizKey(2)), kel.NextDigest(wizKey(4)), kel.NextDigest(wizKey(6))}
	x.carolNext = next[2]
	x.bobPart = ceremony.Contribution{Label: "bob", Role: ceremony.RoleRotate, Key: wizKey(4), Next: kel.NextDigest(wizKey(14))}
	x.erinPart = ceremony.Contribution{Label: "erin", Role: ceremony.RoleFresh, Key: wizKey(15), Next: kel.NextDigest(wizKey(16))}
	x.daveCard = ceremony.Card{Label: "dave", Key: wizKey(7), Next: kel.NextDigest(wizKey(8)), Sig: "0B" + strings.Repeat("D", 86)}
	x.daveNext = x.daveCard.Next
	two := kel.IntThreshold(2)
	x.snap = Snapshot{
		Home: "/home/alice/.config/keremony", Keystore: "the OS keyring",
		Members: []MemberInfo{{Alias: "alice", Key: wizKey(1), Next: next[0], Groups: []string{"acme"}}},
		Groups: []GroupInfo{{
			Alias: "acme", Prefix: x.prefix,
			State: kel.KeyState{Prefix: x.prefix, Sn: 3, EstSn: 0, Last: kel.Digest([]byte("acme 3")),
				Keys: []string{wizKey(1), wizKey(3), wizKey(5)}, Kt: two, Next: next, Nt: two},
			KtText: "any 2 of 3: alice, bob, carol", NtText: "any 2 of 3: alice, bob, carol",
			Labels: []string{"alice", "bob", "carol"}, NextLabels: []string{"alice", "bob", "carol"}, Mine: []string{"alice"},
		}},
		Inbox: []InboxItem{
			{Kind: InboxContribution, Source: "bob.contribution", Label: "bob", ID: x.prefix, Contribution: x.bobPart},
			{Kind: InboxContribution, Source: "other.contribution", Label: "bob", ID: kel.Digest([]byte("other")),
				Contribution: ceremony.Contribution{Label: "zed", Role: ceremony.RoleFresh, Key: wizKey(40), Next: kel.NextDigest(wizKey(41))}},
			{Kind: InboxContribution, Source: "erin.contribution", Label: "erin", ID: x.prefix, Contribution: x.erinPart},
			{Kind: InboxContribution, Source: "mallory.contribution", Label: "mallory", ID: x.prefix,
				Contribution: ceremony.Contribution{Label: "mallory", Role: ceremony.RoleRotate, Key: wizKey(30), Next: kel.NextDigest(wizKey(31))}},
			{Kind: InboxCard, Source: "dave.card", Label: "dave", Card: x.daveCard},
		},
	}
	return x
}

func newRotTest(t *testing.T) (rotFixture, *fakeBackend, *common, screen) {
	t.Helper()
	x := newRotFixture()
	f := &fakeBackend{Snap: x.snap}
	c := testCommon(f)
	return x, f, c, newRotationWizard(c, x.prefix)
}

// rowRoles lists the rows as label=role.
func rowRoles(s screen) string {
	var out []string
	for _, r := range s.(*rotationWizard).rows.items {
		out = append(out, r.label+"="+string(r.role))
	}
	return strings.Join(out, " ")
}

func TestWizardRotationRows(t *testing.T) {
	_, _, _, s := newRotTest(t)
	// alice rotates (this device), bob rotates (his contribution), carol has
	// no contribution (reserve), erin joins with hers, dave's card waits.
	if got, want := rowRoles(s), "alice=rotate bob=rotate carol=reserve erin=fresh dave="; got != want {
		t.Errorf("rows %s, want %s", got, want)
	}
	view := s.View()
	for _, want := range []string{"sends a contribution", "t on the group", "cannot rotate", "contribution refused: mallory", "any 2 of 3: alice, bob, carol"} {
		viewHas(t, view, want)
	}
	if strings.Contains(view, "zed") {
		t.Errorf("another group's contribution is listed:\n%s", view)
	}
	// carol cannot rotate: her choices are reserve and drop.
	s, _ = drive(s, keys("down", "down")...)
	for range 4 {
		s, _ = drive(s, keyMsg("space"))
		if r, _ := s.(*rotationWizard).rows.current(); r.role == ceremony.RoleRotate || r.label != "carol" {
			t.Fatalf("%s can be made to %s", r.label, r.role)
		}
	}
}

func TestWizardRotationRequest(t *testing.T) {
	x, f, _, s := newRotTest(t)
	var got []RotationRequest
	f.OnProposeRotation = func(r RotationRequest) (string, error) {
		got = append(got, r)
		return "0ddba11-0000-4000-8000-000000000000", nil
	}
	// Drop carol, let dave join through the next list only.
	s, _ = drive(s, keys("down", "down", "space")...)
	s, _ = drive(s, keys("down", "down", "space", "space")...)
	if got, want := rowRoles(s), "alice=rotate bob=rotate carol=drop erin=fresh dave=next-only"; got != want {
		t.Fatalf("rows %s, want %s", got, want)
	}
	s, _ = drive(s, keyMsg("enter"))
	if s.(*rotationWizard).step != rotThresholds || !s.Typing() {
		t.Fatalf("step %d typing %v, want the thresholds", s.(*rotationWizard).step, s.Typing())
	}
	// Keys alice, bob, erin; next alice, bob, erin, dave: the current 2
	// fits both.
	w := s.(*rotationWizard)
	if w.kt.in.Value() != "2" || w.nt.in.Value() != "2" {
		t.Errorf("defaults kt %q nt %q, want the current 2", w.kt.in.Value(), w.nt.in.Value())
	}
	s, _ = drive(s, keyMsg("tab"))
	s, _ = drive(s, retype("3")...)
	view := s.View()
	viewHas(t, view, "2 of 3 → 3 of 4")
	viewHas(t, view, kel.IntThreshold(3).Describe([]string{"alice", "bob", "erin", "dave"}))
	s, _ = drive(s, keyMsg("tab"))
	s, _ = drive(s, append(typeText("2d"), keyMsg("enter"))...)
	if s.(*rotationWizard).step != rotPropose || s.Typing() {
		t.Fatalf("step %d, want the summary", s.(*rotationWizard).step)
	}
	viewHas(t, s.View(), "alice, bob, carol → alice, bob, erin")
	_, out := drive(s, keyMsg("p"))
	if len(got) != 1 {
		t.Fatalf("ProposeRotation called %d times", len(got))
	}
	r := got[0]
	wantParts := []ceremony.Contribution{
		x.bobPart,
		{Label: "carol", Role: ceremony.RoleDrop, Prior: x.carolNext},
		x.erinPart,
		// dave joins by his card: its key and signature bind his label.
		{Label: "dave", Role: ceremony.RoleNextOnly, Next: x.daveNext, Signer: x.daveCard.Key, Sig: x.daveCard.Sig},
	}
	if r.Group != x.prefix || !slices.Equal(r.Local, []string{"alice"}) || !slices.Equal(r.Parts, wantParts) || r.Expires != 48*time.Hour {
		t.Errorf("request %+v\nwant parts %+v", r, wantParts)
	}
	if !r.Kt.Equal(kel.IntThreshold(2)) || !r.Nt.Equal(kel.IntThreshold(3)) {
		t.Errorf("kt %s nt %s, want 2 and 3", r.Kt, r.Nt)
	}
	if _, ok := find[replaceMsg](out); !ok {
		t.Errorf("no collect screen after proposing: %v", out)
	}
	// The request builds: the ceremony package accepts the parts once the
	// backend adds alice's contribution.
	alice := ceremony.Contribution{Label: "alice", Role: ceremony.RoleRotate, Key: wizKey(2), Next: kel.NextDigest(wizKey(12))}
	st := x.snap.Groups[0].State
	if _, _, err := ceremony.BuildRotation(st, ceremony.RotationParams{Prefix: x.prefix, Members: append([]ceremony.Contribution{alice}, r.Parts...), Kt: r.Kt, Nt: r.Nt}); err != nil {
		t.Errorf("the ceremony package refuses the request: %v", err)
	}
}

func TestWizardRotationPriorThreshold(t *testing.T) {
	_, f, _, s := newRotTest(t)
	f.OnProposeRotation = func(RotationRequest) (string, error) { t.Error("proposed"); return "", nil }
	// bob goes to reserve: only alice rotates, and the current rotation
	// threshold needs 2 of 3.
	s, _ = drive(s, keys("down", "space")...)
	s, out := drive(s, keyMsg("enter"))
	if s.(*rotationWizard).step != rotMembers {
		t.Fatal("went on with one member rotating")
	}
	if em, ok := find[errMsg](out); !ok || !errors.Is(em.err, errPriorNext) {
		t.Errorf("got %v, want errPriorNext", out)
	}
	viewHas(t, s.View(), "only alice rotate")
	// Nobody signs: everyone in reserve or dropped, erin out.
	s, _ = drive(s, keys("up", "space", "down", "down", "down", "space")...)
	if w := s.(*rotationWizard); w.checkStep(rotMembers) == nil {
		t.Errorf("nobody rotates, yet the members step passes: %s", rowRoles(s))
	}
}

func TestWizardRotationThresholdErrors(t *testing.T) {
	_, _, _, s := newRotTest(t)
	s, _ = drive(s, keyMsg("enter"))
	// Keys alice, bob, erin (3); next alice, bob, erin (3).
	s, _ = drive(s, retype("1/2,1/2")...)
	w := s.(*rotationWizard)
	want := "weighted threshold has 2 weights but 3 keys are listed"
	if !errors.Is(w.kt.err, kel.ErrThreshold) || !strings.Contains(w.kt.err.Error(), want) {
		t.Errorf("kt err %v", w.kt.err)
	}
	viewHas(t, s.View(), want)
	s, _ = drive(s, keyMsg("enter"), keyMsg("enter"), keyMsg("enter"))
	if s.(*rotationWizard).step != rotThresholds {
		t.Errorf("went on with a bad kt")
	}
}

func TestWizardRotationUnknownGroup(t *testing.T) {
	f := &fakeBackend{Snap: incSnapshot()}
	c := testCommon(f)
	s := newRotationWizard(c, "Enothere")
	viewHas(t, s.View(), errNoGroup.Error())
	s, out := drive(s, keyMsg("enter"))
	if em, ok := find[errMsg](out); !ok || !errors.Is(em.err, errNoGroup) {
		t.Errorf("enter on an unknown group: %v", out)
	}
	checkSizes(t, c, s, "unknown group")
}

func TestWizardRotationGolden(t *testing.T) {
	_, _, c, s := newRotTest(t)
	s, _ = drive(s, keys("down", "down", "space", "down", "down")...)
	requireTeaGolden(t, c, s)
}

func TestWizardRotationFits(t *testing.T) {
	_, _, c, s := newRotTest(t)
	checkSizes(t, c, s, "members")
	s, _ = drive(s, keyMsg("enter"))
	s, _ = drive(s, retype("1/2,1/4")...)
	checkSizes(t, c, s, "thresholds")
	s, _ = drive(s, retype("2")...)
	s, _ = drive(s, keys("enter", "enter", "enter")...)
	checkSizes(t, c, s, "summary")
}

// TestWizardRotationSkipsStaleCards: a stale card is not offered to join.
func TestWizardRotationSkipsStaleCards(t *testing.T) {
	x := newRotFixture()
	for i := range x.snap.Inbox {
		if x.snap.Inbox[i].Label == "dave" {
			x.snap.Inbox[i].Stale = "dave's card is stale: dave rotated at sn 2 of other"
		}
	}
	s := newRotationWizard(testCommon(&fakeBackend{Snap: x.snap}), x.prefix)
	if got, want := rowRoles(s), "alice=rotate bob=rotate carol=reserve erin=fresh"; got != want {
		t.Errorf("rows %s, want %s", got, want)
	}
}
