package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// incSnapshot is a device with member alice and the cards of bob and carol
// in its inbox (and a proposal, which the wizard ignores).
func incSnapshot() Snapshot {
	return Snapshot{
		Home: "/home/alice/.config/keremony", Keystore: "the OS keyring",
		Members: []MemberInfo{{Alias: "alice", Key: wizKey(1), Next: kel.NextDigest(wizKey(2))}},
		Groups:  []GroupInfo{{Alias: "old", Prefix: "EOld"}},
		Inbox: []InboxItem{
			{Kind: InboxCard, Source: "bob.card", Label: "bob", Card: ceremony.Card{Label: "bob", Key: wizKey(3), Next: kel.NextDigest(wizKey(4))}},
			{Kind: InboxProposal, Source: "p.json", Label: "anchoring of x", ID: "77aa"},
			{Kind: InboxCard, Source: "qr frames", Label: "carol", Card: ceremony.Card{Label: "carol", Key: wizKey(5), Next: kel.NextDigest(wizKey(6))}},
		},
	}
}

func newIncTest(t *testing.T) (*fakeBackend, *common, screen) {
	t.Helper()
	f := &fakeBackend{Snap: incSnapshot()}
	c := testCommon(f)
	return f, c, newInceptionWizard(c)
}

// chooseAll chooses bob and carol besides alice (chosen from the start).
func chooseAll(s screen) screen {
	s, _ = drive(s, keys("down", "space", "down", "space")...)
	return s
}

func incStep(s screen) int { return s.(*inceptionWizard).step }

func TestWizardInceptionRequest(t *testing.T) {
	f, _, s := newIncTest(t)
	var got []InceptionRequest
	f.OnProposeInception = func(r InceptionRequest) (string, error) {
		got = append(got, r)
		return "c0ffee00-0000-4000-8000-000000000000", nil
	}
	if s.Typing() {
		t.Error("the members step has no text field, but Typing is true")
	}
	s = chooseAll(s)
	// carol (the cursor) moves above bob: key order alice, carol, bob.
	s, _ = drive(s, keyMsg("K"))
	s, _ = drive(s, keyMsg("enter"))
	if incStep(s) != incThresholds || !s.Typing() {
		t.Fatalf("after enter: step %d typing %v, want the thresholds step with a focused field", incStep(s), s.Typing())
	}
	// The default kt is a majority of 3 (2); nt follows kt.
	w := s.(*inceptionWizard)
	if w.kt.in.Value() != "2" || w.nt.in.Value() != "2" {
		t.Errorf("defaults kt %q nt %q, want 2 and 2", w.kt.in.Value(), w.nt.in.Value())
	}
	s, _ = drive(s, retype("2")...)
	s, _ = drive(s, keyMsg("enter"), keyMsg("enter"))
	if incStep(s) != incGroup {
		t.Fatalf("step %d, want the group step", incStep(s))
	}
	s, _ = drive(s, typeText("acme")...)
	s, _ = drive(s, keys("tab", "tab")...) // to DND
	if s.Typing() {
		t.Error("Typing on an option toggle")
	}
	s, _ = drive(s, keys("space", "tab")...)
	s, _ = drive(s, append(typeText("72h"), keyMsg("enter"))...)
	// Witnesses: a bad OOBI is refused on the step, then two and toad 2.
	s, _ = drive(s, append(typeText("http://w1/notoobi"), keys("enter", "enter")...)...)
	if incStep(s) != incGroup || !strings.Contains(s.View(), "is not an OOBI URL") {
		t.Fatalf("a bad oobi passed: step %d\n%s", incStep(s), s.View())
	}
	s, _ = drive(s, keyMsg("shift+tab"))
	s, _ = drive(s, ctrlU)
	s, _ = drive(s, append(typeText(wanOOBI+" "+wilOOBI), keyMsg("enter"))...)
	s, _ = drive(s, append(typeText("3"), keyMsg("enter"))...)
	if incStep(s) != incGroup || !strings.Contains(s.View(), "toad \"3\": want a whole number from 1 to the 2 witnesses") {
		t.Fatalf("toad 3 of 2 passed: step %d\n%s", incStep(s), s.View())
	}
	s, _ = drive(s, ctrlU)
	s, _ = drive(s, append(typeText("2"), keyMsg("enter"))...)
	if incStep(s) != incPropose || s.Typing() {
		t.Fatalf("step %d typing %v, want the summary", incStep(s), s.Typing())
	}
	view := s.View()
	for _, want := range []string{"New group acme", "k[0]", "alice", "k[1]", "carol", "k[2]", "bob", "DND", "after 3 days",
		"witnesses 2, resolved when proposed; toad 2 (receipts every event needs)"} {
		viewHas(t, view, want)
	}
	_, out := drive(s, keyMsg("p"))
	if len(got) != 1 {
		t.Fatalf("ProposeInception called %d times; calls %v", len(got), f.Called())
	}
	r := got[0]
	snap := incSnapshot()
	bob, carol := snap.Inbox[0].Card, snap.Inbox[2].Card
	if r.Alias != "acme" || !slices.Equal(r.Local, []string{"alice"}) || !slices.Equal(r.Cards, []ceremony.Card{carol, bob}) ||
		!slices.Equal(r.Order, []string{"alice", "carol", "bob"}) || !slices.Equal(r.Config, []string{"DND"}) || r.Expires != 72*time.Hour {
		t.Errorf("request %+v", r)
	}
	if !r.Kt.Equal(kel.IntThreshold(2)) || !r.Nt.Equal(kel.IntThreshold(2)) {
		t.Errorf("kt %s nt %s, want 2 and 2", r.Kt, r.Nt)
	}
	if !slices.Equal(r.Witnesses, []string{wanOOBI, wilOOBI}) || r.Toad != 2 {
		t.Errorf("witnesses %v toad %d", r.Witnesses, r.Toad)
	}
	rep, ok := find[replaceMsg](out)
	if !ok {
		t.Fatalf("no replace after proposing: %v", out)
	}
	if _, isWizard := rep.s.(*inceptionWizard); isWizard {
		t.Error("replaced by a wizard, want the collect screen")
	}
	if im, ok := find[infoMsg](out); !ok || !strings.Contains(im.text, "c0ffee00") {
		t.Errorf("info %v, want the ceremony id", out)
	}
}

func TestWizardInceptionWeighted(t *testing.T) {
	f, _, s := newIncTest(t)
	var got InceptionRequest
	f.OnProposeInception = func(r InceptionRequest) (string, error) { got = r; return "id", nil }
	s = chooseAll(s)
	s, _ = drive(s, keyMsg("enter"))
	s, _ = drive(s, retype("1/2,1/4,1/4")...)
	labels := []string{"alice", "bob", "carol"}
	want, err := kel.WeightedThreshold([][]string{{"1/2", "1/4", "1/4"}})
	if err != nil {
		t.Fatal(err)
	}
	view := s.View()
	// Both readings: nt follows kt.
	if n := strings.Count(flat(view), flat(want.Describe(labels))); n != 2 {
		t.Errorf("reading %q shown %d times, want 2 (kt and nt):\n%s", want.Describe(labels), n, view)
	}
	// nt in the nested JSON form: two clauses of two weights are four
	// weights for three next keys, which kel refuses; 2 + 1 fit.
	s, _ = drive(s, keyMsg("tab"))
	s, _ = drive(s, retype(`[["1/2","1/2"],["1","1"]]`)...)
	w := s.(*inceptionWizard)
	if !errors.Is(w.nt.err, kel.ErrThreshold) {
		t.Fatalf("nt %q for 3 next keys: err %v", w.nt.in.Value(), w.nt.err)
	}
	viewHas(t, s.View(), w.nt.err.Error())
	nested := `[["1/2","1/2"],["1"]]`
	wantNt, err := kel.ParseThreshold(nested)
	if err != nil {
		t.Fatal(err)
	}
	s, _ = drive(s, retype(nested)...)
	viewHas(t, s.View(), wantNt.Describe(labels))
	s, _ = drive(s, keyMsg("enter"))
	s, _ = drive(s, append(typeText("w"), keys("enter", "enter", "enter", "enter", "enter", "enter")...)...)
	drive(s, keyMsg("p"))
	if !got.Kt.Equal(want) || !got.Nt.Equal(wantNt) {
		t.Errorf("kt %s nt %s, want %s and %s", got.Kt, got.Nt, want, wantNt)
	}
}

func TestWizardInceptionBadThresholds(t *testing.T) {
	three := []string{"alice", "bob", "carol"}
	_, neverMet := kel.WeightedThreshold([][]string{{"1/2", "1/4"}})
	tests := []struct {
		text  string
		want  error  // besides kel.ErrThreshold
		text2 string // the error text kel gives, when it is kel's
	}{
		{"4", nil, kel.IntThreshold(4).Validate(len(three)).Error()},
		{"1/2,1/4", nil, neverMet.Error()},
		{"0", nil, kel.IntThreshold(0).Validate(len(three)).Error()},
		{"abc", kel.ErrThresholdForm, kel.ErrThresholdForm.Error()},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			_, _, s := newIncTest(t)
			s = chooseAll(s)
			s, _ = drive(s, keyMsg("enter"))
			s, _ = drive(s, retype(tc.text)...)
			w := s.(*inceptionWizard)
			if !errors.Is(w.kt.err, kel.ErrThreshold) || tc.want != nil && !errors.Is(w.kt.err, tc.want) {
				t.Errorf("kt %q: err %v", tc.text, w.kt.err)
			}
			viewHas(t, s.View(), tc.text2)
			// The step does not go on, and says why in the status line.
			s, out := drive(s, keys("enter", "enter")...)
			if incStep(s) != incThresholds {
				t.Errorf("went on to step %d with kt %q", incStep(s), tc.text)
			}
			if em, ok := find[errMsg](out); !ok || !errors.Is(em.err, kel.ErrThreshold) {
				t.Errorf("status: %v, want the threshold error", out)
			}
		})
	}
}

func TestWizardInceptionMembersRule(t *testing.T) {
	_, _, s := newIncTest(t)
	s, _ = drive(s, keyMsg("space")) // alice is no longer chosen
	s, _ = drive(s, keys("down", "space")...)
	s, out := drive(s, keyMsg("enter"))
	if incStep(s) != incMembers {
		t.Fatalf("went on without a member of this device")
	}
	if em, ok := find[errMsg](out); !ok || !errors.Is(em.err, errNoLocal) {
		t.Errorf("got %v, want errNoLocal", out)
	}
	viewHas(t, s.View(), errNoLocal.Error())
	// A card under the label of this device's member.
	f := &fakeBackend{Snap: incSnapshot()}
	f.Snap.Inbox = append(f.Snap.Inbox, InboxItem{Kind: InboxCard, Source: "mine.card", Card: ceremony.Card{Label: "alice", Key: wizKey(9), Next: kel.NextDigest(wizKey(10))}})
	c := testCommon(f)
	s = newInceptionWizard(c)
	s, _ = drive(s, keys("down", "down", "down", "space", "enter")...)
	if w := s.(*inceptionWizard); w.step != incMembers || !errors.Is(w.err, errSameLabel) {
		t.Errorf("two alices: step %d err %v", w.step, w.err)
	}
}

func TestWizardInceptionBackendError(t *testing.T) {
	f, _, s := newIncTest(t)
	errBoom := errors.New("drop folder is read-only")
	calls := 0
	var reqs []InceptionRequest
	f.OnProposeInception = func(r InceptionRequest) (string, error) {
		calls++
		reqs = append(reqs, r)
		if calls == 1 {
			return "", errBoom
		}
		return "id-2", nil
	}
	s = chooseAll(s)
	s, _ = drive(s, keys("enter", "enter", "enter")...)
	s, _ = drive(s, append(typeText("acme"), keys("enter", "enter", "enter", "enter", "enter", "enter")...)...)
	if incStep(s) != incPropose {
		t.Fatalf("step %d, want the summary", incStep(s))
	}
	s, out := drive(s, keyMsg("p"))
	if em, ok := find[errMsg](out); !ok || !errors.Is(em.err, errBoom) {
		t.Fatalf("got %v, want the backend's error in the status line", out)
	}
	if _, ok := find[replaceMsg](out); ok {
		t.Fatal("replaced the wizard after an error")
	}
	viewHas(t, s.View(), errBoom.Error())
	// Nothing is lost: p again sends the same request.
	_, out = drive(s, keyMsg("p"))
	if _, ok := find[replaceMsg](out); !ok || len(reqs) != 2 {
		t.Fatalf("retry: %v, %d calls", out, len(reqs))
	}
	if fmt.Sprint(reqs[0]) != fmt.Sprint(reqs[1]) {
		t.Errorf("retry changed the request:\n%+v\n%+v", reqs[0], reqs[1])
	}
}

func TestWizardInceptionNavigation(t *testing.T) {
	_, c, s := newIncTest(t)
	// esc on the first step pops the wizard.
	if _, out := drive(s, keyMsg("esc")); len(out) != 1 {
		t.Errorf("esc on the first step: %v, want a pop", out)
	} else if _, ok := out[0].(popMsg); !ok {
		t.Errorf("esc on the first step: %T, want popMsg", out[0])
	}
	s = chooseAll(s)
	s, _ = drive(s, keyMsg("enter"))
	s, _ = drive(s, retype("3")...)
	// esc goes back a step; the threshold typed stays.
	s, out := drive(s, keyMsg("esc"))
	if incStep(s) != incMembers || len(out) != 0 {
		t.Fatalf("esc on thresholds: step %d, %v", incStep(s), out)
	}
	s, _ = drive(s, keyMsg("tab"))
	if w := s.(*inceptionWizard); w.kt.in.Value() != "3" {
		t.Errorf("kt %q after going back and forth, want 3", w.kt.in.Value())
	}
	// shift+tab: nt → kt → members.
	s, _ = drive(s, keyMsg("tab"), shiftTab, shiftTab)
	if incStep(s) != incMembers {
		t.Errorf("shift+tab twice from nt: step %d", incStep(s))
	}
	// Single letters type into a focused field instead of acting.
	s, _ = drive(s, keyMsg("enter"))
	s, _ = drive(s, retype("2")...)
	s, out = drive(s, typeText("qi")...)
	if len(out) != 0 || s.(*inceptionWizard).kt.in.Value() != "2qi" {
		t.Errorf("letters in kt: %v, value %q", out, s.(*inceptionWizard).kt.in.Value())
	}
	// Importing more cards: i on the members step opens the import screen;
	// the card it brings shows up, unchosen, and the choices stay.
	_, _, s = newIncTest(t)
	s = chooseAll(s)
	s, out = drive(s, keyMsg("i"))
	if p, ok := find[pushMsg](out); !ok || !strings.Contains(p.s.Title(), "Import") {
		t.Fatalf("i: %v, want the import screen", out)
	}
	snap := incSnapshot()
	dave := ceremony.Card{Label: "dave", Key: wizKey(7), Next: kel.NextDigest(wizKey(8))}
	snap.Inbox = append([]InboxItem{{Kind: InboxCard, Source: "dave.card", Card: dave}}, snap.Inbox...)
	c = s.(*inceptionWizard).c
	c.snap = snap
	s, _ = drive(s, snapshotMsg{snap})
	w := s.(*inceptionWizard)
	var labels []string
	for _, m := range w.members.items {
		labels = append(labels, fmt.Sprintf("%s=%v", m.card.Label, m.chosen))
	}
	if got := strings.Join(labels, " "); got != "alice=true bob=true carol=true dave=false" {
		t.Errorf("after the import: %s", got)
	}
	// The defaults follow the members until typed: 4 keys → 3.
	s, _ = drive(s, keys("down", "space")...)
	if w := s.(*inceptionWizard); w.kt.in.Value() != "3" || w.nt.in.Value() != "3" {
		t.Errorf("defaults for 4 members: kt %q nt %q, want 3", w.kt.in.Value(), w.nt.in.Value())
	}
}

func TestWizardInceptionGolden(t *testing.T) {
	_, c, s := newIncTest(t)
	s = chooseAll(s)
	s, _ = drive(s, keyMsg("enter"))
	s, _ = drive(s, retype("1/2,1/4,1/4")...)
	s, _ = drive(s, keys("enter", "enter")...)
	s, _ = drive(s, append(typeText("acme"), keys("tab", "space", "tab", "tab")...)...)
	s, _ = drive(s, append(typeText("3d"), keyMsg("enter"))...)
	s, _ = drive(s, append(typeText("http://127.0.0.1:5642/oobi/BBilc4-L3tFUnfM_wJr4S4OJanAv_VmF_dJNN6vkf2Ha/controller?name=wan"), keyMsg("enter"))...)
	s, _ = drive(s, append(typeText("1"), keyMsg("enter"))...)
	requireTeaGolden(t, c, s)
}

func TestWizardInceptionFits(t *testing.T) {
	_, c, s := newIncTest(t)
	checkSizes(t, c, s, "members")
	s = chooseAll(s)
	s, _ = drive(s, keyMsg("enter"))
	s, _ = drive(s, retype("1/2,1/4")...) // an error under the field
	checkSizes(t, c, s, "thresholds")
	s, _ = drive(s, retype("2")...)
	s, _ = drive(s, keys("enter", "enter")...)
	s, _ = drive(s, append(typeText("no way"), keys("tab", "tab", "tab")...)...)
	s, _ = drive(s, typeText("later")...)
	checkSizes(t, c, s, "group")
	s, _ = drive(s, ctrlU)
	s, _ = drive(s, keys("up", "up", "up")...)
	s, _ = drive(s, append(retype("acme"), keys("enter", "enter", "enter", "enter", "enter", "enter")...)...)
	if incStep(s) != incPropose {
		t.Fatalf("step %d, want the summary", incStep(s))
	}
	checkSizes(t, c, s, "summary")
	// Many members scroll within the body.
	f := &fakeBackend{Snap: incSnapshot()}
	for i := range 30 {
		f.Snap.Inbox = append(f.Snap.Inbox, InboxItem{Kind: InboxCard, Source: fmt.Sprintf("m%d.card", i),
			Card: ceremony.Card{Label: fmt.Sprintf("member-%02d", i), Key: wizKey(byte(20 + i)), Next: kel.NextDigest(wizKey(byte(100 + i)))}})
	}
	c = testCommon(f)
	s = newInceptionWizard(c)
	for range 25 {
		s, _ = drive(s, keys("down", "space")...)
	}
	checkSizes(t, c, s, "many members")
	if m, ok := s.(*inceptionWizard).members.current(); !ok || !strings.Contains(s.View(), m.card.Label) {
		t.Errorf("the cursor's member is not shown:\n%s", s.View())
	}
	s, _ = drive(s, keyMsg("enter"))
	s, _ = drive(s, keys("enter", "enter")...)
	s, _ = drive(s, append(typeText("big"), keys("enter", "enter", "enter", "enter", "enter", "enter")...)...)
	checkSizes(t, c, s, "many members summary")
}

// pump hands msgs to the root model, and the messages their commands
// produce, until none is left (spinner ticks are dropped).
func pump(m *Model, msgs ...tea.Msg) {
	queue := append([]tea.Msg(nil), msgs...)
	for len(queue) > 0 {
		msg := queue[0]
		queue = queue[1:]
		if _, ok := msg.(spinner.TickMsg); ok {
			continue
		}
		_, cmd := m.Update(msg)
		queue = append(queue, runCmd(cmd)...)
	}
}

// TestWizardInceptionThroughRoot drives the wizard inside the root model:
// from the home screen to the collect screen.
func TestWizardInceptionThroughRoot(t *testing.T) {
	f := &fakeBackend{Snap: incSnapshot()}
	var got InceptionRequest
	f.OnProposeInception = func(r InceptionRequest) (string, error) { got = r; return "5eed0000-0000-4000-8000-000000000000", nil }
	m := New(Options{PollInterval: -1, Now: func() time.Time { return fixedNow }}, nil)
	m.c.backend = f
	pump(m, snapshotMsg{f.Snap})
	pump(m, keyMsg("g"))
	if _, ok := m.top().(*inceptionWizard); !ok {
		t.Fatalf("g opened %T", m.top())
	}
	pump(m, keys("down", "space", "down", "space", "enter")...)
	// In a text field q types instead of quitting, and esc goes back a step.
	pump(m, typeText("q")...)
	if m.quit {
		t.Fatal("q in the kt field quit")
	}
	if w := m.top().(*inceptionWizard); w.kt.in.Value() != "2q" || w.kt.err == nil {
		t.Errorf("kt %q err %v", w.kt.in.Value(), w.kt.err)
	}
	pump(m, keyMsg("esc"))
	if w, ok := m.top().(*inceptionWizard); !ok || w.step != incMembers {
		t.Fatalf("esc in kt: top %T", m.top())
	}
	pump(m, keyMsg("enter"))
	pump(m, keyMsg("backspace"))
	pump(m, keys("enter", "enter")...)
	pump(m, typeText("acme")...)
	pump(m, keys("enter", "enter", "enter", "enter", "enter", "enter")...)
	if w := m.top().(*inceptionWizard); w.step != incPropose {
		t.Fatalf("step %d, want the summary; status %q", w.step, m.status)
	}
	pump(m, keyMsg("p"))
	if _, still := m.top().(*inceptionWizard); still || len(m.stack) != 2 {
		t.Fatalf("after p: stack %d, top %T", len(m.stack), m.top())
	}
	if !strings.Contains(m.status, "5eed0000") || got.Alias != "acme" || len(got.Order) != 3 {
		t.Errorf("status %q, request %+v", m.status, got)
	}
	wizFits(t, "root", m.View(), 80, 24)
}

const (
	wanOOBI = "http://127.0.0.1:5642/oobi/BBilc4-L3tFUnfM_wJr4S4OJanAv_VmF_dJNN6vkf2Ha/controller?name=wan"
	wilOOBI = "http://127.0.0.1:5643/oobi/BLskRTInXnMxWaGqcpSyMgo0nYbalW99cGZESrz3zapM/controller?name=wil"
)

// TestWizardInceptionSkipsStaleCards: a card whose member rotated since is
// not offered (its key signs for nobody).
func TestWizardInceptionSkipsStaleCards(t *testing.T) {
	snap := incSnapshot()
	snap.Inbox[0].Stale = "bob's card is stale: bob rotated at sn 1 of old"
	f := &fakeBackend{Snap: snap}
	s := newInceptionWizard(testCommon(f))
	v := s.View()
	if strings.Contains(v, "bob") || !strings.Contains(v, "carol") {
		t.Errorf("members offered:\n%s", v)
	}
}

// TestWizardInceptionFocusGolden: under NO_COLOR (the tests' profile) the
// field with the keyboard is marked "›" on the thresholds step, and the
// alias field's placeholder reads as an example, not a value.
func TestWizardInceptionFocusGolden(t *testing.T) {
	_, c, s := newIncTest(t)
	s = chooseAll(s)
	s, _ = drive(s, keyMsg("enter"))
	v := s.View()
	if !strings.Contains(v, "› kt> 2") || strings.Contains(v, "› nt>") {
		t.Errorf("thresholds step: the focus is not marked on kt:\n%s", v)
	}
	s, _ = drive(s, keys("tab")...)
	if v := s.View(); !strings.Contains(v, "› nt> 2") || strings.Contains(v, "› kt>") {
		t.Errorf("thresholds step: the focus is not marked on nt:\n%s", v)
	}
	requireTeaGolden(t, c, s)
	s, _ = drive(s, keys("enter")...)
	if v := s.View(); !strings.Contains(v, "› alias> e.g. acme") {
		t.Errorf("group step:\n%s", v)
	}
}
