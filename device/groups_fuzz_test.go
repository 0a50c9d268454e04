package device

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/keystore"
)

// FuzzGroupBook: no groups.json makes the reader panic; a refusal wraps
// ErrGroupBook; an accepted book holds only valid aliases of identifiers,
// each once, and reads back the same once written.
func FuzzGroupBook(f *testing.F) {
	team, other := kel.Digest([]byte("team")), kel.Digest([]byte("other"))
	good, _ := json.MarshalIndent(groupBook{V: 1, Groups: []GroupAlias{{Alias: "team", Prefix: team}, {Alias: "other", Prefix: other}}}, "", "  ")
	f.Add(good)
	f.Add([]byte(`{"v":1,"groups":[]}`))
	f.Add([]byte(`{"v":2,"groups":[]}`))
	f.Add([]byte(`{"v":1,"groups":[{"alias":"a\u001b]0;x\u0007","prefix":"` + team + `"}]}`))
	f.Add([]byte(`{"v":1,"groups":[{"alias":"team","prefix":"` + team + `"},{"alias":"team","prefix":"` + other + `"}]}`))
	f.Add([]byte(`{"v":1,"groups":[{"alias":"team","prefix":"` + team + `","x":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := parseGroupBook("groups.json", data)
		if err != nil {
			if !errors.Is(err, ErrGroupBook) {
				t.Fatalf("error without ErrGroupBook: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, g := range b.Groups {
			if keystore.CheckAlias(g.Alias) != nil || seen[g.Alias] || seen[g.Prefix] {
				t.Fatalf("accepted group %+v", g)
			}
			seen[g.Alias], seen[g.Prefix] = true, true
		}
		out, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseGroupBook("groups.json", out)
		if err != nil || len(again.Groups) != len(b.Groups) {
			t.Fatalf("written book does not read back: %v", err)
		}
		for i := range b.Groups {
			if again.Groups[i] != b.Groups[i] {
				t.Fatalf("group %d reads back as %+v, was %+v", i, again.Groups[i], b.Groups[i])
			}
		}
	})
}
