package kel

import (
	"bytes"
	"testing"
)

// FuzzParseReceipt: a witness's answer to POST /receipts or GET /receipts is
// outside input. Whatever it is, the parser returns; a receipt it accepts
// writes back to bytes that parse to the same receipt.
func FuzzParseReceipt(f *testing.F) {
	for _, n := range []string{"rct-icp.cesr", "rct-get-icp.cesr"} {
		f.Add(readWitnessFile(f, n))
	}
	f.Add([]byte(`{"v":"KERI10JSON000091_","t":"rct"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReceipt(b)
		if err != nil {
			return
		}
		back, err := ParseReceipt(r.Bytes())
		if err != nil {
			t.Fatalf("re-encoded receipt does not parse: %v", err)
		}
		if back.Prefix != r.Prefix || back.Sn != r.Sn || back.SAID != r.SAID || len(back.Couples) != len(r.Couples) || len(back.Wigs) != len(r.Wigs) {
			t.Fatalf("round trip changed the receipt: %+v vs %+v", back, r)
		}
		for i, c := range r.Couples {
			if back.Couples[i].Qb64() != c.Qb64() {
				t.Fatalf("couple %d changed", i)
			}
		}
	})
}

// FuzzParseOOBI: what an OOBI URL serves is outside input. The parser
// returns, and each reply it accepts writes back to its own bytes.
func FuzzParseOOBI(f *testing.F) {
	f.Add(readWitnessFile(f, "wan-oobi.cesr"))
	f.Add(readWitnessFile(f, "group-kel.cesr"))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := ParseOOBI(b)
		if err != nil {
			return
		}
		for i, r := range o.Replies {
			back, err := ParseOOBI(r.Bytes())
			if err != nil || len(back.Replies) != 1 || !bytes.Equal(back.Replies[0].Raw(), r.Raw()) {
				t.Fatalf("reply %d does not round-trip: %v", i, err)
			}
			_, _ = r.LocScheme()
		}
	})
}
