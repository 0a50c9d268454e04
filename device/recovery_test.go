package device

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
)

// backendTeam incepts the 2-of-3 group team of alice (A), bob (B) and carol
// (C) through the backends and the drop folder; it returns the prefix.
func backendTeam(t *testing.T, a, b, c *tuiDevice) string {
	t.Helper()
	a.newMember("alice")
	b.newMember("bob")
	c.newMember("carol")
	a.poll()
	req := api.InceptionRequest{Alias: "team", Local: []string{"alice"}, Kt: kel.IntThreshold(2), Nt: kel.IntThreshold(2),
		Order: []string{"alice", "bob", "carol"}}
	for _, it := range inboxOf(a.snapshot(), api.InboxCard) {
		req.Cards = append(req.Cards, it.Card)
	}
	id, err := a.ProposeInception(req)
	if err != nil {
		t.Fatal(err)
	}
	out := a.cosign(id, b)
	b.poll()
	c.poll()
	return kel.Replay(out.Data).Prefixes[0]
}

// backendAnchor: A proposes an anchoring, B signs it from its inbox, A
// finalizes; everyone polls.
func backendAnchor(t *testing.T, a, b, c *tuiDevice, doc string) {
	t.Helper()
	id, err := a.ProposeAnchoring(api.AnchoringRequest{Group: "team", Seals: []kel.Seal{kel.DigestSeal([]byte(doc))}})
	if err != nil {
		t.Fatal(err)
	}
	a.cosign(id, b)
	b.poll()
	c.poll()
}

// A recovery drill through the drop folder: the group's two interactions
// are superseded by a rotation whose proposal reaches the other devices'
// inboxes although their KELs are past its sequence number.
func TestTUIBackendRecovery(t *testing.T) {
	drop := filepath.Join(cliSetup(t), "drop")
	a, b, c := newTUIDevice(t, "A", drop), newTUIDevice(t, "B", drop), newTUIDevice(t, "C", drop)
	prefix := backendTeam(t, a, b, c)
	if g, _ := a.snapshot().Group(prefix); len(g.Recoverable) != 0 {
		t.Fatalf("recoverable after the inception: %+v", g.Recoverable)
	}
	backendAnchor(t, a, b, c, "first")
	backendAnchor(t, a, b, c, "second")
	g, _ := b.snapshot().Group(prefix)
	if len(g.Recoverable) != 2 || g.Recoverable[0].Sn != 1 || g.Recoverable[1].Sn != 2 {
		t.Fatalf("recoverable %+v", g.Recoverable)
	}

	for _, d := range []*tuiDevice{b, c} {
		out, err := d.Contribute("team", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Drop(out.Name, out.Data); err != nil {
			t.Fatal(err)
		}
	}
	a.poll()
	var parts []ceremony.Contribution
	for _, it := range inboxOf(a.snapshot(), api.InboxContribution) {
		parts = append(parts, it.Contribution)
	}
	rid, err := a.ProposeRotation(api.RotationRequest{Group: "team", Parts: parts, Local: []string{"alice"}, Supersede: g.Recoverable[0].Sn})
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "B's notices", noticeTexts(b.poll()), "proposal", "in the inbox")
	rev, err := b.Review(rid)
	if err != nil || !rev.CanSign || rev.Review == nil || !rev.Review.Recovery || len(rev.Review.Supersedes) != 2 {
		t.Fatalf("B's review of the recovery: %+v %v", rev, err)
	}
	mustContain(t, "B's review", strings.Join(rev.Review.Warnings, "\n"), "RECOVERY: this rotation supersedes the 2 interaction events")
	if _, err := b.Sign(rid); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Sign(rid); err != nil {
		t.Fatal(err)
	}
	a.poll()
	if _, err := a.Finalize(rid); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "C's notices", noticeTexts(c.poll()), "kel of team: RECOVERY rotation sn 1 supersedes 2 interaction events", "member carol: rotation committed")
	b.poll()
	for _, d := range []*tuiDevice{a, b, c} {
		g, _ := d.snapshot().Group(prefix)
		if g.State.Sn != 1 || g.State.LastIlk != kel.IlkRot || len(g.Superseded) != 2 || len(g.Recoverable) != 0 {
			t.Errorf("%s: group at sn %d %s, %d superseded, recoverable %v", d.name, g.State.Sn, g.State.LastIlk, len(g.Superseded), g.Recoverable)
		}
	}
}
