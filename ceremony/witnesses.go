package ceremony

import (
	"fmt"
	"strings"

	"github.com/keremony/keremony/kel"
)

// Witnesses in words, for reviews and progress: names come from the
// reviewer's address book (a witness's prefix → the name its OOBI gave).

// WitnessName is a witness's name with its shortened prefix, "wan
// (BBilc4-L3tFU…)", or the prefix alone when book has no name for it.
func WitnessName(prefix string, book map[string]string) string {
	if n := book[prefix]; n != "" {
		return fmt.Sprintf("%s (%s)", n, clipPrefix(prefix))
	}
	return prefix
}

func clipPrefix(p string) string {
	if len(p) > 12 {
		return p[:12] + "…"
	}
	return p
}

func witnessNames(ws []string, book map[string]string) string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = WitnessName(w, book)
	}
	return strings.Join(out, ", ")
}

// DescribeWitnesses says who witnesses a group and how many receipts each
// event needs: "wan (BBilc4…), wil (BLskRT…): 2 of 2 must receipt every
// event (toad 2)".
func DescribeWitnesses(ws []string, bt uint64, book map[string]string) string {
	if len(ws) == 0 {
		return "none: no witness receipts the group's events"
	}
	return fmt.Sprintf("%s: %d of %d must receipt every event (toad %d)", witnessNames(ws, book), bt, len(ws), bt)
}

// describeWitnessChange says what a rotation does to the witnesses ("" when
// nothing): who joins, who leaves, and the toad before and after.
func describeWitnessChange(prior kel.KeyState, ev *kel.Event, after []string, book map[string]string) string {
	cuts, adds := ev.Cuts(), ev.Adds()
	if len(cuts) == 0 && len(adds) == 0 && prior.Bt == ev.Bt() {
		return ""
	}
	var parts []string
	if len(adds) > 0 {
		parts = append(parts, "adds "+witnessNames(adds, book))
	}
	if len(cuts) > 0 {
		parts = append(parts, "cuts "+witnessNames(cuts, book))
	}
	if prior.Bt != ev.Bt() {
		parts = append(parts, fmt.Sprintf("toad %d → %d", prior.Bt, ev.Bt()))
	}
	return fmt.Sprintf("witnesses change: %s; then %d of %d must receipt every event", strings.Join(parts, ", "), ev.Bt(), len(after))
}
