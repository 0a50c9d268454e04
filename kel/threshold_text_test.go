package kel

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// The expected thresholds below are written out by hand as their canonical
// KERI JSON (String), not produced by ParseThresholdText or Text.

func TestParseThresholdTextValid(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // canonical JSON (String)
		text string // Text
	}{
		// Whole numbers, in decimal.
		{"2", `"2"`, "2"},
		{" 12 ", `"c"`, "12"},
		{"\t10\n", `"a"`, "10"},
		{"0", `"0"`, "0"}, // parses; Validate rejects it for a non-empty key list
		{"007", `"7"`, "7"},
		{"4294967296", `"100000000"`, "4294967296"}, // 2^32, the largest (64-bit ints)
		// Weights, clauses separated by ";".
		{"1/2,1/4,1/4", `["1/2","1/4","1/4"]`, `["1/2","1/4","1/4"]`},
		{"1/2, 1/4, 1/4", `["1/2","1/4","1/4"]`, `["1/2","1/4","1/4"]`},
		{"1/2 1/4 1/4", `["1/2","1/4","1/4"]`, `["1/2","1/4","1/4"]`},
		{"1/2,,1/2", `["1/2","1/2"]`, `["1/2","1/2"]`},
		{"2/4,1/2", `["1/2","1/2"]`, `["1/2","1/2"]`},
		{"1,", `["1"]`, `["1"]`},
		{"1/2,1/2;1,1", `[["1/2","1/2"],["1","1"]]`, `[["1/2","1/2"],["1","1"]]`},
		{"1/2,1/2 ; 1,0", `[["1/2","1/2"],["1","0"]]`, `[["1/2","1/2"],["1","0"]]`},
		// KERI JSON.
		{`"a"`, `"a"`, "10"},
		{`"10"`, `"10"`, "16"},
		{`["1/2","1/4","1/4"]`, `["1/2","1/4","1/4"]`, `["1/2","1/4","1/4"]`},
		{` [["1/2","1/2"],["1","1"]] `, `[["1/2","1/2"],["1","1"]]`, `[["1/2","1/2"],["1","1"]]`},
		{`[["1/2","1/2"]]`, `["1/2","1/2"]`, `["1/2","1/2"]`},
		{`[{"1/2":["1","1"]},"1/2"]`, `[{"1/2":["1","1"]},"1/2"]`, `[{"1/2":["1","1"]},"1/2"]`},
	} {
		if c.in == "4294967296" && strconv.IntSize < 64 {
			continue
		}
		got, err := ParseThresholdText(c.in)
		if err != nil {
			t.Errorf("ParseThresholdText(%q): %v", c.in, err)
			continue
		}
		if got.String() != c.want {
			t.Errorf("ParseThresholdText(%q) = %s, want %s", c.in, got, c.want)
		}
		if got.Text() != c.text {
			t.Errorf("ParseThresholdText(%q).Text() = %q, want %q", c.in, got.Text(), c.text)
		}
	}
}

func TestParseThresholdTextInvalid(t *testing.T) {
	for _, c := range []struct {
		in   string
		form bool   // wraps ErrThresholdForm (else ErrThreshold alone)
		frag string // part of the message
	}{
		{"", true, "invalid threshold: empty: write a whole number such as 2"},
		{" \t\n", true, "empty"},
		{"abc", true, `invalid threshold: "abc": write a whole number`},
		{"2 of 3", true, `"2 of 3"`},
		{"-1", true, `"-1"`},
		{"+2", true, `"+2"`},
		{"0x2", true, `"0x2"`},
		{"2.5", true, `"2.5"`},
		{"½", true, `"½"`},
		{"{}", true, `"{}"`},
		{"1/2,1/4", false, "weights add up to 3/4, less than 1"},
		{"1/2,,x", false, `weight "x" is not "0", "1" or a fraction`},
		{"0.5,0.5", false, `weight "0.5" is a decimal`},
		{"1/0,1", false, `weight "1/0" has a zero denominator`},
		{"3/2", false, `weight "3/2" is greater than 1`},
		{"-1/2,1", false, `weight "-1/2" is negative`},
		{"1/2,1/2;", false, "clause 2 of 2 is empty"},
		{";", false, "clause 1 of 2 is empty"},
		{"1/2;1/2,1/2", false, "clause 1 of 2: weights add up to 1/2, less than 1"},
		{"1/2,\t1/2", false, `weight "\t1/2"`}, // only commas and spaces separate weights
		{strings.Repeat("1,", 4097), false, "more than 4096 weights"},
		{"4294967297", false, "too large"}, // 2^32+1
		{"99999999999999999999", false, "threshold 99999999999999999999 is too large"},
		{`["1/2"`, false, "invalid threshold"},
		{`"A"`, false, `threshold "A" has uppercase hex digits`},
		{`"02"`, false, `threshold "02" has a leading zero`},
		{`[]`, false, "empty weight list"},
		{`["1/2","1/4"]`, false, "weights add up to 3/4, less than 1"},
	} {
		got, err := ParseThresholdText(c.in)
		if err == nil {
			t.Errorf("ParseThresholdText(%q) = %s, want an error", c.in, got)
			continue
		}
		if !errors.Is(err, ErrThreshold) || ErrorCode(err) != "threshold_invalid" {
			t.Errorf("ParseThresholdText(%q): %v (code %s) is not an ErrThreshold", c.in, err, ErrorCode(err))
		}
		if errors.Is(err, ErrThresholdForm) != c.form {
			t.Errorf("ParseThresholdText(%q): %v: wraps ErrThresholdForm %v, want %v", c.in, err, !c.form, c.form)
		}
		if !strings.Contains(err.Error(), c.frag) {
			t.Errorf("ParseThresholdText(%q): %q does not say %q", c.in, err, c.frag)
		}
	}
}

func TestThresholdText(t *testing.T) {
	for _, c := range []struct {
		th   Threshold
		want string
	}{
		{IntThreshold(0), "0"},
		{IntThreshold(2), "2"},
		{IntThreshold(10), "10"},
		{IntThreshold(255), "255"},
		{mustThreshold(t, `"ff"`), "255"},
		{mustThreshold(t, `36`), "36"}, // keripy's JSON-number form
		{mustThreshold(t, `["2/4","2/4"]`), `["1/2","1/2"]`},
		{mustThreshold(t, `[["1/2","1/2","1/2"],["1","1"]]`), `[["1/2","1/2","1/2"],["1","1"]]`},
		{mustThreshold(t, `[{"1/3":["1/2","1/2","1/2"]},"1/3","1/2",{"1/2":["1","1"]}]`), `[{"1/3":["1/2","1/2","1/2"]},"1/3","1/2",{"1/2":["1","1"]}]`},
	} {
		if got := c.th.Text(); got != c.want {
			t.Errorf("%s.Text() = %q, want %q", c.th, got, c.want)
		}
	}
}

// ParseThresholdText(t.Text()) is t, for integer and weighted thresholds.
func TestThresholdTextRoundTrip(t *testing.T) {
	var ths []Threshold
	for _, m := range []int{0, 1, 2, 9, 10, 15, 16, 17, 255, 256, 1000, 65535, maxIntThreshold - 1, maxIntThreshold} {
		ths = append(ths, IntThreshold(m))
	}
	for _, clauses := range [][][]string{
		{{"1"}},
		{{"1/2", "1/2"}},
		{{"1/2", "1/4", "1/4"}},
		{{"1/3", "1/3", "1/3", "0"}},
		{{"2/4", "3/6"}},
		{{"1/2", "1/2"}, {"1", "1"}},
		{{"1/18446744073709551615", "18446744073709551614/18446744073709551615"}},
	} {
		th, err := WeightedThreshold(clauses)
		if err != nil {
			t.Fatalf("WeightedThreshold(%q): %v", clauses, err)
		}
		ths = append(ths, th)
	}
	for _, s := range []string{
		`"a"`, `"100000000"`, `7`,
		`[{"1/2":["1","1"]},"1/2"]`,
		`[[{"1/3":["1/2","1/2","1/2"]},"1/2",{"1/2":["1","1"]}],["1/2",{"1/2":["1","1"]}]]`,
		repeatWeights("1/4096", 4096),
	} {
		if s == `"100000000"` && strconv.IntSize < 64 {
			continue
		}
		ths = append(ths, mustThreshold(t, s))
	}
	for _, th := range ths {
		got, err := ParseThresholdText(th.Text())
		if err != nil {
			t.Errorf("ParseThresholdText(%.60q): %v", th.Text(), err)
			continue
		}
		if !got.Equal(th) || got.String() != th.String() {
			t.Errorf("ParseThresholdText(%.60q) = %.60s, want %.60s", th.Text(), got, th)
		}
	}
}
