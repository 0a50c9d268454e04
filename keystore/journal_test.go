package keystore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func newTestJournal(t *testing.T) *Journal {
	t.Helper()
	return NewJournal(filepath.Join(t.TempDir(), journalName), fixedClock())
}

func TestJournalConflictingSAIDRefused(t *testing.T) {
	j := newTestJournal(t)
	ref := EventRef{AID: "EAID", SN: 3, SAID: "Efirst"}
	if err := j.Record("alice", ref); err != nil {
		t.Fatal(err)
	}
	err := j.Record("alice", EventRef{AID: "EAID", SN: 3, SAID: "Esecond"})
	wantErrText(t, err, ErrConflictingSignature, "Efirst", "Esecond", `"alice"`, "EAID")

	// Same SAID again: allowed, and recorded again.
	if err := j.Record("alice", ref); err != nil {
		t.Fatalf("same SAID again: %v", err)
	}
	// Other sequence numbers, identifiers and members are independent.
	for _, r := range []struct {
		alias string
		ref   EventRef
	}{
		{"alice", EventRef{AID: "EAID", SN: 4, SAID: "Esecond"}},
		{"alice", EventRef{AID: "EOTHER", SN: 3, SAID: "Esecond"}},
		{"bob", EventRef{AID: "EAID", SN: 3, SAID: "Esecond"}},
	} {
		if err := j.Record(r.alias, r.ref); err != nil {
			t.Errorf("Record(%s, %+v): %v", r.alias, r.ref, err)
		}
	}
	entries, torn, err := j.Entries()
	if err != nil || torn != 0 || len(entries) != 5 {
		t.Fatalf("Entries = %d entries, torn %d, %v; want 5, 0, nil", len(entries), torn, err)
	}
	want := JournalEntry{Alias: "alice", AID: "EAID", SN: 3, SAID: "Efirst", Time: time.Date(2026, 11, 21, 9, 0, 1, 0, time.UTC)}
	if entries[0] != want {
		t.Errorf("first entry = %+v, want %+v", entries[0], want)
	}
}

// One key never signs two events at one sn; another key of the member may
// (a recovery rotation signed with the revealed next key supersedes an
// interaction signed with the current one). Entries naming no key conflict
// with every key.
func TestJournalConflictsPerKey(t *testing.T) {
	j := newTestJournal(t)
	ixn := EventRef{AID: "EAID", SN: 3, SAID: "Eixn"}
	if err := j.record("alice", "key-current", ixn); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  string
		said string
		want error
	}{
		{"the same key, another event", "key-current", "Eother", ErrConflictingSignature},
		{"a key not named", "", "Eother", ErrConflictingSignature},
		{"the next key, the recovery rotation", "key-next", "Erot", nil},
		{"the next key, a second rotation", "key-next", "Erot2", ErrConflictingSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := j.record("alice", tc.key, EventRef{AID: "EAID", SN: 3, SAID: tc.said})
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
	entries, _, _ := j.Entries()
	if len(entries) != 2 || entries[0].Key != "key-current" || entries[1].Key != "key-next" {
		t.Errorf("entries %+v", entries)
	}
	// An older entry naming no key conflicts with every key.
	old := newTestJournal(t)
	if err := old.Record("alice", ixn); err != nil {
		t.Fatal(err)
	}
	if err := old.record("alice", "key-next", EventRef{AID: "EAID", SN: 3, SAID: "Erot"}); !errors.Is(err, ErrConflictingSignature) {
		t.Errorf("after a keyless entry: %v", err)
	}
}

func TestJournalSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), journalName)
	if err := NewJournal(path, fixedClock()).Record("alice", EventRef{AID: "EAID", SN: 0, SAID: "Eicp"}); err != nil {
		t.Fatal(err)
	}
	// A new Journal on the same file (a restarted process) still refuses.
	j := NewJournal(path, fixedClock())
	err := j.Record("alice", EventRef{AID: "EAID", SN: 0, SAID: "Eforged"})
	wantErrText(t, err, ErrConflictingSignature, "Eicp", "Eforged")
	if err := j.Record("alice", EventRef{AID: "EAID", SN: 0, SAID: "Eicp"}); err != nil {
		t.Fatalf("same SAID after restart: %v", err)
	}
	data, _ := os.ReadFile(path)
	if lines := strings.Count(string(data), "\n"); lines != 2 {
		t.Errorf("journal has %d lines, want 2:\n%s", lines, data)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("journal mode = %v, want 0600", fi.Mode().Perm())
	}
}

func TestJournalTornLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), journalName)
	j := NewJournal(path, fixedClock())
	if err := j.Record("alice", EventRef{AID: "EAID", SN: 1, SAID: "Eone"}); err != nil {
		t.Fatal(err)
	}
	// A crash mid-append: half a line, never synced, so never released.
	torn := []byte(`{"alias":"alice","aid":"EAID","sn":2,"said":"Etorn`)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(torn)
	f.Close()

	entries, n, err := j.Entries()
	if err != nil || len(entries) != 1 || n != len(torn) {
		t.Fatalf("Entries = %d entries, torn %d, %v; want 1, %d, nil", len(entries), n, err, len(torn))
	}
	// The next write cuts the torn line off and appends cleanly.
	if err := j.Record("alice", EventRef{AID: "EAID", SN: 2, SAID: "Etwo"}); err != nil {
		t.Fatal(err)
	}
	entries, n, err = j.Entries()
	if err != nil || len(entries) != 2 || n != 0 || entries[1].SAID != "Etwo" {
		t.Fatalf("after repair: %+v, torn %d, %v", entries, n, err)
	}
	data, _ := os.ReadFile(path)
	if bytes.Contains(data, []byte("Etorn")) {
		t.Error("torn line still in the journal")
	}
}

func TestJournalCorruptLineRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), journalName)
	j := NewJournal(path, fixedClock())
	for name, content := range map[string]string{
		"not json":      "garbage\n",
		"unknown field": `{"alias":"a","aid":"E","sn":1,"said":"E","time":"2026-01-01T00:00:00Z","extra":1}` + "\n",
		"no event":      `{"alias":"a","sn":1,"time":"2026-01-01T00:00:00Z"}` + "\n",
		"two objects":   `{"alias":"a","proof":"00","sn":0,"time":"2026-01-01T00:00:00Z"}{}` + "\n",
	} {
		if err := os.WriteFile(path, []byte(content+`{"alias":"a","aid":"E","sn":1,"said":"E","time":"2026-01-01T00:00:00Z"}`+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := j.Entries()
		if err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%s: Entries error = %v, want ErrCorruptJournal at line 1", name, err)
		}
		wantErr(t, err, ErrCorruptJournal)
		// Signing refuses too: the journal cannot vouch for the past.
		err = j.Record("a", EventRef{AID: "E", SN: 9, SAID: "E"})
		wantErr(t, err, ErrCorruptJournal)
	}
}

func TestJournalInvalidRef(t *testing.T) {
	j := newTestJournal(t)
	wantErr(t, j.Record("alice", EventRef{AID: "", SN: 1, SAID: "E"}), ErrInvalidEventRef)
	wantErr(t, j.Record("alice", EventRef{AID: "E", SN: 1, SAID: ""}), ErrInvalidEventRef)
	entries, _, err := j.Entries()
	if err != nil || len(entries) != 0 {
		t.Fatalf("refused records were written: %v, %v", entries, err)
	}
}

// TestJournalWritersDoNotInterleave: two journals on one file (as two
// processes would hold) append at the same time; every line survives.
func TestJournalWritersDoNotInterleave(t *testing.T) {
	path := filepath.Join(t.TempDir(), journalName)
	j1, j2 := NewJournal(path, fixedClock()), NewJournal(path, fixedClock())
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		j := j1
		if i%2 == 1 {
			j = j2
		}
		wg.Go(func() {
			if err := j.Record("alice", EventRef{AID: "EAID", SN: uint64(i), SAID: fmt.Sprintf("E%d", i)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	entries, torn, err := j1.Entries()
	if err != nil || torn != 0 || len(entries) != n {
		t.Fatalf("%d entries (torn %d, %v), want %d", len(entries), torn, err, n)
	}
}
