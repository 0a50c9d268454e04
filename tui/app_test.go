package tui

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/keremony/keremony/transport"
)

// rootWith is a root model over f, sized 80x24, holding f's snapshot.
func rootWith(f *fakeBackend) *Model {
	m := New(Options{PollInterval: -1, Now: func() time.Time { return fixedNow }}, nil)
	m.c.backend = f
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m.Update(snapshotMsg{f.Snap})
	return m
}

func isQuit(cmd tea.Cmd) bool {
	for _, msg := range runCmd(cmd) {
		if _, ok := msg.(tea.QuitMsg); ok {
			return true
		}
	}
	return false
}

func TestRootKeys(t *testing.T) {
	f := &fakeBackend{Snap: sampleSnapshot()}

	m := rootWith(f)
	if _, cmd := m.Update(keyMsg("q")); !isQuit(cmd) {
		t.Error("q on the home screen does not quit")
	}

	// While a text field has the keyboard, q and ? type into it.
	m = rootWith(f)
	m.Update(pushMsg{newMemberScreen(m.c)})
	for _, k := range []string{"q", "?"} {
		if _, cmd := m.Update(keyMsg(k)); isQuit(cmd) || m.help {
			t.Errorf("%s while typing quit or opened the help", k)
		}
	}
	if got := m.top().(*memberScreen).in.Value(); got != "q?" {
		t.Errorf("member alias field = %q, want %q", got, "q?")
	}
	if _, cmd := m.Update(keyMsg("ctrl+c")); !isQuit(cmd) {
		t.Error("ctrl+c while typing does not quit")
	}

	// ? opens and closes the help; esc pops a screen.
	m = rootWith(f)
	m.Update(keyMsg("?"))
	if !m.help || !strings.Contains(m.View(), "Everywhere") {
		t.Errorf("? did not open the help:\n%s", m.View())
	}
	m.Update(keyMsg("?"))
	if m.help {
		t.Error("? did not close the help")
	}
	m.Update(pushMsg{newGroupScreen(m.c, f.Snap.Groups[0].Prefix)})
	m.Update(keyMsg("esc"))
	if len(m.stack) != 1 {
		t.Errorf("esc left %d screens, want 1", len(m.stack))
	}
}

func TestRootErrorsAndNotices(t *testing.T) {
	f := &fakeBackend{Snap: sampleSnapshot()}
	m := rootWith(f)
	errBoom := errors.New("disk on fire")
	m.Update(errMsg{"writing x", errBoom})
	if v := m.View(); !strings.Contains(v, "✗ writing x: disk on fire") {
		t.Errorf("error not in the status line:\n%s", v)
	}
	_, cmd := m.Update(noticesMsg{[]Notice{{Ceremony: "c1", Text: "signature of bob added: 2 of 2"}}})
	if !strings.Contains(m.View(), "signature of bob added: 2 of 2") {
		t.Errorf("notice not in the status line:\n%s", m.View())
	}
	// A notice refreshes the snapshot.
	for _, msg := range runCmd(cmd) {
		m.Update(msg)
	}
	if !slices.Contains(f.Called(), "Snapshot") {
		t.Errorf("calls %v: a notice did not refresh the snapshot", f.Called())
	}
	if n := len(m.c.log); n != 2 || !strings.Contains(m.c.log[0], "error: writing x") {
		t.Errorf("log = %q, want the error and the notice", m.c.log)
	}
}

func TestRootPassphrasePrompt(t *testing.T) {
	f := &fakeBackend{Snap: sampleSnapshot()}
	m := rootWith(f)
	reply := make(chan askReply, 1)
	m.Update(askMsg{create: true, reply: reply})
	if !strings.Contains(m.View(), "Keystore passphrase") {
		t.Fatalf("no passphrase prompt:\n%s", m.View())
	}
	send := func(s string) {
		for _, msg := range typeText(s) {
			m.Update(msg)
		}
		m.Update(keyMsg("enter"))
	}
	send("correct horse")
	if strings.Contains(m.View(), "correct horse") {
		t.Error("the passphrase is echoed")
	}
	send("wrong horse")
	if !strings.Contains(m.View(), errPassphraseMismatch.Error()) {
		t.Errorf("mismatch not reported:\n%s", m.View())
	}
	send("correct horse")
	send("correct horse")
	select {
	case r := <-reply:
		if r.err != nil || string(r.pass) != "correct horse" {
			t.Errorf("reply = %q, %v", r.pass, r.err)
		}
	default:
		t.Fatal("no reply after the passphrase was typed twice")
	}
	if m.ask != nil {
		t.Error("prompt still open")
	}

	// esc cancels.
	reply = make(chan askReply, 1)
	m.Update(askMsg{create: false, reply: reply})
	m.Update(keyMsg("esc"))
	if r := <-reply; !errors.Is(r.err, errCanceled) {
		t.Errorf("esc: reply error %v, want errCanceled", r.err)
	}
}

func TestMemberScreen(t *testing.T) {
	f := &fakeBackend{Snap: Snapshot{}}
	created := ""
	f.OnNewMember = func(alias string) error { created = alias; return nil }
	c := testCommon(f)
	_, out := drive(newMemberScreen(c), append(typeText("alice"), keyMsg("enter"))...)
	if created != "alice" {
		t.Errorf("NewMember got %q, want alice", created)
	}
	var popped, told bool
	for _, msg := range out {
		switch msg := msg.(type) {
		case popMsg:
			popped = true
		case infoMsg:
			told = strings.Contains(msg.text, "created member alice")
		}
	}
	if !popped || !told {
		t.Errorf("after creating: messages %v, want a pop and an info", out)
	}

	errTaken := errors.New("alias taken")
	f.OnNewMember = func(string) error { return errTaken }
	s, out := drive(newMemberScreen(c), append(typeText("bob"), keyMsg("enter"))...)
	if len(out) != 1 || !errors.Is(out[0].(errMsg).err, errTaken) {
		t.Errorf("failed creation: got %v, want the backend's error", out)
	}
	// Nothing typed is lost: the screen stays, with the alias, for a retry.
	if ms, ok := s.(*memberScreen); !ok || ms.in.Value() != "bob" {
		t.Errorf("after a refused creation: screen %T, want the member screen still holding %q", s, "bob")
	}
}

func TestMemberGolden(t *testing.T) {
	c := testCommon(&fakeBackend{})
	s, _ := drive(newMemberScreen(c), typeText("alice-laptop")...)
	requireTeaGolden(t, c, s)
}

func TestGroupGolden(t *testing.T) {
	f := &fakeBackend{Snap: sampleSnapshot()}
	c := testCommon(f)
	requireTeaGolden(t, c, newGroupScreen(c, f.Snap.Groups[0].Prefix))
}

func TestLogScreen(t *testing.T) {
	f := &fakeBackend{Snap: sampleSnapshot()}
	c := testCommon(f)
	c.log = []string{"10:00:00 signature of bob added"}
	if v := newLogScreen(c, "").View(); !strings.Contains(v, "signature of bob added") {
		t.Errorf("session log:\n%s", v)
	}
	if v := newLogScreen(c, "nope").View(); !strings.Contains(v, "no ceremony nope") {
		t.Errorf("unknown ceremony:\n%s", v)
	}
	id := f.Snap.Ceremonies[0].ID
	if v := newLogScreen(c, id).View(); !strings.Contains(v, "inception of acme") {
		t.Errorf("ceremony log:\n%s", v)
	}
}

func TestLogGolden(t *testing.T) {
	f := &fakeBackend{Snap: sampleSnapshot()}
	c := testCommon(f)
	c.log = []string{"10:00:00 created member alice", "10:00:05 error: reading x: no such file"}
	requireTeaGolden(t, c, newLogScreen(c, ""))
}

// kc1Frames encodes msg as KC1 frame lines of at most frameLen
// characters.
func kc1Frames(t *testing.T, msg []byte, frameLen int) []string {
	t.Helper()
	seq, err := transport.EncodeFramesFit(transport.TypeEvents, msg, frameLen)
	if err != nil {
		t.Fatal(err)
	}
	return seq.Frames()
}

// TestRootEscInWizard: esc takes a wizard back a step, and only from its
// first step closes it.
func TestRootEscInWizard(t *testing.T) {
	f := &fakeBackend{Snap: sampleSnapshot()}
	m := rootWith(f)
	m.Update(pushMsg{newInceptionWizard(m.c)})
	w := m.top().(*inceptionWizard)
	w.step = incPropose
	w.applyFocus()
	m.Update(keyMsg("esc"))
	if len(m.stack) != 2 {
		t.Fatalf("esc on a later step closed the wizard")
	}
	if w.step != incPropose-1 {
		t.Errorf("esc: step %d, want the step before, %d", w.step, incPropose-1)
	}
	w.step = incMembers
	w.applyFocus()
	_, cmd := m.Update(keyMsg("esc"))
	for _, msg := range runCmd(cmd) {
		m.Update(msg)
	}
	if len(m.stack) != 1 {
		t.Errorf("esc on the first step left %d screens, want 1", len(m.stack))
	}
}

// TestRootStartsPushedScreens: a pushed screen's start work (the review's
// backend call) runs without waiting for another message.
func TestRootStartsPushedScreens(t *testing.T) {
	f := &fakeBackend{Snap: sampleSnapshot()}
	f.OnReview = func(id string) (ReviewInfo, error) { return ReviewInfo{ProposalID: id}, nil }
	m := rootWith(f)
	_, cmd := m.Update(pushMsg{newReviewScreen(m.c, "p1")})
	runCmd(cmd)
	if !slices.Contains(f.Called(), "Review p1") {
		t.Errorf("calls %v: the pushed review did not start", f.Called())
	}
}

func TestGroupScreenKeys(t *testing.T) {
	f := &fakeBackend{Snap: sampleSnapshot()}
	f.OnContribute = func(group, alias string) (Outgoing, error) {
		return Outgoing{Title: "contribution of " + alias, Data: []byte("{}")}, nil
	}
	c := testCommon(f)
	prefix := f.Snap.Groups[0].Prefix
	for _, tc := range []struct{ key, want string }{{"r", "rotate"}, {"a", "anchor"}, {"t", "share"}} {
		_, out := drive(newGroupScreen(c, prefix), keyMsg(tc.key))
		if len(out) != 1 {
			t.Fatalf("%s: got %v, want one push", tc.key, out)
		}
		p, ok := out[0].(pushMsg)
		if !ok || !strings.Contains(strings.ToLower(p.s.Title()), tc.want) {
			t.Errorf("%s: got %#v, want the %s screen", tc.key, out[0], tc.want)
		}
	}
	if !slices.Contains(f.Called(), "Contribute "+prefix+" alice") {
		t.Errorf("calls %v lack alice's contribution", f.Called())
	}
	v := newGroupScreen(c, prefix).View()
	hasAll(t, "group view", v, "k[1] bob", "n[2] carol", "any 2 of alice, bob, carol", "This device in acme", "alice: signs at k[0]; its next key is committed at n[0]")
	if v := newGroupScreen(c, "Enope").View(); !strings.Contains(v, "holds no kel of Enope") {
		t.Errorf("unknown group view:\n%s", v)
	}
}

// TestRootPolls: a poll runs without the spinner, its notices reach the
// status line, and the next poll is scheduled after it ends, also after
// an error.
func TestRootPolls(t *testing.T) {
	errGone := errors.New("drop folder gone")
	f := &fakeBackend{Snap: sampleSnapshot()}
	polls := 0
	f.OnPoll = func() ([]Notice, error) {
		polls++
		if polls == 2 {
			return nil, errGone
		}
		return []Notice{{Text: "signature of bob added"}}, nil
	}
	m := New(Options{PollInterval: time.Hour, Now: func() time.Time { return fixedNow }}, nil)
	m.c.backend = f
	for round := 1; round <= 2; round++ {
		busy := m.c.busy // round 1's notice started a snapshot refresh
		_, cmd := m.Update(pollTickMsg{})
		if m.c.busy != busy {
			t.Fatalf("round %d: a poll shows the spinner (busy %d → %d)", round, busy, m.c.busy)
		}
		msgs := runCmd(cmd)
		if len(msgs) != 1 {
			t.Fatalf("round %d: poll produced %v", round, msgs)
		}
		_, next := m.Update(msgs[0])
		if next == nil {
			t.Errorf("round %d: no next poll scheduled", round)
		}
	}
	if polls != 2 {
		t.Errorf("Poll called %d times, want 2", polls)
	}
	if v := m.View(); !strings.Contains(v, "checking the drop folder: drop folder gone") {
		t.Errorf("poll error not shown:\n%s", v)
	}
	if len(m.c.log) < 2 || !strings.Contains(m.c.log[0], "signature of bob added") {
		t.Errorf("log %q lacks the first poll's notice", m.c.log)
	}
}

func TestHelpGolden(t *testing.T) {
	tm := startModel(t, &fakeBackend{Snap: sampleSnapshot()}, "Members of this device")
	tm.Send(keyMsg("?"))
	waitScreen(t, tm, "Everywhere")
	requireGolden(t, finalView(t, tm))
}

func TestPassphraseGolden(t *testing.T) {
	tm := startModel(t, &fakeBackend{Snap: sampleSnapshot()}, "Members of this device")
	tm.Send(askMsg{create: true, reply: make(chan askReply, 1)})
	waitScreen(t, tm, "Keystore passphrase")
	requireGolden(t, finalView(t, tm))
}

// TestRootSignedBackToCollect: a review opened from a ceremony's collect
// screen goes back to that screen when it signs (one esc then reaches
// home); opened from home, it is replaced by the collect screen.
func TestRootSignedBackToCollect(t *testing.T) {
	f := &fakeBackend{Snap: sampleSnapshot()}
	m := rootWith(f)
	id := f.Snap.Ceremonies[0].ID
	m.Update(pushMsg{newCollectScreen(m.c, id)})
	m.Update(pushMsg{newReviewScreen(m.c, id)})
	m.Update(replaceMsg{newCollectScreen(m.c, id)})
	if len(m.stack) != 2 {
		t.Fatalf("stack of %d screens, want home and one collect screen", len(m.stack))
	}
	m.Update(keyMsg("esc"))
	if _, ok := m.top().(*homeScreen); !ok || len(m.stack) != 1 {
		t.Errorf("esc leads to %T (%d screens)", m.top(), len(m.stack))
	}
	m.Update(pushMsg{newReviewScreen(m.c, id)})
	m.Update(replaceMsg{newCollectScreen(m.c, id)})
	if _, ok := m.top().(*collectScreen); !ok || len(m.stack) != 2 {
		t.Errorf("from home: %T on top (%d screens)", m.top(), len(m.stack))
	}
}
