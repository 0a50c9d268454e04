package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// memberCreatedMsg reports a new member.
type memberCreatedMsg struct{ alias string }

// memberScreen asks for a new member's alias and creates it.
type memberScreen struct {
	c  *common
	in textinput.Model
}

func newMemberScreen(c *common) *memberScreen {
	in := newTextInput()
	in.Prompt = "alias: "
	in.Placeholder = "alice-laptop"
	in.CharLimit = 64
	in.Focus()
	return &memberScreen{c: c, in: in}
}

func (m *memberScreen) Title() string { return "New member" }
func (m *memberScreen) Typing() bool  { return true }
func (m *memberScreen) Bindings() []key.Binding {
	return []key.Binding{m.c.keys.Enter, m.c.keys.Back}
}

func (m *memberScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case memberCreatedMsg:
		return m, tea.Sequence(pop, m.c.refresh(), info("created member "+msg.alias+": press c on it to share its card with the other members"))
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, m.c.keys.Back):
			return m, pop
		case key.Matches(msg, m.c.keys.Enter):
			alias := strings.TrimSpace(m.in.Value())
			if alias == "" {
				return m, info("type an alias first")
			}
			return m, m.c.work("creating member "+alias, func(b Backend) tea.Msg {
				if err := b.NewMember(alias); err != nil {
					return errMsg{"creating member " + alias, err}
				}
				return memberCreatedMsg{alias}
			})
		}
	}
	var cmd tea.Cmd
	m.in, cmd = m.in.Update(msg)
	return m, cmd
}

func (m *memberScreen) View() string {
	st := m.c.styles
	var b strings.Builder
	b.WriteString(st.Section.Render("Create a member") + "\n\n")
	b.WriteString("The alias names this device's seat in groups; the other members see it on\n")
	b.WriteString("your card and in every roster (letters, digits, . _ -).\n\n")
	b.WriteString(m.in.View() + "\n\n")
	b.WriteString(st.Subtle.Render("Two keys are made: the signing key, and the next key whose digest is\ncommitted now and revealed at the next rotation (pre-rotation).") + "\n")
	return b.String()
}
