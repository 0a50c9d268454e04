package tui

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/keremony/keremony/kel"
)

// hostile is appended to every text a peer can choose: it would clear the
// screen, retitle the terminal, hide what follows and reverse the line if
// it reached the terminal as it is.
const hostile = "\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b[8m\u202e\u200b"

// poison appends hostile to every string (and every string of a []string)
// reachable from v, and to every error's text; kel's own types (qb64
// material that parsing already checks) are left alone.
func poison(v reflect.Value, seen map[uintptr]bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] || v.Type().Elem().PkgPath() == reflect.TypeOf(kel.KeyState{}).PkgPath() {
			return
		}
		seen[v.Pointer()] = true
		poison(v.Elem(), seen)
	case reflect.Struct:
		if v.Type().PkgPath() == reflect.TypeOf(kel.KeyState{}).PkgPath() {
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				poison(v.Field(i), seen)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			poison(v.Index(i), seen)
		}
	case reflect.String:
		if v.CanSet() && v.Type() == reflect.TypeOf("") {
			v.SetString(v.String() + hostile)
		}
	case reflect.Interface:
		if err, ok := v.Interface().(error); ok && v.CanSet() {
			v.Set(reflect.ValueOf(errors.New(err.Error() + hostile)))
		}
	}
}

func poisoned[T any](x T) T {
	poison(reflect.ValueOf(&x), map[uintptr]bool{})
	return x
}

// unsafeRunes lists what in a rendered view could steer the terminal or
// hide text: controls other than the newline, format characters (bidi,
// zero-width) and the separators.
func unsafeRunes(view string) []string {
	var out []string
	for _, r := range view {
		if r != '\n' && (unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029') {
			out = append(out, string(r))
		}
	}
	return out
}

func assertInert(t *testing.T, what, view string) {
	t.Helper()
	if bad := unsafeRunes(view); len(bad) > 0 {
		t.Errorf("%s: %d unsafe characters reach the terminal (%q …):\n%s", what, len(bad), bad[0], view)
	}
}

// settle feeds msgs to the root, then what their commands produce, a few
// rounds deep.
func settle(m *Model, msgs ...tea.Msg) {
	for range 6 {
		var next []tea.Msg
		for _, msg := range msgs {
			_, cmd := m.Update(msg)
			for _, out := range runCmd(cmd) {
				switch out.(type) {
				case pollTickMsg:
				default:
					next = append(next, out)
				}
			}
		}
		if len(next) == 0 {
			return
		}
		msgs = next
	}
}

// TestHostileTextIsShownNotObeyed: every text a peer controls (labels,
// group names, file names, reasons, seal text, notices and errors quoting
// them) is drawn with its control, bidi and zero-width characters made
// visible, on every screen.
func TestHostileTextIsShownNotObeyed(t *testing.T) {
	x, ri := inceptionReview(t)
	snap := sampleSnapshot()
	snap.Ceremonies = append(snap.Ceremonies, x.info())
	rot := newRotFixture()
	snap.Groups = append(snap.Groups, rot.snap.Groups...)
	snap.Inbox = append(snap.Inbox, rot.snap.Inbox...)
	snap = poisoned(snap)
	ri = poisoned(ri)
	f := &fakeBackend{Snap: snap}
	f.OnReview = func(string) (ReviewInfo, error) { return ri, nil }
	f.OnReceive = func(string, []byte) ([]Notice, error) {
		return nil, errors.New("refused file x" + hostile + "y.sig")
	}

	m := rootWith(f)
	home := m.View()
	assertInert(t, "home", home)
	if !strings.Contains(home, `\x1b]0;pwned\x07`) {
		t.Errorf("home does not show the escape sequence as text:\n%s", home)
	}
	settle(m, noticesMsg{[]Notice{{Text: "refused file x" + hostile + "y.sig: malformed packet", Err: errFake}}})
	assertInert(t, "status line after a notice", m.View())
	settle(m, errMsg{"reading " + hostile, errors.New("open x" + hostile)})
	assertInert(t, "status line after an error", m.View())

	screens := map[string]screen{
		"collect":        newCollectScreen(m.c, snap.Ceremonies[len(snap.Ceremonies)-1].ID),
		"open collect":   newCollectScreen(m.c, snap.Ceremonies[0].ID),
		"review":         newReviewScreen(m.c, ri.ProposalID),
		"group":          newGroupScreen(m.c, snap.Groups[0].Prefix),
		"session log":    newLogScreen(m.c, ""),
		"ceremony log":   newLogScreen(m.c, snap.Ceremonies[len(snap.Ceremonies)-1].ID),
		"share":          newShareScreen(m.c, Outgoing{Title: "proposal of " + hostile, Name: "p.json", Data: []byte("{}")}),
		"receive":        newReceiveScreen(m.c, "signatures for "+hostile),
		"inception":      newInceptionWizard(m.c),
		"rotation":       newRotationWizard(m.c, snap.Groups[len(snap.Groups)-1].Prefix),
		"anchor":         newAnchorWizard(m.c, snap.Groups[0].Prefix),
		"unknown group":  newGroupScreen(m.c, "E"+hostile),
		"member check":   newCheckScreen(m.c),
		"card for":       newCardForScreen(m.c, snap.Members[0]),
		"rotation of ??": newRotationWizard(m.c, "E"+hostile),
	}
	for name, s := range screens {
		m := rootWith(f)
		settle(m, pushMsg{s})
		for range 8 {
			if bad := unsafeRunes(m.View()); len(bad) > 0 {
				assertInert(t, name, m.View())
				break
			}
			settle(m, keyMsg("pgdown"), keyMsg("tab"))
		}
	}

	// The receive screen quoting a frame and a refused file.
	r := newReceiveScreen(m.c, "")
	r.frame("KC1:E/1-1/"+hostile, "qr frames")
	assertInert(t, "receive, a bad frame", r.View())
	s, _ := drive(r, received{[]Notice{{Text: "file " + hostile}}})
	assertInert(t, "receive, a notice", s.View())
	s, _ = drive(s, errMsg{"", errors.New("import: " + hostile)})
	assertInert(t, "receive, an error", s.View())
}
