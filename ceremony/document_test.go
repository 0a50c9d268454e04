package ceremony

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/keremony/keremony/kel"
)

// TestDocumentNotes: the proposer's file name and size travel with an
// anchoring and are shown beside the seal, checking nothing; only the
// document itself checks the seal.
func TestDocumentNotes(t *testing.T) {
	a, b := newMember("alice", 3), newMember("bob", 3)
	v, st := memGroup(t, kel.IntThreshold(2), kel.IntThreshold(2), nil, a, b)
	minutes := []byte("the minutes of the meeting")
	seal := kel.DigestSeal(minutes)
	note := DocumentNote{Digest: seal.D, Name: "minutes.pdf", Size: 41234}
	p, err := ProposeAnchoring(st, AnchoringParams{Prefix: st.Prefix, Seals: []kel.Seal{seal}, Documents: []DocumentNote{note}})
	if err != nil {
		t.Fatal(err)
	}
	p.ID = NewID()
	wire, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseProposal(wire)
	if err != nil || len(q.Anchoring.Documents) != 1 || q.Anchoring.Documents[0] != note {
		t.Fatalf("round trip: %v %+v", err, q.Anchoring)
	}
	rev, err := ReviewProposal(q, v, b.reviewer(0))
	if err != nil {
		t.Fatal(err)
	}
	if s := rev.Seals[0]; s.Known || s.Proposer != "minutes.pdf, 41 KB" {
		t.Errorf("unchecked seal %+v", s)
	}
	if w := strings.Join(rev.Warnings, "\n"); !strings.Contains(w, "no document you supplied has digest "+seal.D) || !strings.Contains(w, "(the proposer says: minutes.pdf, 41 KB)") {
		t.Errorf("warnings:\n%s", w)
	}
	me := b.reviewer(0)
	me.Documents = map[string][]byte{"my-copy.pdf": minutes}
	rev, err = ReviewProposal(q, v, me)
	if err != nil {
		t.Fatal(err)
	}
	if s := rev.Seals[0]; !s.Known || !strings.Contains(s.Text, `the document "my-copy.pdf"`) || s.Proposer != "minutes.pdf, 41 KB" {
		t.Errorf("checked seal %+v", s)
	}
	// A wrong document under the proposer's name checks nothing.
	me.Documents = map[string][]byte{"minutes.pdf": []byte("other minutes")}
	if rev, err = ReviewProposal(q, v, me); err != nil || rev.Seals[0].Known {
		t.Errorf("a document of the named file but another digest: %v %+v", err, rev.Seals)
	}

	// Notes the proposal cannot carry.
	bad := map[string]DocumentNote{
		"no such seal":      {Digest: kel.DigestSeal([]byte("x")).D, Name: "a.pdf", Size: 1},
		"empty name":        {Digest: seal.D, Size: 1},
		"a path":            {Digest: seal.D, Name: "../etc/passwd", Size: 1},
		"a windows path":    {Digest: seal.D, Name: `c:\x.pdf`, Size: 1},
		"control character": {Digest: seal.D, Name: "a\x1b[2J.pdf", Size: 1},
		"bidi override":     {Digest: seal.D, Name: "fdp.\u202eexe", Size: 1},
		"too long":          {Digest: seal.D, Name: strings.Repeat("a", MaxDocumentName+1), Size: 1},
		"negative size":     {Digest: seal.D, Name: "a.pdf", Size: -1},
	}
	for name, n := range bad {
		if _, err := ProposeAnchoring(st, AnchoringParams{Prefix: st.Prefix, Seals: []kel.Seal{seal}, Documents: []DocumentNote{n}}); !errors.Is(err, ErrMalformedProposal) {
			t.Errorf("%s: propose: %v", name, err)
		}
		var m map[string]any
		if err := json.Unmarshal(wire, &m); err != nil {
			t.Fatal(err)
		}
		m["anchoring"].(map[string]any)["documents"] = []any{map[string]any{"digest": n.Digest, "name": n.Name, "size": n.Size}}
		b, _ := json.Marshal(m)
		if _, err := ParseProposal(b); !errors.Is(err, ErrMalformedProposal) {
			t.Errorf("%s: parse: %v", name, err)
		}
	}
	two := []DocumentNote{note, note}
	if _, err := ProposeAnchoring(st, AnchoringParams{Prefix: st.Prefix, Seals: []kel.Seal{seal}, Documents: two}); !errors.Is(err, ErrMalformedProposal) {
		t.Errorf("two notes for one seal: %v", err)
	}
}

// TestByteSize reads sizes as people say them.
func TestByteSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 bytes", 999: "999 bytes", 1000: "1 KB", 41234: "41 KB", 999_499: "999 KB", 3_200_000: "3.2 MB", 5_000_000_000: "5.0 GB"} {
		if got := ByteSize(n); got != want {
			t.Errorf("ByteSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// FuzzParseProposal: a proposal from another device never panics the
// parser, and what it accepts marshals back to what it parses again.
func FuzzParseProposal(f *testing.F) {
	a := newMember("alice", 2)
	_, st := memGroup(f, kel.IntThreshold(1), kel.IntThreshold(1), nil, a)
	seal := kel.DigestSeal([]byte("doc"))
	p, err := ProposeAnchoring(st, AnchoringParams{Prefix: st.Prefix, Seals: []kel.Seal{seal},
		Documents: []DocumentNote{{Digest: seal.D, Name: "doc.txt", Size: 3}}})
	if err != nil {
		f.Fatal(err)
	}
	p.ID = "c0123"
	good, err := p.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"format":"keremony-proposal/1"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := ParseProposal(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedProposal) {
				t.Fatalf("error without ErrMalformedProposal: %v", err)
			}
			return
		}
		again, err := q.Marshal()
		if err != nil {
			t.Fatalf("accepted proposal does not marshal: %v", err)
		}
		if _, err := ParseProposal(again); err != nil {
			t.Fatalf("marshalled proposal does not parse: %v\n%s", err, again)
		}
	})
}
