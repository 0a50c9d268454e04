package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keremony/keremony/device"
	"github.com/keremony/keremony/transport"
)

func init() {
	// Cheap Argon2id for new keystore files, and never a real terminal.
	testOnlyKDF = &device.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}
	ttyPath = filepath.Join(os.TempDir(), "keremony-test-no-tty")
}

// member runs `keremony member ARGS...` in-process.
func member(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runMember(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// fileMode points the CLI at the file keystore with a passphrase and no
// default home.
func fileMode(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("KEREMONY_KEYSTORE", "file")
	t.Setenv("KEREMONY_PASSPHRASE", "test passphrase")
	t.Setenv("KEREMONY_HOME", home)
	return home
}

func mustMember(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := member(t, args...)
	if code != 0 {
		t.Fatalf("member %v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
	}
	return out
}

func TestMemberNewListCardCheck(t *testing.T) {
	home := fileMode(t)
	out := mustMember(t, "new", "alice")
	if !strings.Contains(out, `created member "alice"`) || !strings.Contains(out, filepath.Join(home, "keystore.enc")) {
		t.Errorf("member new output:\n%s", out)
	}
	mustMember(t, "new", "bob")

	out = mustMember(t, "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "alice ") || !strings.HasPrefix(lines[2], "bob ") {
		t.Fatalf("member list:\n%s", out)
	}
	aliceKey := strings.Fields(lines[1])[2]

	// The card on stdout parses, verifies and matches the listed key.
	card, err := transport.ParseCard([]byte(mustMember(t, "card", "alice")))
	if err != nil {
		t.Fatalf("card from stdout: %v", err)
	}
	if card.Label != "alice" || card.Key != aliceKey || card.Next != strings.Fields(lines[1])[3] {
		t.Errorf("card %+v does not match list line %q", card, lines[1])
	}
	// --out after the positional argument.
	file := filepath.Join(t.TempDir(), "bob.card")
	code, out, errOut := member(t, "card", "bob", "--out", file)
	if code != 0 || out != "" || !strings.Contains(errOut, file) {
		t.Fatalf("card --out: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	data, _ := os.ReadFile(file)
	if c, err := transport.ParseCard(data); err != nil || c.Label != "bob" {
		t.Fatalf("card file: %+v, %v", c, err)
	}

	out = mustMember(t, "check")
	for _, want := range []string{"alice: ready", "bob: ready", "journal: 2 signatures"} {
		if !strings.Contains(out, want) {
			t.Errorf("member check output lacks %q:\n%s", want, out)
		}
	}
	// One line per member and one for the journal: no key material.
	if n := strings.Count(out, "\n"); n != 3 {
		t.Errorf("member check printed %d lines, want 3:\n%s", n, out)
	}
}

func TestMemberFlagsAnywhere(t *testing.T) {
	fileMode(t)
	t.Setenv("KEREMONY_HOME", "")
	h1, h2 := t.TempDir(), t.TempDir()
	mustMember(t, "new", "--home", h1, "alice")
	mustMember(t, "new", "alice", "--home", h2)
	mustMember(t, "new", "--home="+h1, "--keystore", "file", "--", "-dash")
	out1 := mustMember(t, "list", "--home", h1)
	out2 := mustMember(t, "list", "--home", h2)
	if !strings.Contains(out1, "-dash") || strings.Contains(out2, "-dash") || out1 == out2 {
		t.Fatalf("homes are not separate:\n%s\n%s", out1, out2)
	}
	file := filepath.Join(t.TempDir(), "card")
	mustMember(t, "card", "--out", file, "--home", h2, "alice")
	if _, err := os.Stat(file); err != nil {
		t.Fatal(err)
	}
	// KEREMONY_HOME is the default for --home.
	t.Setenv("KEREMONY_HOME", h2)
	if out := mustMember(t, "list"); out != out2 {
		t.Errorf("KEREMONY_HOME list:\n%s\nwant\n%s", out, out2)
	}
}

func TestMemberFailures(t *testing.T) {
	home := fileMode(t)
	mustMember(t, "new", "alice")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"new", "al/ice"}, "invalid member alias"},
		{[]string{"new", "alice"}, "member already exists"},
		{[]string{"new", "ALICE"}, "member already exists"},
		{[]string{"card", "carol"}, "no such member"},
		{[]string{"new", "bob", "--keystore", "keyring"}, "keys of this home are kept in another backend"},
	} {
		code, out, errOut := member(t, tc.args...)
		if code != 1 || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("member %q: exit %d, stdout %q, stderr %q; want exit 1 and %q", tc.args, code, out, errOut, tc.want)
		}
	}

	// Wrong passphrase: card fails, check reports not ready.
	t.Setenv("KEREMONY_PASSPHRASE", "wrong")
	code, _, errOut := member(t, "card", "alice")
	if code != 1 || !strings.Contains(errOut, "incorrect passphrase") {
		t.Errorf("card with a wrong passphrase: %d %q", code, errOut)
	}
	code, out, _ := member(t, "check")
	if code != 1 || !strings.Contains(out, "alice: NOT READY") || !strings.Contains(out, "incorrect passphrase") {
		t.Errorf("check with a wrong passphrase: %d %q", code, out)
	}
	// No passphrase and no terminal: a clear error and a hint.
	t.Setenv("KEREMONY_PASSPHRASE", "")
	code, _, errOut = member(t, "card", "alice")
	if code != 1 || !strings.Contains(errOut, "no passphrase available") || !strings.Contains(errOut, "hint") {
		t.Errorf("card without a passphrase: %d %q", code, errOut)
	}
	// Listing needs no passphrase.
	if code, out, _ := member(t, "list"); code != 0 || !strings.Contains(out, "alice") {
		t.Errorf("list without a passphrase: %d %q", code, out)
	}

	// The keys are gone: not ready, exit 1.
	t.Setenv("KEREMONY_PASSPHRASE", "test passphrase")
	if err := os.Remove(filepath.Join(home, "keystore.enc")); err != nil {
		t.Fatal(err)
	}
	code, out, _ = member(t, "check")
	if code != 1 || !strings.Contains(out, "alice: NOT READY") || !strings.Contains(out, "private key not in the keystore") {
		t.Errorf("check without keys: %d %q", code, out)
	}
	// An empty home has nothing to sign with.
	t.Setenv("KEREMONY_HOME", t.TempDir())
	code, out, _ = member(t, "check")
	if code != 1 || !strings.Contains(out, "no members") {
		t.Errorf("check on an empty home: %d %q", code, out)
	}
}

// TestMemberRealKeyring runs only inside scripts/ci-keyring.sh (make
// test-keyring), whose keyring is thrown away afterwards: the CLI's auto
// mode picks the Secret Service and keeps no seed in the data directory.
func TestMemberRealKeyring(t *testing.T) {
	if os.Getenv("KEREMONY_THROWAWAY_KEYRING") != "1" {
		t.Skip("needs the throwaway keyring of scripts/ci-keyring.sh (make test-keyring)")
	}
	home := t.TempDir()
	t.Setenv("KEREMONY_HOME", home)
	t.Setenv("KEREMONY_KEYSTORE", "")
	t.Setenv("KEREMONY_PASSPHRASE", "")
	code, out, errOut := member(t, "new", "alice")
	if code != 0 || !strings.Contains(out, "keys in the OS keyring") || strings.Contains(errOut, "notice") {
		t.Fatalf("member new in auto mode: %d\n%s\n%s", code, out, errOut)
	}
	if _, err := transport.ParseCard([]byte(mustMember(t, "card", "alice"))); err != nil {
		t.Fatal(err)
	}
	if out := mustMember(t, "check"); !strings.Contains(out, "alice: ready") {
		t.Fatalf("check: %s", out)
	}
	if _, err := os.Stat(filepath.Join(home, "keystore.enc")); !os.IsNotExist(err) {
		t.Errorf("keyring mode wrote keystore.enc: %v", err)
	}
}
