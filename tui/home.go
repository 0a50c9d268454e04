package tui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/keremony/keremony/ceremony"
)

// errStaleCard: a card picked in the inbox no longer works.
var errStaleCard = errors.New("this card no longer works")

// rowKind is what a home-screen row stands for.
type rowKind int

const (
	rowMember rowKind = iota
	rowGroup
	rowCeremony
	rowInbox
)

type homeRow struct {
	kind rowKind
	i    int // index into the snapshot's list
}

// homeScreen lists this device's members, groups, ceremonies and inbox.
// On first run (no member yet) it explains itself and asks for a member.
type homeScreen struct {
	c      *common
	rows   []homeRow
	cursor int
	loaded bool
	// proposals are the inbox proposals seen so far: a new one takes the
	// cursor.
	proposals map[string]bool
}

func newHomeScreen(c *common) *homeScreen { return &homeScreen{c: c} }

func (h *homeScreen) Title() string { return "Home" }
func (h *homeScreen) Typing() bool  { return false }

func (h *homeScreen) Bindings() []key.Binding {
	k := h.c.keys
	if len(h.c.snap.Members) == 0 {
		return []key.Binding{k.NewMember, k.Import}
	}
	bs := []key.Binding{k.Enter}
	switch r, ok := h.selected(); {
	case ok && r.kind == rowMember:
		bs = append(bs, k.ShareCard)
	case ok && r.kind == rowGroup:
		bs = append(bs, k.Rotate, k.Anchor, k.Contribute)
	}
	bs = append(bs, k.Log)
	return append(bs, k.Incept, k.NewMember, k.Import, k.Check)
}

func (h *homeScreen) selected() (homeRow, bool) {
	if h.cursor < 0 || h.cursor >= len(h.rows) {
		return homeRow{}, false
	}
	return h.rows[h.cursor], true
}

// build lays the rows out from the snapshot: ceremonies and inbox first
// (they want attention), then groups, then members.
func (h *homeScreen) build() {
	s := h.c.snap
	var prev homeRow
	had := h.cursor < len(h.rows)
	if had {
		prev = h.rows[h.cursor]
	}
	h.rows = h.rows[:0]
	for _, i := range inboxOrder(s.Inbox) {
		h.rows = append(h.rows, homeRow{rowInbox, i})
	}
	for i := range s.Ceremonies {
		h.rows = append(h.rows, homeRow{rowCeremony, i})
	}
	for i := range s.Groups {
		h.rows = append(h.rows, homeRow{rowGroup, i})
	}
	for i := range s.Members {
		h.rows = append(h.rows, homeRow{rowMember, i})
	}
	if had {
		for i, r := range h.rows {
			if r == prev {
				h.cursor = i
			}
		}
	}
	h.cursor = min(max(h.cursor, 0), max(len(h.rows)-1, 0))
}

// inboxOrder lists the inbox by what wants attention: proposals (to
// review) first, then cards and contributions, then the stale cards no
// group or ceremony can use; newest first within each.
func inboxOrder(items []InboxItem) []int {
	var out []int
	for pass := range 3 {
		for i, it := range items {
			p := 1
			switch {
			case it.Kind == InboxProposal:
				p = 0
			case it.Stale != "":
				p = 2
			}
			if p == pass {
				out = append(out, i)
			}
		}
	}
	return out
}

// focusNew moves the cursor to a proposal that arrived since the last
// snapshot and says so ("proposal from alice: enter to review").
func (h *homeScreen) focusNew() tea.Cmd {
	if h.proposals == nil {
		h.proposals = map[string]bool{}
	}
	var cmd tea.Cmd
	for ri, r := range h.rows {
		if r.kind != rowInbox {
			continue
		}
		it := h.c.snap.Inbox[r.i]
		if it.Kind != InboxProposal || h.proposals[it.ID] {
			continue
		}
		h.proposals[it.ID] = true
		if cmd != nil {
			continue // the first (newest) keeps the cursor
		}
		h.cursor = ri
		from, what := orText(it.From, "another device"), strings.TrimSuffix(it.Label, ", from "+it.From)
		text := fmt.Sprintf("proposal from %s: enter to review (%s)", from, what)
		if h.c.top != nil && h.c.top != screen(h) {
			text = fmt.Sprintf("proposal from %s in the inbox: enter on Home reviews it (%s)", from, what)
		}
		cmd = info(text)
	}
	return cmd
}

func (h *homeScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case snapshotMsg:
		h.loaded = true
		h.build()
		return h, h.focusNew()
	case tea.KeyMsg:
		return h, h.key(msg)
	}
	return h, nil
}

func (h *homeScreen) key(msg tea.KeyMsg) tea.Cmd {
	k := h.c.keys
	s := h.c.snap
	r, ok := h.selected()
	switch {
	case key.Matches(msg, k.Up):
		h.cursor = max(h.cursor-1, 0)
	case key.Matches(msg, k.Down):
		h.cursor = min(h.cursor+1, max(len(h.rows)-1, 0))
	case key.Matches(msg, k.NewMember):
		return push(newMemberScreen(h.c))
	case key.Matches(msg, k.Import):
		return push(newReceiveScreen(h.c, ""))
	case len(s.Members) == 0:
		return info("create a member first: press m")
	case key.Matches(msg, k.Incept):
		return push(newInceptionWizard(h.c))
	case !ok:
	case key.Matches(msg, k.Enter):
		switch r.kind {
		case rowCeremony:
			return push(newCollectScreen(h.c, s.Ceremonies[r.i].ID))
		case rowInbox:
			it := s.Inbox[r.i]
			if it.Kind == InboxProposal {
				if it.Conflict != "" {
					return tea.Sequence(info(it.Conflict), push(newReviewScreen(h.c, it.ID)))
				}
				return push(newReviewScreen(h.c, it.ID))
			}
			if it.Stale != "" {
				return func() tea.Msg { return errMsg{"", fmt.Errorf("%w: %s", errStaleCard, it.Stale)} }
			}
			return info(fmt.Sprintf("%s %s waits for a proposal: start one with g (cards) or r (contributions)", it.Kind, it.Label))
		case rowGroup:
			return push(newGroupScreen(h.c, s.Groups[r.i].Prefix))
		case rowMember:
			return h.shareCard(s.Members[r.i].Alias)
		}
	case key.Matches(msg, k.Check):
		return push(newCheckScreen(h.c))
	case key.Matches(msg, k.ShareCard) && r.kind == rowMember:
		return h.shareCard(s.Members[r.i].Alias)
	case key.Matches(msg, k.Check):
		return push(newCheckScreen(h.c))
	case key.Matches(msg, k.Rotate) && r.kind == rowGroup:
		return push(newRotationWizard(h.c, s.Groups[r.i].Prefix))
	case key.Matches(msg, k.Anchor) && r.kind == rowGroup:
		return push(newAnchorWizard(h.c, s.Groups[r.i].Prefix))
	case key.Matches(msg, k.Contribute) && r.kind == rowGroup:
		return contribute(h.c, s.Groups[r.i])
	case key.Matches(msg, k.Log) && r.kind == rowCeremony:
		return push(newLogScreen(h.c, s.Ceremonies[r.i].ID))
	case key.Matches(msg, k.Log):
		return push(newLogScreen(h.c, ""))
	}
	return nil
}

// shareCard makes member alias's card for a new group and opens the share
// screen: the card of its seat in no group yet, or, when it has none (it
// sits in groups already), of a fresh seat for a group named first.
func (h *homeScreen) shareCard(alias string) tea.Cmd {
	for _, m := range h.c.snap.Members {
		if m.Alias == alias && !m.Free {
			return push(newCardForScreen(h.c, m))
		}
	}
	return cardFor(h.c, alias, "")
}

// cardFor makes member alias's card for the new group forGroup and opens
// the share screen.
func cardFor(c *common, alias, forGroup string) tea.Cmd {
	return shareWork(c, "making the card of "+alias, func(b Backend) (Outgoing, error) { return b.Card(alias, forGroup) })
}

// contribute makes this device's contribution to a rotation of g (the
// one member of this device in g) and opens the share screen.
func contribute(c *common, g GroupInfo) tea.Cmd {
	if len(g.Mine) == 0 {
		return info("no member of this device is in " + g.Name())
	}
	alias := g.Mine[0]
	return shareWork(c, "preparing the rotation of "+alias, func(b Backend) (Outgoing, error) { return b.Contribute(g.Prefix, alias) })
}

// shareWork runs fn and opens the share screen on its packet.
func shareWork(c *common, label string, fn func(Backend) (Outgoing, error)) tea.Cmd {
	return c.work(label, func(b Backend) tea.Msg {
		out, err := fn(b)
		if err != nil {
			return errMsg{label, err}
		}
		return pushMsg{newShareScreen(c, out)}
	})
}

func (h *homeScreen) View() string {
	st := h.c.styles
	s := h.c.snap
	if !h.loaded {
		return st.Subtle.Render("opening this device…")
	}
	if len(s.Members) == 0 {
		return h.welcome()
	}
	type line struct {
		text string
		row  int // -1 for headings
	}
	var lines []line
	add := func(text string, row int) { lines = append(lines, line{text, row}) }
	heading := func(t string) { add(st.Section.Render(t), -1) }
	if w := checkWarning(h.c); w != "" {
		add(st.Warn.Render(truncate(show(w), h.c.width-2)), -1)
	}
	ri := 0
	if len(s.Inbox) > 0 {
		heading(fmt.Sprintf("Inbox (%d)", len(s.Inbox)))
		for _, i := range inboxOrder(s.Inbox) {
			it := s.Inbox[i]
			text := fmt.Sprintf("%-12s %s  %s", it.Kind, show(it.Label), st.Subtle.Render("from "+show(it.Source)))
			if it.Stale != "" {
				text = fmt.Sprintf("%-12s %s  %s", it.Kind, show(it.Label), st.Warn.Render("⚠ stale: it no longer works (enter says why)"))
			}
			if it.Conflict != "" {
				text = st.Bad.Render("✗ CONFLICT ") + text
			}
			add(text, ri)
			ri++
		}
	}
	heading("Ceremonies")
	if len(s.Ceremonies) == 0 {
		add(st.Subtle.Render("  none yet: g starts a group, r or a on a group rotates or anchors"), -1)
	}
	for _, c := range s.Ceremonies {
		add(fmt.Sprintf("%-9s %-10s %s sn %d  %s", shortID(c.ID), c.Kind, truncate(show(c.Group), 18), c.Sn, ceremonyState(st, c)), ri)
		ri++
	}
	heading("Groups")
	if len(s.Groups) == 0 {
		add(st.Subtle.Render("  none yet"), -1)
	}
	for _, g := range s.Groups {
		what := truncate(show(g.KtText), 30)
		if g.Unreadable != "" {
			what = st.Bad.Render("✗ stored kel does not restore")
		}
		add(fmt.Sprintf("%-14s %s  sn %d  %s", truncate(show(g.Name()), 14), shortID(g.Prefix), g.State.Sn, what), ri)
		ri++
	}
	heading("Members of this device")
	for _, m := range s.Members {
		extra := ""
		if m.RotationPending {
			extra = st.Warn.Render("  rotation prepared")
		}
		if len(m.Groups) > 0 {
			extra += st.Subtle.Render("  in " + strings.Join(showAll(m.Groups), ", "))
		}
		add(fmt.Sprintf("%-14s %s%s", show(m.Alias), shortID(m.Key), extra), ri)
		ri++
	}
	// Scroll so the cursor's line is visible.
	cur := 0
	for i, l := range lines {
		if l.row == h.cursor {
			cur = i
		}
	}
	height := h.c.bodyHeight()
	start := window(cur, len(lines), height)
	var b strings.Builder
	for _, l := range lines[start:min(len(lines), start+height)] {
		prefix := "  "
		if l.row >= 0 && l.row == h.cursor {
			prefix = st.Cursor.Render("> ")
			l.text = st.Selected.Render(l.text)
		}
		if l.row < 0 {
			prefix = ""
		}
		b.WriteString(prefix + l.text + "\n")
	}
	return b.String()
}

// ceremonyState is a ceremony's state and progress in a few words.
func ceremonyState(st Styles, c CeremonyInfo) string {
	p := c.Progress
	switch {
	case c.State == ceremony.StateFinalized && c.Superseded:
		return st.Warn.Render("finalized, SUPERSEDED")
	case c.State == ceremony.StateFinalized:
		return st.Good.Render("✓ finalized")
	case !c.State.Open():
		return st.Subtle.Render(string(c.State))
	case p.Met:
		return st.Good.Render("threshold met")
	case c.CanSign:
		return st.Warn.Render("your signature needed") + " " + progressWords(p)
	}
	return progressWords(p)
}

// progressWords is the signing threshold's progress: "1 of 2 signed", or
// for a weighted threshold the clauses met.
func progressWords(p ceremony.Progress) string {
	if len(p.Kt.Clauses) == 0 {
		return fmt.Sprintf("%d of %d signed", p.Kt.Have, p.Kt.Need)
	}
	met := 0
	for _, cl := range p.Kt.Clauses {
		if cl.Met {
			met++
		}
	}
	return fmt.Sprintf("%d of %d clauses met", met, len(p.Kt.Clauses))
}

func (h *homeScreen) welcome() string {
	st := h.c.styles
	var b strings.Builder
	b.WriteString(st.Section.Render("Welcome to keremony") + "\n\n")
	b.WriteString("keremony runs KERI multi-signature ceremonies: a group identifier is\n")
	b.WriteString("controlled by several keys, one per device or person, and every event\n")
	b.WriteString("needs enough of their signatures.\n\n")
	b.WriteString("This device has no member yet. A member is you in groups: in each\n")
	b.WriteString("group a seat of its own, a signing key and a pre-rotated next key kept\n")
	b.WriteString("in " + show(orText(h.c.snap.Keystore, "the keystore")) + ".\n\n")
	b.WriteString("  " + st.Key.Render("m") + "  create a member\n")
	b.WriteString("  " + st.Key.Render("i") + "  import a file or QR frames\n\n")
	b.WriteString(st.Subtle.Render("data: "+show(h.c.snap.Home)) + "\n")
	if h.c.snap.DropDir != "" {
		b.WriteString(st.Subtle.Render("drop folder: "+show(h.c.snap.DropDir)) + "\n")
	}
	return b.String()
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
