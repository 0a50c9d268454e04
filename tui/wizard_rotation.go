package tui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/internal/safetext"
	"github.com/keremony/keremony/kel"
)

// The steps of the rotation wizard.
const (
	rotMembers = iota
	rotThresholds
	rotPropose
)

var rotSteps = []string{"members", "thresholds", "propose"}

// rotFields is the number of focusable fields of each step (thresholds:
// kt, nt, expiry).
var rotFields = []int{rotMembers: 1, rotThresholds: 3, rotPropose: 1}

// rotKind is what a row of the rotation wizard stands for.
type rotKind int

const (
	rotCurrent rotKind = iota // a member committed in the group's next list
	rotJoin                   // a contribution of a member joining (fresh or next-only)
	rotCard                   // a member card from the inbox: a new member
)

// rotRow is one member's part in the rotation and the choices it has.
type rotRow struct {
	kind    rotKind
	label   string
	prior   int    // rotCurrent: position in the group's next list
	digest  string // rotCurrent: the committed next digest
	local   string // rotCurrent: the alias of this device's member
	contrib *ceremony.Contribution
	card    ceremony.Card
	source  string
	roles   []ceremony.Role // the choices, in cycle order ("" = not added)
	role    ceremony.Role
}

func (r rotRow) id() string {
	switch r.kind {
	case rotCurrent:
		return "cur\x00" + r.digest
	case rotJoin:
		return "join\x00" + r.contrib.Label + "\x00" + r.contrib.Key + "\x00" + r.contrib.Next
	}
	return "card\x00" + r.card.Label + "\x00" + r.card.Key + "\x00" + r.card.Next
}

// signs reports the row puts a key into the new k; next that it puts a
// digest into the new n.
func (r rotRow) signs() bool {
	return r.role == ceremony.RoleRotate || r.role == ceremony.RoleFresh
}

func (r rotRow) next() bool {
	switch r.role {
	case ceremony.RoleRotate:
		return r.local != "" || r.contrib != nil && r.contrib.Next != ""
	case ceremony.RoleFresh:
		return r.kind == rotJoin && r.contrib.Next != "" || r.kind == rotCard && r.card.Next != ""
	case ceremony.RoleNextOnly, ceremony.RoleReserve:
		return true
	}
	return false
}

// part is the row's contribution to the request (false: none, or made by
// the backend for a member of this device).
func (r rotRow) part() (ceremony.Contribution, bool) {
	switch {
	case r.role == "":
		return ceremony.Contribution{}, false
	case r.kind == rotCurrent && r.role == ceremony.RoleRotate:
		if r.local != "" {
			return ceremony.Contribution{}, false
		}
		return *r.contrib, true
	case r.kind == rotCurrent:
		return ceremony.Contribution{Label: r.label, Role: r.role, Prior: r.digest}, true
	case r.kind == rotJoin:
		return *r.contrib, true
	case r.role == ceremony.RoleFresh:
		// The card's signature binds the label (the reviews check it).
		return ceremony.Contribution{Label: r.card.Label, Role: ceremony.RoleFresh, Key: r.card.Key, Next: r.card.Next,
			Signer: r.card.Key, Sig: r.card.Sig}, true
	}
	return ceremony.Contribution{Label: r.card.Label, Role: ceremony.RoleNextOnly, Next: r.card.Next, Signer: r.card.Key, Sig: r.card.Sig}, true
}

// rotationWizard proposes a rotation of a group: what each member does
// (rotate, reserve, drop, join), the new thresholds, then a summary of the
// changes from which p proposes.
type rotationWizard struct {
	c      *common
	prefix string
	wizNav
	rows    pickList[rotRow]
	refused []string // contributions in the inbox that do not fit the group
	kt, nt  thresholdField
	expires textinput.Model
	// supersede is the sn of a recovery rotation (0: an ordinary one): R
	// offers it when the group's latest events are interactions.
	supersede uint64
}

func newRotationWizard(c *common, prefix string) screen {
	w := &rotationWizard{c: c, prefix: prefix, kt: newThresholdField("kt> "), nt: newThresholdField("nt> "), expires: newExpiryField()}
	w.wizNav = newWizNav("rotation", rotFields, w.checkStep, w.applyFocus)
	w.sync()
	w.recheck()
	w.layout()
	return w
}

func (w *rotationWizard) group() (GroupInfo, bool) { return w.c.snap.Group(w.prefix) }

func (w *rotationWizard) Title() string {
	if g, ok := w.group(); ok {
		return "Rotate " + show(g.Name())
	}
	return "Rotate"
}

func (w *rotationWizard) Typing() bool { return w.step == rotThresholds }

func (w *rotationWizard) Bindings() []key.Binding {
	k := w.c.keys
	switch w.step {
	case rotMembers:
		if g, ok := w.group(); ok && len(g.Recoverable) > 0 {
			return []key.Binding{k.NextStep, k.Cycle, k.Recover, k.MoveUp, k.MoveDown, k.Import}
		}
		return []key.Binding{k.NextStep, k.Cycle, k.MoveUp, k.MoveDown, k.Import}
	case rotPropose:
		return []key.Binding{k.Propose, k.PrevStep}
	}
	return []key.Binding{k.NextStep, k.PrevStep}
}

// sync builds the rows from the snapshot: the group's committed members,
// the contributions for it and the member cards in the inbox, keeping the
// order and choices made so far.
func (w *rotationWizard) sync() {
	g, ok := w.group()
	if !ok {
		w.rows.items = nil
		return
	}
	st := g.State
	localBy := map[string]string{}
	for _, m := range w.c.snap.Members {
		if m.Next != "" {
			localBy[m.Next] = m.Alias
		}
	}
	rotBy := map[string]InboxItem{}
	defaults := map[string]ceremony.Role{}
	var joins, cards []rotRow
	w.refused = nil
	for _, it := range w.c.snap.Inbox {
		switch {
		case it.Kind == InboxCard && it.Stale != "": // its member cannot sign
			continue
		case it.Kind == InboxCard:
			card := it.Card
			if card.Label == "" {
				card.Label = it.Label
			}
			r := rotRow{kind: rotCard, card: card, source: show(it.Source), roles: []ceremony.Role{""}}
			if card.Key != "" {
				r.roles = append(r.roles, ceremony.RoleFresh)
			}
			if card.Next != "" {
				r.roles = append(r.roles, ceremony.RoleNextOnly)
			}
			cards = append(cards, r)
			continue
		case it.Kind != InboxContribution || it.ID != g.Prefix:
			continue
		}
		cb := it.Contribution
		if err := ceremony.CheckContribution(st, cb); err != nil {
			w.refused = append(w.refused, safetext.Sprintf("%s (%s): %v", cb.Label, it.Source, err))
			continue
		}
		switch cb.Role {
		case ceremony.RoleRotate:
			if d := kel.NextDigest(cb.Key); rotBy[d].Kind == "" {
				rotBy[d] = it
			}
		case ceremony.RoleReserve, ceremony.RoleDrop:
			if defaults[cb.Prior] == "" {
				defaults[cb.Prior] = cb.Role
			}
		case ceremony.RoleFresh, ceremony.RoleNextOnly:
			joins = append(joins, rotRow{kind: rotJoin, label: cb.Label, contrib: &cb, source: show(it.Source),
				roles: []ceremony.Role{cb.Role, ""}, role: cb.Role})
		}
	}
	var fresh []rotRow
	for j, d := range st.Next {
		r := rotRow{kind: rotCurrent, label: label(g.NextLabels, j), prior: j, digest: d,
			roles: []ceremony.Role{ceremony.RoleReserve, ceremony.RoleDrop}, role: ceremony.RoleReserve}
		if a, ok := localBy[d]; ok {
			r.local, r.source = a, "this device"
		} else if it, ok := rotBy[d]; ok {
			cb := it.Contribution
			r.contrib, r.source = &cb, show(it.Source)
		}
		if r.local != "" || r.contrib != nil {
			r.roles = []ceremony.Role{ceremony.RoleRotate, ceremony.RoleReserve, ceremony.RoleDrop}
			r.role = ceremony.RoleRotate
		}
		if def := defaults[d]; def != "" {
			r.role = def
		}
		fresh = append(fresh, r)
	}
	for _, r := range append(joins, cards...) {
		r.label = r.card.Label
		if r.kind == rotJoin {
			r.label = r.contrib.Label
		}
		fresh = append(fresh, r)
	}
	// Keep what the user did: order, roles and cursor.
	w.rows.resync(fresh, rotRow.id, func(old rotRow, r *rotRow) {
		if slices.Contains(r.roles, old.role) {
			r.role = old.role
		}
	})
}

// labels names the new key list and the new next list, in roster order.
func (w *rotationWizard) labels() (keys, next []string) {
	for _, r := range w.rows.items {
		if r.signs() {
			keys = append(keys, r.label)
		}
		if r.next() {
			next = append(next, r.label)
		}
	}
	return keys, next
}

// recheck sets the default thresholds (the current ones when they fit the
// new lists, else a majority) unless typed, and checks them.
func (w *rotationWizard) recheck() {
	keys, next := w.labels()
	g, ok := w.group()
	if !ok {
		return
	}
	ktDef := defaultThreshold(len(keys))
	if g.State.Kt.Validate(len(keys)) == nil {
		ktDef = g.State.Kt.Text()
	}
	w.kt.setDefault(ktDef)
	w.kt.check(len(keys), keys)
	ntDef := w.kt.in.Value()
	if g.State.Nt.Validate(len(next)) == nil {
		ntDef = g.State.Nt.Text()
	}
	w.nt.setDefault(ntDef)
	w.nt.check(len(next), next)
}

// priorNext checks that the members who rotate meet the group's current
// next threshold; it returns who they are and the threshold's reading.
func (w *rotationWizard) priorNext() (who []string, reading string, err error) {
	g, _ := w.group()
	var exposed []int
	for _, r := range w.rows.items {
		if r.kind == rotCurrent && r.role == ceremony.RoleRotate {
			exposed = append(exposed, r.prior)
			who = append(who, r.label)
		}
	}
	reading = g.State.Nt.Describe(g.NextLabels)
	if !g.State.Nt.Satisfy(exposed).Met {
		rot := "nobody rotates"
		if len(who) > 0 {
			rot = "only " + strings.Join(who, ", ") + " rotate"
		}
		err = fmt.Errorf("%w: the current rotation threshold needs %s; %s", errPriorNext, reading, rot)
	}
	return who, reading, err
}

func (w *rotationWizard) layout() {
	for _, in := range []*textinput.Model{&w.kt.in, &w.nt.in, &w.expires} {
		wizSetWidth(in, w.c.width)
	}
}

func (w *rotationWizard) applyFocus() tea.Cmd {
	var cmds []tea.Cmd
	f := w.focus[w.step]
	for i, in := range []*textinput.Model{&w.kt.in, &w.nt.in, &w.expires} {
		if w.step == rotThresholds && f == i {
			cmds = append(cmds, in.Focus())
		} else {
			in.Blur()
		}
	}
	return tea.Batch(cmds...)
}

func (w *rotationWizard) checkStep(step int) error {
	g, ok := w.group()
	if !ok {
		return fmt.Errorf("%w: %s", errNoGroup, w.prefix)
	}
	switch step {
	case rotMembers:
		seen := map[string]bool{}
		for _, r := range w.rows.items {
			if r.role == "" {
				continue
			}
			if seen[r.label] {
				return fmt.Errorf("%w: two parts are labelled %s: leave one out", errSameLabel, show(r.label))
			}
			seen[r.label] = true
		}
		keys, next := w.labels()
		if len(keys) == 0 {
			return fmt.Errorf("%w: rotate or add at least one member", errNoKeys)
		}
		if len(next) == 0 {
			return fmt.Errorf("%w: %s could never rotate again", errNoNext, show(g.Name()))
		}
		if _, _, err := w.priorNext(); err != nil {
			return err
		}
	case rotThresholds:
		if err := thresholdsErr(&w.kt, &w.nt); err != nil {
			return err
		}
		if _, err := parseExpiry(w.expires.Value()); err != nil {
			return err
		}
	}
	return nil
}

// request is the proposal the wizard collected, once every step is right.
func (w *rotationWizard) request() RotationRequest {
	exp, _ := parseExpiry(w.expires.Value())
	r := RotationRequest{Group: w.prefix, Kt: w.kt.th, Nt: w.nt.th, Expires: exp, Supersede: w.supersede}
	for _, row := range w.rows.items {
		if row.kind == rotCurrent && row.role == ceremony.RoleRotate && row.local != "" {
			r.Local = append(r.Local, row.local)
		}
		if p, ok := row.part(); ok {
			r.Parts = append(r.Parts, p)
		}
	}
	return r
}

func (w *rotationWizard) propose() tea.Cmd {
	return wizStart(w.c, &w.wizNav, w.request, func(RotationRequest) (string, string) {
		g, _ := w.group()
		return "proposing the rotation of " + show(g.Name()), "the rotation of " + show(g.Name())
	}, Backend.ProposeRotation)
}

func (w *rotationWizard) Update(msg tea.Msg) (screen, tea.Cmd) {
	return wizUpdate(w, w.c, msg)
}

func (w *rotationWizard) key(msg tea.KeyMsg) tea.Cmd {
	k := w.c.keys
	if cmd, ok := w.navKey(msg, k); ok {
		return cmd
	}
	switch w.step {
	case rotMembers:
		switch {
		case w.rows.navigate(msg, k):
		case key.Matches(msg, k.Cycle):
			if r, ok := w.rows.current(); ok && len(r.roles) > 0 {
				i := slices.Index(r.roles, r.role)
				if msg.Type == tea.KeyLeft {
					i += len(r.roles) - 2
				}
				r.role = r.roles[(i+1)%len(r.roles)]
				w.err = nil
			}
		case key.Matches(msg, k.Import):
			g, _ := w.group()
			return push(newReceiveScreen(w.c, "contributions and member cards for the rotation of "+show(g.Name())))
		case key.Matches(msg, k.Recover):
			w.cycleRecovery()
		default:
			return nil
		}
		w.recheck()
		return nil
	case rotPropose:
		if key.Matches(msg, k.Propose) {
			return w.propose()
		}
		return nil
	}
	if cmd, ok := w.arrowKey(msg, k, false); ok {
		return cmd
	}
	return w.updateField(msg)
}

func (w *rotationWizard) updateField(msg tea.Msg) tea.Cmd {
	if w.step != rotThresholds {
		return nil
	}
	var cmd tea.Cmd
	switch w.focus[rotThresholds] {
	case 0:
		cmd = w.kt.update(msg)
	case 1:
		cmd = w.nt.update(msg)
	default:
		w.expires, cmd = w.expires.Update(msg)
	}
	w.recheck()
	return cmd
}

// rotRoleWords are the roles in a word or two, and what they do.
var rotRoleWords = map[ceremony.Role][2]string{
	ceremony.RoleRotate:   {"rotate", "reveals its pre-committed next key, signs with it and commits a new next key"},
	ceremony.RoleReserve:  {"reserve", "its committed next digest is carried over unexposed: it does not sign now"},
	ceremony.RoleDrop:     {"drop", "its committed digest is neither revealed nor carried: it leaves the group"},
	ceremony.RoleFresh:    {"join now", "joins with its current key, which counts toward the new signing threshold only"},
	ceremony.RoleNextOnly: {"join later", "joins through the next list only: it can sign from the following rotation on"},
	"":                    {"not added", "stays out of the group"},
}

// HandlesBack: esc goes back a step (and pops from the first one).
func (w *rotationWizard) HandlesBack() bool { return true }
