package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
)

// checkedMsg carries the recovery drill's result.
type checkedMsg struct{ report CheckReport }

// runCheck runs the recovery drill (keremony member check) against the
// backend. quietly: in the background, at start-up.
func runCheck(c *common, quietly bool) tea.Cmd {
	fn := func(b Backend) tea.Msg {
		r, err := b.Check()
		if err != nil {
			return errMsg{"checking the members", err}
		}
		return checkedMsg{r}
	}
	if quietly {
		return c.quiet(fn)
	}
	return c.work("checking every seat of every member", fn)
}

// checkScreen shows the recovery drill: every seat of every member against
// the keystore and its group's KEL, and the journal against the ceremony
// store.
type checkScreen struct {
	c  *common
	vp viewport.Model
}

func newCheckScreen(c *common) *checkScreen {
	s := &checkScreen{c: c, vp: viewport.New(c.width, c.bodyHeight())}
	s.fill()
	return s
}

func (s *checkScreen) Init() tea.Cmd           { return runCheck(s.c, false) }
func (s *checkScreen) Title() string           { return "Member check" }
func (s *checkScreen) Typing() bool            { return false }
func (s *checkScreen) Bindings() []key.Binding { return []key.Binding{s.c.keys.Up, s.c.keys.Down} }

func (s *checkScreen) fill() {
	st := s.c.styles
	s.vp.Width, s.vp.Height = s.c.width, s.c.bodyHeight()
	r := s.c.check
	if r == nil {
		s.vp.SetContent(st.Subtle.Render("checking…"))
		return
	}
	lines := []string{st.Good.Render("✓ every seat and the journal are ready"), ""}
	if !r.Ready {
		lines = []string{st.Bad.Render("✗ NOT READY: " + joinNames(r.NotReady)), ""}
	}
	plain := func(t ...string) string { return strings.Join(t, " ") }
	for _, l := range r.Lines {
		indent := l[:len(l)-len(strings.TrimLeft(l, " "))]
		lines = append(lines, para(plain, indent, strings.TrimLeft(l, " "), s.c.width)...)
	}
	s.vp.SetContent(strings.Join(lines, "\n"))
}

func (s *checkScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg.(type) {
	case tea.WindowSizeMsg, checkedMsg:
		s.fill()
		return s, nil
	}
	var cmd tea.Cmd
	s.vp, cmd = s.vp.Update(msg)
	return s, cmd
}

func (s *checkScreen) View() string {
	s.vp.Height = s.c.bodyHeight() // a long status may have taken rows
	return s.vp.View()
}

// checkWarning is Home's line when the start-up check found a seat (or
// the journal) not ready; "" when all is well or it has not run.
func checkWarning(c *common) string {
	if c.check == nil || c.check.Ready || len(c.snap.Members) == 0 {
		return ""
	}
	return "⚠ member check: " + joinNames(c.check.NotReady) + " not ready: press C"
}

func joinNames(names []string) string {
	switch len(names) {
	case 0:
		return "something"
	case 1:
		return names[0]
	}
	out := names[0]
	for _, n := range names[1 : len(names)-1] {
		out += ", " + n
	}
	return out + " and " + names[len(names)-1]
}
