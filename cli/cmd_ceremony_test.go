package cli

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/transport"
)

// A device for the CLI tests: a home of its own, driven through dispatch
// exactly as the command line would (the file keystore, a passphrase from
// the environment, the cheap test KDF of cmd_member_test.go's init).
type cliDevice struct {
	t    *testing.T
	name string
	home string
}

func cliSetup(t *testing.T) (wire string) {
	t.Helper()
	t.Setenv("KEREMONY_KEYSTORE", "file")
	t.Setenv("KEREMONY_PASSPHRASE", "test passphrase")
	t.Setenv("KEREMONY_HOME", "")
	return t.TempDir()
}

func newCLIDevice(t *testing.T, name string) *cliDevice {
	return &cliDevice{t: t, name: name, home: t.TempDir()}
}

// run runs `keremony ARGS... --home HOME` and returns the exit code and
// both outputs.
func (d *cliDevice) run(args ...string) (int, string, string) {
	d.t.Helper()
	var out, errOut bytes.Buffer
	code := dispatch(append(args, "--home", d.home), strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// ok runs a command that must succeed and returns its standard output.
func (d *cliDevice) ok(args ...string) string {
	d.t.Helper()
	code, out, errOut := d.run(args...)
	if code != 0 {
		d.t.Fatalf("%s: keremony %s: exit %d\nstdout:\n%s\nstderr:\n%s", d.name, strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// fails runs a command that must exit with code and returns both outputs.
func (d *cliDevice) fails(code int, args ...string) (string, string) {
	d.t.Helper()
	got, out, errOut := d.run(args...)
	if got != code {
		d.t.Fatalf("%s: keremony %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", d.name, strings.Join(args, " "), got, code, out, errOut)
	}
	return out, errOut
}

// open opens the device in-process, for checks on its stores; the caller
// closes it before the next command.
func (d *cliDevice) open() (*cmd, *device.Device) {
	d.t.Helper()
	c := newCmd("test", "", strings.NewReader(""), io.Discard, io.Discard)
	*c.home = d.home
	dev, err := c.open()
	if err != nil {
		d.t.Fatal(err)
	}
	return c, dev
}

func mustContain(t *testing.T, what, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Fatalf("%s does not contain %q:\n%s", what, p, text)
		}
	}
}

// twoOfTwo runs the 2-of-2 inception of group "team" between devices a
// (alice, the proposer) and b (bob) and returns b's signature envelope
// before a collects it, so that tests can interfere.
type twoOfTwo struct {
	a, b             *cliDevice
	wire             string
	proposal, bobSig string
}

func startTwoOfTwo(t *testing.T) *twoOfTwo {
	wire := cliSetup(t)
	g := &twoOfTwo{a: newCLIDevice(t, "A"), b: newCLIDevice(t, "B"), wire: wire}
	g.a.ok("member", "new", "alice")
	g.b.ok("member", "new", "bob")
	g.b.ok("member", "card", "bob", "--out", filepath.Join(wire, "bob.card"))
	g.proposal = filepath.Join(wire, "icp.proposal")
	out := g.a.ok("group", "incept", "--group", "team", "--member", "alice", "--card", filepath.Join(wire, "bob.card"), "--kt", "2", "--out", g.proposal)
	mustContain(t, "group incept", out, "proposed the inception of group team", "alice, bob")
	g.a.ok("sign", g.proposal, "--member", "alice")
	out = g.b.ok("review", g.proposal)
	mustContain(t, "review", out, "member bob signs at k[1]", "your next digest is committed", "review passed")
	g.bobSig = filepath.Join(wire, "icp.bob.sig")
	g.b.ok("sign", g.proposal, "--out", g.bobSig)
	return g
}

// TestCLIInceptionAndRotation: a 2-of-2 inception and a rotation, devices
// exchanging only files.
func TestCLIInceptionAndRotation(t *testing.T) {
	g := startTwoOfTwo(t)
	a, b, w := g.a, g.b, g.wire
	out := a.ok("collect", "team", g.bobSig)
	mustContain(t, "collect", out, "bob at k[1] (B): added", "2 signed, 2 needed (alice, bob): met", "ready: keremony finalize")
	icp := filepath.Join(w, "icp.cesr")
	a.ok("finalize", "team", "--out", icp)
	if again := a.ok("finalize", "team"); !bytes.Equal([]byte(again), mustRead(t, icp)) {
		t.Fatalf("finalize to standard output is not the event alone:\n%s", again)
	}
	out = b.ok("kel", "import", icp)
	mustContain(t, "kel import", out, "sn 0 icp", "accepted", "is finalized")

	// Round one: contributions; round two: the proposal, signed by both.
	a.ok("rotate", "contribute", "--group", "team", "--out", filepath.Join(w, "a.contrib"))
	b.ok("rotate", "contribute", "--group", "team", "--out", filepath.Join(w, "b.contrib"))
	rp := filepath.Join(w, "rot.proposal")
	a.ok("rotate", "propose", "--group", "team", filepath.Join(w, "a.contrib"), filepath.Join(w, "b.contrib"), "--out", rp)
	out = a.ok("sign", rp)
	mustContain(t, "sign", out, "revealing the key committed at prior n[0]", "(A)")
	out = a.ok("status", "team")
	mustContain(t, "status", out, "bob            k[1]   waiting", "1 signed, 2 needed (alice): not met", "1 revealed, 2 needed (alice): not met", "not ready:")
	out, _ = a.fails(1, "finalize", "team", "--out", filepath.Join(w, "early.cesr"))
	mustContain(t, "refused finalize", out, "not ready")
	if _, err := os.Stat(filepath.Join(w, "early.cesr")); err == nil {
		t.Fatal("a refused finalize wrote its output")
	}
	rs := filepath.Join(w, "rot.bob.sig")
	b.ok("sign", rp, "--out", rs)
	a.ok("collect", rp, rs)
	rot := filepath.Join(w, "rot.cesr")
	out = a.ok("finalize", "team", "--out", rot)
	mustContain(t, "finalize", out, "member alice: rotation committed")
	out = b.ok("kel", "import", rot)
	mustContain(t, "import", out, "member bob: rotation committed")

	// Both devices hold the same KEL, whose current keys are their members'.
	ka, kb := a.ok("kel", "export", "team"), b.ok("kel", "export", "team")
	if ka != kb || ka == "" {
		t.Fatal("the devices hold different KELs")
	}
	rep := kel.Replay([]byte(ka))
	if !rep.OK() || len(rep.Results) != 2 {
		t.Fatalf("exported kel: %+v", rep)
	}
	st := rep.States[rep.Prefixes[0]]
	for i, d := range []*cliDevice{a, b} {
		_, dev := d.open()
		ms, _ := dev.Members()
		if len(ms) != 1 || len(ms[0].Seats) != 1 || kel.EncodeVerKey(ms[0].Seats[0].PublicKey) != st.Keys[i] || ms[0].Seats[0].NextDigest != st.Next[i] ||
			ms[0].Seats[0].PendingNextDigest != "" || ms[0].Seats[0].Group != rep.Prefixes[0] {
			t.Errorf("%s: member %+v does not match the key state %v %v", d.name, ms, st.Keys, st.Next)
		}
		dev.Close()
	}
	var vout bytes.Buffer
	if code := dispatch([]string{"verify", filepath.Join(w, "icp.cesr"), rot}, nil, &vout, io.Discard); code != 0 {
		t.Fatalf("verify: exit %d\n%s", code, vout.String())
	}
	mustContain(t, "verify", vout.String(), "all 2 events valid")
	// Listing.
	mustContain(t, "status", a.ok("status"), "inception  team", "rotation   team", "finalized")
	mustContain(t, "kel list", a.ok("kel", "list"), "team", `"2"`)
	mustContain(t, "kel show", a.ok("kel", "show", "team"), "sn 1 rot", "(alice)")
}

// TestCLIHostileSignatureFiles: files that are not a valid signature for
// the ceremony are refused with their specific error and leave the collected
// signatures as they were, in memory and on disk.
func TestCLIHostileSignatureFiles(t *testing.T) {
	g := startTwoOfTwo(t)
	w := g.wire
	good, err := os.ReadFile(g.bobSig)
	if err != nil {
		t.Fatal(err)
	}
	env, err := transport.ParseSignatures(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(w, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	other := env
	other.Ceremony = "c000000000000000000000000"
	otherEvent := env
	otherEvent.SAID = kel.Digest([]byte("another event"))
	forged := env
	sig := env.Sigs[0]
	forged.Sigs = []string{sig[:40] + string("AB"[(strings.IndexByte("AB", sig[40])+1)&1]) + sig[41:]}
	if forged.Sigs[0] == sig {
		t.Fatal("forgery did not change the signature")
	}
	cases := []struct {
		name string
		file string
		want error
	}{
		{"garbage", write("garbage.sig", []byte("\x00\x01 not a packet")), transport.ErrUnknownPacket},
		{"oversized", write("big.sig", bytes.Repeat([]byte(" "), transport.MaxSignaturesSize+1)), transport.ErrPacketTooLarge},
		{"wrong packet type", filepath.Join(w, "bob.card"), transport.ErrWrongPacketType},
		{"a proposal", g.proposal, transport.ErrWrongPacketType},
		{"unknown version", write("v2.sig", bytes.Replace(good, []byte(`"v":1`), []byte(`"v":2`), 1)), transport.ErrUnsupportedPacketVersion},
		{"unknown field", write("field.sig", bytes.Replace(good, []byte(`"v":1`), []byte(`"v":1,"x":1`), 1)), transport.ErrMalformedPacket},
		{"another ceremony", write("other.sig", other.Marshal()), ceremony.ErrWrongCeremony},
		{"another event", write("event.sig", otherEvent.Marshal()), ceremony.ErrWrongEvent},
		{"forged signature", write("forged.sig", forged.Marshal()), ceremony.ErrBadSignature},
	}
	c, d := g.a.open()
	cer, err := d.ResolveCeremony("team", c.stdin)
	if err != nil {
		t.Fatal(err)
	}
	before := cer.Signatures()
	if len(before) != 1 {
		t.Fatalf("alice's ceremony holds %d signatures, want her own", len(before))
	}
	for _, tc := range cases {
		_, _, err := d.CollectFile(cer, tc.file)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
		if got := cer.Signatures(); len(got) != 1 || got[0].Qb64() != before[0].Qb64() {
			t.Fatalf("%s changed the collected signatures: %v", tc.name, got)
		}
	}
	// Routed by the envelope itself (no ceremony named), another ceremony is
	// unknown here.
	if _, _, err := d.CollectFile(nil, filepath.Join(w, "other.sig")); !errors.Is(err, ceremony.ErrWrongCeremony) {
		t.Errorf("routed envelope of another ceremony: %v", err)
	}
	d.Close()

	// The command line: exit 1, a message naming the problem, nothing
	// collected (on disk).
	for _, tc := range cases {
		_, errOut := g.a.fails(1, "collect", "team", tc.file)
		mustContain(t, tc.name, errOut, tc.want.Error())
	}
	_, d2 := g.a.open()
	cer2, err := d2.Ceremony(cer.ID())
	if err != nil || len(cer2.Signatures()) != 1 || cer2.State() != ceremony.StateCollecting {
		t.Fatalf("after the hostile files: %v %v", err, cer2.Signatures())
	}
	pr := cer2.Progress()
	if pr.Met {
		t.Fatal("progress met without bob")
	}
	d2.Close()
	// The genuine envelope still works.
	out := g.a.ok("collect", "team", g.bobSig)
	mustContain(t, "collect", out, "ready")
}

// TestCLIHostileProposals: a proposal that is not what it claims is refused
// before anything is signed or recorded.
func TestCLIHostileProposals(t *testing.T) {
	wire := cliSetup(t)
	a, b := newCLIDevice(t, "A"), newCLIDevice(t, "B")
	a.ok("member", "new", "alice")
	b.ok("member", "new", "bob")
	b.ok("member", "card", "bob", "--out", filepath.Join(wire, "bob.card"))
	p := filepath.Join(wire, "p")
	a.ok("group", "incept", "--group", "team", "--member", "alice", "--card", filepath.Join(wire, "bob.card"), "--out", p)
	good, _ := os.ReadFile(p)
	_, d := b.open()
	journaled := journalEntries(t, d)
	d.Close()
	write := func(name string, data []byte) string {
		f := filepath.Join(wire, name)
		os.WriteFile(f, data, 0o600)
		return f
	}
	// The declared threshold no longer matches the event bytes.
	lowered := bytes.Replace(good, []byte(`"kt":"2","nt":"2"`), []byte(`"kt":"1","nt":"2"`), 1)
	if bytes.Equal(lowered, good) {
		t.Fatal("could not tamper with the proposal")
	}
	cases := []struct {
		name, file string
		want       string
	}{
		{"garbage", write("garbage", []byte("garbage")), transport.ErrUnknownPacket.Error()},
		{"oversized", write("big", bytes.Repeat([]byte("x"), transport.MaxProposalSize+1)), transport.ErrPacketTooLarge.Error()},
		{"a card", filepath.Join(wire, "bob.card"), transport.ErrWrongPacketType.Error()},
		{"params changed", write("lowered", lowered), transport.ErrBadPacketSignature.Error()},
		{"signed by a stranger", write("stranger", strangerSigned(t, good)), device.ErrProposer.Error()},
		{"unsigned", write("unsigned", unsignedProposal(t, good)), ceremony.ErrUnsigned.Error()},
	}
	for _, tc := range cases {
		out, errOut := b.fails(1, "review", tc.file, "--member", "bob")
		mustContain(t, tc.name+" review", out+errOut, tc.want)
		out, errOut = b.fails(1, "sign", tc.file, "--member", "bob", "--out", filepath.Join(wire, "sig"))
		mustContain(t, tc.name+" sign", out+errOut, tc.want)
	}
	if _, err := os.Stat(filepath.Join(wire, "sig")); err == nil {
		t.Fatal("a refused proposal was signed")
	}
	_, d = b.open()
	if cs := d.Ceremonies(); len(cs) != 0 {
		t.Errorf("refused proposals were recorded: %d ceremonies", len(cs))
	}
	entries := journalEntries(t, d)
	if entries != journaled {
		t.Errorf("journal holds %d entries, %d before the refused proposals", entries, journaled)
	}
	d.Close()
	// A member that takes no part cannot sign.
	c := newCLIDevice(t, "C")
	c.ok("member", "new", "carol")
	out, errOut := c.fails(1, "sign", p, "--member", "carol")
	mustContain(t, "outsider", out+errOut, "not among the signing keys")

	// A file name that would steer the terminal is shown, not obeyed.
	hostile := write("x\x1b]0;pwned\x07\x1b[2J\u202e.proposal", good)
	out = b.ok("review", hostile)
	mustContain(t, "review of a hostile name", out, `x\x1b]0;pwned\x07\x1b[2J\u202e.proposal --member bob)`)
	if strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Errorf("review prints control characters: %q", out)
	}
	_, errOut = b.fails(1, "review", hostile+".missing")
	if strings.ContainsAny(errOut, "\x1b\x07\u202e") || !strings.Contains(errOut, `\x1b]0;pwned`) {
		t.Errorf("an error naming the file prints control characters: %q", errOut)
	}
}

// strangerSigned is the proposal packet good with its proposal signed by
// a key that is none of the inception's.
func strangerSigned(t *testing.T, good []byte) []byte {
	t.Helper()
	pk, err := transport.ParseProposal(good)
	if err != nil {
		t.Fatal(err)
	}
	_, priv, _ := ed25519.GenerateKey(nil)
	cp := pk.Proposal
	pr := *cp.Proposer
	pr.Key = kel.EncodeVerKey(priv.Public().(ed25519.PublicKey))
	if err := cp.Sign(pr, func(b []byte) ([]byte, error) { return ed25519.Sign(priv, b), nil }); err != nil {
		t.Fatal(err)
	}
	out, err := transport.NewProposal(cp, pk.KEL)
	if err != nil {
		t.Fatal(err)
	}
	return out.Marshal()
}

// unsignedProposal is good without its proposer.
func unsignedProposal(t *testing.T, good []byte) []byte {
	t.Helper()
	i := bytes.Index(good, []byte(`,"proposer":{`))
	j := bytes.Index(good[i:], []byte("}"))
	if i < 0 || j < 0 {
		t.Fatalf("no proposer in %s", good)
	}
	return append(append([]byte(nil), good[:i]...), good[i+j+1:]...)
}

// TestCLIRotationRefusals: a member must prepare its rotation, and a
// rotation that reveals its key without committing its prepared next digest
// is refused.
func TestCLIRotationRefusals(t *testing.T) {
	g := startTwoOfTwo(t)
	a, b, w := g.a, g.b, g.wire
	a.ok("collect", "team", g.bobSig)
	a.ok("finalize", "team", "--out", filepath.Join(w, "icp.cesr"))
	b.ok("kel", "import", filepath.Join(w, "icp.cesr"))
	a.ok("rotate", "contribute", "--group", "team", "--out", filepath.Join(w, "a.contrib"))
	b.ok("rotate", "contribute", "--group", "team", "--out", filepath.Join(w, "b.contrib"))
	rp := filepath.Join(w, "rot.proposal")
	a.ok("rotate", "propose", "--group", "team", filepath.Join(w, "a.contrib"), filepath.Join(w, "b.contrib"), "--out", rp)
	// Bob discards his prepared rotation: he cannot sign it any more.
	b.ok("rotate", "cancel", "--member", "bob")
	out, _ := b.fails(1, "sign", rp)
	mustContain(t, "sign without preparing", out, "has not prepared this rotation")
	// Preparing again makes a new next key, which the proposal does not commit.
	b.ok("rotate", "contribute", "--group", "team", "--out", filepath.Join(w, "b2.contrib"))
	out, _ = b.fails(1, "sign", rp)
	mustContain(t, "sign with another next key", out, "does not commit its prepared next digest")
	// A contribution for another group, or tampered with, is refused.
	tampered, _ := os.ReadFile(filepath.Join(w, "b2.contrib"))
	tampered = bytes.Replace(tampered, []byte(`"label":"bob"`), []byte(`"label":"eve"`), 1)
	os.WriteFile(filepath.Join(w, "eve.contrib"), tampered, 0o600)
	_, errOut := a.fails(1, "rotate", "propose", "--group", "team", filepath.Join(w, "a.contrib"), filepath.Join(w, "eve.contrib"))
	mustContain(t, "tampered contribution", errOut, transport.ErrBadPacketSignature.Error())
}

// TestCLIAbortRecords: an abort record closes the ceremony on the other
// device; one signed by an outsider is refused.
func TestCLIAbortRecords(t *testing.T) {
	g := startTwoOfTwo(t)
	a, b, w := g.a, g.b, g.wire
	// Results written to standard output are the packet alone (signing the
	// same event again is harmless).
	if _, err := transport.ParseSignatures([]byte(b.ok("sign", g.proposal, "--out", "-"))); err != nil {
		t.Fatalf("sign --out -: %v", err)
	}
	rec := filepath.Join(w, "icp.abort")
	a.ok("abort", "team", "--reason", "wrong threshold", "--out", rec)
	mustContain(t, "status", a.ok("status", "team"), "aborted: wrong threshold")
	// A forged record: same content, signed by a key that is no member's.
	good, _ := os.ReadFile(rec)
	ab, err := transport.ParseAbort(good)
	if err != nil {
		t.Fatal(err)
	}
	c := newCLIDevice(t, "C")
	c.ok("member", "new", "mallory")
	_, dc := c.open()
	m, _ := dc.Member("mallory")
	ab.Key, ab.By = kel.EncodeVerKey(m.Seats[0].PublicKey), "alice"
	forged, err := transport.NewAbort(ab, func(b []byte) ([]byte, error) { return dc.SignProof(m.Seats[0].SeatRef, b) })
	if err != nil {
		t.Fatal(err)
	}
	dc.Close()
	os.WriteFile(filepath.Join(w, "forged.abort"), forged.Marshal(), 0o600)
	_, errOut := b.fails(1, "abort", "--record", filepath.Join(w, "forged.abort"))
	mustContain(t, "forged abort", errOut, device.ErrAbortNotMember.Error())
	mustContain(t, "status", b.ok("status", "team"), "state:       collecting")
	// The genuine record.
	mustContain(t, "abort record", b.ok("abort", "--record", rec), "aborted ceremony", "as alice asked: wrong threshold")
	mustContain(t, "status", b.ok("status", "team"), "aborted by alice: wrong threshold")
	// Nothing more can be collected.
	_, errOut = a.fails(1, "collect", "team", g.bobSig)
	mustContain(t, "collect after abort", errOut, ceremony.ErrNotCollecting.Error())
}

// TestCLIHostileKELImport: a stream that does not frame or whose
// signatures do not verify changes nothing.
func TestCLIHostileKELImport(t *testing.T) {
	g := startTwoOfTwo(t)
	a, b, w := g.a, g.b, g.wire
	a.ok("collect", "team", g.bobSig)
	icp := filepath.Join(w, "icp.cesr")
	a.ok("finalize", "team", "--out", icp)
	good, _ := os.ReadFile(icp)
	flipped := bytes.Clone(good)
	i := len(flipped) - 20
	flipped[i] = "AB"[(strings.IndexByte("AB", flipped[i])+1)&1]
	os.WriteFile(filepath.Join(w, "flipped.cesr"), flipped, 0o600)
	os.WriteFile(filepath.Join(w, "garbage.cesr"), []byte("garbage"), 0o600)
	_, errOut := b.fails(1, "kel", "import", filepath.Join(w, "garbage.cesr"))
	mustContain(t, "garbage", errOut, transport.ErrUnknownPacket.Error())
	out, _ := b.fails(1, "kel", "import", filepath.Join(w, "flipped.cesr"))
	mustContain(t, "flipped", out, "REFUSED")
	_, errOut = b.fails(1, "kel", "import", g.bobSig)
	mustContain(t, "envelope as kel", errOut, transport.ErrWrongPacketType.Error())
	_, d := b.open()
	if len(d.Groups()) != 0 {
		t.Fatal("a refused stream left a kel behind")
	}
	d.Close()
	b.ok("kel", "import", icp)
}

func TestThresholdFlags(t *testing.T) {
	for in, want := range map[string]string{"2": `"2"`, "10": `"a"`, `["1/2","1/4","1/4"]`: `["1/2","1/4","1/4"]`, `"3"`: `"3"`, "1/2,1/2": `["1/2","1/2"]`} {
		kt, nt, err := thresholdFlags(in, "")
		if err != nil || kt == nil || nt != nil || kt.String() != want {
			t.Errorf("thresholdFlags(%q) = %v, %v, %v; want %s", in, kt, nt, err, want)
		}
	}
	for _, in := range []string{"two", "-1", "1.5", `["1/2"`} {
		if _, _, err := thresholdFlags(in, ""); !errors.Is(err, errUsage) || !errors.Is(err, kel.ErrThreshold) {
			t.Errorf("thresholdFlags(%q): %v", in, err)
		}
	}
}

// TestCLIWeightedAndAnchor: a weighted inception whose status shows the
// clause sums, then an anchoring of another identifier's inception.
func TestCLIWeightedAndAnchor(t *testing.T) {
	w := cliSetup(t)
	devs := []*cliDevice{newCLIDevice(t, "A"), newCLIDevice(t, "B"), newCLIDevice(t, "C")}
	names := []string{"ann", "ben", "cat"}
	for i, d := range devs {
		d.ok("member", "new", names[i])
		d.ok("member", "card", names[i], "--out", filepath.Join(w, names[i]+".card"))
	}
	a := devs[0]
	p := filepath.Join(w, "icp.proposal")
	a.ok("group", "incept", "--group", "trio", "--member", "ann", "--card", filepath.Join(w, "ben.card"), "--card", filepath.Join(w, "cat.card"),
		"--kt", `["1/2","1/4","1/4"]`, "--out", p)
	mustContain(t, "review", devs[1].ok("review", p), `kt ["1/2","1/4","1/4"]`, "member ben signs at k[1]")
	for i := 1; i < 3; i++ {
		devs[i].ok("sign", p, "--out", filepath.Join(w, names[i]+".sig"))
	}
	out := a.ok("collect", p, filepath.Join(w, "ben.sig"), filepath.Join(w, "cat.sig"))
	mustContain(t, "weighted status", out, "clause 1 over ann, ben, cat: sum 1/2 of 1 (ben, cat): not met", "not ready")
	a.fails(1, "finalize", "trio")
	a.ok("sign", p)
	mustContain(t, "weighted status", a.ok("status", "trio"), "sum 1 of 1 (ann, ben, cat): met", "ready")
	a.ok("finalize", "trio", "--out", filepath.Join(w, "icp.cesr"))

	// B incepts a 1-of-1 identifier of its own (a second member) and the
	// trio anchors its inception, signed by all three (weights 1/2 + 1/4 +
	// 1/4 reach 1).
	b := devs[1]
	b.ok("member", "new", "solo")
	b.ok("group", "incept", "--group", "solo-id", "--member", "solo", "--out", filepath.Join(w, "solo.proposal"))
	b.ok("sign", filepath.Join(w, "solo.proposal"), "--member", "solo")
	b.ok("finalize", "solo-id", "--out", filepath.Join(w, "solo.cesr"))
	a.ok("kel", "import", filepath.Join(w, "solo.cesr"), "--group", "solo-id")
	ap := filepath.Join(w, "anchor.proposal")
	a.ok("anchor", "--group", "trio", "--seal-event", "solo-id", "--out", ap)
	// C has neither KEL: both come with the proposal and are checked by replay.
	out = devs[2].ok("review", ap)
	mustContain(t, "anchor review", out, "seal (checked):  anchors event 0 of", "did not hold the kel of", "member cat signs at k[2]")
	for i := 0; i < 3; i++ {
		args := []string{"sign", ap, "--member", names[i]}
		if i > 0 {
			args = append(args, "--out", filepath.Join(w, names[i]+".anchor.sig"))
		}
		devs[i].ok(args...)
	}
	a.ok("collect", "trio", filepath.Join(w, "ben.anchor.sig"), filepath.Join(w, "cat.anchor.sig"))
	a.ok("finalize", "trio", "--out", filepath.Join(w, "anchor.cesr"))
	mustContain(t, "kel show", a.ok("kel", "show", "solo-id"), "anchored by trio")
	out = devs[2].ok("kel", "import", filepath.Join(w, "anchor.cesr"))
	mustContain(t, "import", out, "sn 1 ixn", "accepted", "is finalized")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCLIExpiry: a ceremony proposed with --expires stays on record as
// expired once its deadline passes and takes no more signatures.
func TestCLIExpiry(t *testing.T) {
	wire := cliSetup(t)
	a, b := newCLIDevice(t, "A"), newCLIDevice(t, "B")
	a.ok("member", "new", "alice")
	b.ok("member", "new", "bob")
	b.ok("member", "card", "bob", "--out", filepath.Join(wire, "bob.card"))
	prop := filepath.Join(wire, "icp.proposal")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	testOnlyClock = func() time.Time { return now }
	t.Cleanup(func() { testOnlyClock = nil })
	a.ok("group", "incept", "--group", "team", "--member", "alice", "--card", filepath.Join(wire, "bob.card"), "--kt", "2", "--expires", "1h", "--out", prop)
	sig := filepath.Join(wire, "icp.bob.sig")
	b.ok("sign", prop, "--out", sig) // bob's own copy has no deadline
	now = now.Add(61 * time.Minute)  // past alice's deadline
	code, out, errOut := a.run("status")
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, errOut)
	}
	mustContain(t, "status after the deadline", out+errOut, "expired")
	_, errOut = a.fails(1, "collect", "team", sig)
	mustContain(t, "collect into an expired ceremony", errOut, "expired")
}

// journalEntries is how many signatures d's journal holds.
func journalEntries(t *testing.T, d *device.Device) int {
	t.Helper()
	chk, err := d.CheckMembers()
	if err != nil || chk.JournalErr != nil {
		t.Fatal(err, chk.JournalErr)
	}
	return chk.JournalEntries
}
