package device

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/device/api"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/transport"
	"github.com/keremony/keremony/witness"
	"github.com/keremony/keremony/witness/witnesstest"
)

// fastNet is package witness's client tuned for tests: short waits.
func fastNet() *witness.Client {
	return witness.New(witness.Options{Timeout: 2 * time.Second, Attempts: 3, Backoff: 5 * time.Millisecond})
}

// witnessDevice is a device with one member, reaching witnesses through net.
func witnessDevice(t *testing.T, net WitnessNet) *Device {
	t.Helper()
	pass := func(bool) ([]byte, error) { return []byte("test passphrase"), nil }
	d, err := Open(Options{Home: t.TempDir(), Keystore: "file", Passphrase: pass, KDF: testKDF, Witnesses: net})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// soloWitnessed makes member alice and a finalized 1-of-1 group "solo"
// witnessed by the witnesses of oobis.
func soloWitnessed(t *testing.T, d *Device, toad uint64, oobis ...string) (string, string) {
	t.Helper()
	if err := d.NewMember("alice"); err != nil {
		t.Fatal(err)
	}
	be := d.Backend()
	id, err := be.ProposeInception(api.InceptionRequest{Alias: "solo", Local: []string{"alice"}, Kt: kel.IntThreshold(1), Nt: kel.IntThreshold(1),
		Witnesses: oobis, Toad: toad})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := be.Sign(id); err != nil {
		t.Fatal(err)
	}
	if _, err := be.Finalize(id); err != nil {
		t.Fatal(err)
	}
	prefix, _, err := d.ResolveAID("solo")
	if err != nil {
		t.Fatal(err)
	}
	return id, prefix
}

// rotateSolo rotates alice in solo with a witness change and finalizes it.
func rotateSolo(t *testing.T, d *Device, req Rotation) {
	t.Helper()
	req.Group, req.Local = "solo", []string{"alice"}
	p, err := d.ProposeRotation(req)
	if err != nil {
		t.Fatal(err)
	}
	be := d.Backend()
	if _, err := be.Sign(p.Ceremony.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := be.Finalize(p.Ceremony.ID()); err != nil {
		t.Fatal(err)
	}
}

func TestPublishToWitnesses(t *testing.T) {
	wan, wil, wes := witnesstest.Start("wan"), witnesstest.Start("wil"), witnesstest.Start("wes")
	defer wan.Close()
	defer wil.Close()
	defer wes.Close()
	d := witnessDevice(t, fastNet())
	id, prefix := soloWitnessed(t, d, 0, wan.OOBI(), wil.OOBI())
	st, _ := d.store.State(prefix)
	if len(st.Witnesses) != 2 || st.Witnesses[0] != wan.Prefix || st.Bt != 2 {
		t.Fatalf("inception: witnesses %v bt %d (the default toad of 2 is 2)", st.Witnesses, st.Bt)
	}
	if w := d.Witnesses(); len(w) != 2 || w[0].URL != wan.URL || w[0].Name != "wan" {
		t.Fatalf("witness book %+v", w)
	}
	ci, _ := d.Backend().Snapshot()
	if c, _ := ci.Ceremony(id); c.Witnessing == nil || c.Witnessing.Line != "witnessed: 0 of 2 receipts (toad 2): wan waiting, wil waiting" {
		t.Fatalf("before publishing: %+v", c.Witnessing)
	}

	rep, err := d.Backend().Publish(id)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Witnessing.Line; got != "witnessed: 2 of 2 receipts (toad 2): wan ✓, wil ✓" || len(rep.Failures) != 0 {
		t.Fatalf("published: %q, failures %v", got, rep.Failures)
	}
	// Each witness got the other's receipt, so each serves the KEL fully
	// witnessed.
	for _, w := range []*witnesstest.Witness{wan, wil} {
		r := kel.Replay(w.KEL(prefix))
		if !r.OK() || r.Results[0].Witnessed != 2 {
			t.Fatalf("%s's copy: %+v", w.Name, r.Results)
		}
	}
	// The export is fully witnessed; publishing again has nothing to do.
	exp, _ := d.Export("solo")
	if r := kel.Replay(exp); !r.OK() || r.Results[0].WitnessErr() != nil {
		t.Fatalf("export: %+v", r.Results)
	}
	again, err := d.Publish(context.Background(), Publish{Group: "solo"})
	if err != nil || len(again.Events) != 0 || !again.Complete {
		t.Fatalf("again: %+v %v", again, err)
	}

	// A rotation cuts wil and adds wes: wes is caught up on the inception
	// before it receipts the rotation.
	rotateSolo(t, d, Rotation{WitnessCut: []string{"wil"}, WitnessAdd: []string{wes.OOBI()}})
	st, _ = d.store.State(prefix)
	if len(st.Witnesses) != 2 || st.Witnesses[1] != wes.Prefix || st.Bt != 2 {
		t.Fatalf("rotation: witnesses %v bt %d", st.Witnesses, st.Bt)
	}
	p, err := d.Publish(context.Background(), Publish{Group: "solo"})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Complete || len(p.Events) != 1 || p.Events[0].Sn != 1 || p.Events[0].Witnessing.Held != 2 {
		t.Fatalf("rotation published: %+v", p.Events)
	}
	if log := strings.Join(wes.Log(), "\n"); !strings.Contains(log, "POST / 204\nPOST /receipts 200") {
		t.Fatalf("wes was not caught up first:\n%s", log)
	}
	if !strings.HasPrefix(p.Packet.Name, "receipts-solo-") || kel.Replay(p.Packet.Data).Results == nil {
		t.Fatalf("packet %+v", p.Packet)
	}

	// A late joiner rebuilds the group's state from one witness, receipts
	// included, and learns where the witness is.
	late := witnessDevice(t, fastNet())
	f, err := late.FetchKEL(context.Background(), fmt.Sprintf("%soobi/%s/witness/%s?name=wes", wes.URL, prefix, wes.Prefix), "solo")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Imported.Fresh) != 2 || f.Imported.Receipts != 4 || len(f.Located) != 1 || f.Located[0].Name != "wes" {
		t.Fatalf("fetched: %+v, imported %+v", f, f.Imported)
	}
	for sn := uint64(0); sn < 2; sn++ {
		if w, _ := late.Witnessing(prefix, sn); !w.Complete {
			t.Fatalf("late joiner, sn %d: %s", sn, w.Line)
		}
	}
	if st2, _ := late.store.State(prefix); st2.Last != st.Last {
		t.Fatalf("late joiner at %s, want %s", st2.Last, st.Last)
	}
}

// scriptedNet is a WitnessNet whose answers a test overrides per witness.
type scriptedNet struct {
	WitnessNet
	receipt  map[string]func(m kel.Message) (kel.Receipt, error)
	accepted map[string]func() (kel.Receipt, error)
	calls    []string
}

func (s *scriptedNet) Receipt(ctx context.Context, base, wit string, m kel.Message) (kel.Receipt, error) {
	s.calls = append(s.calls, "receipt "+wit[:6])
	if f := s.receipt[wit]; f != nil {
		return f(m)
	}
	return s.WitnessNet.Receipt(ctx, base, wit, m)
}

func (s *scriptedNet) Accepted(ctx context.Context, base, pre string, sn uint64) (kel.Receipt, error) {
	if f := s.accepted[base]; f != nil {
		return f()
	}
	return s.WitnessNet.Accepted(ctx, base, pre, sn)
}

func TestPublishFailures(t *testing.T) {
	wan, wil := witnesstest.Start("wan"), witnesstest.Start("wil")
	defer wan.Close()
	defer wil.Close()
	net := &scriptedNet{WitnessNet: fastNet(), receipt: map[string]func(kel.Message) (kel.Receipt, error){}, accepted: map[string]func() (kel.Receipt, error){}}
	d := witnessDevice(t, net)
	_, prefix := soloWitnessed(t, d, 2, wan.OOBI(), wil.OOBI())
	icp, _, _ := d.store.Witnessed(prefix, 0)
	// wan's receipt signed by another key, for another event, or not at
	// all; wil down.
	forged := func(m kel.Message) (kel.Receipt, error) {
		r, err := fastNet().Receipt(context.Background(), wan.URL, wan.Prefix, m)
		if err != nil {
			return r, err
		}
		r.Couples[0].Sig[0] ^= 1
		return r, nil
	}
	cases := []struct {
		name string
		wan  func(kel.Message) (kel.Receipt, error)
		err  error
	}{
		{"a signature that does not verify", forged, kel.ErrBadSignature},
		{"no signature of wan", func(m kel.Message) (kel.Receipt, error) { return kel.NewReceipt(m.Event, nil), nil }, witness.ErrGarbage},
	}
	wil.SetMode(witnesstest.Down, 0)
	for _, c := range cases {
		net.receipt[wan.Prefix] = c.wan
		p, err := d.Publish(context.Background(), Publish{Group: "solo"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Complete || len(p.Events) != 1 {
			t.Fatalf("%s: %+v", c.name, p)
		}
		o := p.Events[0].Outcomes
		if o[0].State != ReceiptFailed || !errors.Is(o[0].Err, c.err) || o[0].Name != "wan" {
			t.Errorf("%s: wan %+v", c.name, o[0])
		}
		if o[1].State != ReceiptFailed || !errors.Is(o[1].Err, witness.ErrUnreachable) || o[1].Name != "wil" {
			t.Errorf("%s: wil %+v", c.name, o[1])
		}
		if got := d.receipts(prefix, 0); len(got) != 0 {
			t.Fatalf("%s: receipts kept: %v", c.name, got)
		}
	}
	// wan accepted another event at sn 0: duplicity, nothing kept.
	net.receipt[wan.Prefix] = nil
	other := kel.NewReceipt(icp.Event, nil)
	other.SAID = "EPd4Q4Z3DnZl0beCwE-X63He-YyDEFsQ4jbCBzzxZvdL"
	net.accepted[wan.URL] = func() (kel.Receipt, error) { return other, nil }
	p, _ := d.Publish(context.Background(), Publish{Group: "solo"})
	if o := p.Events[0].Outcomes[0]; !errors.Is(o.Err, ErrDuplicity) {
		t.Fatalf("duplicity: %+v", o)
	}
	if got := d.receipts(prefix, 0); len(got) != 0 {
		t.Fatalf("receipt kept from a duplicitous witness: %v", got)
	}
	// wan honest: its receipt is kept; wil still down, so not complete.
	net.accepted = map[string]func() (kel.Receipt, error){}
	p, _ = d.Publish(context.Background(), Publish{Group: "solo"})
	if p.Complete || p.Events[0].Witnessing.Line != "witnessed: 1 of 2 receipts (toad 2): wan ✓, wil waiting" {
		t.Fatalf("wan only: %+v", p.Events[0].Witnessing)
	}
	// wil back: complete.
	wil.SetMode(witnesstest.Up, 0)
	p, _ = d.Publish(context.Background(), Publish{Group: "solo"})
	if !p.Complete || p.Events[0].Outcomes[0].State != ReceiptHeld || p.Events[0].Outcomes[1].State != ReceiptNew {
		t.Fatalf("wil back: %+v", p.Events[0].Outcomes)
	}
}

func TestPublishRequests(t *testing.T) {
	wan := witnesstest.Start("wan")
	defer wan.Close()
	d := witnessDevice(t, fastNet())
	if _, err := d.Publish(context.Background(), Publish{Group: "nobody"}); !errors.Is(err, ErrGroupUnknown) {
		t.Fatalf("unknown group: %v", err)
	}
	_, prefix := soloWitnessed(t, d, 1, wan.OOBI())
	five := uint64(5)
	if _, err := d.Publish(context.Background(), Publish{Group: "solo", Sn: &five}); !errors.Is(err, ErrRequest) {
		t.Fatalf("sn past the kel: %v", err)
	}
	// A device that never resolved the witness cannot reach it.
	other := witnessDevice(t, fastNet())
	exp, _ := d.Export("solo")
	if _, err := other.ImportStream(mustStream(t, exp), "solo"); err != nil {
		t.Fatal(err)
	}
	p, err := other.Publish(context.Background(), Publish{Group: "solo"})
	if err != nil || p.Complete || !errors.Is(p.Events[0].Outcomes[0].Err, ErrWitnessUnknown) {
		t.Fatalf("unknown witness url: %+v %v", p, err)
	}
	// Given the OOBI, it can.
	p, err = other.Publish(context.Background(), Publish{Group: "solo", Witnesses: []string{wan.OOBI()}})
	if err != nil || !p.Complete {
		t.Fatalf("with the oobi: %+v %v", p, err)
	}
	// The receipts travel to the first device as a packet.
	im, err := d.ImportStream(mustStream(t, p.Packet.Data), "")
	if err != nil || im.Receipts != 1 || len(im.Known) != 1 {
		t.Fatalf("receipts packet: %+v %v", im, err)
	}
	if w, _ := d.Witnessing(prefix, 0); !w.Complete {
		t.Fatalf("after the packet: %s", w.Line)
	}
	// Toads that do not fit, and OOBIs that are not witnesses'.
	for name, req := range map[string]Inception{
		"toad above the witnesses": {Alias: "x1", Witnesses: []string{wan.OOBI()}, Toad: 2},
		"toad without witnesses":   {Alias: "x2", Toad: 1},
		"witness named twice":      {Alias: "x3", Witnesses: []string{wan.OOBI(), wan.OOBI()}},
		"not an oobi":              {Alias: "x4", Witnesses: []string{"http://127.0.0.1:1/receipts"}},
	} {
		card, _, _ := d.MemberCard("alice", req.Alias)
		req.Members = []ceremony.Card{card}
		if _, err := d.ProposeInception(req); !errors.Is(err, ErrRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func mustStream(t *testing.T, b []byte) transport.Stream {
	t.Helper()
	s, err := transport.ParseCESR(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
