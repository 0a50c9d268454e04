package kel

import (
	"errors"
	"math"
	"math/big"
	"testing"
)

// FuzzParseThreshold checks that ParseThreshold never panics, that every
// error is an ErrThreshold, that the canonical form is a fixed point, and that
// a valid threshold is met when every key signs and not met when none does.
func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{
		`"1"`, `"2"`, `"a"`, `"24"`, `"0"`, `2`, `36`, `0`, `"01"`, `"A"`, `"ffffffff"`, `"100000001"`,
		`["1/2","1/2","1/2"]`,
		`["1/2","1/2","1/4","1/4"]`,
		`["1/2","1/4","1/4"]`,
		`[["1/2","1/2","1/2"],["1","1"]]`,
		`[["1/2","1/2","1/2"]]`,
		`[{"1/2":["1","1"]},"1/2"]`,
		`[{"1/3":["1/2","1/2","1/2"]},"1/3","1/2",{"1/2":["1","1"]}]`,
		`[[{"1/3":["1/2","1/2","1/2"]},"1/2",{"1/2":["1","1"]}],["1/2",{"1/2":["1","1"]}]]`,
		`["2/4","2/4"]`, `["1/1"]`, `["0/5","1"]`, `["0.5","0.5"]`, `["1/0","1"]`, `["01/2","1"]`,
		`["1/99999999999999999999999","1"]`, `["1/18446744073709551615","18446744073709551614/18446744073709551615"]`,
		`[{"1":[{"1":["1"]}]}]`, `[[],[]]`, `[]`, `{}`, `null`,
		`["1/6","1/6","1/6","1/6","1/6","1/6"]`,
		`["1/10","1/10","1/10","1/10","1/10","1/10","1/10","1/10","1/10","1/10"]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		th, err := ParseThreshold(text)
		if err != nil {
			if !errors.Is(err, ErrThreshold) || ErrorCode(err) != "threshold_invalid" {
				t.Fatalf("ParseThreshold(%q): error %v is not an ErrThreshold", text, err)
			}
			return
		}
		canon := th.String()
		again, err := ParseThreshold(canon)
		if err != nil {
			t.Fatalf("ParseThreshold(%q) gave %s, which does not re-parse: %v", text, canon, err)
		}
		if !again.Equal(th) || again.String() != canon {
			t.Fatalf("ParseThreshold(%q): %s re-parses to %s", text, canon, again)
		}
		n := th.Size()
		if th.IsWeighted() {
			if err := th.Validate(n); err != nil {
				t.Fatalf("%s.Validate(Size()=%d): %v", canon, n, err)
			}
			if th.Int() != 0 || n < 1 || n > maxThresholdLeaves {
				t.Fatalf("%s: weighted with Int %d, Size %d", canon, th.Int(), n)
			}
		} else if th.Int() < 0 || th.Int() > maxIntThreshold {
			t.Fatalf("%s: integer threshold %d out of range", canon, th.Int())
		}
		if n > maxThresholdLeaves || th.Validate(n) != nil {
			return
		}
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		if n > 0 && !th.Satisfy(all).Met {
			t.Fatalf("%s not met by all %d keys", canon, n)
		}
		if s := th.Satisfy(nil); s.Met {
			t.Fatalf("%s met by no signature", canon)
		}
		// Indices outside the leaves do not count (an integer threshold only
		// knows that negative ones are out of range).
		s := th.Satisfy([]int{-1, n, n + 7, n, math.MinInt})
		if th.IsWeighted() && (s.Met || s.Have != 0) || !th.IsWeighted() && s.Have != 2 {
			t.Fatalf("%s: out-of-range indices miscounted: %+v", canon, s)
		}
		if n <= 64 && (th.Describe(nil) == "" || th.Describe([]string{"a", "b"}) == "") {
			t.Fatalf("%s: empty description", canon)
		}
		if th.IsWeighted() && n <= 8 {
			checkSatisfyExhaustively(t, th)
		}
	})
}

// FuzzParseThresholdText: whatever is typed as a threshold, ParseThresholdText
// returns a threshold or an error wrapping ErrThreshold (with its reason
// code), never panics, and a threshold it accepts is one ParseThreshold
// accepts: its KERI form (String) parses to an equal threshold, and its
// typed form (Text) reads back to it.
func FuzzParseThresholdText(f *testing.F) {
	for _, s := range []string{
		"2", " 12 ", "1/2,1/4,1/4", "1/2, 1/4 1/4", "1/2,1/2;1,1", "1,", ";", "1/2,,x", "0.5,0.5",
		`["1/2","1/4","1/4"]`, `[["1/2","1/2"],["1","1"]]`, `"a"`, `"10"`,
		"", "abc", "0", "007", "1/0", "-1", "2 of 3", "{}", "[[]]", `[{"1/2":["1/2"]}]`,
		"4294967296", "4294967297", "99999999999999999999",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		th, err := ParseThresholdText(text)
		if err != nil {
			if !errors.Is(err, ErrThreshold) || ErrorCode(err) != "threshold_invalid" {
				t.Fatalf("ParseThresholdText(%q): error %v is not an ErrThreshold", text, err)
			}
			return
		}
		again, err := ParseThreshold(th.String())
		if err != nil || !again.Equal(th) {
			t.Fatalf("ParseThresholdText(%q) = %s, which reads back as %v, %v", text, th, again, err)
		}
		typed, err := ParseThresholdText(th.Text())
		if err != nil || !typed.Equal(th) || typed.Text() != th.Text() {
			t.Fatalf("ParseThresholdText(%q) = %s, whose Text %q reads back as %v, %v", text, th, th.Text(), typed, err)
		}
	})
}

// checkSatisfyExhaustively compares Satisfy, for every set of signers, with a
// plain big.Rat evaluation and with the table Describe reads.
func checkSatisfyExhaustively(t *testing.T, th Threshold) {
	rat := func(w thWeight) *big.Rat {
		return new(big.Rat).SetFrac(new(big.Int).SetUint64(w.num), new(big.Int).SetUint64(w.den))
	}
	one := big.NewRat(1, 1)
	var tables [][]bool
	for _, c := range th.clauses {
		leaves := 0
		for _, e := range c {
			leaves += e.leafCount()
		}
		tables = append(tables, thSatTable(c, leaves))
	}
	for mask := 0; mask < 1<<th.leaves; mask++ {
		var idx []int
		for i := 0; i < th.leaves; i++ {
			if mask>>i&1 == 1 {
				idx = append(idx, i)
			}
		}
		s := th.Satisfy(idx)
		met, pos := true, 0
		for ci, c := range th.clauses {
			start := pos
			sum := new(big.Rat)
			for _, e := range c {
				if !e.group {
					if mask>>pos&1 == 1 {
						sum.Add(sum, rat(e.w))
					}
					pos++
					continue
				}
				g := new(big.Rat)
				for _, w := range e.sub {
					if mask>>pos&1 == 1 {
						g.Add(g, rat(w))
					}
					pos++
				}
				if g.Cmp(one) >= 0 {
					sum.Add(sum, rat(e.w))
				}
			}
			cm := sum.Cmp(one) >= 0
			met = met && cm
			p := s.Clauses[ci]
			if p.Sum.Cmp(sum) != 0 || p.Met != cm || tables[ci][mask>>start&(1<<(pos-start)-1)] != cm {
				t.Fatalf("%s signers %v clause %d: Satisfy sum %s met %v, reference %s %v, table %v",
					th, idx, ci, p.Sum.RatString(), p.Met, sum.RatString(), cm, tables[ci][mask>>start&(1<<(pos-start)-1)])
			}
		}
		if s.Met != met {
			t.Fatalf("%s signers %v: Satisfy met %v, reference %v", th, idx, s.Met, met)
		}
	}
}
