package qr

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/keremony/keremony/transport"
)

// cborHead returns the length of a CBOR head for an unsigned value.
func cborHead(v int) int {
	switch {
	case v < 24:
		return 1
	case v < 256:
		return 2
	case v < 65536:
		return 3
	}
	return 5
}

// bcurFrameLen returns the characters of BC-UR part seq of n for a
// message (the CBOR of the ur:bytes payload) of msgLen bytes cut into
// fragments of d bytes: "UR:BYTES/seq-n/" + bytewords-minimal (2 letters
// per byte plus the 4-byte CRC32) of the CBOR array
// [seq, n, msgLen, crc32, bstr(d bytes)] (BCR-2020-005).
func bcurFrameLen(seq, n, msgLen, d int) int {
	header := len("UR:BYTES/") + len(fmt.Sprint(seq)) + 1 + len(fmt.Sprint(n)) + 1
	cbor := 1 + cborHead(seq) + cborHead(n) + cborHead(msgLen) + 5 + cborHead(d) + d
	return header + 2*(cbor+4)
}

// bcurFrames returns BC-UR's fragment length and part count for a payload
// of payloadLen bytes when every pure part must fit capacity characters:
// the largest maximum fragment length that fits, then the reference
// encoder's find_nominal_fragment_length (n = ceil(L / max)).
func bcurFrames(payloadLen, capacity int) (fragLen, n int) {
	msgLen := cborHead(payloadLen) + payloadLen // CBOR byte string
	for d := capacity / 2; d >= 10; d-- {
		n = (msgLen + d - 1) / d
		frag := (msgLen + n - 1) / n
		if bcurFrameLen(n, n, msgLen, frag) <= capacity {
			return frag, n
		}
	}
	return 0, 0
}

// TestBCURFrameSizes compares the formula with qr-transport.md: section 5
// gives UR bytes per frame (48 at v5, 238 at v12) and section 6 the BC-UR
// frames for the 5228-byte icp of 50 keys and 7 witnesses (109 at v5, 22
// at v12).
func TestBCURFrameSizes(t *testing.T) {
	for _, c := range []struct{ v, docBytes, docFrames int }{{5, 48, 109}, {12, 238, 22}} {
		d, n := bcurFrames(5228, Capacity(c.v))
		t.Logf("v%d: BC-UR %d bytes per part, %d parts (doc: %d, %d)", c.v, d, n, c.docBytes, c.docFrames)
		if d < c.docBytes-3 || d > c.docBytes+3 || n < c.docFrames-3 || n > c.docFrames+3 {
			t.Errorf("v%d: %d bytes per BC-UR part and %d parts, doc %d and %d", c.v, d, n, c.docBytes, c.docFrames)
		}
	}
}

// TestFramesTable computes the table of qr/README-section.md: frames for
// KERI icp events of 1, 3, 10 and 70 keys at 80x24 and 120x40 (normal
// density), KC1 versus BC-UR bytewords. Run with -v to see it.
func TestFramesTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 1))
	var rows []string
	rows = append(rows, "| event | JSON bytes | deflated | KC1 80×24 (v5) | KC1 at 25 % loss | BC-UR 80×24 (v5) | KC1 120×40 (v12) | KC1 at 25 % loss | BC-UR 120×40 (v12) |")
	rows = append(rows, "|---|---|---|---|---|---|---|---|---|")
	for _, keys := range []int{1, 3, 10, 70} {
		msg := keriLikeICP(rng, keys)
		row := fmt.Sprintf("| icp, %d key%s | %d |", keys, map[bool]string{true: "s"}[keys > 1], len(msg))
		var comp int
		var cells []string
		for _, w := range []window{{80, 24}, {120, 40}} {
			l, err := Fit(w.cols, w.rows, Options{})
			if err != nil {
				t.Fatal(err)
			}
			seq, err := l.Encode(transport.TypeEvents, msg)
			if err != nil {
				t.Fatal(err)
			}
			comp = seq.CompressedSize()
			// Every frame must fit, and the message must come back.
			r := transport.NewReceiver()
			for i := 0; i < seq.Len(); i++ {
				if VersionFor(seq.Frame(i)) > l.Version {
					t.Fatalf("frame %d exceeds v%d", i, l.Version)
				}
				r.Add(seq.Frame(i))
			}
			if !r.Progress().Done {
				t.Fatal("not reassembled")
			}
			d, n := bcurFrames(len(msg), l.Capacity)
			if n < seq.Len() {
				t.Errorf("%d keys at v%d: BC-UR %d frames, KC1 %d", keys, l.Version, n, seq.Len())
			}
			// Loss: 20 events of the same shape (the fountain parts depend
			// on the message), 20 receivers each.
			var shown float64
			for e := 0; e < 20; e++ {
				s, err := l.Encode(transport.TypeEvents, keriLikeICP(rng, keys))
				if err != nil {
					t.Fatal(err)
				}
				shown += meanShownAtLoss(t, s, 0.25, 20) / 20
			}
			cells = append(cells, fmt.Sprintf(" %d (%d B) | %.1f | %d (%d B) |", seq.Len(), seq.FragmentSize(), shown, n, d))
		}
		rows = append(rows, row+fmt.Sprintf(" %d |", comp)+strings.Join(cells, ""))
	}
	t.Log("\n" + strings.Join(rows, "\n"))
}

// meanShownAtLoss returns the mean number of frames shown (from the first)
// until a receiver that misses each frame with probability loss is done.
func meanShownAtLoss(t *testing.T, seq *transport.FrameSequence, loss float64, trials int) float64 {
	rng := rand.New(rand.NewPCG(uint64(seq.Len()), uint64(seq.CompressedSize())))
	total := 0
	for k := 0; k < trials; k++ {
		r := transport.NewReceiver()
		for i := 0; ; i++ {
			if i > 100*seq.Len()+100 {
				t.Fatal("no completion")
			}
			if rng.Float64() < loss {
				continue
			}
			if p, err := r.Add(seq.Frame(i)); err != nil {
				t.Fatal(err)
			} else if p.Done {
				total += i + 1
				break
			}
		}
	}
	return float64(total) / float64(trials)
}
