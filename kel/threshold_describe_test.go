package kel

import "testing"

func TestThresholdDescribe(t *testing.T) {
	abc := []string{"alice", "bob", "carol"}
	abcde := []string{"alice", "bob", "carol", "dave", "erin"}
	thirteen := `["1/2","1/24","1/24","1/24","1/24","1/24","1/24","1/24","1/24","1/24","1/24","1/24","1/24"]`
	for _, c := range []struct {
		th     string
		labels []string
		want   string
	}{
		{`"2"`, abc, "any 2 of 3: alice, bob, carol"},
		{`"1"`, abc, "any 1 of 3: alice, bob, carol"},
		{`"3"`, abc, "all of alice, bob, carol"},
		{`"2"`, abc[:2], "all of alice, bob"},
		{`"1"`, abc[:1], "alice"},
		{`"2"`, nil, "any 2 of the keys"},
		{`"3"`, abc[:2], "3 of only 2 keys: can never be met"},
		{`"0"`, nil, "nobody: threshold 0 can never be met"},
		{`"0"`, abc, "nobody: threshold 0 can never be met"},
		{`"2"`, []string{"alice", "", "carol"}, "any 2 of 3: alice, #1, carol"},
		{`["1/2","1/2","1/2"]`, abc, "any 2 of 3: alice, bob, carol"},
		{`["1/2","1/2","1/2"]`, nil, "any 2 of 3: #0, #1, #2"},
		{`["1/2","1/2","1/2"]`, abc[:1], "any 2 of 3: alice, #1, #2"},
		{`["1/2","1/2"]`, abc, "all of alice, bob"},
		{`["1","1"]`, abc, "any 1 of 2: alice, bob"},
		{`["1"]`, abc, "alice"},
		{`["1","0"]`, abc, "alice"},
		{`["1/2","1/2","0"]`, abc, "all of alice, bob"},
		{`["1/2","1/2","1/4","1/4"]`, []string{"alice", "bob", "carol", "dave"},
			"alice plus bob, or alice plus carol plus dave, or bob plus carol plus dave"},
		{`["1/2","1/4","1/4"]`, abc, "all of alice, bob, carol"},
		{`["1","1/2","1/2"]`, abc, "alice, or bob plus carol"},
		{`[["1/2","1/2","1/2"],["1","1"]]`, abcde, "(any 2 of 3: alice, bob, carol) and (any 1 of 2: dave, erin)"},
		{`[["1/2","1/2"],["1"]]`, abc, "(all of alice, bob) and (carol)"},
		{`[{"1/2":["1","1"]},"1/2"]`, abc, "alice plus carol, or bob plus carol"},
		{`[{"1":["1/2","1/2"]},"1/2","1/2"]`, []string{"a", "b", "c", "d"}, "a plus b, or c plus d"},
		{repeatWeights("1/6", 6), nil, "all of #0, #1, #2, #3, #4, #5"},
		{repeatWeights("1/4", 20), nil, "any 4 of 20: #0, #1, #2, #3, #4, #5, #6, #7, #8, #9, #10, #11, #12, #13, #14, #15, #16, #17, #18, #19"},
		{repeatWeights("2/5", 5), nil, "any 3 of 5: #0, #1, #2, #3, #4"},
		// Denominators too large for the uint64 fast path.
		{`["1/18446744073709551557","18446744073709551556/18446744073709551557","1"]`, abc, "carol, or alice plus bob"},
		{`[{"1/1152921504606846976":["1/2","1/2"]},"1152921504606846975/1152921504606846976","1"]`, []string{"a", "b", "c", "d"}, "d, or a plus b plus c"},
		// Too many leaves to enumerate: read by weights.
		{thirteen, nil, "signers whose weights add up to at least 1: #0 1/2; #1 1/24; #2 1/24; #3 1/24; #4 1/24; #5 1/24; #6 1/24; #7 1/24; #8 1/24; #9 1/24; #10 1/24; #11 1/24; #12 1/24"},
		{`[["1"],` + thirteen + `]`, nil, "(#0) and (signers whose weights add up to at least 1: #1 1/2; #2 1/24; #3 1/24; #4 1/24; #5 1/24; #6 1/24; #7 1/24; #8 1/24; #9 1/24; #10 1/24; #11 1/24; #12 1/24; #13 1/24)"},
		// Too many irregular minimal sets: read by weights, groups included.
		{`["1/2","1/4","1/4","1/4","1/4","1/4",{"1/2":["1/2","1/2"]}]`, nil,
			"signers whose weights add up to at least 1: #0 1/2; #1 1/4; #2 1/4; #3 1/4; #4 1/4; #5 1/4; 1/2 for a group reaching 1 from #6 1/2, #7 1/2"},
	} {
		th := mustThreshold(t, c.th)
		got := th.Describe(c.labels)
		if got != c.want {
			t.Errorf("%.50s.Describe(%q)\n got %q\nwant %q", c.th, c.labels, got, c.want)
		}
		if again := th.Describe(c.labels); again != got {
			t.Errorf("Describe is not deterministic: %q then %q", got, again)
		}
	}
}

// The table Describe enumerates agrees with Satisfy on every set of signers,
// on both its uint64 and its big.Int path.
func TestThresholdSatTable(t *testing.T) {
	for _, text := range []string{
		`["1/2","1/2","1/4","1/4"]`,
		`["1","1/2","1/2"]`,
		`[{"1/3":["1/2","1/2","1/2"]},"1/3","1/2",{"1/2":["1","1"]}]`,
		`["1/2","1/3","1/4","1/5","1/6","1/7","1/8","1/9","1/10","1/11","1/12","1/13"]`,
		`["1/18446744073709551557","18446744073709551556/18446744073709551557","1"]`,
		`[{"1/1152921504606846976":["1/2","1/2"]},"1152921504606846975/1152921504606846976","1"]`,
		`[{"1/18446744073709551557":["1/2","1/2","1/18446744073709551533","18446744073709551532/18446744073709551533"]},"18446744073709551556/18446744073709551557"]`,
		`[{"1":["1/3","1/3","1/3","1/3","1/3","1/3","1/3","1/3","1/3","1/3","1/3","1/3"]}]`,
	} {
		th := mustThreshold(t, text)
		if len(th.clauses) != 1 || th.leaves > thDescribeMaxLeaves {
			t.Fatalf("%s: not a single small clause", text)
		}
		sat := thSatTable(th.clauses[0], th.leaves)
		for mask := range sat {
			var idx []int
			for i := 0; i < th.leaves; i++ {
				if mask>>i&1 == 1 {
					idx = append(idx, i)
				}
			}
			if got := th.Satisfy(idx).Met; got != sat[mask] {
				t.Errorf("%s signers %v: table %v, Satisfy %v", text, idx, sat[mask], got)
			}
		}
	}
}

// Describe on the largest clause it enumerates stays cheap enough to call on
// every screen refresh.
func BenchmarkThresholdDescribe12(b *testing.B) {
	th, err := ParseThreshold(`["1/2","1/3","1/4","1/5","1/6","1/7","1/8","1/9","1/10","1/11","1/12","1/13"]`)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_ = th.Describe(nil)
	}
}
