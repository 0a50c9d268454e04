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
		}},
		Groups: []GroupInfo{{
			Alias: "acme", Prefix: "EAcmeGroup00000000000000000000000000000000",
			State:  kel.KeyState{Prefix: "EAcmeGroup00000000000000000000000000000000", Sn: 3, EstSn: 2, Keys: []string{"DA", "DB", "DC"}, Kt: kt, Next: []string{"EA", "EB", "EC"}, Nt: kt},
			KtText: "any 2 of alice, bob, carol", NtText: "any 2 of alice, bob, carol",
			Labels: []string{"alice", "bob", "carol"}, NextLabels: []string{"alice", "bob", "carol"}, Mine: []string{"alice"},
		}},
		Ceremonies: []CeremonyInfo{{
			ID: "3f2a9c1e-0000-4000-8000-000000000000", ProposalID: "3f2a9c1e-0000-4000-8000-000000000000",
			Kind: ceremony.KindInception, Group: "acme", Prefix: "EAcmeGroup00000000000000000000000000000000", Ilk: "icp",
			State: ceremony.StateCollecting, Signed: true,
			Progress: ceremony.Progress{State: ceremony.StateCollecting, Signed: []int{0}, Kt: kt.Satisfy([]int{0}), KtText: "any 2 of 3"},
		}},
		Inbox: []InboxItem{{Kind: InboxProposal, Source: "proposal-77aa.json", Label: "anchoring of acme, sn 4, from bob", ID: "77aa0000-0000-4000-8000-000000000000"}},
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
	f.OnCard = func(alias string) (Outgoing, error) {
		return Outgoing{Title: "card of " + alias, Name: "card-" + alias + ".json", Data: []byte(`{}`)}, nil
	}
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
	if !slices.Contains(f.Called(), "Card alice") {
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
