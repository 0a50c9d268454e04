package device

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/keystore"
	"github.com/keremony/keremony/transport"
)

// A device for the backend tests: its own home (the file keystore, the
// passphrase from the environment, the cheap test KDF), sharing one drop
// folder with the others.
type tuiDevice struct {
	t    *testing.T
	name string
	api.Backend
	dev *Device
}

func newTUIDevice(t *testing.T, name, drop string) *tuiDevice {
	t.Helper()
	pass := func(bool) ([]byte, error) { return []byte("test passphrase"), nil }
	d, err := Open(Options{Home: t.TempDir(), Keystore: "file", Drop: drop, Passphrase: pass, KDF: testKDF})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return &tuiDevice{t: t, name: name, Backend: d.Backend(), dev: d}
}

// poll polls twice (the drop folder reads a file once it was the same in
// two scans) and returns the notices.
func (d *tuiDevice) poll() []api.Notice {
	d.t.Helper()
	var out []api.Notice
	for range 2 {
		ns, err := d.Poll()
		if err != nil {
			d.t.Fatalf("%s: poll: %v", d.name, err)
		}
		out = append(out, ns...)
	}
	return out
}

func (d *tuiDevice) snapshot() api.Snapshot {
	d.t.Helper()
	s, err := d.Snapshot()
	if err != nil {
		d.t.Fatalf("%s: snapshot: %v", d.name, err)
	}
	return s
}

// cosign has each of others take ceremony id from the drop folder and
// sign it, then signs it on d, takes their signatures in and finalizes; it
// returns the finalized KEL packet (which the others have not taken in).
func (d *tuiDevice) cosign(id string, others ...*tuiDevice) api.Outgoing {
	d.t.Helper()
	for _, o := range others {
		o.poll()
		if _, err := o.Sign(id); err != nil {
			d.t.Fatalf("%s: sign %s: %v", o.name, id, err)
		}
	}
	if _, err := d.Sign(id); err != nil {
		d.t.Fatalf("%s: sign %s: %v", d.name, id, err)
	}
	d.poll()
	out, err := d.Finalize(id)
	if err != nil {
		d.t.Fatalf("%s: finalize %s: %v", d.name, id, err)
	}
	return out
}

// newMember creates a member and drops its card.
func (d *tuiDevice) newMember(alias string) {
	d.t.Helper()
	if err := d.NewMember(alias); err != nil {
		d.t.Fatal(err)
	}
	card, err := d.Card(alias, "")
	if err != nil {
		d.t.Fatal(err)
	}
	if _, err := d.Drop(card.Name, card.Data); err != nil {
		d.t.Fatal(err)
	}
}

func noticeTexts(ns []api.Notice) string {
	var s []string
	for _, n := range ns {
		s = append(s, n.Text)
	}
	return strings.Join(s, "\n")
}

func inboxOf(s api.Snapshot, kind api.InboxKind) []api.InboxItem {
	var out []api.InboxItem
	for _, it := range s.Inbox {
		if it.Kind == kind {
			out = append(out, it)
		}
	}
	return out
}

// TestTUIBackendCeremonies: three devices sharing one drop folder run a
// 2-of-3 inception, then a rotation (alice and bob rotate, carol is kept in
// reserve), through the backend alone.
func TestTUIBackendCeremonies(t *testing.T) {
	drop := filepath.Join(cliSetup(t), "drop") // created by the backend
	a, b, c := newTUIDevice(t, "A", drop), newTUIDevice(t, "B", drop), newTUIDevice(t, "C", drop)
	a.newMember("alice")
	b.newMember("bob")
	c.newMember("carol")

	// A sees the others' cards, not its own.
	mustContain(t, "A's notices", noticeTexts(a.poll()), "member card of bob in the inbox", "member card of carol in the inbox")
	cards := inboxOf(a.snapshot(), api.InboxCard)
	if len(cards) != 2 {
		t.Fatalf("A's inbox holds %d cards, want bob's and carol's: %+v", len(cards), cards)
	}
	req := api.InceptionRequest{Alias: "team", Local: []string{"alice"}, Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2),
		Order: []string{"alice", "bob", "carol"}}
	for _, it := range cards {
		req.Cards = append(req.Cards, it.Card)
	}
	id, err := a.ProposeInception(req)
	if err != nil {
		t.Fatal(err)
	}
	sa := a.snapshot()
	ci, ok := sa.Ceremony(id)
	if !ok || ci.Kind != ceremony.KindInception || ci.Group != "team" || !ci.CanSign || ci.Signed ||
		!slices.Equal(ci.KeyLabels, []string{"alice", "bob", "carol"}) {
		t.Fatalf("A's ceremony: %+v", ci)
	}
	if len(inboxOf(sa, api.InboxProposal)) != 0 {
		t.Fatal("the proposer's own proposal is in its inbox")
	}

	// B finds the proposal in its inbox, reviews and signs it.
	mustContain(t, "B's notices", noticeTexts(b.poll()), "proposal", "in the inbox")
	props := inboxOf(b.snapshot(), api.InboxProposal)
	if len(props) != 1 || props[0].ID != id || !strings.Contains(props[0].Label, "inception of team") {
		t.Fatalf("B's inbox: %+v", props)
	}
	rev, err := b.Review(id)
	if err != nil {
		t.Fatal(err)
	}
	if !rev.CanSign || rev.Signed || rev.Member != "bob" || rev.Group != "team" || rev.From != "alice" ||
		len(rev.Refusals) != 0 || rev.Review == nil || rev.Review.Index != 1 || rev.Event.SAID() != ci.SAID {
		t.Fatalf("B's review: %+v", rev)
	}
	sig, err := b.Sign(id)
	if err != nil {
		t.Fatal(err)
	}
	if sig.Dropped == "" || !strings.HasPrefix(sig.Name, "sig-") || !strings.Contains(sig.Name, "bob") {
		t.Fatalf("B's signature: %+v", sig)
	}
	if _, err := transport.ParseSignatures(sig.Data); err != nil {
		t.Fatal(err)
	}
	sb := b.snapshot()
	if bi, ok := sb.Ceremony(id); !ok || !bi.Signed || bi.CanSign || len(inboxOf(sb, api.InboxProposal)) != 0 {
		t.Fatalf("B after signing: %+v, inbox %+v", bi, sb.Inbox)
	}
	if rev, err := b.Review(id); err != nil || !rev.Signed || rev.CanSign || rev.CeremonyID != id {
		t.Fatalf("B's review after signing: %+v, %v", rev, err)
	}

	// A signs its own, then collects bob's from the drop folder.
	if _, err := a.Sign(id); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "A's notices", noticeTexts(a.poll()), "signature of bob (k[1]) added to ceremony", "2 of 3, ready to finalize")
	ci, _ = a.snapshot().Ceremony(id)
	if len(ci.Progress.Signed) != 2 || !ci.Progress.Met || !ci.Signed || ci.CanSign {
		t.Fatalf("A's progress: %+v", ci.Progress)
	}
	kelOut, err := a.Finalize(id)
	if err != nil {
		t.Fatal(err)
	}
	if kelOut.Dropped == "" || !strings.HasSuffix(kelOut.Name, ".cesr") {
		t.Fatalf("finalize: %+v", kelOut)
	}
	rep := kel.Replay(kelOut.Data)
	if !rep.OK() || len(rep.Results) != 1 {
		t.Fatalf("the finalized kel does not replay: %+v", rep)
	}
	prefix := rep.Prefixes[0]
	mustContain(t, "A's notices", noticeTexts(a.poll()), "is in the drop folder as kel-team-")

	// B and C import the group's KEL; C never signed, but carol is a member.
	mustContain(t, "B's notices", noticeTexts(b.poll()), "kel of team: new event sn 0 icp accepted", "finalized")
	c.poll()
	for _, d := range []*tuiDevice{a, b, c} {
		s := d.snapshot()
		g, ok := s.Group(prefix)
		if !ok || g.Alias != "team" || len(g.Mine) != 1 || !strings.Contains(g.KtText, "2") || len(g.Labels) != 3 {
			t.Errorf("%s: group %+v (%v)", d.name, g, ok)
		}
		// Even C, which holds no ceremony of it, names every key by its
		// member (from the proposal and the cards it saw).
		for _, l := range g.Labels {
			if strings.HasPrefix(l, "#") {
				t.Errorf("%s: key labels %v: a key is unnamed", d.name, g.Labels)
			}
		}
		if len(s.Members) != 1 || !slices.Equal(s.Members[0].Groups, []string{"team"}) {
			t.Errorf("%s: members %+v", d.name, s.Members)
		}
		if len(inboxOf(s, api.InboxProposal)) != 0 {
			t.Errorf("%s: the finalized proposal is still in the inbox", d.name)
		}
	}
	for _, d := range []*tuiDevice{a, b} {
		if ci, _ := d.snapshot().Ceremony(id); ci.State != ceremony.StateFinalized {
			t.Errorf("%s: ceremony %s", d.name, ci.State)
		}
	}
	// Every file is still in the shared folder, none was refused, and
	// polling again (each device reads its own files too) reports nothing.
	if _, err := os.Stat(filepath.Join(drop, transport.RejectedDir)); err == nil {
		t.Error("files were moved to rejected/")
	}
	for _, d := range []*tuiDevice{a, b, c} {
		if ns := d.poll(); len(ns) != 0 {
			t.Errorf("%s: polling again: %s", d.name, noticeTexts(ns))
		}
	}
	// The KEL can be exported once finalized.
	if out, err := b.Export(id, api.ExportKEL); err != nil || !bytes.Equal(out.Data, kelOut.Data) {
		t.Errorf("export kel: %v", err)
	}

	// Rotation: bob contributes through the drop folder, alice's part is
	// made by the proposal, carol stays in reserve; the thresholds stay.
	contrib, err := b.Contribute("team", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Drop(contrib.Name, contrib.Data); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "A's notices", noticeTexts(a.poll()), "rotation contribution of bob to team in the inbox")
	parts := inboxOf(a.snapshot(), api.InboxContribution)
	if len(parts) != 1 || parts[0].ID != prefix {
		t.Fatalf("A's contributions: %+v", parts)
	}
	g, _ := a.snapshot().Group(prefix)
	reserve := ceremony.Contribution{Label: "carol", Role: ceremony.RoleReserve, Prior: g.State.Next[2]}
	rid, err := a.ProposeRotation(api.RotationRequest{Group: "team", Parts: []ceremony.Contribution{reserve, parts[0].Contribution}, Local: []string{"alice"}})
	if err != nil {
		t.Fatal(err)
	}
	ri, _ := a.snapshot().Ceremony(rid)
	if !slices.Equal(ri.KeyLabels, []string{"alice", "bob"}) || !slices.Equal(ri.PriorLabels, []string{"alice", "bob", "carol"}) || !ri.CanSign {
		t.Fatalf("rotation: %+v", ri)
	}
	b.poll()
	if rev, err := b.Review(rid); err != nil || !rev.CanSign || rev.Review.Ondex != 1 {
		t.Fatalf("B's review of the rotation: %+v %v", rev, err)
	}
	// Carol, in reserve, is told so; her device names where each key
	// comes from.
	c.poll()
	crev, err := c.Review(rid)
	if err != nil || crev.CanSign {
		t.Fatalf("C's review of the rotation: %+v %v", crev, err)
	}
	mustContain(t, "C's critical warnings", strings.Join(crev.Critical, "\n"), "you stay in reserve: you do not sign")
	for _, l := range crev.Roster {
		want := map[string]string{"alice": "pre-committed in the group's KEL", "bob": "pre-committed in the group's KEL", "carol": "this device"}[l.Label]
		if l.Source != want || l.You != (l.Label == "carol") || l.Digest != (l.Label == "carol") {
			t.Errorf("C's roster line %+v", l)
		}
	}
	if _, err := b.Sign(rid); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Sign(rid); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "A's notices", noticeTexts(a.poll()), "signature of bob (k[1]) added", "2 of 2, ready to finalize")
	if _, err := a.Finalize(rid); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "A's notices", noticeTexts(a.poll()), "member alice: rotation committed")
	mustContain(t, "B's notices", noticeTexts(b.poll()), "member bob: rotation committed")
	mustContain(t, "C's notices", noticeTexts(c.poll()), "kel of team: new event sn 1 rot accepted")
	for _, d := range []*tuiDevice{a, b, c} {
		s := d.snapshot()
		g, _ := s.Group(prefix)
		m := s.Members[0]
		if g.State.Sn != 1 || m.RotationPending || (d != c) != slices.Contains(g.State.Keys, m.Key) || !slices.Contains(g.State.Next, m.Next) {
			t.Errorf("%s: member %+v, group keys %v next %v", d.name, m, g.State.Keys, g.State.Next)
		}
	}
}

// TestTUIBackendHostileFiles: the shared drop folder refuses (moves to
// rejected/) what is malformed or hostile, and keeps well-formed packets
// that concern other devices.
func TestTUIBackendHostileFiles(t *testing.T) {
	drop := filepath.Join(cliSetup(t), "drop")
	a := newTUIDevice(t, "A", drop)
	a.newMember("alice")
	a.poll()
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(drop, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sig, err := kel.NewSiger(bytes.Repeat([]byte{7}, ed25519.SignatureSize), 0, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := transport.NewSignatures(transport.Signatures{Ceremony: "c" + strings.Repeat("ab", 12), AID: kel.Digest([]byte("other group")),
		SAID: kel.Digest([]byte("other event")), Signer: "zed", Sigs: []string{sig.Qb64()}})
	if err != nil {
		t.Fatal(err)
	}
	write("garbage.json", []byte("\x00\x01 not a packet"))
	write("foreign-sig.json", foreign.Marshal())
	before := a.snapshot()
	ns := a.poll()
	var refused []api.Notice
	for _, n := range ns {
		if n.Err != nil {
			refused = append(refused, n)
		}
	}
	if len(refused) != 1 || !strings.Contains(refused[0].Text, "garbage.json") || !errors.Is(refused[0].Err, transport.ErrDropRejected) ||
		!errors.Is(refused[0].Err, transport.ErrUnknownPacket) {
		t.Fatalf("notices: %+v", ns)
	}
	if _, err := os.Stat(filepath.Join(drop, transport.RejectedDir, "garbage.json")); err != nil {
		t.Errorf("garbage not moved to rejected/: %v", err)
	}
	if _, err := os.Stat(filepath.Join(drop, "foreign-sig.json")); err != nil {
		t.Errorf("another device's signature was moved: %v", err)
	}
	if after := a.snapshot(); !reflect.DeepEqual(before, after) {
		t.Errorf("the files changed the device:\n%+v\n%+v", before, after)
	}
	if a.dev.nHeld != 1 {
		t.Errorf("%d packets held, want the foreign signature", a.dev.nHeld)
	}
}

// TestTUIBackendReceiveRefusals: Receive refuses bad packets with their
// specific error and changes nothing.
func TestTUIBackendReceiveRefusals(t *testing.T) {
	cliSetup(t)
	a := newTUIDevice(t, "A", "")
	if err := a.NewMember("alice"); err != nil {
		t.Fatal(err)
	}
	card, err := a.Card("alice", "")
	if err != nil {
		t.Fatal(err)
	}
	other := newTUIDevice(t, "B", "")
	if err := other.NewMember("bob"); err != nil {
		t.Fatal(err)
	}
	bob, _ := other.Card("bob", "")
	contrib := transport.Contribution{Group: kel.Digest([]byte("unknown group")), Contribution: ceremony.Contribution{Label: "bob", Role: ceremony.RoleRotate,
		Key: kel.EncodeVerKey(ed25519.PublicKey(bytes.Repeat([]byte{1}, 32))), Next: kel.Digest([]byte("n")), Signer: "D" + strings.Repeat("A", 43), Sig: "0B" + strings.Repeat("A", 86)}}
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"garbage", []byte("garbage"), transport.ErrUnknownPacket},
		{"empty", nil, transport.ErrUnknownPacket},
		{"unknown version", bytes.Replace(bob.Data, []byte(`"v":1`), []byte(`"v":2`), 1), transport.ErrUnsupportedPacketVersion},
		{"tampered card", bytes.Replace(bob.Data, []byte(`"alias":"bob"`), []byte(`"alias":"eve"`), 1), transport.ErrBadCardSignature},
		{"oversized", bytes.Repeat([]byte(" "), transport.MaxPacketSize+1), transport.ErrPacketTooLarge},
		{"forged contribution", contrib.Marshal(), transport.ErrBadPacketSignature},
		{"flipped kel", []byte(`{"v":"KERI10JSON000000_"}`), transport.ErrMalformedPacket},
	}
	before := a.snapshot()
	for _, tc := range cases {
		ns, err := a.Receive(tc.name, tc.data)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
		if len(ns) != 0 {
			t.Errorf("%s: notices %s", tc.name, noticeTexts(ns))
		}
	}
	if after := a.snapshot(); !reflect.DeepEqual(before, after) {
		t.Errorf("refused packets changed the device:\n%+v\n%+v", before, after)
	}
	// A good card goes to the inbox once; the device's own card does not.
	for range 2 {
		if _, err := a.Receive("bob.card", bob.Data); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Receive("alice.card", card.Data); err != nil {
		t.Fatal(err)
	}
	if cards := inboxOf(a.snapshot(), api.InboxCard); len(cards) != 1 || cards[0].Label != "bob" || cards[0].Source != "bob.card" {
		t.Errorf("inbox: %+v", cards)
	}
}

// TestTUIBackendErrors: the sentinels of the backend's refusals.
func TestTUIBackendErrors(t *testing.T) {
	drop := filepath.Join(cliSetup(t), "drop")
	a, b := newTUIDevice(t, "A", drop), newTUIDevice(t, "B", "")
	a.newMember("alice")
	if err := b.NewMember("bob"); err != nil {
		t.Fatal(err)
	}
	bob, _ := b.Card("bob", "")
	if _, err := a.Receive("bob.card", bob.Data); err != nil {
		t.Fatal(err)
	}
	bobCard := inboxOf(a.snapshot(), api.InboxCard)[0].Card
	id, err := a.ProposeInception(api.InceptionRequest{Alias: "team", Local: []string{"alice"}, Cards: []ceremony.Card{bobCard}})
	if err != nil {
		t.Fatal(err)
	}
	_, finalizeErr := a.Finalize(id)
	_, exportErr := a.Export(id, api.ExportKEL)
	_, sigsErr := a.Export(id, api.ExportSignatures)
	_, reviewErr := a.Review("c" + strings.Repeat("0", 24))
	_, dropErr := b.Drop("x.json", []byte("{}"))
	_, badName := a.Drop("../x.json", []byte("{}"))
	_, orderErr := a.ProposeInception(api.InceptionRequest{Alias: "team2", Local: []string{"alice"}, Cards: []ceremony.Card{bobCard},
		Order: []string{"alice"}})
	_, finalizeUnknown := a.Finalize("c" + strings.Repeat("0", 24))
	_, aliasErr := a.ProposeInception(api.InceptionRequest{Alias: "no spaces", Local: []string{"alice"}, Cards: []ceremony.Card{bobCard}})
	for _, tc := range []struct {
		name      string
		err, want error
	}{
		{"finalize too early", finalizeErr, ceremony.ErrNotReady},
		{"export kel too early", exportErr, ErrNotFinalized},
		{"export unsigned", sigsErr, ErrNothingSigned},
		{"review unknown", reviewErr, ErrNoProposal},
		{"drop without folder", dropErr, ErrNoDropFolder},
		{"drop outside the folder", badName, ErrRequest},
		{"order leaves a member out", orderErr, ErrRequest},
		{"finalize unknown", finalizeUnknown, ErrNotFound},
		{"bad group alias", aliasErr, keystore.ErrInvalidAlias},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if cs := a.snapshot().Ceremonies; len(cs) != 1 {
		t.Errorf("refused requests left %d ceremonies, want 1", len(cs))
	}
	// B reviews the proposal received as a file; A aborts, and the abort
	// record (held by B, which has no ceremony yet) closes B's ceremony as
	// soon as B records it, so B's signature is refused.
	prop, err := a.Export(id, api.ExportProposal)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Receive(prop.Name, prop.Data); err != nil {
		t.Fatal(err)
	}
	if rev, err := b.Review(id); err != nil || !rev.CanSign {
		t.Fatalf("B's review: %+v %v", rev, err)
	}
	if err := a.Abort(id, "wrong threshold"); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "A's notices", noticeTexts(a.poll()), "abort record is in the drop folder")
	rec, err := os.ReadFile(filepath.Join(drop, dropName("abort", fileID(id), "alice")+".json"))
	if err != nil {
		t.Fatal(err)
	}
	ns, err := b.Receive("abort", rec)
	if err != nil || !strings.Contains(noticeTexts(ns), "kept until") {
		t.Fatalf("abort record for a ceremony B does not have: %v %s", err, noticeTexts(ns))
	}
	if _, err := b.Sign(id); !errors.Is(err, ceremony.ErrNotCollecting) {
		t.Fatalf("signing an aborted ceremony: %v", err)
	}
	if ci, _ := b.snapshot().Ceremony(id); ci.State != ceremony.StateAborted || !strings.Contains(ci.Reason, "wrong threshold") {
		t.Errorf("B's ceremony: %s %q", ci.State, ci.Reason)
	}
	if ci, _ := a.snapshot().Ceremony(id); ci.State != ceremony.StateAborted || ci.CanSign {
		t.Errorf("A's ceremony: %s", ci.State)
	}
}

// testKDF makes the test keystores cheap to open.
var testKDF = &keystore.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

// cliSetup gives a test a working directory (the drop folder's parent).
func cliSetup(t *testing.T) string {
	t.Helper()
	return t.TempDir()
}

func mustContain(t *testing.T, what, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Fatalf("%s does not contain %q:\n%s", what, p, text)
		}
	}
}
