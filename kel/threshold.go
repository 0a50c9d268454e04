package kel

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"slices"
	"strconv"
	"strings"
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

// Satisfaction reports how far a set of signatures goes towards meeting a
// threshold.
type Satisfaction struct {
	Met bool
	// Need is M for integer thresholds (0 for weighted ones).
	Need int
	// Have is the number of distinct counted indices: for integer thresholds
	// the distinct non-negative indices, for weighted ones the distinct
	// indices that fall on a leaf.
	Have int
	// Clauses has one entry per ANDed clause of a weighted threshold, in order
	// (nil for integer thresholds).
	Clauses []ClauseProgress
}

// ClauseProgress is the state of one weighted clause.
type ClauseProgress struct {
	Leaves  []int    // key positions covered by this clause, in order
	Counted []int    // the positions in Leaves that have signatures, in order
	Sum     *big.Rat // sum of counted top-level weights (a nested group counts its weight only when satisfied)
	Met     bool     // Sum >= 1
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

// ParseThreshold parses the JSON text of a kt or nt value: an integer as a
// lowercase hex string ("2", "a"), or as a JSON integer (keripy's intive
// form, written back as a hex string), or weighted clauses:
// ["1/2","1/2","1/2"], [["1/2","1/2","1/2"],["1","1"]], or keripy's nested
// form [{"1/2":["1","1"]},"1/2"], in which a one-key map gives the key's
// weight to a group of sub-weights and the group contributes that weight
// when its own marked sub-weights reach 1.
//
// Non-canonical spellings ("2/4", "1/1", a single clause as [[...]]) are
// accepted; String gives the canonical form.
func ParseThreshold(text string) (Threshold, error) {
	v, err := parseJSON([]byte(text))
	if err != nil {
		return Threshold{}, thErrf("%v", err)
	}
	return thresholdFromJSON(v)
}

// thresholdFromJSON reads a parsed kt/nt value.
func thresholdFromJSON(v jsonValue) (Threshold, error) {
	switch v.kind {
	case jsonString:
		m, err := parseHexThreshold(v.str)
		if err != nil {
			return Threshold{}, err
		}
		return Threshold{m: m}, nil
	case jsonNumber:
		m, err := parseNumberThreshold(v.str)
		if err != nil {
			return Threshold{}, err
		}
		return Threshold{m: m}, nil
	case jsonList:
		return weightedFromJSON(v.list)
	default:
		return Threshold{}, thErrf("a threshold must be a hex string or a list of weights, not %s", thKindName(v.kind))
	}
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

// Satisfy reports whether signatures at the given key positions meet t.
// Indices are de-duplicated; indices outside the key positions (negative, or
// beyond the leaves of a weighted threshold) are ignored. An integer threshold
// cannot know the number of keys, so the caller drops indices >= len(keys).
// indices is not modified.
func (t Threshold) Satisfy(indices []int) Satisfaction {
	if !t.IsWeighted() {
		idx := slices.Clone(indices)
		slices.Sort(idx)
		idx = slices.Compact(idx)
		have := 0
		for _, i := range idx {
			if i >= 0 {
				have++
			}
		}
		return Satisfaction{Met: t.m > 0 && have >= t.m, Need: t.m, Have: have}
	}
	marks := make([]bool, t.leaves)
	have := 0
	for _, i := range indices {
		if i >= 0 && i < t.leaves && !marks[i] {
			marks[i] = true
			have++
		}
	}
	s := Satisfaction{Met: true, Have: have, Clauses: make([]ClauseProgress, len(t.clauses))}
	pos := 0
	for ci, c := range t.clauses {
		var p ClauseProgress
		var sum thRatSum
		for _, e := range c {
			if !e.group {
				p.Leaves = append(p.Leaves, pos)
				if marks[pos] {
					p.Counted = append(p.Counted, pos)
					sum.add(e.w)
				}
				pos++
				continue
			}
			var gs thRatSum
			for _, w := range e.sub {
				p.Leaves = append(p.Leaves, pos)
				if marks[pos] {
					p.Counted = append(p.Counted, pos)
					gs.add(w)
				}
				pos++
			}
			if gs.atLeastOne() {
				sum.add(e.w)
			}
		}
		p.Sum = sum.rat()
		p.Met = sum.atLeastOne()
		s.Met = s.Met && p.Met
		s.Clauses[ci] = p
	}
	return s
}

// Describe reads t in plain language, naming key position i by labels[i]
// ("#i" when labels has no non-empty name for it): "any 2 of 3: alice, bob,
// carol", "all of alice, bob", "alice plus bob, or alice plus carol plus
// dave"; several weighted clauses read "(…) and (…)". The text is
// deterministic.
func (t Threshold) Describe(labels []string) string {
	name := func(i int) string {
		if i < len(labels) && labels[i] != "" {
			return labels[i]
		}
		return "#" + strconv.Itoa(i)
	}
	if !t.IsWeighted() {
		return thDescribeInt(t.m, len(labels), name)
	}
	parts := make([]string, len(t.clauses))
	pos := 0
	for i, c := range t.clauses {
		parts[i] = thDescribeClause(c, pos, name)
		for _, e := range c {
			pos += e.leafCount()
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, ") and (") + ")"
}

func thDescribeInt(m, n int, name func(int) string) string {
	switch {
	case m <= 0:
		return fmt.Sprintf("nobody: threshold %d can never be met", m)
	case n == 0:
		return fmt.Sprintf("any %d of the keys", m)
	case m > n:
		return fmt.Sprintf("%d of only %d keys: can never be met", m, n)
	}
	return thAnyOf(m, 0, n, name)
}

// Limits on the exhaustive reading of a weighted clause.
const (
	thDescribeMaxLeaves = 12 // leaves in one clause for enumerating signer sets
	thDescribeMaxSets   = 8  // minimal signer sets listed one by one
)

// thDescribeClause reads one weighted clause whose first leaf is key position
// start. Small clauses are read by their minimal sets of signers; others by
// their weights.
func thDescribeClause(c []thElt, start int, name func(int) string) string {
	leaves := 0
	equal := true // plain weights only, all the same
	for _, e := range c {
		leaves += e.leafCount()
		equal = equal && !e.group && e.w == c[0].w
	}
	if equal && leaves > 1 {
		// k equal weights w reach 1 when k >= 1/w (w > 0: the clause reaches 1).
		k := (c[0].w.den + c[0].w.num - 1) / c[0].w.num
		return thAnyOf(int(k), start, leaves, name)
	}
	if leaves <= thDescribeMaxLeaves {
		if s, ok := thDescribeBySets(c, start, leaves, name); ok {
			return s
		}
	}
	// Read by weights.
	var parts []string
	pos := start
	for _, e := range c {
		if !e.group {
			parts = append(parts, name(pos)+" "+e.w.String())
			pos++
			continue
		}
		sub := make([]string, len(e.sub))
		for k, w := range e.sub {
			sub[k] = name(pos) + " " + w.String()
			pos++
		}
		parts = append(parts, fmt.Sprintf("%s for a group reaching 1 from %s", e.w, strings.Join(sub, ", ")))
	}
	return "signers whose weights add up to at least 1: " + strings.Join(parts, "; ")
}

// thDescribeBySets lists the minimal sets of signers that meet the clause, or
// says "any k of …" when they are all k-subsets of the same keys.
func thDescribeBySets(c []thElt, start, leaves int, name func(int) string) (string, bool) {
	sat := thSatTable(c, leaves)
	var sets []uint32
	union := uint32(0)
	size := -1
	uniform := true
	for mask := range sat {
		if !sat[mask] {
			continue
		}
		minimal := true
		for m := uint32(mask); m != 0; m &= m - 1 {
			if sat[uint32(mask)&^(m&-m)] {
				minimal = false
				break
			}
		}
		if !minimal {
			continue
		}
		sets = append(sets, uint32(mask))
		union |= uint32(mask)
		k := bits.OnesCount32(uint32(mask))
		if size >= 0 && k != size {
			uniform = false
		}
		size = k
	}
	names := func(m uint32) []string {
		var s []string
		for ; m != 0; m &= m - 1 {
			s = append(s, name(start+bits.TrailingZeros32(m)))
		}
		return s
	}
	if u := bits.OnesCount32(union); uniform && uint64(len(sets)) == thBinomial(u, size) {
		return thAnyOfNames(size, names(union)), true
	}
	if len(sets) > thDescribeMaxSets {
		return "", false
	}
	// Fewest signers first, then by key position.
	slices.SortStableFunc(sets, func(a, b uint32) int {
		if ka, kb := bits.OnesCount32(a), bits.OnesCount32(b); ka != kb {
			return ka - kb
		}
		return cmp.Compare(bits.Reverse32(b), bits.Reverse32(a)) // lowest differing position first
	})
	alts := make([]string, len(sets))
	for i, m := range sets {
		alts[i] = strings.Join(names(m), " plus ")
	}
	return strings.Join(alts, ", or "), true
}

// thSatTable evaluates a clause of at most thDescribeMaxLeaves leaves for
// every set of signers: sat[mask] tells whether the leaves whose bits are set
// in mask meet it. Every weight is scaled to the clause's common denominator,
// so each set costs only integer additions (in uint64 when they cannot
// overflow).
func thSatTable(c []thElt, leaves int) []bool {
	den, _ := thClauseDenominator(c)
	type scaled struct {
		w   *big.Int
		sub []*big.Int
	}
	scale := func(w thWeight) *big.Int {
		q := new(big.Int).Quo(den, new(big.Int).SetUint64(w.den))
		return q.Mul(q, new(big.Int).SetUint64(w.num))
	}
	sc := make([]scaled, len(c))
	for i, e := range c {
		sc[i].w = scale(e.w)
		for _, w := range e.sub {
			sc[i].sub = append(sc[i].sub, scale(w))
		}
	}
	sat := make([]bool, 1<<leaves)
	if den.BitLen() <= 64-bits.Len(thDescribeMaxLeaves) {
		// Sums of at most thDescribeMaxLeaves weights <= den fit in a uint64.
		one := den.Uint64()
		for mask := range sat {
			sum, bit := uint64(0), 0
			for i, e := range c {
				if !e.group {
					if mask>>bit&1 == 1 {
						sum += sc[i].w.Uint64()
					}
					bit++
					continue
				}
				g := uint64(0)
				for _, w := range sc[i].sub {
					if mask>>bit&1 == 1 {
						g += w.Uint64()
					}
					bit++
				}
				if g >= one {
					sum += sc[i].w.Uint64()
				}
			}
			sat[mask] = sum >= one
		}
		return sat
	}
	var acc, gacc big.Int
	for mask := range sat {
		acc.SetInt64(0)
		bit := 0
		for i, e := range c {
			if !e.group {
				if mask>>bit&1 == 1 {
					acc.Add(&acc, sc[i].w)
				}
				bit++
				continue
			}
			gacc.SetInt64(0)
			for _, w := range sc[i].sub {
				if mask>>bit&1 == 1 {
					gacc.Add(&gacc, w)
				}
				bit++
			}
			if gacc.Cmp(den) >= 0 {
				acc.Add(&acc, sc[i].w)
			}
		}
		sat[mask] = acc.Cmp(den) >= 0
	}
	return sat
}

// thAnyOf reads "any k of" the n key positions from start.
func thAnyOf(k, start, n int, name func(int) string) string {
	names := make([]string, n)
	for i := range names {
		names[i] = name(start + i)
	}
	return thAnyOfNames(k, names)
}

func thAnyOfNames(k int, names []string) string {
	switch {
	case len(names) == 1:
		return names[0]
	case k == len(names):
		return "all of " + strings.Join(names, ", ")
	}
	return fmt.Sprintf("any %d of %d: %s", k, len(names), strings.Join(names, ", "))
}

func thBinomial(n, k int) uint64 {
	if k < 0 || k > n {
		return 0
	}
	r := uint64(1)
	for i := 1; i <= k; i++ {
		r = r * uint64(n-k+i) / uint64(i)
	}
	return r
}

// weightedFromJSON reads a weighted threshold: a flat list (one clause) or a
// list of lists (ANDed clauses), each element a weight string or a one-key
// map {"w": [sub-weights]}.
func weightedFromJSON(list []jsonValue) (Threshold, error) {
	if len(list) == 0 {
		return Threshold{}, thErrf("empty weight list")
	}
	lists := 0
	for _, e := range list {
		if e.kind == jsonList {
			lists++
		}
	}
	var raw [][]jsonValue
	switch lists {
	case len(list):
		raw = make([][]jsonValue, len(list))
		for i, e := range list {
			raw[i] = e.list
		}
	case 0:
		raw = [][]jsonValue{list}
	default:
		return Threshold{}, thErrf("weight list mixes clauses (lists) and weights")
	}
	cs := make([][]thElt, len(raw))
	n := 0
	for i, c := range raw {
		where := thClauseName(i, len(raw))
		if len(c) == 0 {
			return Threshold{}, thEmptyClause(i, len(raw))
		}
		cs[i] = make([]thElt, 0, len(c))
		for _, e := range c {
			var elt thElt
			switch e.kind {
			case jsonString:
				w, err := parseWeight(e.str)
				if err != nil {
					return Threshold{}, err
				}
				elt = thElt{w: w}
			case jsonMap:
				var err error
				if elt, err = groupFromJSON(e, where); err != nil {
					return Threshold{}, err
				}
			case jsonList:
				return Threshold{}, thErrf("%sa list inside a clause: nesting deeper than one level", where)
			default:
				return Threshold{}, thErrf("%sweight %s is not a string", where, e.appendJSON(nil))
			}
			if n += elt.leafCount(); n > maxThresholdLeaves {
				return Threshold{}, thErrf("more than %d weights", maxThresholdLeaves)
			}
			cs[i] = append(cs[i], elt)
		}
	}
	return newWeighted(cs)
}

// groupFromJSON reads a nested group {"w": ["w1", "w2", …]}.
func groupFromJSON(e jsonValue, where string) (thElt, error) {
	if len(e.mems) != 1 {
		return thElt{}, thErrf("%snested weight map must have exactly one key, has %d", where, len(e.mems))
	}
	m := e.mems[0]
	w, err := parseWeight(m.key)
	if err != nil {
		return thElt{}, err
	}
	if m.val.kind != jsonList {
		return thElt{}, thErrf("%snested group %q: sub-weights must be a list, not %s", where, m.key, thKindName(m.val.kind))
	}
	if len(m.val.list) == 0 {
		return thElt{}, thErrf("%snested group %q is empty", where, m.key)
	}
	if len(m.val.list) > maxThresholdLeaves {
		return thElt{}, thErrf("more than %d weights", maxThresholdLeaves)
	}
	sub := make([]thWeight, len(m.val.list))
	for k, s := range m.val.list {
		switch s.kind {
		case jsonString:
		case jsonList, jsonMap:
			return thElt{}, thErrf("%snested group %q: nesting deeper than one level", where, m.key)
		default:
			return thElt{}, thErrf("%snested group %q: weight %s is not a string", where, m.key, s.appendJSON(nil))
		}
		if sub[k], err = parseWeight(s.str); err != nil {
			return thElt{}, err
		}
	}
	return thElt{w: w, group: true, sub: sub}, nil
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

// parseWeight reads a weight: "0", "1" or a fraction "n/d" with 0 <= n/d <= 1,
// both numbers decimal without sign, spaces or leading zeros, and below 2^64.
func parseWeight(s string) (thWeight, error) {
	switch s {
	case "0":
		return thWeight{0, 1}, nil
	case "1":
		return thWeight{1, 1}, nil
	case "":
		return thWeight{}, thErrf("empty weight")
	}
	switch {
	case strings.Contains(s, "."):
		return thWeight{}, thErrf("weight %q is a decimal; write a fraction such as \"1/2\"", s)
	case s[0] == '-':
		return thWeight{}, thErrf("weight %q is negative", s)
	}
	ns, ds, frac := strings.Cut(s, "/")
	if !frac {
		if _, err := parseWeightNumber(s); err != nil {
			return thWeight{}, thErrf("weight %q %s", s, err)
		}
		return thWeight{}, thErrf("weight %q is greater than 1", s)
	}
	n, err := parseWeightNumber(ns)
	if err != nil {
		return thWeight{}, thErrf("weight %q: numerator %s", s, err)
	}
	d, err := parseWeightNumber(ds)
	if err != nil {
		return thWeight{}, thErrf("weight %q: denominator %s", s, err)
	}
	switch {
	case d == 0:
		return thWeight{}, thErrf("weight %q has a zero denominator", s)
	case n > d:
		return thWeight{}, thErrf("weight %q is greater than 1", s)
	}
	g := thGCD(n, d)
	return thWeight{n / g, d / g}, nil
}

// thSyntaxError explains why a number inside a weight is malformed.
type thSyntaxError string

func (e thSyntaxError) Error() string { return string(e) }

// parseWeightNumber reads an unsigned decimal number without leading zeros that
// fits in 64 bits.
func parseWeightNumber(s string) (uint64, error) {
	if s == "" {
		return 0, thSyntaxError(`is missing (the form is "0", "1" or "n/d")`)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, thSyntaxError(`is not "0", "1" or a fraction "n/d" of decimal numbers`)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, thSyntaxError("has a leading zero")
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, thSyntaxError("is too large (over 64 bits)")
	}
	return v, nil
}

// parseHexThreshold reads an integer threshold written as keripy does: a
// lowercase hex string without leading zeros.
func parseHexThreshold(s string) (int, error) {
	if s == "" {
		return 0, thErrf("empty integer threshold")
	}
	upper := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			upper = true
		default:
			return 0, thErrf("threshold %q is not a lowercase hex number", s)
		}
	}
	switch {
	case upper:
		return 0, thErrf("threshold %q has uppercase hex digits", s)
	case len(s) > 1 && s[0] == '0':
		return 0, thErrf("threshold %q has a leading zero", s)
	}
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil || v > maxIntThreshold {
		return 0, thErrf("threshold %q is too large (over %d)", s, maxIntThreshold)
	}
	return int(v), nil
}

// parseNumberThreshold reads an integer threshold written as a JSON integer
// (keripy's intive form). digits is the number's text from the JSON parser.
func parseNumberThreshold(digits string) (int, error) {
	if strings.HasPrefix(digits, "-") {
		return 0, thErrf("negative threshold %s", digits)
	}
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || v > maxIntThreshold {
		return 0, thErrf("threshold %s is too large (over %d)", digits, maxIntThreshold)
	}
	return int(v), nil
}

func thKindName(k jsonKind) string {
	switch k {
	case jsonString:
		return "a string"
	case jsonNumber:
		return "a number"
	case jsonList:
		return "a list"
	case jsonMap:
		return "a map"
	case jsonBool:
		return "a boolean"
	case jsonNull:
		return "null"
	}
	return "a missing value"
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

// thRatSum adds weights exactly, keeping the lcm of the denominators so far
// as its denominator; each add costs time linear in that lcm's size (bounded
// by maxThresholdDenBits). Its zero value is 0. Do not copy a thRatSum after
// use.
type thRatSum struct {
	num, den big.Int // den is the lcm of the added denominators (0 before the first add)
	t, w     big.Int // scratch
}

func (s *thRatSum) add(w thWeight) {
	if w.num == 0 {
		return
	}
	if s.den.Sign() == 0 {
		s.num.SetUint64(w.num)
		s.den.SetUint64(w.den)
		return
	}
	// num/den + n/d = (num*m + n*(den/g)) / (den*m) with g = gcd(den, d), m = d/g.
	s.t.Mod(&s.den, s.w.SetUint64(w.den))
	g := thGCD(s.t.Uint64(), w.den)
	m := w.den / g
	if g == 1 {
		s.t.Set(&s.den)
	} else {
		s.t.Quo(&s.den, s.w.SetUint64(g))
	}
	s.t.Mul(&s.t, s.w.SetUint64(w.num))
	if m != 1 {
		s.w.SetUint64(m)
		s.num.Mul(&s.num, &s.w)
		s.den.Mul(&s.den, &s.w)
	}
	s.num.Add(&s.num, &s.t)
}

func (s *thRatSum) atLeastOne() bool { return s.den.Sign() != 0 && s.num.Cmp(&s.den) >= 0 }

// rat returns the sum as a new, reduced big.Rat.
func (s *thRatSum) rat() *big.Rat {
	if s.den.Sign() == 0 {
		return new(big.Rat)
	}
	return new(big.Rat).SetFrac(&s.num, &s.den)
}

// describe writes the sum for an error message, unless it is unreasonably long.
func (s *thRatSum) describe() string {
	if s.den.BitLen() > 256 {
		return "a fraction"
	}
	return s.rat().RatString()
}
