package tui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/keremony/keremony/ceremony"
)

// The steps of the inception wizard.
const (
	incMembers = iota
	incThresholds
	incGroup
	incPropose
)

var incSteps = []string{"members", "thresholds", "group", "propose"}

// Fields of the group step, in focus order.
const (
	incFocusAlias = iota
	incFocusEO
	incFocusDND
	incFocusExpires
	incFocusWitnesses
	incFocusToad
)

// incFields is the number of focusable fields of each step.
var incFields = []int{incMembers: 1, incThresholds: 2, incGroup: 6, incPropose: 1}

// incMember is a candidate member of the new group: one of this device's
// members, or a member card from the inbox.
type incMember struct {
	local  bool
	card   ceremony.Card // for a local member: its alias, key and next digest
	source string
	chosen bool
	// freshSeat: a local member that sits in groups already (sitsIn) and
	// joins this one with a fresh seat, made when the group is proposed.
	freshSeat bool
	sitsIn    []string
}

// localSource says where a local member's keys come from.
func (m incMember) localSource() string {
	if m.freshSeat {
		return "this device · fresh seat (already in " + strings.Join(showAll(m.sitsIn), ", ") + ")"
	}
	return "this device"
}

// id tells candidates apart across snapshots.
func (m incMember) id() string {
	if m.local {
		return "local\x00" + m.card.Label
	}
	return "card\x00" + m.card.Label + "\x00" + m.card.Key + "\x00" + m.card.Next
}

// inceptionWizard proposes a new group: members (this device's and the
// cards in the inbox) in key order, thresholds, alias and options, then a
// summary from which p proposes.
type inceptionWizard struct {
	c *common
	wizNav
	members pickList[incMember]
	kt, nt  thresholdField
	alias   textinput.Model
	eo, dnd bool
	expires textinput.Model
	// witnesses takes OOBI URLs, toad their threshold (wizard_witnesses.go).
	witnesses, toad textinput.Model
}

func newInceptionWizard(c *common) screen {
	w := &inceptionWizard{c: c, kt: newThresholdField("kt> "), nt: newThresholdField("nt> "), expires: newExpiryField()}
	w.wizNav = newWizNav("new group", incFields, w.checkStep, w.applyFocus)
	w.alias = newTextInput()
	w.alias.Prompt = "alias> "
	w.alias.Placeholder = "e.g. acme"
	w.alias.CharLimit = 32
	w.witnesses, w.toad = newWitnessFields()
	w.sync()
	for i := range w.members.items {
		if w.members.items[i].local {
			w.members.items[i].chosen = true
			break
		}
	}
	w.recheck()
	w.layout()
	return w
}

func (w *inceptionWizard) Title() string { return "New group" }

func (w *inceptionWizard) Typing() bool {
	switch w.step {
	case incThresholds:
		return true
	case incGroup:
		f := w.focus[incGroup]
		return f == incFocusAlias || f == incFocusExpires || f == incFocusWitnesses || f == incFocusToad
	}
	return false
}

func (w *inceptionWizard) Bindings() []key.Binding {
	k := w.c.keys
	switch w.step {
	case incMembers:
		return []key.Binding{k.NextStep, k.Toggle, k.MoveUp, k.MoveDown, k.Import}
	case incGroup:
		if !w.Typing() {
			return []key.Binding{k.NextStep, k.PrevStep, k.Toggle}
		}
	case incPropose:
		return []key.Binding{k.Propose, k.PrevStep}
	}
	return []key.Binding{k.NextStep, k.PrevStep}
}

// sync takes the candidates from the snapshot, keeping the order and the
// choices made so far: members that are gone are dropped, new ones added
// at the end.
func (w *inceptionWizard) sync() {
	var fresh []incMember
	for _, m := range w.c.snap.Members {
		fresh = append(fresh, incMember{local: true, card: ceremony.Card{Label: m.Alias, Key: m.Key, Next: m.Next}, source: "this device",
			freshSeat: !m.Free && len(m.Groups) > 0, sitsIn: m.Groups})
	}
	for _, it := range w.c.snap.Inbox {
		if it.Kind != InboxCard || it.Stale != "" { // a stale card's member cannot sign
			continue
		}
		card := it.Card
		if card.Label == "" {
			card.Label = it.Label
		}
		fresh = append(fresh, incMember{card: card, source: show(it.Source)})
	}
	w.members.resync(fresh, incMember.id, func(old incMember, m *incMember) { m.chosen = old.chosen })
}

// chosen lists the chosen members in key order.
func (w *inceptionWizard) chosen() []incMember {
	var out []incMember
	for _, m := range w.members.items {
		if m.chosen {
			out = append(out, m)
		}
	}
	return out
}

// labels names the chosen members with a key (keyed) or with a next digest.
func (w *inceptionWizard) labels() (keys, next []string) {
	for _, m := range w.chosen() {
		if m.card.Key != "" {
			keys = append(keys, m.card.Label)
		}
		if m.card.Next != "" {
			next = append(next, m.card.Label)
		}
	}
	return keys, next
}

// recheck sets the default thresholds (a majority of the keys; nt follows
// kt) unless the user typed them, and checks both against the members.
func (w *inceptionWizard) recheck() {
	keys, next := w.labels()
	w.kt.setDefault(defaultThreshold(len(keys)))
	w.kt.check(len(keys), keys)
	w.nt.setDefault(w.kt.in.Value())
	w.nt.check(len(next), next)
}

func (w *inceptionWizard) layout() {
	for _, in := range []*textinput.Model{&w.kt.in, &w.nt.in, &w.alias, &w.expires, &w.witnesses, &w.toad} {
		wizSetWidth(in, w.c.width)
	}
}

// applyFocus gives the keyboard to the focused text field, if any.
func (w *inceptionWizard) applyFocus() tea.Cmd {
	var cmds []tea.Cmd
	set := func(in *textinput.Model, on bool) {
		if on {
			cmds = append(cmds, in.Focus())
		} else {
			in.Blur()
		}
	}
	f := w.focus[w.step]
	set(&w.kt.in, w.step == incThresholds && f == 0)
	set(&w.nt.in, w.step == incThresholds && f == 1)
	set(&w.alias, w.step == incGroup && f == incFocusAlias)
	set(&w.expires, w.step == incGroup && f == incFocusExpires)
	set(&w.witnesses, w.step == incGroup && f == incFocusWitnesses)
	set(&w.toad, w.step == incGroup && f == incFocusToad)
	return tea.Batch(cmds...)
}

// checkStep checks what step asks for.
func (w *inceptionWizard) checkStep(step int) error {
	switch step {
	case incMembers:
		ch := w.chosen()
		seen := map[string]bool{}
		local := 0
		for _, m := range ch {
			if seen[m.card.Label] {
				return fmt.Errorf("%w: %s is chosen twice (a member of this device and a card, or two cards): keep one", errSameLabel, show(m.card.Label))
			}
			seen[m.card.Label] = true
			if m.local {
				local++
			}
		}
		if local == 0 {
			return errNoLocal
		}
		if keys, _ := w.labels(); len(keys) == 0 {
			return errNoKeys
		}
	case incThresholds:
		return thresholdsErr(&w.kt, &w.nt)
	case incGroup:
		if err := checkGroupAlias(strings.TrimSpace(w.alias.Value()), w.c.snap); err != nil {
			return err
		}
		if _, err := parseExpiry(w.expires.Value()); err != nil {
			return err
		}
		if _, _, err := parseWitnessFields(w.witnesses.Value(), w.toad.Value()); err != nil {
			return err
		}
	}
	return nil
}

// request is the proposal the wizard collected, once every step is right.
func (w *inceptionWizard) request() InceptionRequest {
	exp, _ := parseExpiry(w.expires.Value())
	r := InceptionRequest{Alias: strings.TrimSpace(w.alias.Value()), Kt: w.kt.th, Nt: w.nt.th, Expires: exp}
	for _, m := range w.chosen() {
		if m.local {
			r.Local = append(r.Local, m.card.Label)
		} else {
			r.Cards = append(r.Cards, m.card)
		}
		r.Order = append(r.Order, m.card.Label)
	}
	if w.eo {
		r.Config = append(r.Config, "EO")
	}
	if w.dnd {
		r.Config = append(r.Config, "DND")
	}
	r.Witnesses, r.Toad, _ = parseWitnessFields(w.witnesses.Value(), w.toad.Value())
	return r
}

func (w *inceptionWizard) propose() tea.Cmd {
	return wizStart(w.c, &w.wizNav, w.request, func(req InceptionRequest) (string, string) {
		return "proposing group " + show(req.Alias), "group " + show(req.Alias)
	}, Backend.ProposeInception)
}

func (w *inceptionWizard) Update(msg tea.Msg) (screen, tea.Cmd) {
	return wizUpdate(w, w.c, msg)
}

func (w *inceptionWizard) key(msg tea.KeyMsg) tea.Cmd {
	k := w.c.keys
	if cmd, ok := w.navKey(msg, k); ok {
		return cmd
	}
	typing := w.Typing()
	switch w.step {
	case incMembers:
		switch {
		case w.members.navigate(msg, k):
			w.recheck()
		case key.Matches(msg, k.Toggle):
			if m, ok := w.members.current(); ok {
				m.chosen = !m.chosen
				w.err = nil
				w.recheck()
			}
		case key.Matches(msg, k.Import):
			return push(newReceiveScreen(w.c, "member cards for the new group: they join the list of the wizard"))
		}
		return nil
	case incPropose:
		if key.Matches(msg, k.Propose) {
			return w.propose()
		}
		return nil
	}
	// Steps with fields: arrows move between them (k and j too, when no
	// text field has the keyboard).
	if cmd, ok := w.arrowKey(msg, k, !typing); ok {
		return cmd
	}
	if w.step == incGroup && !typing {
		if key.Matches(msg, k.Toggle) {
			if w.focus[incGroup] == incFocusEO {
				w.eo = !w.eo
			} else {
				w.dnd = !w.dnd
			}
		}
		return nil
	}
	return w.updateField(msg)
}

// updateField hands a message to the focused text field.
func (w *inceptionWizard) updateField(msg tea.Msg) tea.Cmd {
	f := w.focus[w.step]
	switch {
	case w.step == incThresholds && f == 0:
		cmd := w.kt.update(msg)
		w.recheck()
		return cmd
	case w.step == incThresholds && f == 1:
		cmd := w.nt.update(msg)
		w.recheck()
		return cmd
	case w.step == incGroup && f == incFocusAlias:
		var cmd tea.Cmd
		w.alias, cmd = w.alias.Update(msg)
		return cmd
	case w.step == incGroup && f == incFocusExpires:
		var cmd tea.Cmd
		w.expires, cmd = w.expires.Update(msg)
		return cmd
	case w.step == incGroup && f == incFocusWitnesses:
		var cmd tea.Cmd
		w.witnesses, cmd = w.witnesses.Update(msg)
		return cmd
	case w.step == incGroup && f == incFocusToad:
		var cmd tea.Cmd
		w.toad, cmd = w.toad.Update(msg)
		return cmd
	}
	return nil
}

func (w *inceptionWizard) View() string {
	st := w.c.styles
	width, height := w.c.width, w.c.bodyHeight()
	main := []string{wizTrail(st, incSteps, w.step, width)}
	var hints []string
	switch w.step {
	case incMembers:
		main = append(main, wizWrap("Choose the members of the new group, in key order (k[0] first). At least one must be of this device.", width, "")...)
		tail := append([]string{"", w.countLine()}, w.errLines(st, width)...)
		rows := w.members.lines(st, width, max(height-len(main)-len(tail), 1), true, w.memberRow)
		if len(w.members.items) == 0 {
			rows = []string{st.Subtle.Render("  no members: create one on the home screen (m)")}
		}
		main = append(append(main, rows...), tail...)
		hints = append(hints, st.Subtle.Render("space chooses, K/J move (the order is the key order), i imports cards."))
		if !w.hasCards() {
			hints = append(hints, wizWrap(st.Subtle.Render("No member cards in the inbox yet: each other member shares theirs (c on a member) and you import it with i (file, QR frames or image) or through the drop folder."), width, "")...)
		}
	case incThresholds:
		keys, next := w.labels()
		main = append(main, st.Strong.Render("Signing threshold")+fmt.Sprintf(" (kt): signatures every event needs, of %d keys", len(keys)))
		main = append(main, w.kt.lines(st, width)...)
		main = append(main, st.Strong.Render("Rotation threshold")+fmt.Sprintf(" (nt): next keys a rotation needs, of %d", len(next)))
		main = append(main, w.nt.lines(st, width)...)
		hints = wizThresholdHints(st, width)
	case incGroup:
		main = append(main, wizWrap("The group's alias on this device (the other members see it as a suggestion):", width, "")...)
		main = append(main, fieldLine(st, w.alias))
		main = append(main, w.toggleLine(incFocusEO, w.eo, "establishment only (EO): no interaction events, so no anchoring"))
		main = append(main, w.toggleLine(incFocusDND, w.dnd, "do not delegate (DND): the group cannot delegate identifiers"))
		main = append(main, expiryLines(w.c, w.expires, width)...)
		main = append(main, witnessLines(w.c, w.witnesses, w.toad, width)...)
		main = append(main, w.errLines(st, width)...)
		hints = []string{st.Subtle.Render("↑/↓ move between the fields, space toggles an option.")}
	case incPropose:
		main, hints = w.summary(main, width, height)
	}
	return wizBody(main, hints, width, height)
}

func (w *inceptionWizard) hasCards() bool {
	for _, m := range w.members.items {
		if !m.local {
			return true
		}
	}
	return false
}

// countLine says how many members are chosen.
func (w *inceptionWizard) countLine() string {
	ch := w.chosen()
	local := 0
	for _, m := range ch {
		if m.local {
			local++
		}
	}
	return fmt.Sprintf("%d chosen: %d of this device, %d by card", len(ch), local, len(ch)-local)
}

// memberRow renders a candidate: [x] k1 bob   card · bob.card · DBob…
func (w *inceptionWizard) memberRow(i int, m incMember) string {
	box, pos := "[ ]", "  "
	if m.chosen {
		box = "[x]"
		k := 0
		for _, o := range w.members.items[:i] {
			if o.chosen && o.card.Key != "" {
				k++
			}
		}
		if m.card.Key != "" {
			pos = "k[" + strconv.Itoa(k) + "]"
		} else {
			pos = "n "
		}
	}
	src := m.localSource()
	if !m.local {
		src = "card · " + m.source + " · " + shortID(m.card.Key)
		if m.card.Key == "" {
			src = "card · " + m.source + " · rotation only"
		}
	}
	return fmt.Sprintf("%s %-4s %-16s %s", box, pos, truncate(show(m.card.Label), 16), src)
}

func (w *inceptionWizard) toggleLine(focus int, on bool, text string) string {
	st := w.c.styles
	box := "[ ]"
	if on {
		box = "[x]"
	}
	line := box + " " + text
	if w.step == incGroup && w.focus[incGroup] == focus {
		return st.Cursor.Render("> ") + st.Selected.Render(line)
	}
	return "  " + line
}

// summary lays out what p proposes.
func (w *inceptionWizard) summary(main []string, width, height int) ([]string, []string) {
	st := w.c.styles
	alias := strings.TrimSpace(w.alias.Value())
	main = append(main, st.Section.Render("New group "+alias))
	ch := w.chosen()
	rows := max(height-11, 2)
	k := 0
	for i, m := range ch {
		if i == rows-1 && len(ch) > rows {
			main = append(main, st.Subtle.Render(fmt.Sprintf("  … and %d more", len(ch)-i)))
			break
		}
		pos := "n only"
		if m.card.Key != "" {
			pos = fmt.Sprintf("k[%d]", k)
			k++
		}
		src := m.localSource()
		if !m.local {
			src = "card from " + m.source
		}
		main = append(main, fmt.Sprintf("  %-6s %-16s %s", pos, truncate(show(m.card.Label), 16), src))
	}
	keys, next := w.labels()
	main = append(main, wizWrap(fmt.Sprintf("  signing   %s (kt %s)", w.kt.reading, thresholdShort(w.kt.th, len(keys))), width, "            ")...)
	main = append(main, wizWrap(fmt.Sprintf("  rotation  %s (nt %s)", w.nt.reading, thresholdShort(w.nt.th, len(next))), width, "            ")...)
	opts := "none"
	if _, err := w.checkAll(); err == nil {
		if r := w.request(); len(r.Config) > 0 {
			opts = strings.Join(r.Config, ", ")
		}
	}
	main = append(main, "  options   "+opts)
	exp, _ := parseExpiry(w.expires.Value())
	main = append(main, "  expires   "+expiryWords(w.c, exp))
	main = append(main, "  witnesses "+witnessWords(w.witnesses.Value(), w.toad.Value()))
	main = append(main, w.statusLines(st, width)...)
	hints := wizWrap(st.Subtle.Render("p proposes: this device records the ceremony and writes the proposal to the drop folder (when there is one); the next screen shares it with the members, who review and sign it."), width, "")
	return main, hints
}

// wizThresholdHints explain what a threshold field takes.
func wizThresholdHints(st Styles, width int) []string {
	return wizWrap(st.Subtle.Render(`Type a whole number (2), weights (1/2,1/4,1/4; clauses split by ;) or json (["1/2","1/4","1/4"] or [["1/2","1/2"],["1","1"]]). nt follows kt until you change it.`), width, "")
}

// HandlesBack: esc goes back a step (and pops from the first one).
func (w *inceptionWizard) HandlesBack() bool { return true }
