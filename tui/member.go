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
	in.Placeholder = "e.g. alice-laptop"
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
		// The start-up check may have found no member at all: check again.
		return m, tea.Sequence(pop, m.c.refresh(), runCheck(m.c, true), info("created member "+msg.alias+": press c on it to share its card with the other members"))
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
	b.WriteString("The alias names you (a person or this device) in groups; the other members\n")
	b.WriteString("see it on your card and in every roster (letters, digits, . _ -).\n\n")
	b.WriteString(fieldLine(m.c.styles, m.in) + "\n\n")
	b.WriteString(st.Subtle.Render("Two keys are made: the signing key, and the next key whose digest is\ncommitted now and revealed at the next rotation (pre-rotation). They\nserve the first group you join; each other group gets a fresh seat.") + "\n")
	return b.String()
}

// cardForScreen asks which new group a card is for, when the member sits
// in groups already: a key pair serves one group only, so the card is for
// a fresh seat, made for the group named here.
type cardForScreen struct {
	c  *common
	m  MemberInfo
	in textinput.Model
}

func newCardForScreen(c *common, m MemberInfo) *cardForScreen {
	in := newTextInput()
	in.Prompt = "group: "
	in.Placeholder = "e.g. acme"
	in.CharLimit = 32
	in.Focus()
	return &cardForScreen{c: c, m: m, in: in}
}

func (s *cardForScreen) Title() string { return "Card of " + s.m.Alias + " for a new group" }
func (s *cardForScreen) Typing() bool  { return true }
func (s *cardForScreen) Bindings() []key.Binding {
	return []key.Binding{s.c.keys.Enter, s.c.keys.Back}
}

func (s *cardForScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	if km, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(km, s.c.keys.Back):
			return s, pop
		case key.Matches(km, s.c.keys.Enter):
			name := strings.TrimSpace(s.in.Value())
			if name == "" {
				return s, info("name the group first (as the proposer will call it)")
			}
			return s, tea.Sequence(pop, cardFor(s.c, s.m.Alias, name))
		}
	}
	var cmd tea.Cmd
	s.in, cmd = s.in.Update(msg)
	return s, cmd
}

func (s *cardForScreen) View() string {
	st := s.c.styles
	var b strings.Builder
	b.WriteString(st.Section.Render("A card for a new group") + "\n\n")
	plain := func(t ...string) string { return strings.Join(t, " ") }
	for _, l := range para(plain, "", s.m.Alias+" already sits in "+strings.Join(s.m.Groups, ", ")+". A key pair serves one group only, so "+
		"the card for a new group is for a fresh seat: new keys, made now, that will serve that group alone.", s.c.width) {
		b.WriteString(l + "\n")
	}
	b.WriteString("\nName the group it is for, as the proposer will call it:\n\n")
	b.WriteString(fieldLine(st, s.in) + "\n")
	return b.String()
}
