package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// groupScreen shows one identifier's key state: keys by member,
// thresholds in words, next digests; r, a and t start its ceremonies.
type groupScreen struct {
	c      *common
	prefix string
}

func newGroupScreen(c *common, prefix string) *groupScreen { return &groupScreen{c: c, prefix: prefix} }

func (g *groupScreen) Title() string {
	if gi, ok := g.c.snap.Group(g.prefix); ok {
		return "Group " + show(gi.Name())
	}
	return "Group"
}
func (g *groupScreen) Typing() bool { return false }
func (g *groupScreen) Bindings() []key.Binding {
	k := g.c.keys
	return []key.Binding{k.Rotate, k.Anchor, k.Contribute}
}

func (g *groupScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return g, nil
	}
	gi, held := g.c.snap.Group(g.prefix)
	if !held {
		return g, nil
	}
	k := g.c.keys
	switch {
	case key.Matches(km, k.Rotate):
		return g, push(newRotationWizard(g.c, g.prefix))
	case key.Matches(km, k.Anchor):
		return g, push(newAnchorWizard(g.c, g.prefix))
	case key.Matches(km, k.Contribute):
		return g, contribute(g.c, gi)
	}
	return g, nil
}

func (g *groupScreen) View() string {
	st := g.c.styles
	gi, ok := g.c.snap.Group(g.prefix)
	if !ok {
		return st.Subtle.Render("this device holds no kel of " + show(g.prefix))
	}
	s := gi.State
	var b strings.Builder
	if gi.Unreadable != "" {
		plain := func(t ...string) string { return strings.Join(t, " ") }
		for _, l := range para(plain, "", "✗ this device's stored kel of the group does not restore: "+show(gi.Unreadable)+
			". Nothing can be done with this group here; the other groups are not affected. Keep a copy of keremony.db in the home.", g.c.width) {
			b.WriteString(st.Bad.Render(l) + "\n")
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "identifier   %s\n", show(gi.Prefix))
	fmt.Fprintf(&b, "fingerprint  %s\n", ceremony.Fingerprint(gi.Prefix))
	fmt.Fprintf(&b, "sequence     sn %d (last establishment event sn %d)\n", s.Sn, s.EstSn)
	fmt.Fprintf(&b, "signing      %s\n", show(gi.KtText))
	fmt.Fprintf(&b, "rotation     %s\n", show(gi.NtText))
	if s.Delegator != "" {
		fmt.Fprintf(&b, "delegator    %s\n", show(s.Delegator))
	}
	b.WriteString("\n" + st.Section.Render("Current keys") + "\n")
	for i, k := range s.Keys {
		fmt.Fprintf(&b, "  k[%d] %-14s %s\n", i, show(label(gi.Labels, i)), shortID(k))
	}
	b.WriteString(st.Section.Render("Next key digests") + "\n")
	for i, n := range s.Next {
		fmt.Fprintf(&b, "  n[%d] %-14s %s\n", i, show(label(gi.NextLabels, i)), shortID(n))
	}
	b.WriteString("\n" + st.Section.Render("This device in "+show(gi.Name())) + "\n")
	if len(gi.Seats) == 0 {
		b.WriteString(st.Subtle.Render("  no member of this device sits in this group") + "\n")
	}
	for _, si := range gi.Seats {
		role := si.Role
		if si.RotationPending {
			role += "; rotation prepared"
		}
		for _, l := range para(func(t ...string) string { return strings.Join(t, " ") }, "  "+show(si.Member)+": ", role, g.c.width) {
			b.WriteString(l + "\n")
		}
	}
	if len(gi.Superseded) > 0 {
		// One paragraph per recovery: the screen has no room for a line per
		// superseded event.
		b.WriteString(st.Section.Render("Superseded by a recovery") + "\n")
		var order []kel.EventRef
		by := map[kel.EventRef][]string{}
		for _, s := range gi.Superseded {
			if _, ok := by[s.By]; !ok {
				order = append(order, s.By)
			}
			ev := s.Message.Event
			by[s.By] = append(by[s.By], fmt.Sprintf("%s sn %d %s", ev.Ilk(), ev.Sn(), shortID(ev.SAID())))
		}
		plain := func(t ...string) string { return strings.Join(t, " ") }
		for _, r := range order {
			for _, l := range para(plain, "  ", fmt.Sprintf("SUPERSEDED by %s sn %d %s: %s", r.Ilk, r.Sn, shortID(r.SAID), strings.Join(by[r], ", ")), g.c.width) {
				b.WriteString(l + "\n")
			}
		}
	}
	if n := len(gi.Recoverable); n > 0 {
		b.WriteString("\n" + st.Subtle.Render(fmt.Sprintf("the latest %d events are interactions: r, then R, for a recovery rotation", n)) + "\n")
	}
	return b.String()
}

func label(labels []string, i int) string {
	if i < len(labels) && labels[i] != "" {
		return labels[i]
	}
	return fmt.Sprintf("#%d", i)
}
