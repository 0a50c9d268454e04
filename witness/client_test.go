package witness

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/witness/witnesstest"
)

// group is a 1-of-1 identifier witnessed by wits with toad bt.
type group struct {
	priv ed25519.PrivateKey
	icp  kel.Message
}

func newGroup(t *testing.T, bt uint64, wits ...string) group {
	t.Helper()
	seed := sha256.Sum256([]byte("witness test group"))
	priv := ed25519.NewKeyFromSeed(seed[:])
	next := sha256.Sum256([]byte("next"))
	nextPub := ed25519.NewKeyFromSeed(next[:]).Public().(ed25519.PublicKey)
	one, _ := kel.ParseThresholdText("1")
	ev, err := kel.Incept(kel.InceptionOptions{Keys: []string{kel.EncodeVerKey(priv.Public().(ed25519.PublicKey))}, Kt: one,
		Next: []string{kel.NextDigest(kel.EncodeVerKey(nextPub))}, Nt: one, Witnesses: wits, Bt: bt})
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := kel.NewSiger(ed25519.Sign(priv, ev.Raw()), 0, 0, true)
	return group{priv: priv, icp: kel.NewMessage(ev, []kel.Siger{sig})}
}

// ixn is an anchoring at sn 1 of another identifier than g's (so a witness
// does not know it).
func (g group) strayIxn(t *testing.T) kel.Message {
	t.Helper()
	ev, err := kel.Interact(kel.InteractionOptions{Prefix: "EPd4Q4Z3DnZl0beCwE-X63He-YyDEFsQ4jbCBzzxZvdL", Sn: 1, Prior: "EPd4Q4Z3DnZl0beCwE-X63He-YyDEFsQ4jbCBzzxZvdL"})
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := kel.NewSiger(ed25519.Sign(g.priv, ev.Raw()), 0, 0, true)
	return kel.NewMessage(ev, []kel.Siger{sig})
}

// sleeps records the back-off waits instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

func testClient(s *sleeps) *Client {
	return New(Options{Sleep: s.sleep, Timeout: 2 * time.Second, Backoff: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond, Attempts: 4})
}

func TestResolve(t *testing.T) {
	w := witnesstest.Start("wan")
	defer w.Close()
	c := testClient(&sleeps{})
	loc, err := c.Resolve(context.Background(), w.OOBI())
	if err != nil {
		t.Fatal(err)
	}
	if loc != (Location{Prefix: w.Prefix, URL: w.URL}) {
		t.Fatalf("location %+v, want %s at %s", loc, w.Prefix, w.URL)
	}
}

func TestResolveRefusals(t *testing.T) {
	w := witnesstest.Start("wan")
	defer w.Close()
	other := witnesstest.Start("wil")
	defer other.Close()
	// A server that answers another witness's OOBI for w's prefix: the
	// /loc/scheme it serves is not signed by w.
	impostor := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(other.OOBI())
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		b := make([]byte, 1<<16)
		n, _ := resp.Body.Read(b)
		rw.Write([]byte(strings.ReplaceAll(string(b[:n]), other.Prefix, w.Prefix)))
	}))
	defer impostor.Close()
	down := witnesstest.Start("down")
	down.SetMode(witnesstest.Down, 0)
	defer down.Close()
	garbage := witnesstest.Start("garbage")
	garbage.SetMode(witnesstest.Garbage, 0)
	defer garbage.Close()
	cases := []struct {
		name string
		oobi string
		err  error
	}{
		{"not a url", "::", ErrOOBI},
		{"not an oobi path", w.URL + "receipts", ErrOOBI},
		{"ftp", "ftp://127.0.0.1/oobi/" + w.Prefix + "/controller", ErrOOBI},
		{"a transferable identifier", w.URL + "oobi/EPd4Q4Z3DnZl0beCwE-X63He-YyDEFsQ4jbCBzzxZvdL/controller", ErrOOBI},
		{"impostor", impostor.URL + "/oobi/" + w.Prefix + "/controller", ErrGarbage},
		{"witness down", down.OOBI(), ErrUnreachable},
		{"witness answers garbage", garbage.OOBI(), ErrGarbage},
		{"no such witness there", w.URL + "oobi/" + other.Prefix + "/controller", ErrRefused},
	}
	for _, c := range cases {
		s := &sleeps{}
		_, err := testClient(s).Resolve(context.Background(), c.oobi)
		if !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
	}
}

func TestReceipt(t *testing.T) {
	wan, wil := witnesstest.Start("wan"), witnesstest.Start("wil")
	defer wan.Close()
	defer wil.Close()
	g := newGroup(t, 2, wan.Prefix, wil.Prefix)
	ctx := context.Background()
	c := testClient(&sleeps{})
	var couples []kel.Couple
	for _, w := range []*witnesstest.Witness{wan, wil} {
		rct, err := c.Receipt(ctx, w.URL, w.Prefix, g.icp)
		if err != nil {
			t.Fatal(err)
		}
		if len(rct.Couples) != 1 || rct.Couples[0].Prefix != w.Prefix {
			t.Fatalf("receipt of %s: %+v", w.Name, rct)
		}
		if _, err := kel.WitnessSig(g.icp.Event, []string{wan.Prefix, wil.Prefix}, rct.Couples[0]); err != nil {
			t.Fatal(err)
		}
		couples = append(couples, rct.Couples[0])
	}
	// Before the receipts travel on, each holds its own only: the OOBI is
	// not served, and the KEL query serves one witness signature.
	f, err := c.Fetch(ctx, wan.URL+"oobi/"+g.icp.Event.Prefix()+"/witness/"+wan.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(f.From, "/query?") || len(f.Stream.Messages) != 1 || len(f.Stream.Messages[0].Wigs) != 1 {
		t.Fatalf("fetched from %s: %d messages", f.From, len(f.Stream.Messages))
	}
	for i, w := range []*witnesstest.Witness{wan, wil} {
		others := slices.Delete(slices.Clone(couples), i, i+1)
		if err := c.SendReceipt(ctx, w.URL, w.Prefix, kel.NewReceipt(g.icp.Event, others)); err != nil {
			t.Fatal(err)
		}
		got, err := c.Accepted(ctx, w.URL, g.icp.Event.Prefix(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if got.SAID != g.icp.Event.SAID() || len(got.Wigs) != 2 {
			t.Fatalf("%s accepted %s with %d witness signatures", w.Name, got.SAID, len(got.Wigs))
		}
	}
	f, err = c.Fetch(ctx, wil.URL+"oobi/"+g.icp.Event.Prefix()+"/witness/"+wil.Prefix+"?name=wil")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(f.From, "/query?") || len(f.Stream.Messages) != 1 || len(f.Stream.Messages[0].Wigs) != 2 || len(f.Stream.Replies) != 1 {
		t.Fatalf("fetched from %s: %+v", f.From, f.Stream)
	}
	if f.OOBI.Name != "wil" || f.OOBI.Witness != wil.Prefix || f.OOBI.Role != "witness" {
		t.Fatalf("oobi %+v", f.OOBI)
	}
}

func TestReceiptFailures(t *testing.T) {
	wan := witnesstest.Start("wan")
	defer wan.Close()
	stranger := witnesstest.Start("stranger")
	defer stranger.Close()
	g := newGroup(t, 1, wan.Prefix)
	ctx := context.Background()

	// Never sent without signatures: the witness sees no request.
	s := &sleeps{}
	unsigned := kel.NewMessage(g.icp.Event, nil)
	if _, err := testClient(s).Receipt(ctx, wan.URL, wan.Prefix, unsigned); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("unsigned: %v", err)
	}
	if err := testClient(s).Submit(ctx, wan.URL, wan.Prefix, unsigned); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("unsigned submit: %v", err)
	}
	if l := wan.Log(); len(l) != 0 {
		t.Fatalf("requests made: %v", l)
	}

	// A witness that fails twice is retried with doubling waits.
	wan.FailFirst(2)
	s = &sleeps{}
	if _, err := testClient(s).Receipt(ctx, wan.URL, wan.Prefix, g.icp); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.d, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}) {
		t.Fatalf("waits %v", s.d)
	}

	// Not a witness of the event: refused at once, no retry.
	s = &sleeps{}
	_, err := testClient(s).Receipt(ctx, stranger.URL, stranger.Prefix, g.icp)
	if !errors.Is(err, ErrRefused) || len(s.d) != 0 || !strings.Contains(err.Error(), "not a valid witness") {
		t.Fatalf("stranger: %v after %v", err, s.d)
	}

	// An event of an identifier the witness does not know: 202, retried,
	// then pending.
	s = &sleeps{}
	_, err = testClient(s).Receipt(ctx, wan.URL, wan.Prefix, g.strayIxn(t))
	if !errors.Is(err, ErrPending) || len(s.d) != 3 || !strings.Contains(err.Error(), "4 tries") {
		t.Fatalf("unknown identifier: %v after %v", err, s.d)
	}
	if !slices.Equal(s.d, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}) {
		t.Fatalf("waits %v (capped at 300ms)", s.d)
	}

	// Down, slow and garbage: bounded tries, the reason in the error.
	for _, c := range []struct {
		mode witnesstest.Mode
		err  error
		text string
	}{
		{witnesstest.Down, ErrUnreachable, "EOF"},
		{witnesstest.Slow, ErrUnreachable, "no answer within"},
		{witnesstest.Garbage, ErrGarbage, "invalid witness receipt"},
	} {
		wan.SetMode(c.mode, 5*time.Second)
		s = &sleeps{}
		cl := New(Options{Sleep: s.sleep, Timeout: 150 * time.Millisecond, Attempts: 2})
		_, err := cl.Receipt(ctx, wan.URL, wan.Prefix, g.icp)
		if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.text) || len(s.d) != 1 {
			t.Errorf("mode %d: %v after %v", c.mode, err, s.d)
		}
	}
	wan.SetMode(witnesstest.Up, 0)

	// A cancelled context stops the retries.
	wan.FailFirst(10)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := New(Options{}).Receipt(cctx, wan.URL, wan.Prefix, g.icp); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestParseOOBIURL(t *testing.T) {
	const wit = "BBilc4-L3tFUnfM_wJr4S4OJanAv_VmF_dJNN6vkf2Ha"
	const aid = "EPd4Q4Z3DnZl0beCwE-X63He-YyDEFsQ4jbCBzzxZvdL"
	good := []struct {
		in   string
		want OOBI
	}{
		{"http://127.0.0.1:5642/oobi/" + wit + "/controller?name=wan&tag=witness",
			OOBI{Base: "http://127.0.0.1:5642/", AID: wit, Role: "controller", Name: "wan"}},
		{"https://w.example/oobi/" + aid + "/witness/" + wit,
			OOBI{Base: "https://w.example/", AID: aid, Role: "witness", Witness: wit}},
		{"http://h:1/oobi/" + aid, OOBI{Base: "http://h:1/", AID: aid}},
	}
	for _, g := range good {
		got, err := ParseOOBI(g.in)
		g.want.URL = g.in
		if err != nil || got != g.want {
			t.Errorf("%s: %+v, %v", g.in, got, err)
		}
	}
	for _, bad := range []string{
		"", "http://", "http://h/", "http://h/oobi", "http://h/oobi/xyz/controller", "http://u:p@h/oobi/" + wit,
		"http://h/oobi/" + aid + "/witness/" + aid, "http://h/oobi/" + aid + "/agent/x", "file:///oobi/" + wit,
	} {
		if _, err := ParseOOBI(bad); !errors.Is(err, ErrOOBI) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// FuzzParseOOBI: an OOBI URL is typed or pasted by a user.
func FuzzParseOOBI(f *testing.F) {
	f.Add("http://127.0.0.1:5642/oobi/BBilc4-L3tFUnfM_wJr4S4OJanAv_VmF_dJNN6vkf2Ha/controller?name=wan")
	f.Add("http://h/oobi/EPd4Q4Z3DnZl0beCwE-X63He-YyDEFsQ4jbCBzzxZvdL/witness/BBilc4-L3tFUnfM_wJr4S4OJanAv_VmF_dJNN6vkf2Ha")
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOOBI(s)
		if err != nil {
			return
		}
		if o.AID == "" || (o.Role == "witness") != (o.Witness != "") || !strings.HasSuffix(o.Base, "/") {
			t.Fatalf("%q parsed to %+v", s, o)
		}
	})
}
