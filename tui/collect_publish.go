package tui

import (
	"errors"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/keremony/keremony/ceremony"
)

// Publishing a finalized event to the group's witnesses from the collect
// screen (p), and the witnessed progress line.

var errPublish = errors.New("cannot publish")

// publishedMsg reports a Publish: what the witnesses did and a fresh
// snapshot.
type publishedMsg struct {
	owner *collectScreen
	rep   PublishReport
	snap  *Snapshot
	err   error
}

// publishKey starts a Publish of a finalized, witnessed event.
func (s *collectScreen) publishKey(ci CeremonyInfo) tea.Cmd {
	switch {
	case ci.State != ceremony.StateFinalized:
		return func() tea.Msg {
			return errMsg{"", fmt.Errorf("%w: the ceremony is %s; an event is published once it is finalized", errPublish, ci.State)}
		}
	case ci.Witnessing == nil:
		return info("this group has no witnesses: nothing to publish")
	case s.publishing:
		return nil
	}
	s.publishing = true
	id := s.id
	return s.c.work("publishing to the witnesses", func(b Backend) tea.Msg {
		rep, err := b.Publish(id)
		m := publishedMsg{owner: s, rep: rep, err: err}
		if snap, serr := b.Snapshot(); serr == nil {
			m.snap = &snap
		}
		return m
	})
}

// published shows the outcome: the witnessed line, or which witness failed
// and why.
func (s *collectScreen) published(msg publishedMsg) tea.Cmd {
	var cmds []tea.Cmd
	if msg.snap != nil {
		snap := *msg.snap
		cmds = append(cmds, func() tea.Msg { return snapshotMsg{snap} })
	}
	if msg.err != nil {
		return tea.Sequence(append(cmds, func() tea.Msg { return errMsg{"", fmt.Errorf("%w: %w", errPublish, msg.err)} })...)
	}
	r := msg.rep
	ns := append([]Notice(nil), r.Notices...)
	for _, f := range r.Failures {
		ns = append(ns, Notice{Ceremony: s.id, Text: f, Err: errPublish})
	}
	if len(ns) > 0 {
		cmds = append(cmds, func() tea.Msg { return noticesMsg{ns} })
	}
	if len(r.Failures) > 0 {
		text := "(L shows why, p tries again): " + r.Failures[0]
		if n := len(r.Failures); n > 1 {
			text += fmt.Sprintf(" and %d more", n-1)
		}
		return tea.Sequence(append(cmds, func() tea.Msg { return errMsg{"", fmt.Errorf("%w %s", errPublish, text)} })...)
	}
	text := r.Witnessing.Line
	if r.Packet.Dropped != "" {
		text += "; the receipts are in the drop folder"
	}
	return tea.Sequence(append(cmds, info(text))...)
}

// witnessLine measures a finalized event's witnessing like a threshold:
// "witnessed: 1 of 2 receipts (toad 2): wan ✓, wil waiting".
func (s *collectScreen) witnessLine(w Witnessing) string {
	st := s.c.styles
	frac := 1.0
	if w.Toad > 0 {
		frac = min(float64(w.Held)/float64(w.Toad), 1)
	}
	mark := st.Warn.Render("not met")
	if w.Complete {
		mark = st.Good.Render("✓ met")
	}
	right := bar(frac, 10) + " " + mark
	if lipgloss.Width(w.Line)+1+lipgloss.Width(right) > s.c.width {
		right = mark // the words first: the bar goes when both do not fit
	}
	return fit(w.Line, right, s.c.width)
}
