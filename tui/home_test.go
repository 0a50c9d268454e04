package tui

import (
	"errors"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// aliceInAcme is the sample device's seat: alice in acme.
var aliceInAcme = SeatInfo{Member: "alice", N: 1, Name: "alice in acme", Group: "acme", Prefix: "EAcmeGroup00000000000000000000000000000000",
	Key: "DAlice000000000000000000000000000000000000", Next: "EAliceNext0000000000000000000000000000000",
	Role: "signs at k[0]; its next key is committed at n[0]"}

// sampleSnapshot is a device with one member in a 2-of-3 group, an open
// inception it signed (1 of 2) and a proposal waiting in the inbox.
func sampleSnapshot() Snapshot {
	kt := kel.IntThreshold(2)
	return Snapshot{
		Home:     "/home/alice/.config/keremony",
		Keystore: "the OS keyring",
		DropDir:  "/media/usb/drop",
		Members: []MemberInfo{{
			Alias: "alice", Key: "DAlice000000000000000000000000000000000000", Next: "EAliceNext0000000000000000000000000000000", Groups: []string{"acme"},
			Seats: []SeatInfo{aliceInAcme},
		}},
		Groups: []GroupInfo{{
			Alias: "acme", Prefix: "EAcmeGroup00000000000000000000000000000000",
			State:  kel.KeyState{Prefix: "EAcmeGroup00000000000000000000000000000000", Sn: 3, EstSn: 2, Keys: []string{"DA", "DB", "DC"}, Kt: kt, Next: []string{"EA", "EB", "EC"}, Nt: kt},
			KtText: "any 2 of alice, bob, carol", NtText: "any 2 of alice, bob, carol",
			Labels: []string{"alice", "bob", "carol"}, NextLabels: []string{"alice", "bob", "carol"}, Mine: []string{"alice"},
			Seats: []SeatInfo{aliceInAcme},
		}},
		Ceremonies: []CeremonyInfo{{
			ID: "3f2a9c1e-0000-4000-8000-000000000000", ProposalID: "3f2a9c1e-0000-4000-8000-000000000000",
			Kind: ceremony.KindInception, Group: "acme", Prefix: "EAcmeGroup00000000000000000000000000000000", Ilk: "icp",
			State: ceremony.StateCollecting, Signed: true,
			Progress: ceremony.Progress{State: ceremony.StateCollecting, Signed: []int{0}, Kt: kt.Satisfy([]int{0}), KtText: "any 2 of 3"},
		}},
		Inbox: []InboxItem{{Kind: InboxProposal, Source: "proposal-77aa.json", Label: "anchoring of acme, sn 4, from bob", From: "bob", ID: "77aa0000-0000-4000-8000-000000000000"}},
	}
}

func TestHomeFirstRun(t *testing.T) {
	f := &fakeBackend{Snap: Snapshot{Home: "/tmp/h", Keystore: "the OS keyring"}}
	c := testCommon(f)
	h, _ := drive(newHomeScreen(c), snapshotMsg{f.Snap})
	view := h.View()
	hasAll(t, "first-run view", view, "Welcome to keremony", "no member yet", "create a member")
	// Starting a group needs a member first.
	_, out := drive(h, keyMsg("g"))
	if len(out) != 1 || !strings.Contains(out[0].(infoMsg).text, "create a member first") {
		t.Errorf("g without a member: got %v, want the create-a-member hint", out)
	}
	_, out = drive(h, keyMsg("m"))
	if len(out) != 1 {
		t.Fatalf("m: got %v, want one push", out)
	}
	if _, ok := out[0].(pushMsg).s.(*memberScreen); !ok {
		t.Errorf("m pushed %T, want *memberScreen", out[0].(pushMsg).s)
	}
}

func TestHomeListsAndOpens(t *testing.T) {
	f := &fakeBackend{Snap: sampleSnapshot()}
	c := testCommon(f)
	h, _ := drive(newHomeScreen(c), snapshotMsg{f.Snap})
	view := h.View()
	hasAll(t, "home view", view, "Inbox (1)", "anchoring of acme", "Ceremonies", "inception", "1 of 2 signed", "Groups", "acme", "sn 3", "any 2 of alice, bob, carol", "Members of this device", "alice")
	tests := []struct {
		name  string
		downs int
		key   string
		want  string // type of the pushed screen
	}{
		{"inbox proposal opens the review", 0, "enter", "review"},
		{"ceremony opens collect", 1, "enter", "collect"},
		{"ceremony log", 1, "L", "ceremony log"},
		{"session log", 3, "L", "log of this session"},
		{"group opens its page", 2, "enter", "group"},
		{"group rotate", 2, "r", "rotate"},
		{"group anchor", 2, "a", "anchor"},
		{"import", 0, "i", "import"},
		{"new group", 3, "g", "new group"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := drive(newHomeScreen(c), snapshotMsg{f.Snap})
			for range tc.downs {
				s, _ = drive(s, keyMsg("down"))
			}
			_, out := drive(s, keyMsg(tc.key))
			if len(out) != 1 {
				t.Fatalf("got %v, want one push", out)
			}
			p, ok := out[0].(pushMsg)
			if !ok {
				t.Fatalf("got %T, want pushMsg", out[0])
			}
			if got := strings.ToLower(p.s.Title()); !strings.Contains(got, tc.want) {
				t.Errorf("pushed screen %q, want one titled like %q", p.s.Title(), tc.want)
			}
		})
	}
}

func TestHomeShareCardAndContribute(t *testing.T) {
	f := &fakeBackend{Snap: sampleSnapshot()}
	f.OnCard = func(alias, forGroup string) (Outgoing, error) {
		return Outgoing{Title: "card of " + alias, Name: "card-" + alias + ".json", Data: []byte(`{}`)}, nil
	}
	f.Snap.Members[0].Free = true
	errNoDrop := errors.New("no drop folder")
	f.OnContribute = func(group, alias string) (Outgoing, error) { return Outgoing{}, errNoDrop }
	c := testCommon(f)
	s, _ := drive(newHomeScreen(c), snapshotMsg{f.Snap})
	s, _ = drive(s, keys("down", "down", "down")...) // the member
	_, out := drive(s, keyMsg("c"))
	if len(out) != 1 {
		t.Fatalf("c on a member: got %v, want a push of the share screen", out)
	}
	if p, ok := out[0].(pushMsg); !ok || !strings.Contains(strings.ToLower(p.s.Title()), "share") {
		t.Errorf("c on a member: got %#v, want the share screen", out[0])
	}
	if !slices.Contains(f.Called(), "Card alice ") {
		t.Errorf("backend calls %v lack Card alice", f.Called())
	}
	s, _ = drive(s, keyMsg("up")) // the group
	_, out = drive(s, keyMsg("t"))
	if len(out) != 1 {
		t.Fatalf("t on a group: got %v, want one error", out)
	}
	if e, ok := out[0].(errMsg); !ok || !errors.Is(e.err, errNoDrop) {
		t.Errorf("t on a group: got %#v, want the backend's error", out[0])
	}
	if !slices.Contains(f.Called(), "Contribute "+f.Snap.Groups[0].Prefix+" alice") {
		t.Errorf("backend calls %v lack the contribution of alice", f.Called())
	}
}

// TestHomeCardForNewGroup: a member that sits in groups already and has
// no seat free gets its card for a new group through a fresh seat, for a
// group it names first.
func TestHomeCardForNewGroup(t *testing.T) {
	f := &fakeBackend{Snap: sampleSnapshot()}
	f.OnCard = func(alias, forGroup string) (Outgoing, error) {
		return Outgoing{Title: "member card of " + alias + " for " + forGroup, Name: "card.json", Data: []byte(`{}`)}, nil
	}
	c := testCommon(f)
	s, _ := drive(newHomeScreen(c), snapshotMsg{f.Snap})
	s, _ = drive(s, keys("down", "down", "down")...)
	_, out := drive(s, keyMsg("c"))
	p, ok := out[0].(pushMsg)
	if len(out) != 1 || !ok {
		t.Fatalf("c on a member in a group: got %v, want a push", out)
	}
	prompt, ok := p.s.(*cardForScreen)
	if !ok {
		t.Fatalf("c pushed %T, want the card-for prompt", p.s)
	}
	hasAll(t, "prompt", prompt.View(), "already sits in acme", "fresh seat", "Name the group")
	var sc screen = prompt
	_, out = drive(sc, keyMsg("enter"))
	if len(out) != 1 || !strings.Contains(out[0].(infoMsg).text, "name the group") {
		t.Fatalf("enter without a name: %v", out)
	}
	for _, r := range "wgroup2" {
		sc, _ = drive(sc, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	drive(sc, keyMsg("enter"))
	if !slices.Contains(f.Called(), "Card alice wgroup2") {
		t.Errorf("backend calls %v lack the card of alice for wgroup2", f.Called())
	}
}

// TestHomeCheckWarning: the member check run at start-up warns on Home
// when a seat is not ready, and C opens the check.
func TestHomeCheckWarning(t *testing.T) {
	f := &fakeBackend{Snap: sampleSnapshot()}
	c := testCommon(f)
	c.check = &CheckReport{Ready: false, NotReady: []string{"alice in acme"}, Lines: []string{"alice in acme: NOT READY: acme does not commit its next key"}}
	h, _ := drive(newHomeScreen(c), snapshotMsg{f.Snap})
	hasAll(t, "home view", h.View(), "member check: alice in acme not ready: press C")
	_, out := drive(h, keyMsg("C"))
	p, ok := out[0].(pushMsg)
	if len(out) != 1 || !ok {
		t.Fatalf("C: %v", out)
	}
	hasAll(t, "check screen", p.s.View(), "NOT READY: alice in acme", "acme does not commit its next key")
	c.check = &CheckReport{Ready: true}
	if strings.Contains(h.View(), "member check") {
		t.Errorf("a ready check still warns:\n%s", h.View())
	}
}

func TestHomeGolden(t *testing.T) {
	f := &fakeBackend{Snap: sampleSnapshot()}
	tm := startModel(t, f, "Members of this device")
	requireGolden(t, finalView(t, tm))
}

func TestHomeFirstRunGolden(t *testing.T) {
	f := &fakeBackend{Snap: Snapshot{Home: "/home/alice/.config/keremony", Keystore: "the OS keyring"}}
	tm := startModel(t, f, "Welcome")
	requireGolden(t, finalView(t, tm))
}

// TestViewsFitTheWindow renders the home screen at several sizes: no line
// may be wider than the window, and the whole screen no taller.
func TestViewsFitTheWindow(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {60, 20}, {120, 40}, {40, 12}} {
		f := &fakeBackend{Snap: sampleSnapshot()}
		m := New(Options{PollInterval: -1}, nil)
		m.c.backend = f
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		m.Update(snapshotMsg{f.Snap})
		assertFits(t, m.View(), size[0], size[1])
		m.Update(keyMsg("?"))
		assertFits(t, m.View(), size[0], size[1])
	}
}

// TestHomeInboxOrderAndFocus: proposals come first, stale cards last; a
// proposal that arrives later takes the cursor and is announced; a stale
// card says why it no longer works.
func TestHomeInboxOrderAndFocus(t *testing.T) {
	snap := sampleSnapshot()
	stale := "bob's card is stale: bob rotated at sn 3 of acme (the card's next key was revealed there), so bob no longer signs with the card's key"
	snap.Inbox = []InboxItem{
		{Kind: InboxCard, Source: "card-bob-old.json", Label: "bob", Stale: stale},
		{Kind: InboxCard, Source: "card-carol.json", Label: "carol"},
		{Kind: InboxCard, Source: "card-dave.json", Label: "dave"},
	}
	f := &fakeBackend{Snap: snap}
	c := testCommon(f)
	h, out := drive(newHomeScreen(c), snapshotMsg{snap})
	if len(out) != 1 || hasInfo(out, "proposal") {
		t.Errorf("no proposal, yet: %#v", out)
	}
	v := h.View()
	iCarol, iDave, iBob := strings.Index(v, "carol  from"), strings.Index(v, "dave  from"), strings.Index(v, "bob  ⚠ stale")
	if iCarol < 0 || iDave < 0 || iBob < 0 || iBob < iCarol || iBob < iDave {
		t.Errorf("the stale card is not last, or not marked:\n%s", v)
	}
	_, out = drive(h, keys("down", "down", "enter")...)
	if !hasInfo(out, "this card no longer works: "+stale) {
		t.Errorf("enter on the stale card: %#v", out)
	}
	// A proposal arrives: it goes first and takes the cursor.
	h, _ = drive(h, keys("up", "up")...)
	snap.Inbox = append([]InboxItem{{Kind: InboxProposal, Source: "proposal-c1.json", Label: "rotation of acme, sn 4, from alice", From: "alice", ID: "c1"}}, snap.Inbox...)
	c.snap = snap
	h, out = drive(h, keys("down")...)
	h, out = drive(h, snapshotMsg{snap})
	if !hasInfo(out, "proposal from alice: enter to review (rotation of acme, sn 4)") {
		t.Errorf("no notice: %#v", out)
	}
	_, out = drive(h, keys("enter")...)
	if rv, ok := pushedScreen[*reviewScreen](out); !ok || rv.id != "c1" {
		t.Errorf("enter after the proposal arrived: %#v", out)
	}
	// The same proposal again: no second notice, the cursor stays.
	if h, out = drive(h, snapshotMsg{snap}); hasInfo(out, "proposal from") {
		t.Errorf("announced twice: %#v", out)
	}
	if r, ok := h.(*homeScreen).selected(); !ok || r.kind != rowInbox || snap.Inbox[r.i].ID != "c1" {
		t.Errorf("the cursor left the proposal: %+v", r)
	}
	c.busy = 0
	requireTeaGolden(t, c, h)
}

// A group whose stored KEL does not restore is marked on the home screen,
// and its page says why.
func TestHomeUnreadableGroup(t *testing.T) {
	snap := sampleSnapshot()
	snap.Groups[0].Unreadable = "ceremony store does not replay: kel entry 0000000000000005 (EAcme… sn 4) does not replay: signature does not verify"
	f := &fakeBackend{Snap: snap}
	c := testCommon(f)
	h, _ := drive(newHomeScreen(c), snapshotMsg{f.Snap})
	hasAll(t, "home view", h.View(), "acme", "sn 3", "✗ stored kel does not restore")
	if strings.Contains(h.View(), "any 2 of alice, bob, carol") {
		t.Error("the home shows the unreadable group's thresholds as if they were current")
	}
	c.snap = snap
	g := newGroupScreen(c, snap.Groups[0].Prefix)
	hasAll(t, "group view", strings.Join(strings.Fields(g.View()), " "), "stored kel of the group does not restore", "signature does not verify", "the other groups are not affected")
}
