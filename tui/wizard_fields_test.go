package tui

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/keremony/keremony/kel"
)

// wizKey is a deterministic transferable Ed25519 key (qb64) for seed.
func wizKey(seed byte) string {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return kel.EncodeVerKey(priv.Public().(ed25519.PublicKey))
}

// flat collapses runs of white space, so that text the view wrapped
// compares with the text it wraps.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// viewHas fails unless the view shows want (wrapping aside).
func viewHas(t *testing.T, view, want string) {
	t.Helper()
	if !strings.Contains(flat(view), flat(want)) {
		t.Errorf("view lacks %q:\n%s", want, view)
	}
}

// ctrlU clears a text field (delete before the cursor).
var ctrlU = tea.KeyMsg{Type: tea.KeyCtrlU}

// shiftTab goes back a field or a step.
var shiftTab = tea.KeyMsg{Type: tea.KeyShiftTab}

// retype clears the focused field and types s.
func retype(s string) []tea.Msg { return append([]tea.Msg{ctrlU}, typeText(s)...) }

// find returns the first message of type T in msgs.
func find[T any](msgs []tea.Msg) (T, bool) {
	for _, m := range msgs {
		if v, ok := m.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// wizFits fails when a body is wider than width or taller than height.
func wizFits(t *testing.T, what, view string, width, height int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) > height {
		t.Errorf("%s at %dx%d: %d lines, more than %d:\n%s", what, width, height, len(lines), height, view)
	}
	for i, l := range lines {
		if w := lipgloss.Width(l); w > width {
			t.Errorf("%s at %dx%d: line %d is %d wide: %q", what, width, height, i, w, l)
		}
	}
}

// resize sets the window as the root does: common first, then the message.
func resize(c *common, s screen, width, height int) screen {
	c.width, c.height = width, height
	s, _ = s.Update(tea.WindowSizeMsg{Width: width, Height: height})
	return s
}

// checkSizes renders s at several window sizes: the body must fit the
// body's rows and the whole screen the window.
func checkSizes(t *testing.T, c *common, s screen, what string) {
	t.Helper()
	for _, size := range [][2]int{{80, 24}, {60, 20}, {120, 40}, {40, 12}} {
		s = resize(c, s, size[0], size[1])
		wizFits(t, what+" body", s.View(), size[0], c.bodyHeight())
		wizFits(t, what+" screen", screenView(c, s), size[0], size[1])
	}
	resize(c, s, 80, 24)
}

// The threshold field reads what is typed with kel.ParseThresholdText
// (whose grammar kel tests) and checks it against the keys.
func TestThresholdFieldForms(t *testing.T) {
	mustW := func(clauses ...[]string) kel.Threshold {
		th, err := kel.WeightedThreshold(clauses)
		if err != nil {
			t.Fatal(err)
		}
		return th
	}
	mustJ := func(s string) kel.Threshold {
		th, err := kel.ParseThreshold(s)
		if err != nil {
			t.Fatal(err)
		}
		return th
	}
	good := []struct {
		text string
		want kel.Threshold
	}{
		{"2", kel.IntThreshold(2)},
		{" 12 ", kel.IntThreshold(12)},
		{`"a"`, kel.IntThreshold(10)},
		{"1/2,1/4,1/4", mustW([]string{"1/2", "1/4", "1/4"})},
		{"1/2, 1/4, 1/4", mustW([]string{"1/2", "1/4", "1/4"})},
		{"1/2,1/2;1,1", mustW([]string{"1/2", "1/2"}, []string{"1", "1"})},
		{`["1/2","1/4","1/4"]`, mustJ(`["1/2","1/4","1/4"]`)},
		{`[["1/2","1/2"],["1","1"]]`, mustW([]string{"1/2", "1/2"}, []string{"1", "1"})},
	}
	for _, tc := range good {
		f := newThresholdField("kt> ")
		f.in.SetValue(tc.text)
		f.check(tc.want.Size(), nil)
		if f.err != nil {
			t.Errorf("%q: %v", tc.text, f.err)
			continue
		}
		if !f.th.Equal(tc.want) || f.reading != tc.want.Describe(nil) {
			t.Errorf("%q: got %s (%q), want %s", tc.text, f.th, f.reading, tc.want)
		}
	}
	bad := []struct {
		text string
		also error // besides kel.ErrThreshold
	}{
		{"", kel.ErrThresholdForm},
		{"abc", kel.ErrThresholdForm},
		{"2 of 3", kel.ErrThresholdForm},
		{"-1", kel.ErrThresholdForm},
		{"1/2,1/4", nil},  // weights add up to 3/4: never met
		{"1/2,,x", nil},   // not a weight
		{"0.5,0.5", nil},  // decimals
		{`["1/2"`, nil},   // broken json
		{"1/2,1/2;", nil}, // empty clause
		{"0", nil},        // parses, but is never met with 3 keys
	}
	for _, tc := range bad {
		f := newThresholdField("kt> ")
		f.in.SetValue(tc.text)
		f.check(3, nil)
		if !errors.Is(f.err, kel.ErrThreshold) || f.reading != "" {
			t.Errorf("%q: error %v (reading %q), want kel.ErrThreshold", tc.text, f.err, f.reading)
		}
		if tc.also != nil && !errors.Is(f.err, tc.also) {
			t.Errorf("%q: error %v, want %v", tc.text, f.err, tc.also)
		}
	}
}

func TestParseExpiry(t *testing.T) {
	for text, want := range map[string]time.Duration{"": 0, " ": 0, "72h": 72 * time.Hour, "90m": 90 * time.Minute, "3d": 72 * time.Hour} {
		got, err := parseExpiry(text)
		if err != nil || got != want {
			t.Errorf("%q: got %v, %v; want %v", text, got, err, want)
		}
	}
	for _, text := range []string{"soon", "-1h", "0s", "0d", "d", "1.5d"} {
		if _, err := parseExpiry(text); !errors.Is(err, errExpiry) {
			t.Errorf("%q: error %v, want errExpiry", text, err)
		}
	}
}

func TestCheckGroupAlias(t *testing.T) {
	snap := Snapshot{Groups: []GroupInfo{{Alias: "acme", Prefix: "E1"}}}
	if err := checkGroupAlias("beta-2.x_y", snap); err != nil {
		t.Errorf("good alias: %v", err)
	}
	for _, a := range []string{"", "acme", "has space", "..", strings.Repeat("a", 33), "é"} {
		if err := checkGroupAlias(a, snap); !errors.Is(err, errGroupAlias) {
			t.Errorf("%q: error %v, want errGroupAlias", a, err)
		}
	}
}

func TestThresholdFieldReading(t *testing.T) {
	labels := []string{"alice", "bob", "carol"}
	f := newThresholdField("kt> ")
	f.in.SetValue("1/2,1/4,1/4")
	f.check(3, labels)
	want, err := kel.WeightedThreshold([][]string{{"1/2", "1/4", "1/4"}})
	if err != nil {
		t.Fatal(err)
	}
	if f.err != nil || f.reading != want.Describe(labels) {
		t.Errorf("reading %q (err %v), want %q", f.reading, f.err, want.Describe(labels))
	}
	// Weights for only two of three keys.
	f.in.SetValue("1/2,1/2")
	f.check(3, labels)
	if !errors.Is(f.err, kel.ErrThreshold) || f.reading != "" {
		t.Errorf("two weights for three keys: err %v, reading %q", f.err, f.reading)
	}
}

func TestPickListMoves(t *testing.T) {
	k := DefaultKeyMap()
	l := pickList[string]{items: []string{"a", "b", "c"}}
	for _, step := range []struct {
		key    string
		want   string
		cursor int
	}{
		{"J", "bac", 1}, {"J", "bca", 2}, {"J", "bca", 2}, {"up", "bca", 1}, {"K", "cba", 0}, {"K", "cba", 0}, {"down", "cba", 1},
	} {
		l.navigate(keyMsg(step.key), k)
		if got := strings.Join(l.items, ""); got != step.want || l.cursor != step.cursor {
			t.Fatalf("after %s: %s cursor %d, want %s cursor %d", step.key, got, l.cursor, step.want, step.cursor)
		}
	}
	l.remove()
	if got := strings.Join(l.items, ""); got != "ca" || l.cursor != 1 {
		t.Errorf("after remove: %s cursor %d", got, l.cursor)
	}
}
