package kel

// Describe: a threshold in plain words, with the helpers that read a
// weighted clause by its minimal sets of signers.

import (
	"cmp"
	"fmt"
	"math/big"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

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
