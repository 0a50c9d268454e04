package kel

import (
	"errors"
	"testing"
)

// TestJSONCanonical: parseJSONText calls a text canonical exactly when it
// is what appendJSON writes for its tree (Python's compact form with
// ensure_ascii=False), without writing the tree.
func TestJSONCanonical(t *testing.T) {
	for _, c := range []struct {
		in        string
		canonical bool
	}{
		{`{"a":"b","c":["d",1,true,null,{}],"e":[]}`, true},
		{`{"a":"\"\\\b\f\n\r\t"}`, true},
		{`{"a":"\u0000\u001f\u000b"}`, true},
		{`{"a":"é☃"}`, true},
		{`{"a":-0}`, true}, // written back as it was read, as before
		{`{"a": "b"}`, false},
		{` {"a":"b"}`, false},
		{`{"a":"b"}` + "\n", false},
		{`["a" ,"b"]`, false},
		{`{"a":"\/"}`, false},
		{`{"a":"\u0041"}`, false},
		{`{"a":"\u000a"}`, false},
		{`{"a":"\u001F"}`, false},
		{`{"a":"\u00e9"}`, false},
		{`{"a":"\ud83d\ude00"}`, false},
		{`{"\u0061":"b"}`, false},
	} {
		v, canonical, err := parseJSONText(c.in, new(jsonScratch))
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if canonical != c.canonical {
			t.Errorf("%s: canonical %v, want %v", c.in, canonical, c.canonical)
		}
		if written := string(v.appendJSON(nil)); (written == c.in) != c.canonical {
			t.Errorf("%s: written back as %s", c.in, written)
		}
	}
}

// TestJSONScratchReuse: a scratch serves parse after parse, each tree
// whole, and a failed parse leaves nothing that spoils the next.
func TestJSONScratchReuse(t *testing.T) {
	sc := new(jsonScratch)
	texts := []string{`{"a":[{"b":["c","d"]},"e"],"f":{"g":"h"}}`, `[[1,2],[3,[4,5]],{"i":{"j":[]}}]`, `{"k":"l"}`}
	for round := 0; round < 2; round++ {
		for _, s := range texts {
			v, canonical, err := parseJSONText(s, sc)
			if err != nil || !canonical || string(v.appendJSON(nil)) != s {
				t.Fatalf("%s: %s, %v, %v", s, v.appendJSON(nil), canonical, err)
			}
		}
		if _, _, err := parseJSONText(`{"a":[1,{"b":2`, sc); !errors.Is(err, ErrJSON) {
			t.Fatalf("truncated: %v", err)
		}
	}
}

// FuzzJSONText holds parseJSONText to the definition of canonical text (the
// tree written back is the input), its top-level spans to the values they
// locate, and the SAID's placeholder form to the one the tree gives.
func FuzzJSONText(f *testing.F) {
	for _, b := range fzVectorBodies(f) {
		f.Add(string(b))
	}
	for _, b := range fzCraftedBodies() {
		f.Add(string(b))
	}
	f.Add(`{"a":"\u0000\/\ud83d\ude00","b" : [1, -0, true,null,{}]}`)
	sc := new(jsonScratch)
	f.Fuzz(func(t *testing.T, s string) {
		v, canonical, err := parseJSONText(s, sc)
		if err != nil {
			if !errors.Is(err, ErrJSON) {
				t.Fatalf("error %v does not wrap ErrJSON", err)
			}
			return
		}
		written := string(v.appendJSON(nil))
		if canonical != (written == s) {
			t.Fatalf("canonical %v, written back as %q", canonical, written)
		}
		fresh, _, err := parseJSONText(s, new(jsonScratch))
		if err != nil || string(fresh.appendJSON(nil)) != written {
			t.Fatalf("a fresh scratch parses otherwise: %v", err)
		}
		if v.kind != jsonMap || !canonical {
			return
		}
		if len(sc.top) != len(v.mems) {
			t.Fatalf("%d spans for %d members", len(sc.top), len(v.mems))
		}
		for i, sp := range sc.top {
			if sp.key != v.mems[i].key || s[sp.start:sp.end] != string(v.mems[i].val.appendJSON(nil)) {
				t.Fatalf("span %d (%s) is %q", i, sp.key, s[sp.start:sp.end])
			}
		}
		for _, self := range []bool{false, true} {
			form, ok := placeholderForm(nil, s, sc.top, self)
			if !ok {
				continue
			}
			t2 := jsonValue{kind: jsonMap, mems: append([]jsonMember(nil), v.mems...)}
			for i := range t2.mems {
				if k := t2.mems[i].key; k == "d" || (self && k == "i") {
					t2.mems[i].val = jStr(saidPlaceholder)
				}
			}
			if want := string(t2.appendJSON(nil)); string(form) != want {
				t.Fatalf("placeholder form %s, tree gives %s", form, want)
			}
		}
	})
}
