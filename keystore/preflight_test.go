package keystore

import (
	"errors"
	"testing"
)

// TestCheckKey: a seat whose key is in the keystore can sign; one whose
// current or next key is gone is told so before anything is recorded.
func TestCheckKey(t *testing.T) {
	s := openFileStore(t, t.TempDir(), "pw")
	for _, a := range []string{"alice", "bob"} {
		if _, err := s.NewMember(a); err != nil {
			t.Fatal(err)
		}
	}
	for _, next := range []bool{false, true} {
		if err := s.CheckKey(seat1("alice"), next); err != nil {
			t.Errorf("alice (next %v): %v", next, err)
		}
	}
	rec, _ := s.record("bob")
	st := rec.Seats[0]
	if err := s.secrets.remove(st.Current.ID); err != nil {
		t.Fatal(err)
	}
	wantErrText(t, s.CheckKey(seat1("bob"), false), ErrKeyNotFound, "seat bob")
	if err := s.CheckKey(seat1("bob"), true); err != nil {
		t.Errorf("bob's next key is still there: %v", err)
	}
	if err := s.secrets.remove(st.Next.ID); err != nil {
		t.Fatal(err)
	}
	wantErrText(t, s.CheckKey(seat1("bob"), true), ErrKeyNotFound, "seat bob next key")
	wantErr(t, s.CheckKey(seat1("nobody"), false), ErrMemberNotFound)
	if entries, _, _ := s.Journal().Entries(); len(entries) != 0 {
		t.Errorf("a check wrote the journal: %+v", entries)
	}
}

// TestJournalConflict: the journal says, without writing, whether a
// member signed another event at the same identifier and sequence number.
func TestJournalConflict(t *testing.T) {
	j := newTestJournal(t)
	ref := EventRef{AID: "EAID", SN: 5, SAID: "Efirst"}
	if err := j.Conflict("bob", ref); err != nil {
		t.Fatalf("empty journal: %v", err)
	}
	if err := j.Record("bob", ref); err != nil {
		t.Fatal(err)
	}
	other := EventRef{AID: "EAID", SN: 5, SAID: "Esecond"}
	wantErrText(t, j.Conflict("bob", other), ErrConflictingSignature, `"bob"`, "Efirst", "sn 5", "EAID")
	for _, ok := range []struct {
		alias string
		ref   EventRef
	}{{"bob", ref}, {"alice", other}, {"bob", EventRef{AID: "EAID", SN: 6, SAID: "Esecond"}}, {"bob", EventRef{AID: "EOTHER", SN: 5, SAID: "Esecond"}}} {
		if err := j.Conflict(ok.alias, ok.ref); err != nil {
			t.Errorf("%s %+v: %v", ok.alias, ok.ref, err)
		}
	}
	if entries, _, _ := j.Entries(); len(entries) != 1 {
		t.Errorf("Conflict wrote the journal: %d entries", len(entries))
	}
}

// SignConflict follows the signature's own per-key rule: the next key may
// sign a recovery rotation at the sn of an interaction the current key
// signed, never a second event with the key that signed the first.
func TestSignConflict(t *testing.T) {
	s := openFileStore(t, t.TempDir(), "pw")
	if _, err := s.NewMember("bob"); err != nil {
		t.Fatal(err)
	}
	ixn := EventRef{AID: "EAID", SN: 3, SAID: "Eixn"}
	cur, err := s.Signer(seat1("bob"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cur.Sign(ixn, []byte("ixn")); err != nil {
		t.Fatal(err)
	}
	rot := EventRef{AID: "EAID", SN: 3, SAID: "Erot"}
	tests := []struct {
		name string
		next bool
		ref  EventRef
		want error
	}{
		{"current key, another event", false, rot, ErrConflictingSignature},
		{"current key, the same event", false, ixn, nil},
		{"next key, the recovery rotation", true, rot, nil},
		{"next key, another sn", true, EventRef{AID: "EAID", SN: 4, SAID: "Erot"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.SignConflict(seat1("bob"), tc.next, tc.ref)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
	if err := s.SignConflict(seat1("nobody"), false, rot); !errors.Is(err, ErrMemberNotFound) {
		t.Errorf("unknown member: %v", err)
	}
}
