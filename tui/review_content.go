package tui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// content is the scrolling part of the review, wrapped at width.
func (r *reviewScreen) content(width int) []string {
	st := r.c.styles
	in := r.info
	rv := in.Review
	var out []string
	add := func(style func(...string) string, prefix, text string) {
		out = append(out, para(style, prefix, text, width)...)
	}
	plain := func(s ...string) string { return strings.Join(s, " ") }
	section := func(t string) {
		if len(out) > 0 {
			out = append(out, "")
		}
		out = append(out, st.Section.Render(t))
	}

	if r.signErr != nil {
		out = append(out, st.Bad.Render("✗ THE SIGNATURE FAILED: nothing was signed"))
		add(st.Bad.Render, "  ✗ ", r.signErr.Error())
	}
	if len(in.Refusals) > 0 {
		out = append(out, st.Bad.Render("✗ THIS DEVICE MUST NOT SIGN THIS EVENT"))
		for _, f := range in.Refusals {
			add(st.Bad.Render, "  ✗ ", f)
		}
	}

	section("You")
	switch {
	case rv == nil:
		add(plain, "  ", "this device could not rebuild the event, so there is nothing it may sign")
	case rv.Index >= 0:
		who := orText(in.Member, "this device")
		if rv.Label != "" && rv.Label != in.Member {
			who += " (" + rv.Label + " in the group)"
		}
		line := fmt.Sprintf("you sign as %s at k[%d]", who, rv.Index)
		if len(in.Refusals) > 0 {
			line = fmt.Sprintf("you are %s, at signing position k[%d]", who, rv.Index)
		}
		if rv.Kind == ceremony.KindRotation {
			if rv.Ondex >= 0 {
				line += fmt.Sprintf(", revealing the key committed at prior n[%d]", rv.Ondex)
			} else {
				line += ", with a key that was never pre-committed (it counts toward the new kt only)"
			}
		}
		if len(in.Refusals) > 0 {
			add(plain, "  – ", line)
		} else {
			add(st.Good.Render, "  ✓ ", line)
		}
	default:
		line := "you do not sign this event"
		if in.Member != "" {
			line += ": " + in.Member + " has no signing key in it"
		} else {
			line += ": no member of this device takes part"
		}
		add(plain, "  – ", line)
	}
	if in.Effect != "" {
		add(st.Warn.Render, "  → ", in.Effect)
	}
	if in.Signed {
		add(st.Good.Render, "  ✓ ", "this device has already signed it")
	}
	if rv != nil && rv.NextText != "" {
		if rv.NextCommitted {
			add(st.Good.Render, "  ✓ ", rv.NextText)
		} else {
			add(st.Bad.Render, "  ⚠ WARNING: ", rv.NextText)
		}
	}

	if rv != nil {
		section("Thresholds")
		note := ""
		if rv.Kind == ceremony.KindAnchoring {
			note = " (the group's current ones)"
		}
		add(plain, "  signing:  ", fmt.Sprintf("%s (kt %s)%s", rv.KtText, rv.Kt, note))
		add(plain, "  rotation: ", fmt.Sprintf("%s (nt %s)%s", rv.NtText, rv.Nt, note))
		if rv.Recovery {
			section("RECOVERY")
			if len(rv.SupersedesText) == 0 {
				add(st.Warn.Render, "  ! ", fmt.Sprintf("a recovery rotation at sn %d, but this device holds no event there to supersede", rv.Sn))
			} else {
				add(st.Warn.Render, "  ! ", fmt.Sprintf("this rotation takes sn %d and supersedes %d events of the group's kel:", rv.Sn, len(rv.SupersedesText)))
				for _, line := range rv.SupersedesText {
					add(plain, "    • ", line)
				}
				add(plain, "  ", "they stay on record as superseded; what they anchored is no longer anchored by the group")
			}
		}
		if d := rv.Diff; d != nil {
			out = append(out, r.diffLines(d, width)...)
		}
		out = append(out, r.rosterLines(width)...)
		if len(rv.Seals) > 0 {
			section("Anchors")
			unchecked := false
			for _, s := range rv.Seals {
				if s.Known {
					add(st.Good.Render, "  ✓ ", s.Text+" — checked on this device")
				} else {
					add(st.Warn.Render, "  ? ", s.Text+" — not checked on this device")
					unchecked = unchecked || s.Seal.Kind == kel.SealDigest
				}
				if s.Proposer != "" {
					add(plain, "      ", "proposer says: "+s.Proposer+" (a hint, not a check)")
				}
			}
			for _, d := range in.Documents {
				switch {
				case d.Err != "":
					add(st.Bad.Render, "  ✗ ", "could not read "+d.Path+": "+d.Err)
				case d.Matches:
					add(st.Good.Render, "  ✓ ", fmt.Sprintf("%s (%s) matches a digest seal", d.Path, ceremony.ByteSize(d.Size)))
				default:
					add(st.Bad.Render, "  ✗ ", fmt.Sprintf("%s (%s, digest %s) matches no seal of this event", d.Path, ceremony.ByteSize(d.Size), d.Digest))
				}
			}
			if unchecked {
				add(st.Subtle.Render, "  ", "o opens your copy of a document: this device reads it and compares its digest with each seal.")
			}
		}
		section("Configuration")
		if len(rv.Witnesses) == 0 {
			add(plain, "  ", "witnesses: none")
		} else {
			add(plain, "  ", "witnesses: "+rv.WitnessText)
		}
		if len(rv.Config) > 0 {
			add(plain, "  ", "traits: "+configWords(rv.Config))
		}
		if rv.Delegator != "" {
			add(plain, "  ", "delegated by "+rv.Delegator)
		}
	}

	if ws := r.warnings(); len(ws) > 0 {
		section("Check before signing")
		for _, w := range ws {
			add(st.Warn.Render, "  ⚠ ", w)
		}
	}

	section("Details")
	_, _, _, said := r.event()
	if said != "" {
		add(plain, "  SAID     ", said)
	}
	if rv != nil {
		add(plain, "  prefix   ", rv.Prefix)
		add(plain, "  event    ", rv.Ilk)
	}
	add(plain, "  proposal ", r.id)
	if in.CeremonyID != "" {
		add(plain, "  ceremony ", in.CeremonyID)
	}
	return out
}

// rosterLines list the event's members: position, key (or the digest it
// is known by) and where this device learned it.
func (r *reviewScreen) rosterLines(width int) []string {
	st := r.c.styles
	ls := r.info.Roster
	if len(ls) == 0 {
		return nil
	}
	out := []string{"", st.Section.Render("Members")}
	lw := 6
	for _, l := range ls {
		lw = max(lw, min(len(show(l.Label)), 14))
	}
	for _, l := range ls {
		pos := "–"
		if l.Index >= 0 {
			pos = fmt.Sprintf("k[%d]", l.Index)
		}
		key := shortID(l.Key)
		if l.Digest {
			key = "next " + shortID(l.Key)
		}
		who := truncate(show(l.Label), lw)
		if l.You {
			who = st.Strong.Render(fmt.Sprintf("%-*s", lw, who))
		} else {
			who = fmt.Sprintf("%-*s", lw, who)
		}
		role := ""
		if l.Role != ceremony.RoleSigner && l.Role != "" {
			role = string(l.Role) + " · "
		}
		text := fmt.Sprintf("%s%s, from %s", role, key, l.Source)
		if l.You {
			text += " (you)"
		}
		prefix := fmt.Sprintf("  %s %-5s ", who, pos)
		out = append(out, para(func(s ...string) string { return strings.Join(s, " ") }, prefix, text, width)...)
	}
	return out
}

// diffLines shows what a rotation changes.
func (r *reviewScreen) diffLines(d *ceremony.KeyDiff, width int) []string {
	st := r.c.styles
	plain := func(s ...string) string { return strings.Join(s, " ") }
	out := []string{"", st.Section.Render("What the rotation changes")}
	add := func(style func(...string) string, prefix, text string) {
		out = append(out, para(style, prefix, text, width)...)
	}
	arrow := func(before, after string) string {
		if before == after {
			return "unchanged: " + after
		}
		return before + " → " + after
	}
	add(plain, "  signing:  ", arrow(d.KtBeforeText, d.KtAfterText))
	add(plain, "  rotation: ", arrow(d.NtBeforeText, d.NtAfterText))
	roster := r.info.Review.Roster
	keyLabel := func(k string) string {
		if m, ok := roster.ByKey(k); ok {
			return m.Label + " " + shortID(k)
		}
		// A prior key: its member committed its digest.
		dig := kel.NextDigest(k)
		for _, m := range roster {
			if m.Prior != "" && m.Prior == dig {
				return m.Label + " " + shortID(k)
			}
		}
		return shortID(k)
	}
	nextLabel := func(n string) string {
		for _, m := range roster {
			if n != "" && (m.Next == n || m.Prior == n) {
				return m.Label + " " + shortID(n)
			}
		}
		return shortID(n)
	}
	add(plain, "  keys:     ", fmt.Sprintf("%d kept, %d added, %d removed", len(d.KeptKeys), len(d.AddedKeys), len(d.RemovedKeys)))
	for _, k := range d.AddedKeys {
		add(st.Good.Render, "    + ", "added "+keyLabel(k))
	}
	for _, k := range d.RemovedKeys {
		add(st.Warn.Render, "    - ", "removed "+keyLabel(k))
	}
	add(plain, "  next:     ", fmt.Sprintf("%d digests kept, %d added, %d removed", len(d.KeptNext), len(d.AddedNext), len(d.RemovedNext)))
	for _, n := range d.AddedNext {
		add(st.Good.Render, "    + ", "added "+nextLabel(n))
	}
	for _, n := range d.RemovedNext {
		add(st.Warn.Render, "    - ", "removed "+nextLabel(n))
	}
	if !slices.Equal(d.WitnessesBefore, d.WitnessesAfter) || d.BtBefore != d.BtAfter {
		add(plain, "  witnesses: ", fmt.Sprintf("%d (toad %d) → %d (toad %d)", len(d.WitnessesBefore), d.BtBefore, len(d.WitnessesAfter), d.BtAfter))
	}
	if len(d.Members) > 0 {
		out = append(out, "  members:")
		for _, m := range d.Members {
			add(plain, "    • ", m)
		}
	}
	return out
}

// warnings are the review's and the backend's warnings, each once.
func (r *reviewScreen) warnings() []string {
	var out []string
	var all []string
	if rv := r.info.Review; rv != nil {
		all = append(all, rv.Warnings...)
	}
	for _, w := range append(all, r.info.Warnings...) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// configWords reads configuration traits in plain words.
func configWords(cfg []string) string {
	parts := make([]string, len(cfg))
	for i, c := range cfg {
		switch c {
		case "EO":
			parts[i] = "EO (establishment only: no interaction events)"
		case "DND":
			parts[i] = "DND (do not delegate)"
		default:
			parts[i] = c
		}
	}
	return strings.Join(parts, ", ")
}
