package kel

// Reading thresholds: the KERI JSON form of kt and nt (ParseThreshold), the
// text a person types (ParseThresholdText), and their weights and integers.

import (
	"fmt"
	"strconv"
	"strings"
)

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

// ParseThresholdText reads a threshold as a person types it, for example
// into a command-line flag or a form field. Surrounding white space is
// ignored. The forms are:
//
//   - a whole number in decimal: "2", "12" (the integer threshold M, from
//     0 to 2^32, or to the largest int on 32-bit platforms);
//   - weights, recognised by a '/', ',' or ';' anywhere in the text: each
//     weight is "0", "1" or a fraction "n/d" as for WeightedThreshold,
//     weights are separated by commas and/or spaces ("1/2,1/4,1/4",
//     "1/2, 1/4, 1/4"), clauses by ';' ("1/2,1/2;1,1" is
//     [["1/2","1/2"],["1","1"]]); "1," is the one weight "1";
//   - KERI JSON, recognised by a leading '[' or '"' and read by
//     ParseThreshold: `["1/2","1/4","1/4"]`, `[["1/2","1/2"],["1","1"]]`,
//     nested groups `[{"1/2":["1","1"]},"1/2"]`, or an integer as a quoted
//     hex string (`"a"` is 10, `"10"` is 16).
//
// The bounds are those of ParseThreshold; checking the threshold against a
// key list is Validate's job ("0" parses, and Validate rejects it for any
// non-empty key list). Every error wraps ErrThreshold; text in none of the
// forms (empty, "abc", "-1", "2 of 3") also wraps ErrThresholdForm.
//
// Text is the inverse: ParseThresholdText(t.Text()) equals t for every
// threshold ParseThreshold or ParseThresholdText returns.
func ParseThresholdText(s string) (Threshold, error) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return Threshold{}, fmt.Errorf("%w: empty: %w", ErrThreshold, ErrThresholdForm)
	case t[0] == '[' || t[0] == '"':
		return ParseThreshold(t)
	case strings.ContainsAny(t, "/,;"):
		var clauses [][]string
		for _, cl := range strings.Split(t, ";") {
			clauses = append(clauses, strings.FieldsFunc(cl, func(r rune) bool { return r == ',' || r == ' ' }))
		}
		return WeightedThreshold(clauses)
	}
	for i := 0; i < len(t); i++ {
		if t[i] < '0' || t[i] > '9' {
			return Threshold{}, fmt.Errorf("%w: %q: %w", ErrThreshold, t, ErrThresholdForm)
		}
	}
	m, err := strconv.Atoi(t)
	if err != nil {
		return ParseThreshold(t) // a JSON number: it says why (too large)
	}
	if m > maxIntThreshold {
		return Threshold{}, thErrf("threshold %d is too large", m)
	}
	return Threshold{m: m}, nil
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
