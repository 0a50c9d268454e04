package kel

import (
	"errors"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func mustThreshold(t *testing.T, text string) Threshold {
	t.Helper()
	th, err := ParseThreshold(text)
	if err != nil {
		t.Fatalf("ParseThreshold(%s): %v", text, err)
	}
	return th
}

func repeatWeights(w string, n int) string {
	return `["` + strings.Repeat(w+`","`, n-1) + w + `"]`
}

func TestThresholdParseValid(t *testing.T) {
	nested7 := `[{"1/3":["1/2","1/2","1/2"]},"1/3","1/2",{"1/2":["1","1"]}]`
	nested9 := `[[{"1/3":["1/2","1/2","1/2"]},"1/2",{"1/2":["1","1"]}],["1/2",{"1/2":["1","1"]}]]`
	hexMax := `"` + strconv.FormatUint(maxIntThreshold, 16) + `"` // "100000000" with 64-bit ints
	for _, c := range []struct {
		in, want string
		weighted bool
		m, size  int
	}{
		{`"1"`, `"1"`, false, 1, 1},
		{`"2"`, `"2"`, false, 2, 2},
		{`"a"`, `"a"`, false, 10, 10},
		{`"24"`, `"24"`, false, 36, 36},
		{`"0"`, `"0"`, false, 0, 0},
		{hexMax, hexMax, false, maxIntThreshold, maxIntThreshold},
		{` "2"` + "\n", `"2"`, false, 2, 2},
		// keripy's intive form: a JSON integer, written back as a hex string.
		{`2`, `"2"`, false, 2, 2},
		{`36`, `"24"`, false, 36, 36},
		{`0`, `"0"`, false, 0, 0},
		{strconv.Itoa(maxIntThreshold), hexMax, false, maxIntThreshold, maxIntThreshold},

		{`["1/2","1/2","1/2"]`, `["1/2","1/2","1/2"]`, true, 0, 3},
		{`["1"]`, `["1"]`, true, 0, 1},
		{`["1","1","1"]`, `["1","1","1"]`, true, 0, 3},
		{`["1/2","1/2","1/4","1/4"]`, `["1/2","1/2","1/4","1/4"]`, true, 0, 4},
		{`[["1/2","1/2","1/2"],["1","1"]]`, `[["1/2","1/2","1/2"],["1","1"]]`, true, 0, 5},
		{`[{"1/2":["1","1"]},"1/2"]`, `[{"1/2":["1","1"]},"1/2"]`, true, 0, 3},
		{`[{"0":["1"]},"1"]`, `[{"0":["1"]},"1"]`, true, 0, 2},
		{`[{"1":["1"]}]`, `[{"1":["1"]}]`, true, 0, 1},
		{nested7, nested7, true, 0, 7},
		{nested9, nested9, true, 0, 9},
		{`["1/18446744073709551615","1"]`, `["1/18446744073709551615","1"]`, true, 0, 2},
		{`["18446744073709551615/18446744073709551615"]`, `["1"]`, true, 0, 1},
		// Normalisation, as keripy's Tholder.sith writes it.
		{`["2/4","2/4"]`, `["1/2","1/2"]`, true, 0, 2},
		{`["1/1"]`, `["1"]`, true, 0, 1},
		{`["0/5","1"]`, `["0","1"]`, true, 0, 2},
		{`["6/8","3/12"]`, `["3/4","1/4"]`, true, 0, 2},
		{`[["1/2","1/2"]]`, `["1/2","1/2"]`, true, 0, 2},
		{`[["1/2","1/2","1/2"]]`, `["1/2","1/2","1/2"]`, true, 0, 3},
		{`[[{"2/4":["1/1","3/3"]},"1/2"]]`, `[{"1/2":["1","1"]},"1/2"]`, true, 0, 3},
		{`[["1/1","2/2"],["4/8","2/4"]]`, `[["1","1"],["1/2","1/2"]]`, true, 0, 4},
		{` [ "1/2" , "1/2" ] `, `["1/2","1/2"]`, true, 0, 2},
		{repeatWeights("1", maxThresholdLeaves), repeatWeights("1", maxThresholdLeaves), true, 0, maxThresholdLeaves},
	} {
		th, err := ParseThreshold(c.in)
		if err != nil {
			t.Errorf("ParseThreshold(%s): %v", c.in, err)
			continue
		}
		if got := th.String(); got != c.want {
			t.Errorf("ParseThreshold(%s).String() = %s, want %s", c.in, got, c.want)
		}
		if th.IsWeighted() != c.weighted || th.Int() != c.m || th.Size() != c.size {
			t.Errorf("ParseThreshold(%s): weighted %v int %d size %d, want %v %d %d",
				c.in, th.IsWeighted(), th.Int(), th.Size(), c.weighted, c.m, c.size)
		}
		// Canonical round trip: the written form re-parses to the same
		// threshold and writes itself again, byte for byte.
		again, err := ParseThreshold(th.String())
		if err != nil || !again.Equal(th) || again.String() != th.String() {
			t.Errorf("round trip of %s: %v, %v, %s", c.in, err, again.Equal(th), again.String())
		}
		// The internal hook agrees with the text form.
		v, err := parseJSON([]byte(c.in))
		if err != nil {
			t.Fatal(err)
		}
		viaJSON, err := thresholdFromJSON(v)
		if err != nil || !viaJSON.Equal(th) {
			t.Errorf("thresholdFromJSON(%s) = %v, %v", c.in, viaJSON, err)
		}
		if got := string(th.jsonValue().appendJSON(nil)); got != c.want {
			t.Errorf("jsonValue of %s = %s", c.in, got)
		}
	}
}

func TestThresholdParseInvalid(t *testing.T) {
	for _, c := range []struct{ in, frag string }{
		// Not a JSON value at all.
		{``, "unexpected end"},
		{`[`, "unexpected end"},
		{`"1`, "unterminated string"},
		{`2.5`, "only integer numbers"},
		{`1e3`, "only integer numbers"},
		{`02`, "leading zero"},
		{`"2" "3"`, "trailing data"},
		// Wrong JSON type.
		{`true`, "not a boolean"},
		{`null`, "not null"},
		{`{}`, "not a map"},
		{`{"1":["1"]}`, "not a map"},
		// Integer thresholds.
		{`""`, "empty integer threshold"},
		{`"01"`, `"01" has a leading zero`},
		{`"00"`, "has a leading zero"},
		{`"A"`, `"A" has uppercase hex digits`},
		{`"1F"`, "uppercase hex"},
		{`"-1"`, "not a lowercase hex number"},
		{`"+1"`, "not a lowercase hex number"},
		{`" 1"`, "not a lowercase hex number"},
		{`"1 "`, "not a lowercase hex number"},
		{`"0x1"`, "not a lowercase hex number"},
		{`"g"`, "not a lowercase hex number"},
		{`"1.0"`, "not a lowercase hex number"},
		{`"[\"1\"]"`, "not a lowercase hex number"}, // keripy would json.loads it
		{`"100000001"`, "too large"},
		{`"ffffffffffffffffffff"`, "too large"},
		{`-1`, "negative threshold -1"},
		{`-0`, "negative threshold"},
		{`4294967297`, "too large"},
		{`99999999999999999999999`, "too large"},
		// Weighted: shape.
		{`[]`, "empty weight list"},
		{`[[]]`, "empty clause"},
		{`[[],[]]`, "clause 1 of 2 is empty"},
		{`[["1"],[]]`, "clause 2 of 2 is empty"},
		{`["1/2","1/2",["1"]]`, "mixes clauses"},
		{`[["1/2","1/2"],"1"]`, "mixes clauses"},
		{`[["1",["1"]]]`, "nesting deeper than one level"},
		{`[[["1"]]]`, "nesting deeper than one level"},
		{`[1,1]`, "weight 1 is not a string"},
		{`["1",null]`, "weight null is not a string"},
		{`["1",true]`, "weight true is not a string"},
		// Weighted: nested groups.
		{`[{"1":["1"],"1/2":["1"]}]`, "exactly one key, has 2"},
		{`[{}]`, "exactly one key, has 0"},
		{`[{"1":"1"}]`, `nested group "1": sub-weights must be a list, not a string`},
		{`[{"1":"11"}]`, "sub-weights must be a list"},
		{`[{"1":[]}]`, `nested group "1" is empty`},
		{`[{"1":[{"1":["1"]}]}]`, `nested group "1": nesting deeper than one level`},
		{`[{"1":[["1"]]}]`, "nesting deeper than one level"},
		{`[{"1":[1]}]`, `nested group "1": weight 1 is not a string`},
		{`[{"2":["1"]}]`, `weight "2" is greater than 1`},
		{`[{"1":["0.5","0.5"]}]`, "is a decimal"},
		{`[{"1/2":["1/2","1/4"]},"1/2"]`, `nested group "1/2": weights add up to 3/4, less than 1`},
		{`[{"1/3":["1/3","1/3","1/4"]},"1/3","1/2",{"1/2":["1","1"]}]`, "weights add up to 11/12, less than 1"},
		{`[{"1/5":["1/2","1/2","1/2"]},"1/4","1/5",{"1/5":["1","1"]}]`, "weights add up to 17/20, less than 1"},
		{`[["1"],["1/2",{"1/3":["1","1"]}]]`, "clause 2 of 2: weights add up to 5/6"},
		{`[["1"],[{"1/3":["1/3","1/4"]},"1"]]`, `clause 2 of 2: nested group "1/3": weights add up to 7/12`},
		// Weighted: clause sums.
		{`["1/2","1/4"]`, "weights add up to 3/4, less than 1"},
		{`["1/3","1/2"]`, "weights add up to 5/6, less than 1"},
		{`["0"]`, "weights add up to 0, less than 1"},
		{`[["1"],["1/2"]]`, "clause 2 of 2: weights add up to 1/2, less than 1"},
		{`[["1/3","1/2"],["1"]]`, "clause 1 of 2: weights add up to 5/6"},
		{`["1/18446744073709551615","1/18446744073709551614"]`, "weights add up to"},
		// Weighted: weight syntax.
		{`[""]`, "empty weight"},
		{`["0.5","0.5"]`, `weight "0.5" is a decimal`},
		{`["1.0"]`, `weight "1.0" is a decimal`},
		{`[".5",".5"]`, "is a decimal"},
		{`["1.0/2.0","1"]`, "is a decimal"},
		{`["-1/2","1"]`, `weight "-1/2" is negative`},
		{`["-0","1"]`, "is negative"},
		{`["1/0","1"]`, `weight "1/0" has a zero denominator`},
		{`["0/0","1"]`, "has a zero denominator"},
		{`["2","1"]`, `weight "2" is greater than 1`},
		{`["10"]`, `weight "10" is greater than 1`},
		{`["3/2"]`, `weight "3/2" is greater than 1`},
		{`["2/1"]`, `weight "2/1" is greater than 1`},
		{`["01"]`, `weight "01" has a leading zero`},
		{`["00"]`, "has a leading zero"},
		{`["01/2","1"]`, `weight "01/2": numerator has a leading zero`},
		{`["00/2","1"]`, "numerator has a leading zero"},
		{`["1/02","1"]`, `weight "1/02": denominator has a leading zero`},
		{`[" 1/2","1"]`, "numerator is not"},
		{`["1/2 ","1"]`, "denominator is not"},
		{`["1 /2","1"]`, "numerator is not"},
		{`["1/ 2","1"]`, "denominator is not"},
		{`["+1/2","1"]`, "numerator is not"},
		{`["1/+2","1"]`, "denominator is not"},
		{`["1/-2","1"]`, "denominator is not"},
		{`["/2","1"]`, "numerator is missing"},
		{`["1/","1"]`, "denominator is missing"},
		{`["/","1"]`, "numerator is missing"},
		{`["1/2/3","1"]`, "denominator is not"},
		{`["x"]`, `weight "x" is not "0", "1" or a fraction`},
		{`["1e0"]`, "is not"},
		{`["0x1"]`, "is not"},
		{`["½"]`, "is not"},
		{`["1/99999999999999999999999","1"]`, `weight "1/99999999999999999999999": denominator is too large (over 64 bits)`},
		{`["99999999999999999999999/99999999999999999999999"]`, "numerator is too large"},
		{`["1/18446744073709551616","1"]`, "denominator is too large"},
		{`["18446744073709551616"]`, "is too large"},
		// Size cap.
		{repeatWeights("1", maxThresholdLeaves+1), "more than 4096 weights"},
		{`[{"1":` + repeatWeights("1", maxThresholdLeaves+1) + `}]`, "more than 4096 weights"},
		{`[["1"],` + repeatWeights("1", maxThresholdLeaves) + `]`, "more than 4096 weights"},
	} {
		th, err := ParseThreshold(c.in)
		if err == nil {
			t.Errorf("ParseThreshold(%.60s) = %s, want an error", c.in, th)
			continue
		}
		if !errors.Is(err, ErrThreshold) || ErrorCode(err) != "threshold_invalid" {
			t.Errorf("ParseThreshold(%.60s): %v does not wrap ErrThreshold alone (code %s)", c.in, err, ErrorCode(err))
		}
		if !strings.Contains(err.Error(), c.frag) {
			t.Errorf("ParseThreshold(%.60s): %q does not say %q", c.in, err, c.frag)
		}
	}
}

func TestThresholdFromJSONMissing(t *testing.T) {
	_, err := thresholdFromJSON(jsonValue{})
	if !errors.Is(err, ErrThreshold) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("thresholdFromJSON(missing) = %v", err)
	}
}

func TestWeightedThreshold(t *testing.T) {
	for _, c := range []struct {
		in   [][]string
		want string
		size int
	}{
		{[][]string{{"1/2", "1/2"}}, `["1/2","1/2"]`, 2},
		{[][]string{{"1/2", "1/2", "1/2"}, {"1", "1"}}, `[["1/2","1/2","1/2"],["1","1"]]`, 5},
		{[][]string{{"2/4", "4/8", "0/3", "1/1"}}, `["1/2","1/2","0","1"]`, 4},
		{[][]string{{"1"}}, `["1"]`, 1},
	} {
		th, err := WeightedThreshold(c.in)
		if err != nil {
			t.Errorf("WeightedThreshold(%q): %v", c.in, err)
			continue
		}
		if th.String() != c.want || th.Size() != c.size || !th.IsWeighted() || th.Int() != 0 {
			t.Errorf("WeightedThreshold(%q) = %s size %d", c.in, th, th.Size())
		}
		if !th.Equal(mustThreshold(t, c.want)) {
			t.Errorf("WeightedThreshold(%q) differs from parsing %s", c.in, c.want)
		}
	}
	big := make([]string, maxThresholdLeaves+1)
	for i := range big {
		big[i] = "1"
	}
	for _, c := range []struct {
		in   [][]string
		frag string
	}{
		{nil, "empty weight list"},
		{[][]string{}, "empty weight list"},
		{[][]string{{}}, "empty clause"},
		{[][]string{{"1"}, {}}, "clause 2 of 2 is empty"},
		{[][]string{{"1/2"}}, "weights add up to 1/2, less than 1"},
		{[][]string{{"1"}, {"1/2", "1/4"}}, "clause 2 of 2: weights add up to 3/4"},
		{[][]string{{"0.5", "0.5"}}, "is a decimal"},
		{[][]string{{"1/0", "1"}}, "zero denominator"},
		{[][]string{{"2"}}, "greater than 1"},
		{[][]string{big}, "more than 4096 weights"},
		{[][]string{big[:2048], big[:2049]}, "more than 4096 weights"},
	} {
		_, err := WeightedThreshold(c.in)
		if !errors.Is(err, ErrThreshold) || !strings.Contains(err.Error(), c.frag) {
			t.Errorf("WeightedThreshold(%.40q) = %v, want an ErrThreshold saying %q", c.in, err, c.frag)
		}
	}
}

func TestIntThreshold(t *testing.T) {
	for _, c := range []struct {
		m    int
		want string
	}{{0, `"0"`}, {1, `"1"`}, {2, `"2"`}, {10, `"a"`}, {35, `"23"`}, {36, `"24"`}, {255, `"ff"`}} {
		th := IntThreshold(c.m)
		if th.String() != c.want || th.Int() != c.m || th.Size() != c.m || th.IsWeighted() {
			t.Errorf("IntThreshold(%d) = %s int %d size %d", c.m, th, th.Int(), th.Size())
		}
		if !th.Equal(mustThreshold(t, c.want)) {
			t.Errorf("IntThreshold(%d) differs from parsing %s", c.m, c.want)
		}
	}
	var zero Threshold
	if zero.String() != `"0"` || zero.IsWeighted() || !zero.Equal(IntThreshold(0)) {
		t.Errorf("zero Threshold = %s", zero)
	}
	if IntThreshold(2).Equal(IntThreshold(3)) || IntThreshold(1).Equal(mustThreshold(t, `["1"]`)) {
		t.Error("Equal confuses different thresholds")
	}
	if mustThreshold(t, `["1","1"]`).Equal(mustThreshold(t, `[["1"],["1"]]`)) {
		t.Error("Equal confuses one clause with two")
	}
	if mustThreshold(t, `[{"1":["1"]},"1"]`).Equal(mustThreshold(t, `["1","1"]`)) {
		t.Error("Equal confuses a group with a weight")
	}
}

func TestThresholdValidate(t *testing.T) {
	for _, c := range []struct {
		th   Threshold
		n    int
		frag string // "" for valid
	}{
		{IntThreshold(1), 1, ""},
		{IntThreshold(2), 3, ""},
		{IntThreshold(3), 3, ""},
		{IntThreshold(0), 0, ""}, // abandonment: empty next list
		{IntThreshold(3), 2, "threshold 3 needs more than the 2 keys listed"},
		{IntThreshold(2), 1, "threshold 2 needs more than the 1 keys listed"},
		{IntThreshold(1), 0, "threshold 1 needs keys but none are listed"},
		{IntThreshold(0), 2, "threshold 0 can never be met with 2 keys listed"},
		{IntThreshold(-1), 3, "negative threshold -1"},
		{IntThreshold(maxIntThreshold), maxIntThreshold, ""},
		{IntThreshold(2), -1, "negative key count"},
		{mustThreshold(t, `["1/2","1/2","1/2"]`), 3, ""},
		{mustThreshold(t, `["1/2","1/2","1/2"]`), 4, "weighted threshold has 3 weights but 4 keys are listed"},
		{mustThreshold(t, `["1/2","1/2","1/2"]`), 2, "has 3 weights but 2 keys"},
		{mustThreshold(t, `["1"]`), 0, "has 1 weights but 0 keys"},
		{mustThreshold(t, `[["1/2","1/2","1/2"],["1","1"]]`), 5, ""},
		{mustThreshold(t, `[{"1/2":["1","1"]},"1/2"]`), 3, ""},
		{mustThreshold(t, `[{"1/2":["1","1"]},"1/2"]`), 2, "has 3 weights but 2 keys"},
	} {
		err := c.th.Validate(c.n)
		switch {
		case c.frag == "" && err != nil:
			t.Errorf("%s.Validate(%d): %v", c.th, c.n, err)
		case c.frag != "" && (!errors.Is(err, ErrThreshold) || !strings.Contains(err.Error(), c.frag)):
			t.Errorf("%s.Validate(%d) = %v, want an ErrThreshold saying %q", c.th, c.n, err, c.frag)
		}
	}
	if limit := maxIntThreshold; limit < math.MaxInt { // 64-bit ints
		big := limit + 1
		if err := IntThreshold(big).Validate(big); !errors.Is(err, ErrThreshold) || !strings.Contains(err.Error(), "too large") {
			t.Errorf("IntThreshold(2^32+1).Validate = %v", err)
		}
	}
}

func rats(ss ...string) []*big.Rat {
	out := make([]*big.Rat, len(ss))
	for i, s := range ss {
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			panic(s)
		}
		out[i] = r
	}
	return out
}

// primes64 returns the n largest primes below 2^64, largest first.
func primes64(n int) []uint64 {
	var out []uint64
	var p big.Int
	for d := uint64(1<<64 - 1); len(out) < n; d -= 2 {
		if p.SetUint64(d).ProbablyPrime(10) {
			out = append(out, d)
		}
	}
	return out
}

// weightsOver writes the clause "1" followed by leaves-1 weights 1/p cycling
// through the given denominators.
func weightsOver(dens []uint64, leaves int) string {
	var sb strings.Builder
	sb.WriteString(`["1"`)
	for i := 1; i < leaves; i++ {
		sb.WriteString(`,"1/`)
		sb.WriteString(new(big.Int).SetUint64(dens[i%len(dens)]).String())
		sb.WriteString(`"`)
	}
	sb.WriteString("]")
	return sb.String()
}

func TestThresholdDenominatorCap(t *testing.T) {
	ps := primes64(65)
	// 64 coprime denominators below 2^64: an lcm of at most 4096 bits.
	if _, err := ParseThreshold(weightsOver(ps[:64], 200)); err != nil {
		t.Errorf("64 prime denominators: %v", err)
	}
	_, err := ParseThreshold(weightsOver(ps, 200))
	if !errors.Is(err, ErrThreshold) || !strings.Contains(err.Error(), "common denominator is over 4096 bits") {
		t.Errorf("65 prime denominators: %v", err)
	}
	// Small denominators mix freely: 1/1 … 1/2000 in one clause.
	var sb strings.Builder
	sb.WriteString(`["1"`)
	for d := 2; d <= 2000; d++ {
		sb.WriteString(`,"1/` + strconv.Itoa(d) + `"`)
	}
	sb.WriteString("]")
	if th, err := ParseThreshold(sb.String()); err != nil || th.Size() != 2000 {
		t.Errorf("denominators 1..2000: %v", err)
	}
	_, err = ParseThreshold(`[["1"],` + weightsOver(ps, 66) + `]`)
	if !errors.Is(err, ErrThreshold) || !strings.Contains(err.Error(), "clause 2 of 2: the weights' common denominator") {
		t.Errorf("clause 2 with 65 prime denominators: %v", err)
	}
	group := `[{"1":` + weightsOver(ps, 66) + `}]`
	if _, err = ParseThreshold(group); !errors.Is(err, ErrThreshold) || !strings.Contains(err.Error(), "common denominator") {
		t.Errorf("group with 65 prime denominators: %v", err)
	}
}

// The worst case the caps allow: 4096 weights over 64 coprime 64-bit
// denominators, so every exact sum runs up to the 4096-bit cap.
func BenchmarkThresholdParseWorst(b *testing.B) {
	text := weightsOver(primes64(64), maxThresholdLeaves)
	all := make([]int, maxThresholdLeaves)
	for i := range all {
		all[i] = i
	}
	for b.Loop() {
		th, err := ParseThreshold(text)
		if err != nil {
			b.Fatal(err)
		}
		if !th.Satisfy(all).Met {
			b.Fatal("not met")
		}
	}
}

// TestThresholdWeights: each key position's weight, nested groups named.
func TestThresholdWeights(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{`"2"`, nil},
		{`["1/2","1/4","1/4"]`, []string{"1/2", "1/4", "1/4"}},
		{`[["1/2","1/2"],["1"]]`, []string{"1/2", "1/2", "1"}},
		{`[{"1/2":["1","1"]},"1/2"]`, []string{"1 of a 1/2 group", "1 of a 1/2 group", "1/2"}},
	} {
		th, err := ParseThreshold(tc.text)
		if err != nil {
			t.Fatalf("%s: %v", tc.text, err)
		}
		if got := th.Weights(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: weights %q, want %q", tc.text, got, tc.want)
		}
	}
}
