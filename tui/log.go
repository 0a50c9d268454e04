package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
)

// logScreen shows a ceremony's transcript (every proposal, signature,
// refusal and state change, as stored), or with no ceremony this run's
// notices and errors.
type logScreen struct {
	c  *common
	id string
	vp viewport.Model
}

func newLogScreen(c *common, ceremonyID string) *logScreen {
	l := &logScreen{c: c, id: ceremonyID, vp: viewport.New(c.width, c.bodyHeight())}
	l.fill()
	l.vp.GotoBottom()
	return l
}

func (l *logScreen) Title() string {
	if l.id == "" {
		return "Log of this session"
	}
	return "Ceremony log " + shortID(l.id)
}
func (l *logScreen) Typing() bool { return false }
func (l *logScreen) Bindings() []key.Binding {
	return []key.Binding{l.c.keys.Up, l.c.keys.Down}
}

func (l *logScreen) lines() []string {
	if l.id == "" {
		if len(l.c.log) == 0 {
			return []string{"nothing has happened yet in this session"}
		}
		return l.c.log
	}
	ci, ok := l.c.snap.Ceremony(l.id)
	if !ok {
		return []string{"no ceremony " + l.id + " on this device"}
	}
	out := []string{fmt.Sprintf("%s of %s, sn %d, said %s", ci.Kind, ci.Group, ci.Sn, ci.SAID)}
	for _, e := range ci.Transcript {
		out = append(out, e.String())
	}
	if ns := l.c.ceremonyLog[l.id]; len(ns) > 0 {
		out = append(out, "", "this session (not stored):")
		out = append(out, ns...)
	}
	return out
}

// noteCeremony keeps a logged line about a ceremony for its log screen.
func (c *common) noteCeremony(id, line string) {
	if c.ceremonyLog == nil {
		c.ceremonyLog = map[string][]string{}
	}
	c.ceremonyLog[id] = append(c.ceremonyLog[id], line)
	if n := len(c.ceremonyLog[id]); n > 100 {
		c.ceremonyLog[id] = c.ceremonyLog[id][n-100:]
	}
}

func (l *logScreen) fill() {
	l.vp.Width, l.vp.Height = l.c.width, l.c.bodyHeight()
	l.vp.SetContent(wrapLines(l.lines(), l.c.width))
}

func (l *logScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg.(type) {
	case tea.WindowSizeMsg, snapshotMsg, noticesMsg:
		bottom := l.vp.AtBottom()
		l.fill()
		if bottom {
			l.vp.GotoBottom()
		}
		return l, nil
	}
	var cmd tea.Cmd
	l.vp, cmd = l.vp.Update(msg)
	return l, cmd
}

func (l *logScreen) View() string {
	l.vp.Height = l.c.bodyHeight() // a long status may have taken rows
	return l.vp.View()
}

// wrapLines hard-wraps each line (plain text, shown through safetext) at
// width, indenting continuations.
func wrapLines(lines []string, width int) string {
	var b strings.Builder
	for _, ln := range lines {
		ln = show(ln)
		for len([]rune(ln)) > width && width > 4 {
			r := []rune(ln)
			b.WriteString(string(r[:width]) + "\n")
			ln = "  " + string(r[width:])
		}
		b.WriteString(ln + "\n")
	}
	return b.String()
}
