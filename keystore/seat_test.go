package keystore

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSeats: a member's seats each have keys of their own; a seat joins
// one group for good.
func TestSeats(t *testing.T) {
	s := openFileStore(t, t.TempDir(), "pw")
	first := newSeat(t, s, "alice")
	second, err := s.NewSeat("alice", "wgroup2")
	if err != nil {
		t.Fatal(err)
	}
	if second.SeatRef != (SeatRef{"alice", 2}) || second.For != "wgroup2" || second.Group != "" ||
		second.PublicKey.Equal(first.PublicKey) || second.NextDigest == first.NextDigest {
		t.Fatalf("second seat %+v (first %+v)", second, first)
	}
	if _, err := s.BindSeat(first.SeatRef, "Eteam1"); err != nil {
		t.Fatal(err)
	}
	if again, err := s.BindSeat(first.SeatRef, "Eteam1"); err != nil || again.Group != "Eteam1" {
		t.Fatalf("binding again to the same group: %+v %v", again, err)
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"rebinding a seat", func() error { _, err := s.BindSeat(first.SeatRef, "Ewgroup2"); return err }()},
		{"a second seat in one group", func() error { _, err := s.BindSeat(second.SeatRef, "Eteam1"); return err }()},
		{"for on a bound seat", func() error { _, err := s.SetSeatFor(first.SeatRef, "x"); return err }()},
	} {
		if !errors.Is(tc.err, ErrSeatBound) {
			t.Errorf("%s: %v, want ErrSeatBound", tc.name, tc.err)
		}
	}
	_, err = s.Signer(SeatRef{"alice", 3})
	wantErrText(t, err, ErrSeatNotFound, "alice", "3")
	_, err = s.NewSeat("nobody", "")
	wantErr(t, err, ErrMemberNotFound)
	if st, err := s.SetSeatFor(second.SeatRef, "other"); err != nil || st.For != "other" {
		t.Fatalf("SetSeatFor: %+v %v", st, err)
	}
	// Each seat signs with its own key.
	for _, st := range []Seat{first, second} {
		signer, err := s.Signer(st.SeatRef)
		if err != nil {
			t.Fatal(err)
		}
		ref, msg := event("E"+st.String(), 0, "E0")
		if sig, err := signer.Sign(ref, msg); err != nil || !ed25519.Verify(st.PublicKey, msg, sig) {
			t.Fatalf("%s: %v", st, err)
		}
	}
	seats, err := s.Seats()
	if err != nil || len(seats) != 2 || seats[0].Group != "Eteam1" || seats[1].For != "other" {
		t.Fatalf("Seats = %+v %v", seats, err)
	}
	rs, err := s.CheckReadiness()
	if err != nil || len(rs) != 2 || !rs[0].Ready || !rs[1].Ready || rs[1].Seat.N != 2 {
		t.Fatalf("readiness %+v %v", rs, err)
	}
}

// writeV1 turns member alias's record into what keremony wrote before
// seats (version 1: one key pair), keeping its keys.
func writeV1(t *testing.T, s *Store, alias string) {
	t.Helper()
	rec, err := s.record(alias)
	if err != nil {
		t.Fatal(err)
	}
	st := rec.Seats[0]
	data, err := json.MarshalIndent(recordV1{V: 1, Alias: alias, Current: st.Current, Next: st.Next, Pending: st.Pending,
		Destroy: rec.Destroy, Created: rec.Created}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.memberPath(alias), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRecordV1: a record made before seats reads as a member with one
// seat in no group; the first change writes version 2.
func TestRecordV1(t *testing.T) {
	s := openFileStore(t, t.TempDir(), "pw")
	before := newSeat(t, s, "alice")
	writeV1(t, s, "alice")
	if data, _ := os.ReadFile(s.memberPath("alice")); !strings.Contains(string(data), `"v": 1`) || strings.Contains(string(data), "seats") {
		t.Fatalf("not a version 1 record:\n%s", data)
	}
	m, err := s.Member("alice")
	if err != nil || len(m.Seats) != 1 || m.Seats[0].Group != "" || !m.Seats[0].PublicKey.Equal(before.PublicKey) ||
		m.Seats[0].NextDigest != before.NextDigest {
		t.Fatalf("version 1 record read as %+v, %v", m, err)
	}
	if !m.Seats[0].Legacy {
		t.Fatalf("a version 1 seat is not marked legacy: %+v", m.Seats[0])
	}
	if _, err := s.SettleSeat(seat1("alice"), []Settle{{Prefix: "Eteam1"}}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(s.memberPath("alice"))
	if !strings.Contains(string(data), `"v": 2`) || !strings.Contains(string(data), `"group": "Eteam1"`) || strings.Contains(string(data), "legacy") {
		t.Fatalf("after a change:\n%s", data)
	}
}

// TestSplitSeatSharesKeys: a home made before seats whose one key pair two
// groups list gets a seat per group; a rotation of one keeps every key
// the other still holds, and its prepared rotation leaves the other seat.
func TestSplitSeatSharesKeys(t *testing.T) {
	s := openFileStore(t, t.TempDir(), "pw")
	orig := newSeat(t, s, "alice")
	if _, err := s.PrepareRotation(seat1("alice")); err != nil {
		t.Fatal(err)
	}
	writeV1(t, s, "alice")
	if st, _ := s.Seat(seat1("alice")); !st.Legacy {
		t.Fatalf("a seat made before seats: %+v", st)
	}
	settled, err := s.SettleSeat(seat1("alice"), []Settle{{Prefix: "Eteam1"}, {Prefix: "Ewgroup2"}})
	if err != nil || len(settled) != 2 || settled[0].Group != "Eteam1" || settled[0].Legacy {
		t.Fatalf("SettleSeat = %+v, %v", settled, err)
	}
	split := settled[1]
	if split.N != 2 || split.Group != "Ewgroup2" || !split.PublicKey.Equal(orig.PublicKey) || split.NextDigest != orig.NextDigest ||
		split.PendingNextDigest == "" || len(split.SharesWith) != 1 || split.SharesWith[0] != 1 {
		t.Fatalf("split seat %+v", split)
	}
	if _, err := s.SettleSeat(seat1("alice"), []Settle{{Prefix: "Ewgroup2"}}); !errors.Is(err, ErrSeatBound) {
		t.Fatalf("settling twice: %v", err)
	}
	rec, _ := s.record("alice")
	oldCur := rec.Seats[0].Current.ID
	// wgroup2 rotates: its seat moves on; team1's seat keeps its keys.
	after, err := s.CommitRotation(split.SeatRef)
	if err != nil {
		t.Fatal(err)
	}
	if after.PublicKey.Equal(orig.PublicKey) || after.PendingNextDigest != "" {
		t.Fatalf("wgroup2's seat after its rotation: %+v", after)
	}
	if _, err := s.secrets.load(oldCur); err != nil {
		t.Fatalf("team1's current key was destroyed: %v", err)
	}
	team1, _ := s.Seat(seat1("alice"))
	if !team1.PublicKey.Equal(orig.PublicKey) || team1.NextDigest != orig.NextDigest || team1.PendingNextDigest != "" {
		t.Fatalf("team1's seat after wgroup2's rotation: %+v", team1)
	}
	signer, _ := s.Signer(seat1("alice"))
	ref, msg := event("Eteam1", 1, "Eixn")
	if sig, err := signer.Sign(ref, msg); err != nil || !ed25519.Verify(orig.PublicKey, msg, sig) {
		t.Fatalf("team1's seat cannot sign: %v", err)
	}
	rs, err := s.CheckReadiness()
	if err != nil || len(rs) != 2 || !rs[0].Ready || !rs[1].Ready {
		t.Fatalf("readiness %+v %v", rs, err)
	}
	// team1 rotates too (it reveals the next key both seats shared).
	if _, err := s.PrepareRotation(seat1("alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CommitRotation(seat1("alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.secrets.load(oldCur); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("the old key no seat holds any more: %v", err)
	}
}

// TestRetiredKeyKeptWhileListed: a rotated-out key that an identifier
// held on the device still lists is kept until none does.
func TestRetiredKeyKeptWhileListed(t *testing.T) {
	s := openFileStore(t, t.TempDir(), "pw")
	orig := newSeat(t, s, "alice")
	listed := true
	s.SetKeyInUse(func(pub ed25519.PublicKey, digest string) bool { return listed && pub.Equal(orig.PublicKey) })
	if _, err := s.PrepareRotation(seat1("alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CommitRotation(seat1("alice")); err != nil {
		t.Fatal(err)
	}
	rec, _ := s.record("alice")
	if len(rec.Destroy) != 1 {
		t.Fatalf("retired keys %v, want the old current key kept", rec.Destroy)
	}
	if m, _ := s.Member("alice"); m.Retained != 1 {
		t.Fatalf("member %+v: want one retained key", m)
	}
	if _, err := s.secrets.load(rec.Destroy[0]); err != nil {
		t.Fatalf("a listed key was destroyed: %v", err)
	}
	listed = false
	if _, err := s.PrepareRotation(seat1("alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.secrets.load(rec.Destroy[0]); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("a key nothing lists was kept: %v", err)
	}
	if m, _ := s.Member("alice"); m.Retained != 0 {
		t.Fatalf("member %+v: want no retained key", m)
	}
}

// TestChangeBusy: a change waits for another process's lock, then fails
// as busy, changing nothing.
func TestChangeBusy(t *testing.T) {
	home := t.TempDir()
	s, _, err := Open(Options{Home: home, Backend: BackendFile, Passphrase: passphrase("pw"), NextDigest: testDigest,
		KDF: &cheapKDF, LockWait: 40 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	newSeat(t, s, "alice")
	other, _, err := Open(Options{Home: home, Backend: BackendFile, Passphrase: passphrase("pw"), NextDigest: testDigest, KDF: &cheapKDF})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	held := make(chan struct{})
	release := make(chan struct{})
	go other.change(false, func() error { close(held); <-release; return nil })
	<-held
	start := time.Now()
	_, err = s.NewMember("bob")
	close(release)
	wantErrText(t, err, ErrBusy, lockName)
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("gave up after %v, before the wait", d)
	}
	if _, err := s.Member("bob"); !errors.Is(err, ErrMemberNotFound) {
		t.Errorf("a busy NewMember left bob: %v", err)
	}
}

// TestConcurrentNewMemberProcesses: eight processes create members on one
// home at once, each through its own file keystore; every member they
// report created has its keys.
func TestConcurrentNewMemberProcesses(t *testing.T) {
	if alias := os.Getenv("KEYSTORE_CHILD_ALIAS"); alias != "" {
		s, _, err := Open(Options{Home: os.Getenv("KEYSTORE_CHILD_HOME"), Backend: BackendFile, Passphrase: passphrase("pw"),
			NextDigest: testDigest, KDF: &cheapKDF})
		if err == nil {
			_, err = s.NewMember(alias)
		}
		if errors.Is(err, ErrBusy) {
			os.Exit(3)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	home := t.TempDir()
	const n = 8
	cmds := make([]*exec.Cmd, n)
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestConcurrentNewMemberProcesses$")
		cmds[i].Env = append(os.Environ(), "KEYSTORE_CHILD_HOME="+home, fmt.Sprintf("KEYSTORE_CHILD_ALIAS=m%d", i))
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	created, busy := 0, 0
	for i, c := range cmds {
		err := c.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
			created++
		case errors.As(err, &ee) && ee.ExitCode() == 3:
			busy++
		default:
			t.Errorf("m%d: %v", i, err)
		}
	}
	s := openFileStore(t, home, "pw")
	rs, err := s.CheckReadiness()
	if err != nil {
		t.Fatal(err)
	}
	ready := 0
	for _, r := range rs {
		if !r.Ready {
			t.Errorf("%s: %v", r.Seat.Member, r.Err)
		} else {
			ready++
		}
	}
	if ready != created || created+busy != n {
		t.Errorf("%d created, %d busy, %d ready", created, busy, ready)
	}
	t.Logf("%d processes: %d created, %d busy, %d members ready", n, created, busy, ready)
	if _, err := os.Stat(filepath.Join(home, lockName)); err != nil {
		t.Errorf("lock file: %v", err)
	}
}

// TestSettleSeatLostCurrent: a group that lists a current key a rotation
// of another group destroyed before seats gets a seat that cannot sign
// but still holds, as its next key, the key that group commits.
func TestSettleSeatLostCurrent(t *testing.T) {
	s := openFileStore(t, t.TempDir(), "pw")
	orig := newSeat(t, s, "alice")
	lost, _, _ := ed25519.GenerateKey(nil)
	writeV1(t, s, "alice")
	settled, err := s.SettleSeat(seat1("alice"), []Settle{{Prefix: "Ewgroup2"}, {Prefix: "Eteam1", LostCurrent: lost}})
	if err != nil || len(settled) != 2 {
		t.Fatalf("SettleSeat = %+v %v", settled, err)
	}
	team1 := settled[1]
	if !team1.LostCurrent || !team1.PublicKey.Equal(lost) || team1.NextDigest != testDigest(orig.PublicKey) || team1.Group != "Eteam1" {
		t.Fatalf("team1's seat %+v", team1)
	}
	rs, _ := s.CheckReadiness()
	if len(rs) != 2 || !rs[0].Ready || rs[1].Ready || !errors.Is(rs[1].Err, ErrKeyNotFound) {
		t.Fatalf("readiness %+v", rs)
	}
	// team1 rotates: it reveals the key its next list commits (alice's
	// current key in wgroup2, which stays), and the seat signs again.
	rot, err := s.PrepareRotation(team1.SeatRef)
	if err != nil || !rot.NewKey.Equal(orig.PublicKey) {
		t.Fatalf("prepare: %+v %v", rot, err)
	}
	after, err := s.CommitRotation(team1.SeatRef)
	if err != nil || after.LostCurrent || !after.PublicKey.Equal(orig.PublicKey) {
		t.Fatalf("commit: %+v %v", after, err)
	}
	if rs, _ := s.CheckReadiness(); !rs[0].Ready || !rs[1].Ready {
		t.Fatalf("readiness after the rotation %+v", rs)
	}
}
