package transport

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParsePacket: no input makes a packet parser panic; every error wraps
// one of the packet sentinels; an accepted packet is of the kind Sniff
// names, parses again as that kind alone, and its canonical bytes are a
// fixed point (Marshal of the re-parse gives the same bytes).
func FuzzParsePacket(f *testing.F) {
	for _, b := range testPackets(f) {
		f.Add(b)
		f.Add(append([]byte("\n "), b...))
		f.Add(bytes.Replace(b, []byte(`"v":1`), []byte(`"v":2`), 1))
		f.Add(b[:len(b)/2])
	}
	for _, s := range []string{"", "{}", `{"type":"keremony/signatures","v":1}`, `{"v":"KERI10JSON000000_"}`, "[]", `{"type":"keremony/proposal","v":1,"proposal":{}}`} {
		f.Add([]byte(s))
	}
	sentinels := []error{ErrPacketTooLarge, ErrUnsupportedPacketVersion, ErrUnknownPacket, ErrWrongPacketType, ErrMalformedPacket, ErrBadPacketSignature}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePacket(b)
		if err != nil {
			known := false
			for _, s := range sentinels {
				known = known || errors.Is(err, s)
			}
			if !known {
				t.Fatalf("error without a packet sentinel: %v", err)
			}
			return
		}
		typ, err := Sniff(b)
		if err != nil || typ != p.PacketType() {
			t.Fatalf("accepted %s, but Sniff says %s, %v", p.PacketType(), typ, err)
		}
		if _, err := ParsePacketAs(b, typ); err != nil {
			t.Fatalf("ParsePacketAs(%s): %v", typ, err)
		}
		out := p.Marshal()
		again, err := ParsePacketAs(out, typ)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", out, err)
		}
		if !bytes.Equal(again.Marshal(), out) {
			t.Fatalf("not canonical: %q then %q", out, again.Marshal())
		}
	})
}
