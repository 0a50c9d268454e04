package kel

// Thresholds (kt, nt): the Threshold type, its limits and constructors,
// and the methods that read its form (String, Equal, Validate). Parsing is
// in threshold_parse.go, Satisfy in threshold_satisfy.go and the plain-words
// reading in threshold_describe.go.

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
)

// Limits on thresholds read from untrusted input.
const (
	// maxIntThreshold is the largest integer threshold M accepted (2^32, or
	// the largest int on 32-bit platforms).
	maxIntThreshold = min(1<<32, math.MaxInt)
	// maxThresholdLeaves caps the number of weights (leaves) in a weighted
	// threshold.
	maxThresholdLeaves = 4096
	// maxThresholdDenBits caps the size of the least common multiple of the
	// denominators in one clause; it allows, for example, any mix of
	// denominators up to 2800. Without it, 4096 weights with coprime 64-bit
	// denominators would make each exact sum (and its reduction for
	// ClauseProgress.Sum) cost hundreds of milliseconds.
	maxThresholdDenBits = 4096
)

// Threshold is a KERI signing threshold (the kt and nt fields): either an
// integer M-of-N, or weighted clauses that must all be met (ANDed).
//
// The zero value is the integer threshold 0. Build thresholds with
// IntThreshold, WeightedThreshold or ParseThreshold; a Threshold is
// immutable and safe to copy and share.
type Threshold struct {
	m       int       // integer M (weighted thresholds: 0)
	clauses [][]thElt // weighted clauses; nil for integer thresholds
	leaves  int       // weighted: number of leaves (weights) across all clauses
}

// thWeight is a reduced fraction num/den with 0 <= num <= den, den >= 1.
type thWeight struct{ num, den uint64 }

// thElt is one top-level element of a weighted clause: a plain weight (a
// leaf), or a nested group {"w": [sub-weights]} whose leaves are its
// sub-weights and which contributes w when its marked sub-weights reach 1.
type thElt struct {
	w     thWeight
	group bool
	sub   []thWeight
}

// leafCount is the number of key positions the element covers.
func (e thElt) leafCount() int {
	if e.group {
		return len(e.sub)
	}
	return 1
}

// IntThreshold returns the integer threshold M (M signatures of any of the
// keys). A negative or oversized m gives a threshold that Validate rejects.
func IntThreshold(m int) Threshold { return Threshold{m: m} }

// WeightedThreshold builds flat weighted clauses from weight strings like
// "1/2", "1", "0"; nested {"w":[...]} groups are only available through
// parsing. Each inner slice is one clause; all clauses must be met.
func WeightedThreshold(clauses [][]string) (Threshold, error) {
	if len(clauses) == 0 {
		return Threshold{}, thErrf("empty weight list")
	}
	cs := make([][]thElt, len(clauses))
	n := 0
	for i, c := range clauses {
		if len(c) == 0 {
			return Threshold{}, thEmptyClause(i, len(clauses))
		}
		if n += len(c); n > maxThresholdLeaves {
			return Threshold{}, thErrf("more than %d weights", maxThresholdLeaves)
		}
		cs[i] = make([]thElt, len(c))
		for j, s := range c {
			w, err := parseWeight(s)
			if err != nil {
				return Threshold{}, err
			}
			cs[i][j] = thElt{w: w}
		}
	}
	return newWeighted(cs)
}

// jsonValue returns the canonical JSON value of t, as keripy writes it.
func (t Threshold) jsonValue() jsonValue {
	if !t.IsWeighted() {
		return jStr(t.hex())
	}
	clauses := make([]jsonValue, len(t.clauses))
	for i, c := range t.clauses {
		l := make([]jsonValue, len(c))
		for j, e := range c {
			if !e.group {
				l[j] = jStr(e.w.String())
				continue
			}
			sub := make([]string, len(e.sub))
			for k, w := range e.sub {
				sub[k] = w.String()
			}
			l[j] = jsonValue{kind: jsonMap, mems: []jsonMember{{key: e.w.String(), val: jStrList(sub)}}}
		}
		clauses[i] = jsonValue{kind: jsonList, list: l}
	}
	if len(clauses) == 1 {
		return clauses[0] // keripy writes a single clause flat
	}
	return jsonValue{kind: jsonList, list: clauses}
}

func (t Threshold) hex() string {
	if t.m < 0 {
		return "-" + strconv.FormatUint(uint64(-int64(t.m)), 16)
	}
	return strconv.FormatUint(uint64(t.m), 16)
}

// IsWeighted reports whether t is a weighted threshold.
func (t Threshold) IsWeighted() bool { return t.clauses != nil }

// Int returns M for integer thresholds and 0 for weighted ones.
func (t Threshold) Int() int { return t.m }

// Size is the number of key positions the threshold speaks for: the leaf
// count of a weighted threshold, or M (the minimum number of keys) for an
// integer one.
func (t Threshold) Size() int {
	if t.IsWeighted() {
		return t.leaves
	}
	return t.m
}

// String returns the canonical JSON text of the threshold, byte for byte as
// keripy writes it: `"2"`, `["1/2","1/2","1/2"]`, `[["1/2","1/2"],["1"]]`,
// `[{"1/2":["1","1"]},"1/2"]`.
func (t Threshold) String() string { return string(t.jsonValue().appendJSON(nil)) }

// Text returns the threshold as a person types it for ParseThresholdText:
// an integer threshold as a decimal number ("2", "10"; String writes the
// hex string `"a"` for 10), a weighted one as its canonical JSON, the same
// text as String (`["1/2","1/4","1/4"]`, `[["1/2","1/2"],["1","1"]]`).
// ParseThresholdText(t.Text()) equals t for every threshold the parsers
// return.
func (t Threshold) Text() string {
	if t.IsWeighted() {
		return t.String()
	}
	return strconv.Itoa(t.m)
}

// Equal reports whether t and u are the same threshold (the same canonical
// form).
func (t Threshold) Equal(u Threshold) bool {
	if t.m != u.m || t.leaves != u.leaves || t.IsWeighted() != u.IsWeighted() || len(t.clauses) != len(u.clauses) {
		return false
	}
	for i := range t.clauses {
		if !slices.EqualFunc(t.clauses[i], u.clauses[i], func(a, b thElt) bool {
			return a.w == b.w && a.group == b.group && slices.Equal(a.sub, b.sub)
		}) {
			return false
		}
	}
	return true
}

// Validate checks t against a list of n keys (kt) or next-key digests (nt).
// An integer threshold needs 1 <= M <= n, except that M = 0 is required when
// the list is empty (abandonment). A weighted threshold needs exactly one
// weight per key (keripy only requires at least as many keys).
func (t Threshold) Validate(n int) error {
	if n < 0 {
		return thErrf("negative key count %d", n)
	}
	if t.IsWeighted() {
		if t.leaves != n {
			return thErrf("weighted threshold has %d weights but %d keys are listed", t.leaves, n)
		}
		return nil
	}
	switch {
	case t.m < 0:
		return thErrf("negative threshold %d", t.m)
	case t.m > maxIntThreshold:
		return thErrf("threshold %d is too large", t.m)
	case n == 0 && t.m != 0:
		return thErrf("threshold %d needs keys but none are listed", t.m)
	case t.m == 0 && n != 0:
		return thErrf("threshold 0 can never be met with %d keys listed", n)
	case t.m > n:
		return thErrf("threshold %d needs more than the %d keys listed", t.m, n)
	}
	return nil
}

// newWeighted checks that every clause's top-level weights, and every nested
// group's sub-weights, add up to at least 1, and counts the leaves.
func newWeighted(cs [][]thElt) (Threshold, error) {
	leaves := 0
	for i, c := range cs {
		where := thClauseName(i, len(cs))
		if _, ok := thClauseDenominator(c); !ok {
			return Threshold{}, thErrf("%sthe weights' common denominator is over %d bits", where, maxThresholdDenBits)
		}
		var sum thRatSum
		for _, e := range c {
			sum.add(e.w)
			leaves += e.leafCount()
			if !e.group {
				continue
			}
			var gs thRatSum
			for _, w := range e.sub {
				gs.add(w)
			}
			if !gs.atLeastOne() {
				return Threshold{}, thErrf("%snested group %q: weights add up to %s, less than 1", where, e.w.String(), gs.describe())
			}
		}
		if !sum.atLeastOne() {
			return Threshold{}, thErrf("%sweights add up to %s, less than 1", where, sum.describe())
		}
	}
	if leaves > maxThresholdLeaves {
		return Threshold{}, thErrf("more than %d weights", maxThresholdLeaves)
	}
	return Threshold{clauses: cs, leaves: leaves}, nil
}

// thClauseDenominator returns the least common multiple of the denominators
// of all weights in a clause, nested ones included, or false when it has more
// than maxThresholdDenBits bits. Every sum over the clause has a denominator
// dividing it, which bounds the cost of exact arithmetic on the clause.
func thClauseDenominator(c []thElt) (*big.Int, bool) {
	den := big.NewInt(1)
	var t big.Int
	lcm := func(d uint64) bool {
		t.Mod(den, t.SetUint64(d))
		if m := d / thGCD(t.Uint64(), d); m != 1 {
			den.Mul(den, t.SetUint64(m))
		}
		return den.BitLen() <= maxThresholdDenBits
	}
	for _, e := range c {
		if !lcm(e.w.den) {
			return nil, false
		}
		for _, w := range e.sub {
			if !lcm(w.den) {
				return nil, false
			}
		}
	}
	return den, true
}

// thClauseName prefixes messages about clause i of n ("" for a single clause).
func thClauseName(i, n int) string {
	if n == 1 {
		return ""
	}
	return fmt.Sprintf("clause %d of %d: ", i+1, n)
}

func thEmptyClause(i, n int) error {
	if n == 1 {
		return thErrf("empty clause")
	}
	return thErrf("clause %d of %d is empty", i+1, n)
}

// thErrf returns an error wrapping ErrThreshold.
func thErrf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrThreshold, fmt.Sprintf(format, a...))
}

// String writes the weight as keripy does: "0", "1" or "n/d" reduced.
func (w thWeight) String() string {
	switch {
	case w.num == 0:
		return "0"
	case w.num == w.den:
		return "1"
	}
	return strconv.FormatUint(w.num, 10) + "/" + strconv.FormatUint(w.den, 10)
}

func thGCD(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Weights is each key position's weight in a weighted threshold, in
// order ("1/2"); a position inside a nested group reads "1/2 of a 1/4
// group" (nil for integer thresholds).
func (t Threshold) Weights() []string {
	if !t.IsWeighted() {
		return nil
	}
	out := make([]string, 0, t.leaves)
	for _, c := range t.clauses {
		for _, e := range c {
			if !e.group {
				out = append(out, e.w.String())
				continue
			}
			for _, w := range e.sub {
				out = append(out, w.String()+" of a "+e.w.String()+" group")
			}
		}
	}
	return out
}
