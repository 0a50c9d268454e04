package ceremony

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/keremony/keremony/kel"
)

func TestStoreBusy(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(dir, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = OpenStore(dir, StoreOptions{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrStoreBusy) || !strings.Contains(err.Error(), filepath.Join(dir, DBFileName)) || !strings.Contains(err.Error(), "another keremony process") {
		t.Fatalf("second open: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("waited %s", time.Since(start))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenStore(dir, StoreOptions{LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	s.Close()
}

// finalizedSolo leaves a store with a finalized 1-of-1 inception and an open
// anchoring holding one signature.
func finalizedSolo(t testing.TB) (*device, *Ceremony, *Ceremony) {
	t.Helper()
	solo := newMember("solo", 3)
	d := newDevice(t, solo, newClock())
	p, err := ProposeInception(InceptionParams{Members: []Card{solo.card(0)}, Kt: one(), Nt: one()})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := d.propose(p)
	d.sign(c, d.review(c, 0), 0)
	mustFinalize(t, c)
	st, _ := d.store.State(c.Event().Prefix())
	ap, err := ProposeAnchoring(st, AnchoringParams{Prefix: st.Prefix, Seals: []kel.Seal{kel.DigestSeal([]byte("doc"))}})
	if err != nil {
		t.Fatal(err)
	}
	// A 1-of-1 anchoring would be ready at once; that is fine here.
	ca, _ := d.propose(ap)
	d.sign(ca, d.review(ca, 0), 0)
	return d, c, ca
}

// Nothing stored is trusted without replay: a tampered KEL entry, signature
// or roster makes the store refuse to open.
func TestStoreRefusesTampering(t *testing.T) {
	tamper := map[string]func(tx *bolt.Tx, icpID, ixnID string) error{
		"kel signature": func(tx *bolt.Tx, _, _ string) error {
			b := tx.Bucket(bucketKEL)
			k, v := b.Cursor().First()
			v = slices.Clone(v)
			v[len(v)-10] ^= 0x01
			return b.Put(k, v)
		},
		"kel entry dropped": func(tx *bolt.Tx, _, _ string) error {
			k, _ := tx.Bucket(bucketKEL).Cursor().First()
			return tx.Bucket(bucketKEL).Delete(k)
		},
		"stored signature": func(tx *bolt.Tx, _, ixnID string) error {
			b := tx.Bucket(bucketCeremonies).Bucket([]byte(ixnID)).Bucket(bucketSigs)
			k, v := b.Cursor().First()
			v = slices.Clone(v)
			v[20] = 'A' + (v[20]-'A'+1)%26
			return b.Put(k, v)
		},
		"signature under another index": func(tx *bolt.Tx, _, ixnID string) error {
			b := tx.Bucket(bucketCeremonies).Bucket([]byte(ixnID)).Bucket(bucketSigs)
			_, v := b.Cursor().First()
			return b.Put(idxKey(3), v)
		},
		"roster": func(tx *bolt.Tx, icpID, _ string) error {
			b := tx.Bucket(bucketCeremonies).Bucket([]byte(icpID))
			rec := bytes.Replace(b.Get(keyRecord), []byte(`"index":0`), []byte(`"index":1`), 1)
			return b.Put(keyRecord, rec)
		},
		"state": func(tx *bolt.Tx, _, ixnID string) error {
			b := tx.Bucket(bucketCeremonies).Bucket([]byte(ixnID))
			rec := bytes.Replace(b.Get(keyRecord), []byte(`"state":"collecting"`), []byte(`"state":"finalized"`), 1)
			return b.Put(keyRecord, rec)
		},
	}
	for name, f := range tamper {
		t.Run(name, func(t *testing.T) {
			d, c, ca := finalizedSolo(t)
			d.store.Close()
			db, err := bolt.Open(filepath.Join(d.dir, DBFileName), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(func(tx *bolt.Tx) error { return f(tx, c.ID(), ca.ID()) }); err != nil {
				t.Fatal(err)
			}
			db.Close()
			s, err := OpenStore(d.dir, StoreOptions{})
			if !errors.Is(err, ErrCorruptStore) {
				t.Errorf("open: %v", err)
			}
			if err == nil {
				s.Close()
			}
			d.store, _ = OpenStore(t.TempDir(), StoreOptions{}) // for the cleanup
		})
	}
	// Untouched, it opens and holds the same.
	d, c, ca := finalizedSolo(t)
	before := snap(ca)
	d.reopen()
	got, err := d.store.Ceremony(ca.ID())
	if err != nil || !sameSnap(before, snap(got)) || !got.Progress().Met {
		t.Errorf("reopened: %v %+v", err, snap(got))
	}
	if st, ok := d.store.State(c.Event().Prefix()); !ok || st.Last != c.SAID() {
		t.Errorf("state after reopen %+v", st)
	}
	if v := mustVerifier(t, d.store); len(v.Messages(c.Event().Prefix())) != 1 {
		t.Errorf("verifier copy")
	}
}

// Crash tests: a child process (this test binary, re-executed) signs and
// finalizes a 3-of-3 inception and is killed with SIGKILL at an injected
// point; the parent reopens the store and checks it is consistent.

const (
	envCrashDir   = "KEREMONY_CEREMONY_CRASH_DIR"
	envCrashPoint = "KEREMONY_CEREMONY_CRASH_POINT" // "<hook point>#<nth time>"
	envCrashMode  = "KEREMONY_CEREMONY_CRASH_MODE"  // "sign" or "import"
	envCrashID    = "KEREMONY_CEREMONY_CRASH_ID"
)

func crashMembers() []*member {
	return []*member{newMember("crash-a", 2), newMember("crash-b", 2), newMember("crash-c", 2)}
}

func crashProposal(t testing.TB) Proposal {
	var cards []Card
	for _, m := range crashMembers() {
		cards = append(cards, m.card(0))
	}
	p, err := ProposeInception(InceptionParams{Members: cards, Kt: kel.IntThreshold(3), Nt: kel.IntThreshold(3)})
	if err != nil {
		t.Fatal(err)
	}
	p.ID = "crash"
	return p
}

// TestHelperProcess is the child side of the crash tests; it does nothing
// unless started by one.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(envCrashDir)
	if dir == "" {
		t.Skip("child process of the crash tests")
	}
	fail := func(err error) {
		os.WriteFile(filepath.Join(dir, "error"), []byte(err.Error()), 0o600)
		os.Exit(3)
	}
	point, nthText, _ := strings.Cut(os.Getenv(envCrashPoint), "#")
	nth, _ := strconv.Atoi(nthText)
	seen := 0
	testHook = func(p string) {
		if p != point {
			return
		}
		if seen++; seen == nth {
			if err := os.WriteFile(filepath.Join(dir, "reached"), []byte(p), 0o600); err != nil {
				fail(err)
			}
			time.Sleep(time.Hour) // until SIGKILL
		}
	}
	s, err := OpenStore(filepath.Join(dir, "store"), StoreOptions{})
	if err != nil {
		fail(err)
	}
	c, err := s.Ceremony(os.Getenv(envCrashID))
	if err != nil {
		fail(err)
	}
	switch os.Getenv(envCrashMode) {
	case "sign":
		acks, err := os.OpenFile(filepath.Join(dir, "acks"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			fail(err)
		}
		for _, m := range crashMembers() {
			rev, err := s.Review(c.Proposal(), m.reviewer(0))
			if err != nil {
				fail(err)
			}
			in, err := c.SignLocal(m.keys[0], rev)
			if err != nil {
				fail(err)
			}
			// Acknowledged: the signature's owner is told it is safe.
			fmt.Fprintln(acks, in.Sig.Qb64())
			if err := acks.Sync(); err != nil {
				fail(err)
			}
		}
		if _, err := c.Finalize(); err != nil {
			fail(err)
		}
	case "import":
		final, err := os.ReadFile(filepath.Join(dir, "final.cesr"))
		if err != nil {
			fail(err)
		}
		if _, err := s.ImportFinalized(final); err != nil {
			fail(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "done"), nil, 0o600)
}

// runChild starts the child and kills it once it reports the point reached.
func runChild(t *testing.T, dir, mode, point, id string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envCrashDir+"="+dir, envCrashPoint+"="+point, envCrashMode+"="+mode, envCrashID+"="+id)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(20 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "reached")); err == nil {
			if err := cmd.Process.Signal(os.Kill); err != nil {
				t.Fatal(err)
			}
			<-exited
			return
		}
		select {
		case err := <-exited:
			msg, _ := os.ReadFile(filepath.Join(dir, "error"))
			t.Fatalf("child exited (%v) without reaching %s: %s\n%s", err, point, msg, out.String())
		case <-deadline:
			cmd.Process.Signal(os.Kill)
			t.Fatalf("child did not reach %s", point)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func readAcks(t *testing.T, dir string) []string {
	b, err := os.ReadFile(filepath.Join(dir, "acks"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

// checkConsistent asserts the crash invariant and returns the reopened
// store and ceremony: every acknowledged signature is present, and the KEL
// holds the event exactly when the ceremony is finalized.
func checkConsistent(t *testing.T, s *Store, acks []string) *Ceremony {
	t.Helper()
	c, err := s.Ceremony("crash")
	if err != nil {
		t.Fatal(err)
	}
	var held []string
	for _, g := range c.Signatures() {
		held = append(held, g.Qb64())
	}
	for _, a := range acks {
		if !slices.Contains(held, a) {
			t.Errorf("acknowledged signature lost: %.12s…", a)
		}
	}
	st, inKEL := s.State(c.Event().Prefix())
	switch {
	case inKEL && c.State() == StateFinalized && st.Last == c.SAID() && len(c.Finalized()) > 0:
	case !inKEL && c.State() == StateCollecting && len(c.Finalized()) == 0:
	default:
		t.Errorf("half an event: in kel %v, ceremony %s", inKEL, c.State())
	}
	signed := 0
	for _, e := range c.Transcript() {
		if e.Kind == EntrySigned {
			signed++
		}
	}
	if signed != len(held) {
		t.Errorf("transcript records %d signatures, %d held", signed, len(held))
	}
	return c
}

func TestCrashDuringSigningAndFinalize(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	tests := []struct {
		point     string
		held      int // signatures on disk after the crash
		acked     int
		finalized bool
	}{
		{"signature-before-commit#1", 0, 0, false},
		{"signature-before-commit#2", 1, 1, false},
		{"signature-after-commit#2", 2, 1, false},
		{"signature-after-commit#3", 3, 2, false},
		{"finalize-before-commit#1", 3, 3, false},
		{"finalize-after-commit#1", 3, 3, true},
	}
	for _, tc := range tests {
		t.Run(tc.point, func(t *testing.T) {
			dir := t.TempDir()
			s, err := OpenStore(filepath.Join(dir, "store"), StoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.Create(crashProposal(t), time.Time{})
			if err != nil || c.Open() != nil {
				t.Fatal(err)
			}
			s.Close()

			runChild(t, dir, "sign", tc.point, "crash")

			acks := readAcks(t, dir)
			s, err = OpenStore(filepath.Join(dir, "store"), StoreOptions{})
			if err != nil {
				t.Fatalf("reopen after the crash: %v", err)
			}
			defer s.Close()
			c = checkConsistent(t, s, acks)
			if len(acks) != tc.acked || len(c.Signatures()) != tc.held || (c.State() == StateFinalized) != tc.finalized {
				t.Errorf("acked %d held %d state %s, want %d %d finalized %v", len(acks), len(c.Signatures()), c.State(), tc.acked, tc.held, tc.finalized)
			}
			if tc.finalized {
				return
			}
			// The ceremony resumes where it stopped.
			for _, m := range crashMembers() {
				rev, err := s.Review(c.Proposal(), m.reviewer(0))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.SignLocal(m.keys[0], rev); err != nil {
					t.Fatal(err)
				}
			}
			mustFinalize(t, c)
			checkConsistent(t, s, acks)
		})
	}
}

func TestCrashDuringImport(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	// The finalized message, made elsewhere.
	p := crashProposal(t)
	other, err := New(p, nil, Options{})
	if err != nil || other.Open() != nil {
		t.Fatal(err)
	}
	for _, m := range crashMembers() {
		rev, _ := ReviewProposal(p, nil, m.reviewer(0))
		if _, err := other.SignLocal(m.keys[0], rev); err != nil {
			t.Fatal(err)
		}
	}
	final := mustFinalize(t, other)
	for _, tc := range []struct {
		point     string
		finalized bool
	}{{"import-before-commit#1", false}, {"import-after-commit#1", true}} {
		t.Run(tc.point, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "final.cesr"), final, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := OpenStore(filepath.Join(dir, "store"), StoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.Create(p, time.Time{})
			if err != nil || c.Open() != nil {
				t.Fatal(err)
			}
			s.Close()
			runChild(t, dir, "import", tc.point, "crash")
			s, err = OpenStore(filepath.Join(dir, "store"), StoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			c = checkConsistent(t, s, nil)
			if (c.State() == StateFinalized) != tc.finalized {
				t.Errorf("state %s", c.State())
			}
			if !tc.finalized {
				if _, err := s.ImportFinalized(final); err != nil {
					t.Fatal(err)
				}
				checkConsistent(t, s, nil)
			}
			// Importing again is a harmless duplicate.
			if r, err := s.ImportFinalized(final); err != nil || !slices.Contains(r.Warnings, "duplicate_event") {
				t.Errorf("second import: %v %+v", err, r)
			}
		})
	}
}

// An imported message that does not verify is refused and stores nothing.
func TestImportRefusesForgery(t *testing.T) {
	p := crashProposal(t)
	d := newDevice(t, crashMembers()[0], newClock())
	c, err := d.store.Create(p, time.Time{})
	if err != nil || c.Open() != nil {
		t.Fatal(err)
	}
	ev := c.Event()
	var sigs []kel.Siger
	for i, m := range crashMembers()[:2] {
		sigs = append(sigs, rawSig(t, m.keys[0], ev.Raw(), i, 0, true))
	}
	short := kel.NewMessage(ev, sigs).Bytes()
	if _, err := d.store.ImportFinalized(short); !errors.Is(err, ErrRejected) || !errors.Is(err, kel.ErrThresholdNotMet) {
		t.Errorf("two of three: %v", err)
	}
	if _, ok := d.store.State(ev.Prefix()); ok || c.State() != StateCollecting {
		t.Errorf("a refused import changed the store")
	}
	if _, err := d.store.ImportFinalized(append(short, short...)); !errors.Is(err, ErrRejected) {
		t.Errorf("two messages: %v", err)
	}
	d.reopen()
	if _, ok := d.store.State(ev.Prefix()); ok {
		t.Errorf("the refused message is on disk")
	}
}

// The KEL replayed when a store opens must not alias bbolt's memory map:
// bbolt unmaps it when the file grows (and on Close), and the replayed
// events then read unmapped memory (garbage, or a segmentation fault that
// the CLI met once the store grew). After Close nothing is mapped, so an
// export of the replayed KEL faults unless its bytes were copied.
func TestReplayedKELSurvivesUnmap(t *testing.T) {
	g := incept2of2(t, newClock())
	ca, cb, revB := rotate2of2(t, g, 1) // a second event: the kel bucket is no longer inline
	g.a.deliver(g.b.sign(cb, revB, 1))
	g.a.sign(ca, g.a.review(ca, 1), 1)
	mustFinalize(t, ca)
	want := mustExport(t, g.a.store, g.prefix)
	g.a.reopen()
	// Restored while the store is open (an open restores only the KELs
	// its open ceremonies need).
	if _, err := g.a.store.VerifierOf(g.prefix); err != nil {
		t.Fatal(err)
	}
	if err := g.a.store.Close(); err != nil {
		t.Fatal(err)
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	var got []byte
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("the replayed kel reads unmapped memory: %v", r)
			}
		}()
		got = mustExport(t, g.a.store, g.prefix)
	}()
	if !bytes.Equal(got, want) {
		t.Fatalf("the replayed kel changed once the store was unmapped")
	}
	g.a.open() // for the cleanup's Close
}
