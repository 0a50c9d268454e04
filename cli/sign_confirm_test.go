package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSignAsksOnATerminal: on a terminal, sign shows the review, repeats
// the warnings that matter and the six words, and signs only on y; --yes
// does not ask.
func TestSignAsksOnATerminal(t *testing.T) {
	g := startTwoOfTwo(t)
	a, b, w := g.a, g.b, g.wire
	a.ok("collect", "team", g.bobSig)
	icp := filepath.Join(w, "icp.cesr")
	a.ok("finalize", "team", "--out", icp)
	b.ok("kel", "import", icp)
	doc := filepath.Join(w, "minutes.txt")
	if err := os.WriteFile(doc, []byte("the minutes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	proposal := filepath.Join(w, "ixn.proposal")
	a.ok("anchor", "--group", "team", "--seal-file", doc, "--out", proposal)

	was := signOnTerminal
	signOnTerminal = func(io.Reader) bool { return true }
	t.Cleanup(func() { signOnTerminal = was })
	sig := filepath.Join(w, "ixn.bob.sig")
	signIn := func(answer string, extra ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		args := append([]string{"sign", proposal, "--out", sig, "--home", b.home}, extra...)
		code := dispatch(args, strings.NewReader(answer), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	for _, answer := range []string{"n\n", "\n", "", "yes please\n", "Y"} {
		code, out, errOut := signIn(answer)
		if answer == "Y" {
			if code != 0 {
				t.Fatalf("answer %q: exit %d\n%s%s", answer, code, out, errOut)
			}
			continue
		}
		if code != 1 || !strings.Contains(errOut, "keremony sign: not signed: the answer was not y") {
			t.Fatalf("answer %q: exit %d\nstdout:\n%s\nstderr:\n%s", answer, code, out, errOut)
		}
		mustContain(t, "the question", errOut,
			"WARNING: unchecked: the digest seal ",
			"(the proposer says: minutes.txt, 12 bytes)",
			"you sign as bob at k[1]: only if every other member reads the same six words.",
			"sign? [y/N] ")
		mustContain(t, "the review", out, "words:       ", "seal (unchecked):")
		if _, err := os.Stat(sig); err == nil {
			t.Fatalf("answer %q wrote a signature", answer)
		}
	}
	if _, err := os.Stat(sig); err != nil {
		t.Fatalf("Y did not sign: %v", err)
	}
	// With the document, nothing is unchecked; --yes does not ask.
	code, _, errOut := signIn("", "--doc", doc, "--yes")
	if code != 0 || strings.Contains(errOut, "sign? [y/N]") || strings.Contains(errOut, "WARNING") {
		t.Fatalf("--yes: exit %d\n%s", code, errOut)
	}
}
