package kel

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"strings"
	"testing"
)

// Known answers from a real keripy 1.3.6 witness (prefix wan below): its
// OOBI reply, the receipt it returned for a group's icp (POST /receipts,
// a -C couple), the same receipt as GET /receipts served it (a -B witness
// signature), and the group's KEL as the witness served it.
const (
	wanPrefix   = "BBilc4-L3tFUnfM_wJr4S4OJanAv_VmF_dJNN6vkf2Ha"
	groupPrefix = "EPd4Q4Z3DnZl0beCwE-X63He-YyDEFsQ4jbCBzzxZvdL"
	// The witness's signature over the icp, from the transcript.
	wanIcpSig = "0BCxZnr-JmNssrzJtfOHhFdNBnOLm0K2ZEWJhs7sgaT-inzmt2tXsVyBUJ0M_MUYG1b2g1urqWof2_O8mmtddlcC"
)

func readWitnessFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/witness/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// groupKEL replays the witness's copy of the group's KEL.
func groupKEL(t testing.TB) (*Verifier, []Message) {
	t.Helper()
	msgs, err := ParseStream(readWitnessFile(t, "group-kel.cesr"))
	if err != nil || len(msgs) != 3 {
		t.Fatalf("group kel: %d messages, %v", len(msgs), err)
	}
	v := NewVerifier()
	for _, m := range msgs {
		if r := v.Accept(m); !r.OK() {
			t.Fatalf("sn %d: %v", r.Sn, r.Err)
		}
	}
	return v, msgs
}

func TestReceiptFromWitness(t *testing.T) {
	_, msgs := groupKEL(t)
	icp := msgs[0].Event
	r, err := ParseReceipt(readWitnessFile(t, "rct-icp.cesr"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Names(icp); err != nil {
		t.Fatal(err)
	}
	if len(r.Couples) != 1 || len(r.Wigs) != 0 || r.Couples[0].Prefix != wanPrefix {
		t.Fatalf("couples %+v wigs %+v", r.Couples, r.Wigs)
	}
	if got := EncodeSignature(r.Couples[0].Sig); got != wanIcpSig {
		t.Fatalf("signature %s, want %s", got, wanIcpSig)
	}
	w, err := WitnessSig(icp, []string{wanPrefix}, r.Couples[0])
	if err != nil {
		t.Fatal(err)
	}
	// The witness signature the witness's KEL carries for the icp is the same.
	if len(msgs[0].Wigs) != 1 || w.Qb64() != msgs[0].Wigs[0].Qb64() {
		t.Fatalf("wig %s, kel carries %v", w.Qb64(), msgs[0].Wigs)
	}
	// The signature covers the event's bytes, not the receipt's.
	if r.Couples[0].Verify(r.Body()) {
		t.Fatal("the couple verifies over the rct body")
	}
	// Rebuilt from the event and the couple, the receipt is the witness's
	// bytes.
	if got := NewReceipt(icp, r.Couples).Bytes(); !bytes.Equal(got, readWitnessFile(t, "rct-icp.cesr")) {
		t.Fatalf("rebuilt receipt\n%s\nwant\n%s", got, readWitnessFile(t, "rct-icp.cesr"))
	}
}

func TestReceiptGetForm(t *testing.T) {
	_, msgs := groupKEL(t)
	icp := msgs[0].Event
	r, err := ParseReceipt(readWitnessFile(t, "rct-get-icp.cesr"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Wigs) != 1 || len(r.Couples) != 0 {
		t.Fatalf("wigs %v couples %v", r.Wigs, r.Couples)
	}
	c, err := WitnessCouple(icp, []string{wanPrefix}, r.Wigs[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.Prefix != wanPrefix || EncodeSignature(c.Sig) != wanIcpSig {
		t.Fatalf("couple %s", c.Qb64())
	}
}

func TestReceiptRefusals(t *testing.T) {
	_, msgs := groupKEL(t)
	icp, rot := msgs[0].Event, msgs[1].Event
	r, err := ParseReceipt(readWitnessFile(t, "rct-icp.cesr"))
	if err != nil {
		t.Fatal(err)
	}
	good := r.Couples[0]
	other := newTKey("other")
	otherPrefix := indepQb64('B', other.priv.Public().(ed25519.PublicKey))
	bad := Couple{Prefix: good.Prefix, Sig: append([]byte(nil), good.Sig...)}
	bad.Sig[5] ^= 1
	cases := []struct {
		name string
		err  error
	}{
		{"receipt of another event", r.Names(rot)},
		{"witness not in the list", func() error { _, err := WitnessSig(icp, []string{otherPrefix}, good); return err }()},
		{"tampered signature", func() error { _, err := WitnessSig(icp, []string{wanPrefix}, bad); return err }()},
		{"signature over another event", func() error { _, err := WitnessSig(rot, []string{wanPrefix}, good); return err }()},
		{"wig index out of range", func() error {
			_, err := WitnessCouple(icp, []string{wanPrefix}, Siger{Code: CodeSigBoth, Index: 1, Ondex: 1, HasOndex: true, Sig: good.Sig})
			return err
		}()},
	}
	want := []error{ErrReceipt, ErrNotWitness, ErrBadSignature, ErrBadSignature, ErrWitnessSignature}
	for i, c := range cases {
		if !errors.Is(c.err, want[i]) {
			t.Errorf("%s: %v, want %v", c.name, c.err, want[i])
		}
	}
}

func TestParseReceiptHostile(t *testing.T) {
	good := string(readWitnessFile(t, "rct-icp.cesr"))
	body := good[:strings.Index(good, "}")+1]
	att := good[len(body):]
	reordered := strings.Replace(body, `"d":"`+groupPrefix+`","i":"`+groupPrefix+`"`, `"i":"`+groupPrefix+`","d":"`+groupPrefix+`"`, 1)
	icpBody := string(readWitnessFile(t, "group-kel.cesr"))
	icpBody = icpBody[:strings.Index(icpBody, "-VBq")]
	cases := []struct {
		name string
		in   string
		errs []error
	}{
		{"empty", "", []error{ErrReceipt}},
		{"not a message", "HTTP/1.1 500", []error{ErrReceipt}},
		{"truncated body", good[:40], []error{ErrReceipt, ErrTruncated}},
		{"truncated couple", good[:len(good)-10], []error{ErrReceipt, ErrTruncated}},
		{"fields reordered", reordered + att, []error{ErrReceipt, ErrFieldOrder}},
		{"an event, not a receipt", icpBody, []error{ErrReceipt, ErrIlk}},
		{"two messages", good + good, []error{ErrReceipt}},
		{"controller signatures", body + "-AAB" + msgsSig(t), []error{ErrReceipt}},
		{"unknown counter", body + "-ZAB", []error{ErrReceipt, ErrUnsupportedCounter}},
		{"sn not hex", strings.Replace(good, `"s":"0"`, `"s":"x"`, 1), []error{ErrReceipt, ErrField}},
		{"oversized", good + strings.Repeat("-CAA", maxReceiptSize/4), []error{ErrReceipt}},
	}
	for _, c := range cases {
		_, err := ParseReceipt([]byte(c.in))
		for _, e := range c.errs {
			if !errors.Is(err, e) {
				t.Errorf("%s: %v, want %v", c.name, err, e)
			}
		}
	}
}

// msgsSig is an indexed controller signature of the witness's KEL.
func msgsSig(t *testing.T) string {
	_, msgs := groupKEL(t)
	return msgs[0].Sigs[0].Qb64()
}

func TestOOBIOfWitness(t *testing.T) {
	o, err := ParseOOBI(readWitnessFile(t, "wan-oobi.cesr"))
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Messages) != 1 || len(o.Replies) != 2 {
		t.Fatalf("%d messages, %d replies", len(o.Messages), len(o.Replies))
	}
	v := NewVerifier()
	if r := v.Accept(o.Messages[0]); !r.OK() || r.Prefix != wanPrefix {
		t.Fatalf("witness inception: %+v", r)
	}
	loc, err := o.Replies[0].LocScheme()
	if err != nil {
		t.Fatal(err)
	}
	if loc != (LocScheme{EID: wanPrefix, Scheme: "http", URL: "http://127.0.0.1:5642/"}) {
		t.Fatalf("loc %+v", loc)
	}
	if _, err := o.Replies[1].LocScheme(); !errors.Is(err, ErrReply) {
		t.Fatalf("the /end/role/add reply as a location: %v", err)
	}
	// The reply rebuilt from its fields is the witness's, SAID and all.
	rb, err := NewReply("/loc/scheme", "2022-01-20T12:57:59.823350+00:00", "eid", wanPrefix, "scheme", "http", "url", "http://127.0.0.1:5642/")
	if err != nil {
		t.Fatal(err)
	}
	if rb.SAID != "ELSHJwBjsy41VvikaWd5cSC5hoooONVeVsImCzjzBQWP" || !bytes.Equal(rb.Raw(), o.Replies[0].Raw()) {
		t.Fatalf("rebuilt reply %s", rb.Raw())
	}
}

func TestLocSchemeRefusals(t *testing.T) {
	o, err := ParseOOBI(readWitnessFile(t, "wan-oobi.cesr"))
	if err != nil {
		t.Fatal(err)
	}
	signed := o.Replies[0]
	other := newTKey("impostor")
	forged, err := NewReply("/loc/scheme", signed.Dt, "eid", wanPrefix, "scheme", "http", "url", "http://127.0.0.1:9/")
	if err != nil {
		t.Fatal(err)
	}
	forged.Couples = []Couple{{Prefix: indepQb64('B', other.priv.Public().(ed25519.PublicKey)), Sig: ed25519.Sign(other.priv, forged.Raw())}}
	badURL, _ := NewReply("/loc/scheme", signed.Dt, "eid", wanPrefix, "scheme", "http", "url", "127.0.0.1:5642")
	badURL.Couples = signed.Couples
	ftp, _ := NewReply("/loc/scheme", signed.Dt, "eid", wanPrefix, "scheme", "ftp", "url", "ftp://127.0.0.1:5642/")
	for name, c := range map[string]struct {
		r   Reply
		err error
	}{
		"signed by another key": {forged, ErrBadSignature},
		"unsigned":              {Reply{Route: signed.Route, Attrs: signed.Attrs, raw: signed.raw}, ErrBadSignature},
		"not a url":             {badURL, ErrReply},
		"not http":              {ftp, ErrReply},
	} {
		if _, err := c.r.LocScheme(); !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", name, err, c.err)
		}
	}
}

func TestParseOOBIHostile(t *testing.T) {
	good := string(readWitnessFile(t, "wan-oobi.cesr"))
	rpyAt := strings.Index(good, `{"v":"KERI10JSON0000fa_","t":"rpy"`)
	for name, c := range map[string]struct {
		in  string
		err error
	}{
		"garbage":                  {"<html>404</html>", ErrStream},
		"reply said changed":       {strings.Replace(good, "ELSHJwBjsy41", "ELSHJwBjsy42", 1), ErrSAIDMismatch},
		"truncated":                {good[:rpyAt+30], ErrTruncated},
		"other message type":       {strings.Replace(good, `"t":"rpy"`, `"t":"exn"`, 1), ErrIlk},
		"reply fields reordered":   {strings.Replace(good, `"dt":"2022-01-20T12:57:59.823350+00:00","r":"/loc/scheme"`, `"r":"/loc/scheme","dt":"2022-01-20T12:57:59.823350+00:00"`, 1), ErrFieldOrder},
		"unknown counter in reply": {good[:rpyAt] + strings.Replace(good[rpyAt:], "-VAi-CAB", "-VAi-ZAB", 1), ErrUnsupportedCounter},
	} {
		if _, err := ParseOOBI([]byte(c.in)); !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", name, err, c.err)
		}
	}
}

func TestWitnessedResults(t *testing.T) {
	v, msgs := groupKEL(t)
	for sn := range msgs {
		st, ok := v.StateAt(groupPrefix, uint64(sn))
		if !ok || len(st.Witnesses) != 1 || st.Witnesses[0] != wanPrefix || st.Bt != 1 {
			t.Fatalf("state at %d: %+v", sn, st)
		}
	}
	if _, ok := v.StateAt(groupPrefix, 3); ok {
		t.Fatal("a state after the last event")
	}
	// With its receipts every event is fully witnessed; without, none is.
	w := NewVerifier()
	bare := NewVerifier()
	for _, m := range msgs {
		r := w.Accept(m)
		if r.Bt != 1 || r.Witnessed != 1 || !r.FullyWitnessed() || r.WitnessErr() != nil {
			t.Fatalf("sn %d: bt %d witnessed %d", r.Sn, r.Bt, r.Witnessed)
		}
		r = bare.Accept(m.WithWigs(nil))
		if !r.OK() || r.FullyWitnessed() || !errors.Is(r.WitnessErr(), ErrNotFullyWitnessed) {
			t.Fatalf("sn %d without receipts: %+v %v", r.Sn, r, r.WitnessErr())
		}
		if ErrorCode(r.WitnessErr()) != "not_fully_witnessed" {
			t.Fatalf("code %q", ErrorCode(r.WitnessErr()))
		}
	}
	// A duplicate that brings the receipt says so too.
	if r := bare.Accept(msgs[0]); r.Witnessed != 1 || !r.OK() {
		t.Fatalf("duplicate with receipt: %+v", r)
	}
	// The message's attachments are what follows its body.
	m := msgs[0]
	if got := string(m.Event.Raw()) + m.Attachments(); got != string(m.Bytes()) {
		t.Fatalf("body + attachments differ from the bytes")
	}
}

func TestAmple(t *testing.T) {
	// keripy's eventing.ample(n), as run.
	want := []uint64{0, 1, 2, 3, 3, 4, 4, 5, 6, 6, 7}
	for n, w := range want {
		if got := Ample(n); got != w {
			t.Errorf("Ample(%d) = %d, want %d", n, got, w)
		}
	}
}
