package kel

import (
	"math/big"
	"slices"
	"testing"
)

func TestThresholdSatisfy(t *testing.T) {
	for _, c := range []struct {
		th      string
		indices []int
		met     bool
		sums    []string // per clause
		counted [][]int  // per clause; nil to skip
	}{
		// Known answers confirmed with keripy (design section 10).
		{`["1/2","1/2","1/4","1/4"]`, []int{0, 2}, false, []string{"3/4"}, [][]int{{0, 2}}},
		{`["1/2","1/2","1/4","1/4"]`, []int{0, 2, 3}, true, []string{"1"}, [][]int{{0, 2, 3}}},
		{`["1/2","1/2","1/4","1/4"]`, []int{0, 1}, true, []string{"1"}, [][]int{{0, 1}}},
		{`["1/2","1/2","1/4","1/4"]`, []int{3, 2, 1, 0}, true, []string{"3/2"}, [][]int{{0, 1, 2, 3}}},
		{`[["1/2","1/2","1/2"],["1","1"]]`, []int{0, 1}, false, []string{"1", "0"}, [][]int{{0, 1}, nil}},
		{`[["1/2","1/2","1/2"],["1","1"]]`, []int{0, 1, 3}, true, []string{"1", "1"}, [][]int{{0, 1}, {3}}},
		{`[["1/2","1/2","1/2"],["1","1"]]`, []int{3, 4}, false, []string{"0", "2"}, [][]int{nil, {3, 4}}},
		{`["1/2","1/4","1/4"]`, []int{0, 1}, false, []string{"3/4"}, [][]int{{0, 1}}},
		{`["1/2","1/4","1/4"]`, []int{1, 2}, false, []string{"1/2"}, [][]int{{1, 2}}},
		{`["1/2","1/4","1/4"]`, []int{0, 1, 2}, true, []string{"1"}, [][]int{{0, 1, 2}}},
		// Sums float arithmetic gets wrong (signify-ts, design section 17.5).
		{repeatWeights("1/6", 6), []int{0, 1, 2, 3, 4, 5}, true, []string{"1"}, nil},
		{repeatWeights("1/7", 7), []int{0, 1, 2, 3, 4, 5, 6}, true, []string{"1"}, nil},
		{repeatWeights("1/10", 10), []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, true, []string{"1"}, nil},
		{repeatWeights("1/10", 10), []int{0, 1, 2, 3, 4, 5, 6, 7, 8}, false, []string{"9/10"}, nil},
		{repeatWeights("1/3", 3), []int{0, 1, 2}, true, []string{"1"}, nil},
		// Duplicates count once; out-of-range indices are ignored.
		{`["1/2","1/2"]`, []int{0, 0}, false, []string{"1/2"}, [][]int{{0}}},
		{`["1/2","1/2"]`, []int{0, 2, 7, -1}, false, []string{"1/2"}, [][]int{{0}}},
		{`["1/2","1/2"]`, nil, false, []string{"0"}, [][]int{nil}},
		// Nested groups: keripy's tests/core/test_coring.py test_tholder.
		{`[{"1/3":["1/2","1/2","1/2"]},"1/3","1/2",{"1/2":["1","1"]}]`, []int{0, 2, 3, 6}, true, []string{"7/6"}, [][]int{{0, 2, 3, 6}}},
		{`[{"1/3":["1/2","1/2","1/2"]},"1/3","1/2",{"1/2":["1","1"]}]`, []int{3, 4, 5}, true, []string{"4/3"}, nil},
		{`[{"1/3":["1/2","1/2","1/2"]},"1/3","1/2",{"1/2":["1","1"]}]`, []int{1, 2, 3, 4}, true, []string{"7/6"}, nil},
		{`[{"1/3":["1/2","1/2","1/2"]},"1/3","1/2",{"1/2":["1","1"]}]`, []int{4, 6}, true, []string{"1"}, nil},
		{`[{"1/3":["1/2","1/2","1/2"]},"1/3","1/2",{"1/2":["1","1"]}]`, []int{4, 2, 0, 3}, true, []string{"7/6"}, nil},
		{`[{"1/3":["1/2","1/2","1/2"]},"1/3","1/2",{"1/2":["1","1"]}]`, []int{0, 0, 1, 2, 1, 5, 6, 3}, true, []string{"7/6"}, [][]int{{0, 1, 2, 3, 5, 6}}},
		{`[{"1/3":["1/2","1/2","1/2"]},"1/3","1/2",{"1/2":["1","1"]}]`, []int{0, 2, 5}, false, []string{"5/6"}, nil},
		{`[{"1/3":["1/2","1/2","1/2"]},"1/3","1/2",{"1/2":["1","1"]}]`, []int{2, 3, 4}, false, []string{"5/6"}, nil},
		{`[{"1/3":["1/2","1/2","1/2"]},"1/3","1/2",{"1/2":["1","1"]}]`, []int{0, 3, 4}, false, []string{"5/6"}, nil}, // group of 3 has only 1/2
		{`[[{"1/3":["1/2","1/2","1/2"]},"1/2",{"1/2":["1","1"]}],["1/2",{"1/2":["1","1"]}]]`, []int{0, 2, 3, 5, 6, 7}, true, []string{"4/3", "1"}, [][]int{{0, 2, 3, 5}, {6, 7}}},
		{`[[{"1/3":["1/2","1/2","1/2"]},"1/2",{"1/2":["1","1"]}],["1/2",{"1/2":["1","1"]}]]`, []int{3, 4, 5, 6, 8}, true, nil, nil},
		{`[[{"1/3":["1/2","1/2","1/2"]},"1/2",{"1/2":["1","1"]}],["1/2",{"1/2":["1","1"]}]]`, []int{1, 2, 3, 4, 6, 7}, true, nil, nil},
		{`[[{"1/3":["1/2","1/2","1/2"]},"1/2",{"1/2":["1","1"]}],["1/2",{"1/2":["1","1"]}]]`, []int{4, 2, 0, 3, 8, 6}, true, nil, nil},
		{`[[{"1/3":["1/2","1/2","1/2"]},"1/2",{"1/2":["1","1"]}],["1/2",{"1/2":["1","1"]}]]`, []int{0, 0, 1, 2, 1, 8, 3, 5, 6, 3}, true, nil, nil},
		{`[[{"1/3":["1/2","1/2","1/2"]},"1/2",{"1/2":["1","1"]}],["1/2",{"1/2":["1","1"]}]]`, []int{0, 2, 5}, false, []string{"5/6", "0"}, nil},
		{`[[{"1/3":["1/2","1/2","1/2"]},"1/2",{"1/2":["1","1"]}],["1/2",{"1/2":["1","1"]}]]`, []int{6, 7, 8}, false, []string{"0", "1"}, nil},
		// Huge denominators are summed exactly.
		{`["1/18446744073709551615","18446744073709551614/18446744073709551615"]`, []int{0, 1}, true, []string{"1"}, nil},
		{`["1/18446744073709551557","1/18446744073709551533","1"]`, []int{0, 1}, false, []string{"36893488147419103090/340282366920938460843936948965011886881"}, nil},
	} {
		th := mustThreshold(t, c.th)
		before := slices.Clone(c.indices)
		s := th.Satisfy(c.indices)
		if !slices.Equal(before, c.indices) {
			t.Errorf("%s.Satisfy modified its argument: %v", c.th, c.indices)
		}
		if s.Met != c.met {
			t.Errorf("%.50s.Satisfy(%v).Met = %v, want %v", c.th, c.indices, s.Met, c.met)
		}
		if s.Need != 0 || len(s.Clauses) != len(th.clauses) {
			t.Errorf("%.50s.Satisfy(%v): need %d, %d clauses", c.th, c.indices, s.Need, len(s.Clauses))
			continue
		}
		met := true
		distinct := 0
		for i, p := range s.Clauses {
			if p.Met != (p.Sum.Cmp(big.NewRat(1, 1)) >= 0) {
				t.Errorf("%.50s clause %d: Met %v with sum %s", c.th, i, p.Met, p.Sum.RatString())
			}
			met = met && p.Met
			distinct += len(p.Counted)
			if c.sums != nil && p.Sum.Cmp(rats(c.sums[i])[0]) != 0 {
				t.Errorf("%.50s.Satisfy(%v) clause %d sum %s, want %s", c.th, c.indices, i, p.Sum.RatString(), c.sums[i])
			}
			if c.counted != nil && !slices.Equal(p.Counted, c.counted[i]) {
				t.Errorf("%.50s.Satisfy(%v) clause %d counted %v, want %v", c.th, c.indices, i, p.Counted, c.counted[i])
			}
		}
		if met != s.Met || distinct != s.Have {
			t.Errorf("%.50s.Satisfy(%v): met %v have %d, clauses say %v %d", c.th, c.indices, s.Met, s.Have, met, distinct)
		}
	}
}

func TestThresholdSatisfyLeaves(t *testing.T) {
	s := mustThreshold(t, `[[{"1/3":["1/2","1/2","1/2"]},"1/2",{"1/2":["1","1"]}],["1/2",{"1/2":["1","1"]}]]`).Satisfy(nil)
	if s.Met || s.Have != 0 || len(s.Clauses) != 2 {
		t.Fatalf("Satisfy(nil) = %+v", s)
	}
	if !slices.Equal(s.Clauses[0].Leaves, []int{0, 1, 2, 3, 4, 5}) || !slices.Equal(s.Clauses[1].Leaves, []int{6, 7, 8}) {
		t.Errorf("leaves %v %v", s.Clauses[0].Leaves, s.Clauses[1].Leaves)
	}
	for _, p := range s.Clauses {
		if p.Sum == nil || p.Sum.Sign() != 0 || p.Counted != nil || p.Met {
			t.Errorf("empty progress %+v", p)
		}
	}
	// Sum is a fresh value each time: changing it does not affect t.
	th := mustThreshold(t, `["1/2","1/2"]`)
	th.Satisfy([]int{0}).Clauses[0].Sum.SetInt64(5)
	if th.Satisfy([]int{0}).Met {
		t.Error("Sum aliases threshold state")
	}
}

func TestThresholdSatisfyInt(t *testing.T) {
	for _, c := range []struct {
		m       int
		indices []int
		met     bool
		have    int
	}{
		{2, []int{0}, false, 1},
		{2, []int{0, 1}, true, 2},
		{2, []int{0, 0}, false, 1}, // one key twice is one signer
		{2, []int{1, 0, 1, 0}, true, 2},
		{2, []int{-1, 0}, false, 1},
		{2, []int{-1, -2}, false, 0},
		{1, []int{0}, true, 1},
		{1, nil, false, 0},
		{3, []int{2, 1, 0}, true, 3},
		{0, nil, false, 0},
		{0, []int{0, 1}, false, 2}, // zero never met
		{-1, []int{0}, false, 1},
	} {
		before := slices.Clone(c.indices)
		s := IntThreshold(c.m).Satisfy(c.indices)
		if s.Met != c.met || s.Need != c.m || s.Have != c.have || s.Clauses != nil {
			t.Errorf("IntThreshold(%d).Satisfy(%v) = %+v, want met %v have %d", c.m, c.indices, s, c.met, c.have)
		}
		if !slices.Equal(before, c.indices) {
			t.Errorf("Satisfy modified its argument: %v", c.indices)
		}
	}
	if s := mustThreshold(t, `"2"`).Satisfy([]int{0, 1}); !s.Met || s.Need != 2 {
		t.Errorf("parsed \"2\": %+v", s)
	}
}

func BenchmarkThresholdSatisfy(b *testing.B) {
	th, err := ParseThreshold(`[["1/2","1/2","1/2"],["1","1"]]`)
	if err != nil {
		b.Fatal(err)
	}
	idx := []int{0, 1, 3}
	for b.Loop() {
		_ = th.Satisfy(idx)
	}
}
