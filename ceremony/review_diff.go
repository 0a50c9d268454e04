package ceremony

// What a rotation changes, for the review: kept, added and removed keys
// and digests, thresholds before and after, and one line per member.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keremony/keremony/kel"
)

// diffRotation compares the rotation with the prior key state.
func diffRotation(prior kel.KeyState, ev *kel.Event, roster Roster, book map[string]string) *KeyDiff {
	d := &KeyDiff{
		KtBefore: prior.Kt.String(), KtAfter: ev.Kt().String(),
		NtBefore: prior.Nt.String(), NtAfter: ev.Nt().String(),
		WitnessesBefore: prior.Witnesses, BtBefore: prior.Bt, BtAfter: ev.Bt(),
	}
	d.WitnessesAfter, _ = rotateWitnesses(prior.Witnesses, ev.Cuts(), ev.Adds())
	d.WitnessChange = describeWitnessChange(prior, ev, d.WitnessesAfter, book)
	keys, next := ev.Keys(), ev.Next()
	d.KeptKeys, d.AddedKeys, d.RemovedKeys = setDiff(prior.Keys, keys)
	d.KeptNext, d.AddedNext, d.RemovedNext = setDiff(prior.Next, next)
	priorKeyLabels := make([]string, len(prior.Keys))
	for i, k := range prior.Keys {
		priorKeyLabels[i] = book[k]
		if m, ok := roster.ByKey(k); ok {
			priorKeyLabels[i] = m.Label
		}
	}
	priorNext := priorNextLabels(roster, len(prior.Next))
	for i, n := range prior.Next {
		if l := book[n]; l != "" && strings.HasPrefix(priorNext[i], "#") {
			priorNext[i] = l
		}
	}
	d.KtBeforeText = prior.Kt.Describe(priorKeyLabels)
	d.NtBeforeText = prior.Nt.Describe(priorNext)
	d.KtAfterText = ev.Kt().Describe(roster.KeyLabels(len(keys)))
	d.NtAfterText = ev.Nt().Describe(roster.NextLabels(len(next)))
	claimed := map[int]bool{}
	for _, m := range roster {
		if m.Ondex >= 0 {
			claimed[m.Ondex] = true
		}
		d.Members = append(d.Members, memberLine(m, prior.Keys))
	}
	for i := range prior.Next {
		if !claimed[i] {
			d.Members = append(d.Members, fmt.Sprintf("prior n[%d] (%s) is not accounted for: that member is removed", i, priorNext[i]))
		}
	}
	return d
}

// memberLine says in one plain line what a rotation does with a roster
// member; priorKeys are the group's current signing keys.
func memberLine(m Member, priorKeys []string) string {
	var line string
	switch m.Role {
	case RoleRotate:
		line = fmt.Sprintf("%s reveals the key committed at prior n[%d] and signs at k[%d]", m.Label, m.Ondex, m.Index)
		if m.Ondex != m.Index {
			line += " (moved: signs with 2A)"
		}
	case RoleFresh:
		line = fmt.Sprintf("%s signs at k[%d] with a key that was never pre-committed: it counts only toward the new kt", m.Label, m.Index)
		if slices.Contains(priorKeys, m.Key) {
			line += " (the key is already in use: it is not rotated)"
		}
	case RoleNextOnly:
		line = fmt.Sprintf("%s joins through the next commitment at n[%d]: it can sign from the next rotation on", m.Label, m.NextIndex)
	case RoleReserve:
		line = fmt.Sprintf("%s stays in reserve: its committed digest (prior n[%d]) is carried to n[%d] unexposed", m.Label, m.Ondex, m.NextIndex)
	case RoleDrop:
		line = fmt.Sprintf("%s is dropped", m.Label)
		if m.Ondex >= 0 {
			line += fmt.Sprintf(": its committed digest (prior n[%d]) is neither revealed nor carried", m.Ondex)
		}
	}
	if m.NextIndex >= 0 && m.Role != RoleReserve && m.Role != RoleNextOnly {
		line += fmt.Sprintf("; commits a new next digest at n[%d]", m.NextIndex)
	}
	return line
}

// setDiff splits two lists into kept (in both, in the new order), added and
// removed.
func setDiff(before, after []string) (kept, added, removed []string) {
	for _, a := range after {
		if slices.Contains(before, a) {
			kept = append(kept, a)
		} else {
			added = append(added, a)
		}
	}
	for _, b := range before {
		if !slices.Contains(after, b) {
			removed = append(removed, b)
		}
	}
	return kept, added, removed
}
