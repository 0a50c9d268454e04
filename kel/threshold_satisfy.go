package kel

// Satisfy: how far a set of signatures goes towards meeting a threshold,
// with exact sums of weights (thRatSum).

import (
	"math/big"
	"slices"
)

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
