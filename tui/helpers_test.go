package tui

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"
)

func init() {
	// Golden files and View assertions compare plain text.
	lipgloss.SetColorProfile(termenv.Ascii)
}

// fixedNow is the clock of every test.
var fixedNow = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// testCommon is a common of an 80x24 window over backend f, holding f's
// snapshot.
func testCommon(f *fakeBackend) *common {
	c := newCommon(func() time.Time { return fixedNow })
	c.backend = f
	c.snap = f.Snap
	return c
}

// keyMsg makes the key message for a key name ("enter", "esc", "tab",
// "ctrl+c", "up", "down", "left", "right", "space", "backspace") or for
// the runes of s.
func keyMsg(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "space":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// tickCode identifies the commands that only wait (tea.Tick, the
// spinner's tick, a text field's cursor blink): every such command shares
// its function's code.
var tickCode = map[uintptr]bool{
	reflect.ValueOf(tea.Tick(time.Hour, nil)).Pointer(): true,
	reflect.ValueOf(spinner.New().Tick).Pointer():       true,
	reflect.ValueOf(blinkCmd()).Pointer():               true,
}

func blinkCmd() tea.Cmd {
	c := cursor.New()
	return c.BlinkCmd()
}

// runCmd runs cmd and everything it batches or sequences, and returns the
// messages they produce, in order. Ticks are dropped without running; any
// other command gets up to 5 s (a loaded machine is slow, not wrong), and
// one that has not returned by then is dropped as well.
func runCmd(cmd tea.Cmd) []tea.Msg {
	if cmd == nil || tickCode[reflect.ValueOf(cmd).Pointer()] {
		return nil
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-ch:
	case <-time.After(5 * time.Second):
		return nil
	}
	if msg == nil {
		return nil
	}
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, runCmd(c)...)
		}
		return out
	}
	// tea.Sequence's message is an unexported []tea.Cmd.
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
		var out []tea.Msg
		for i := range v.Len() {
			out = append(out, runCmd(v.Index(i).Interface().(tea.Cmd))...)
		}
		return out
	}
	return []tea.Msg{msg}
}

// drive sends msgs to s one by one, feeding every message their commands
// produce back to s (screen messages only: pushes, pops and status
// messages are collected and returned for assertions).
func drive(s screen, msgs ...tea.Msg) (screen, []tea.Msg) {
	var out []tea.Msg
	queue := append([]tea.Msg(nil), msgs...)
	for len(queue) > 0 {
		msg := queue[0]
		queue = queue[1:]
		if w, ok := msg.(workDoneMsg); ok {
			msg = w.msg
		}
		switch msg.(type) {
		case pushMsg, popMsg, replaceMsg, infoMsg, errMsg, noticesMsg, snapshotMsg:
			out = append(out, msg)
			if _, ok := msg.(errMsg); !ok {
				if _, ok := msg.(snapshotMsg); !ok {
					continue
				}
			}
		}
		var cmd tea.Cmd
		s, cmd = s.Update(msg)
		queue = append(queue, runCmd(cmd)...)
	}
	return s, out
}

// keys turns key names into messages.
func keys(names ...string) []tea.Msg {
	var out []tea.Msg
	for _, n := range names {
		out = append(out, keyMsg(n))
	}
	return out
}

// typeText turns text into one key message per rune.
func typeText(s string) []tea.Msg {
	var out []tea.Msg
	for _, r := range s {
		out = append(out, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	return out
}

// startModel runs the root model in a teatest program over backend f at
// 80x24 and waits until the home screen shows want.
func startModel(t *testing.T, f *fakeBackend, want string) *teatest.TestModel {
	t.Helper()
	m := New(Options{
		Open:         func(Ask) (Backend, error) { return f, nil },
		PollInterval: -1,
		Now:          func() time.Time { return fixedNow },
	}, nil)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	waitScreen(t, tm, want)
	return tm
}

// waitScreen waits until the program's output contains want.
func waitScreen(t *testing.T, tm *teatest.TestModel, want string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), want) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

// finalView quits the program and returns the root model's last View.
func finalView(t *testing.T, tm *teatest.TestModel) string {
	t.Helper()
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	fm.quit = false
	return fm.View()
}

// requireGolden compares a screen with testdata/<test name>.golden
// (go test ./tui -update rewrites it).
func requireGolden(t *testing.T, view string) {
	t.Helper()
	golden.RequireEqual(t, []byte(view))
}

// requireTeaGolden runs the root model in a teatest program at c's size
// with s on top of the home screen, and compares its last View with
// testdata/<test name>.golden. s keeps the state its test drove it into:
// nothing starts it (so an animation stays on its frame).
func requireTeaGolden(t *testing.T, c *common, s screen) {
	t.Helper()
	m := New(Options{PollInterval: -1, Now: func() time.Time { return fixedNow }}, nil)
	m.c = c
	m.stack = []screen{newHomeScreen(c), s}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(c.width, c.height))
	waitScreen(t, tm, "keremony")
	requireGolden(t, finalView(t, tm))
}

// screenView renders s inside the root's chrome at the common's size, as
// the user sees it.
func screenView(c *common, s screen) string {
	m := &Model{c: c, stack: []screen{s}}
	return m.View()
}

// hasAll fails for each of wants that text lacks; what names text in the
// failure ("view").
func hasAll(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, text)
		}
	}
}

// assertFits fails when view is wider than width or taller than height.
func assertFits(t *testing.T, view string, width, height int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) > height {
		t.Errorf("%dx%d: view has %d lines", width, height, len(lines))
	}
	for i, l := range lines {
		if w := lipgloss.Width(l); w > width {
			t.Errorf("%dx%d: line %d is %d wide: %q", width, height, i, w, l)
		}
	}
}

// requireTeaGoldenStatus is requireTeaGolden with err in the status line.
func requireTeaGoldenStatus(t *testing.T, c *common, s screen, err error) {
	t.Helper()
	m := New(Options{PollInterval: -1, Now: func() time.Time { return fixedNow }}, nil)
	m.c = c
	m.stack = []screen{newHomeScreen(c), s}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(c.width, c.height))
	waitScreen(t, tm, "keremony")
	tm.Send(errMsg{"", err})
	last := strings.Fields(err.Error())
	waitScreen(t, tm, last[len(last)-1])
	requireGolden(t, finalView(t, tm))
}

// hasBinding reports whether s offers the key k in its footer.
func hasBinding(s screen, k string) bool {
	for _, b := range s.Bindings() {
		if b.Help().Key == k {
			return true
		}
	}
	return false
}

// pushedScreen is the first screen of type T that msgs push.
func pushedScreen[T screen](msgs []tea.Msg) (T, bool) {
	for _, m := range msgs {
		if p, ok := m.(pushMsg); ok {
			if s, ok := p.s.(T); ok {
				return s, true
			}
		}
	}
	var zero T
	return zero, false
}
