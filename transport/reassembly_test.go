package transport

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

type payload struct {
	name string
	data []byte
}

func payloads() []payload {
	rng := rand.New(rand.NewPCG(11, 12))
	var out []payload
	for _, n := range []int{100, 500, 1000, 3000, 8192} {
		out = append(out, payload{fmt.Sprintf("random-%d", n), randomBytes(rng, n)})
		out = append(out, payload{fmt.Sprintf("keri-%d", n), keriText(rng, n)})
	}
	out = append(out,
		payload{"empty", nil},
		payload{"one-byte", []byte{0}},
		payload{"icp-1key", keriLikeICP(rng, 1)},
		payload{"icp-70keys", keriLikeICP(rng, 70)},
		payload{"zeros-8192", make([]byte, 8192)},
	)
	return out
}

// keriText returns n bytes of KERI-like JSON: icp events of growing key
// counts, cut to length.
func keriText(rng *rand.Rand, n int) []byte {
	var b []byte
	for keys := 1; len(b) < n; keys++ {
		b = append(b, keriLikeICP(rng, keys)...)
	}
	return b[:n]
}

// receive feeds lines until done; it fails the test on any error.
func receive(t testing.TB, r *Receiver, lines []string) Progress {
	t.Helper()
	var p Progress
	var err error
	for _, l := range lines {
		p, err = r.Add(l)
		if err != nil {
			t.Fatalf("Add(%.40q): %v", l, err)
		}
		if p.Done {
			break
		}
	}
	return p
}

func TestRoundTrip(t *testing.T) {
	for _, pl := range payloads() {
		for _, fs := range []int{5, 80, 125, 320, 1140} {
			if fs == 5 && len(pl.data) > 1000 {
				continue
			}
			t.Run(fmt.Sprintf("%s/F%d", pl.name, fs), func(t *testing.T) {
				seq, err := EncodeFrames(TypeEvents, pl.data, fs)
				if err != nil {
					t.Fatal(err)
				}
				check := func(name string, lines []string) {
					t.Helper()
					r := NewReceiver()
					p := receive(t, r, lines)
					typ, msg, ok := r.Message()
					if !p.Done || !ok || typ != TypeEvents || !bytes.Equal(msg, pl.data) {
						t.Fatalf("%s: done=%v, %d bytes back, want %d", name, p.Done, len(msg), len(pl.data))
					}
					if p.Held != seq.Len() || p.Total != seq.Len() || p.MID != seq.MID() {
						t.Fatalf("%s: progress %+v", name, p)
					}
				}
				// In order.
				check("in order", seq.Frames())
				// Reversed, lower-cased.
				lines := seq.Frames()
				slices.Reverse(lines)
				for i := range lines {
					lines[i] = strings.ToLower(lines[i])
				}
				check("reversed lower-case", lines)
				// Fountain parts only (no pure part at all).
				var fl []string
				for s := seq.Len() + 1; s < seq.Len()+1+20*seq.Len()+20; s++ {
					fl = append(fl, seq.Part(uint32(s)).String())
				}
				if seq.Len() > 1 {
					check("fountain only", fl)
				}
			})
		}
	}
}

func TestReceiverDuplicatesAndDone(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	msg := randomBytes(rng, 700)
	seq, _ := EncodeFrames(TypeFile, msg, 100)
	r := NewReceiver()
	p, err := r.Add(seq.Frame(0))
	if err != nil || !p.New || p.Held != 1 || p.Frames != 1 {
		t.Fatalf("first: %+v %v", p, err)
	}
	p, err = r.Add(seq.Frame(0))
	if err != nil || p.New || p.Held != 1 || p.Frames != 2 {
		t.Fatalf("duplicate: %+v %v", p, err)
	}
	for i := 0; !p.Done; i++ {
		if p, err = r.Add(seq.Frame(i)); err != nil {
			t.Fatal(err)
		}
	}
	if p.Fraction() != 1 || p.Mixed != 0 {
		t.Fatalf("done: %+v", p)
	}
	// Frames of the same message after completion are harmless.
	if p, err = r.Add(seq.Frame(3)); err != nil || !p.Done || p.New {
		t.Fatalf("after done: %+v %v", p, err)
	}
	// Another message is refused until Reset.
	other, _ := EncodeFrames(TypeFile, []byte("other"), 100)
	if _, err = r.Add(other.Frame(0)); !errors.Is(err, ErrOtherMessage) {
		t.Fatalf("other after done: %v", err)
	}
	r.Reset()
	if p, err = r.Add(other.Frame(0)); err != nil || !p.Done {
		t.Fatalf("after reset: %+v %v", p, err)
	}
	if _, m, _ := r.Message(); string(m) != "other" {
		t.Fatalf("message %q", m)
	}
}

type snapshot struct {
	P    Progress
	Have []bool
}

func snap(r *Receiver) snapshot { return snapshot{r.Progress(), r.Have()} }

// TestHostileInputs: every refusal names a specific error and leaves the
// collected state exactly as it was; frames of the message's MID that
// contradict the others (another shape, a contradicting duplicate, a
// tampered completing part) are held as candidates, and the genuine frames
// still complete the message, with the candidates counted as discarded.
func TestHostileInputs(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	msg := keriText(rng, 3000)
	seq, err := EncodeFrames(TypeEvents, msg, 125)
	if err != nil {
		t.Fatal(err)
	}
	n := seq.Len()
	other, _ := EncodeFrames(TypeEvents, keriText(rng, 3000), 125)
	dense, _ := EncodeFrames(TypeEvents, msg, 320) // same MID, other F: density change
	asKEL, _ := EncodeFrames(TypeKEL, msg, 125)    // same MID, other type

	tampered := seq.Part(uint32(n))
	tampered.Data[3] ^= 0x40
	contradict := seq.Part(1)
	contradict.Data[0] ^= 1
	badMID := seq.Part(1)
	badMID.MID = MessageID([]byte("not this message"))

	frame1 := seq.Frame(0)
	refused := []struct {
		name string
		line string
		want []error
	}{
		{"other message", other.Frame(0), []error{ErrOtherMessage}},
		{"other mid", badMID.String(), []error{ErrOtherMessage}},
		{"n zero", strings.Replace(frame1, fmt.Sprintf("/1-%d/", n), "/1-0/", 1), []error{ErrFrameCount}},
		{"n absurd", strings.Replace(frame1, fmt.Sprintf("/1-%d/", n), "/1-100000/", 1), []error{ErrFrameCount}},
		{"seq zero", strings.Replace(frame1, fmt.Sprintf("/1-%d/", n), fmt.Sprintf("/0-%d/", n), 1), []error{ErrFrameCount}},
		{"truncated data", frame1[:len(frame1)-5], []error{ErrFragmentSize}},
		{"truncated header", frame1[:12], []error{ErrFrameSyntax}},
		{"bad base32", frame1[:len(frame1)-1] + "1", []error{ErrFrameSyntax}},
		{"padding", frame1 + "=", []error{ErrFrameSyntax}},
		{"oversized", "KC1:E/1-4000/" + seq.MID() + "/" + strings.Repeat("A", 4000), []error{ErrMessageTooLarge}},
		{"azerty", "KC&M" + frame1[4:], []error{ErrKeyboardLayout}},
		{"qwertz", "KC1Ö" + frame1[4:], []error{ErrKeyboardLayout}},
		{"garbage", "hello world", []error{ErrFrameSyntax}},
	}
	held := []struct{ name, line string }{
		{"density change", dense.Frame(0)},
		{"other type", asKEL.Frame(1)},
		{"other n", strings.Replace(frame1, fmt.Sprintf("/1-%d/", n), fmt.Sprintf("/1-%d/", n+1), 1)},
		{"contradicting duplicate", contradict.String()},
	}
	r := NewReceiver()
	// Hold every fragment but the last.
	for i := 0; i < n-1; i++ {
		if _, err := r.Add(seq.Frame(i)); err != nil {
			t.Fatal(err)
		}
	}
	before := snap(r)
	for _, h := range refused {
		_, err := r.Add(h.line)
		for _, w := range h.want {
			if !errors.Is(err, w) {
				t.Errorf("%s: got %v, want %v", h.name, err, w)
			}
		}
		if after := snap(r); !reflect.DeepEqual(before, after) {
			t.Errorf("%s changed the state: %+v -> %+v", h.name, before.P, after.P)
		}
	}
	for _, h := range held {
		if p, err := r.Add(h.line); err != nil || p.Done || p.Held != n-1 {
			t.Errorf("%s: %+v %v, want it held as a candidate", h.name, p, err)
		}
	}
	// The completing fragment, tampered: held, the message not complete.
	p, err := r.Add(tampered.String())
	if err != nil || p.Done || p.Contradicting == 0 {
		t.Fatalf("tampered last fragment: %+v %v", p, err)
	}
	// The genuine one completes the message; the five candidates are
	// discarded.
	p, err = r.Add(seq.Frame(n - 1))
	if err != nil || !p.Done || p.Discarded != 5 {
		t.Fatalf("genuine last fragment: %+v %v", p, err)
	}
	if _, m, _ := r.Message(); !bytes.Equal(m, msg) {
		t.Fatal("message differs")
	}
	if !strings.HasSuffix(p.String(), "complete (5 frames discarded)") {
		t.Errorf("progress reads %q", p)
	}
}

// TestBogusFramesFirst: bogus frames carrying the real MID, shown before
// the real ones (with the real frames' part numbers, or fountain numbers
// the sender never reaches), do not keep the message from completing; the
// receiver says how many it discarded. Each case failed on a receiver that
// trusted the first frames.
func TestBogusFramesFirst(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	msg := keriText(rng, 2500)
	seq, err := EncodeFrames(TypeEvents, msg, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := seq.Len()
	bogus := func(s uint32) string {
		f := seq.Part(s)
		for i := range f.Data {
			f.Data[i] = byte(rng.IntN(256))
		}
		return f.String()
	}
	reshaped := seq.Part(1)
	reshaped.Total = n + 3
	cases := []struct {
		name  string
		first []string
	}{
		{"a pure part's number", []string{bogus(1)}},
		{"the last part's number", []string{bogus(uint32(n))}},
		{"a fountain number", []string{bogus(uint32(n + 7))}},
		{"two pure numbers", []string{bogus(2), bogus(5)}},
		{"a pure and a fountain number", []string{bogus(3), bogus(uint32(n + 40))}},
		{"another shape", []string{reshaped.String()}},
		{"another type", []string{strings.Replace(seq.Frame(0), "KC1:E/", "KC1:K/", 1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReceiver()
			for _, l := range tc.first {
				if _, err := r.Add(l); err != nil {
					t.Fatalf("bogus frame refused: %v", err)
				}
			}
			var p Progress
			for i := 0; i < 3*n && !p.Done; i++ {
				if p, err = r.Add(seq.Frame(i)); err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
			}
			if !p.Done || p.Discarded != len(tc.first) {
				t.Fatalf("after the real frames: %+v, want done with %d discarded", p, len(tc.first))
			}
			if _, m, _ := r.Message(); !bytes.Equal(m, msg) {
				t.Fatal("message differs")
			}
		})
	}
}

// TestRollbackThroughFountain: a bad fragment that would complete the
// message through a peeling cascade is held, not trusted; the good one
// completes it.
func TestRollbackThroughFountain(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	msg := randomBytes(rng, 2000)
	seq, _ := EncodeFrames(TypeFile, msg, 100)
	n := seq.Len()
	// Find a degree-2 fountain part mixing fragments a and b.
	var mix Frame
	var ab []int
	for s := uint32(n + 1); ; s++ {
		if idx := ChooseFragments(s, n, checksumOf(msg)); len(idx) == 2 {
			mix, ab = seq.Part(s), idx
			break
		}
	}
	r := NewReceiver()
	for i := 0; i < n; i++ {
		if i == ab[0] || i == ab[1] {
			continue
		}
		if _, err := r.Add(seq.Part(uint32(i + 1)).String()); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := r.Add(mix.String()); err != nil || p.Mixed != 1 || p.Held != n-2 {
		t.Fatalf("mixed part: %+v %v", p, err)
	}
	bad := seq.Part(uint32(ab[0] + 1))
	bad.Data[0] ^= 0x80
	if p, err := r.Add(bad.String()); err != nil || p.Done || p.Contradicting != 1 {
		t.Fatalf("bad fragment through cascade: %+v %v", p, err)
	}
	if p, err := r.Add(seq.Part(uint32(ab[1] + 1)).String()); err != nil || !p.Done || p.Discarded != 1 {
		t.Fatalf("good fragment: %+v %v", p, err)
	}
	if _, m, _ := r.Message(); !bytes.Equal(m, msg) {
		t.Fatal("message differs")
	}
}

// TestDecompressionBomb: a stream that inflates past MaxMessageSize is
// refused without inflating it all; the message does not complete.
func TestDecompressionBomb(t *testing.T) {
	z := compress(make([]byte, 3*MaxMessageSize))
	const f = 320
	n := (len(z) + f - 1) / f
	padded := make([]byte, n*f)
	copy(padded, z)
	mid := MessageID([]byte("bomb"))
	r := NewReceiver()
	var p Progress
	for i := 0; i < n; i++ {
		fr := Frame{Type: TypeFile, Seq: uint32(i + 1), Total: n, MID: mid, Data: padded[i*f : (i+1)*f]}
		var err error
		if p, err = r.Add(fr.String()); err != nil {
			t.Fatal(err)
		}
	}
	if p.Done || p.Contradicting == 0 {
		t.Fatalf("bomb: %+v", p)
	}
	c, _ := newCollection(Frame{Type: TypeFile, Total: n, MID: mid, Data: padded[:f]})
	frags := make([][]byte, n)
	for i := range frags {
		frags[i] = padded[i*f : (i+1)*f]
	}
	if _, err := c.assemble(frags); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("bomb: %v", err)
	}
}

// TestPaddingAndMIDChecks covers junk after the deflate stream and a MID
// that does not match the inflated message: the message does not
// complete, for the specific reason.
func TestPaddingAndMIDChecks(t *testing.T) {
	msg := []byte("a signature envelope")
	build := func(z []byte, mid string) error {
		r := NewReceiver()
		fr := Frame{Type: TypeSignature, Seq: 1, Total: 1, MID: mid, Data: z}
		p, err := r.Add(fr.String())
		if err != nil {
			return err
		}
		c, _ := newCollection(fr)
		_, aerr := c.assemble([][]byte{z})
		if p.Done != (aerr == nil) {
			t.Fatalf("done %v, assemble %v", p.Done, aerr)
		}
		return aerr
	}
	z := compress(msg)
	pad := func(b []byte) []byte { return append(b, make([]byte, (5-len(b)%5)%5)...) }
	if err := build(pad(append([]byte(nil), z...)), MessageID(msg)); err != nil {
		t.Fatalf("genuine: %v", err)
	}
	junk := pad(append(append([]byte(nil), z...), 7))
	if err := build(junk, MessageID(msg)); !errors.Is(err, ErrBadChecksum) {
		t.Fatalf("junk padding: %v", err)
	}
	if err := build(pad(append([]byte(nil), z...)), MessageID([]byte("x"))); !errors.Is(err, ErrBadChecksum) {
		t.Fatalf("mid mismatch: %v", err)
	}
	if err := build([]byte{0xff, 0xff, 0xff, 0xff, 0xff}, MessageID(msg)); !errors.Is(err, ErrBadChecksum) {
		t.Fatalf("not deflate: %v", err)
	}
}

// lossRun simulates one reception: frames of the schedule are shown in
// order starting at a random offset, each lost with probability loss. It
// returns the frames shown and received until the message is complete.
func lossRun(t testing.TB, seq *FrameSequence, rng *rand.Rand, loss float64, schedule func(i int) string, start int) (shown, received int) {
	r := NewReceiver()
	for i := start; ; i++ {
		shown++
		if shown > 100*seq.Len()+100 {
			t.Fatalf("not complete after %d frames", shown)
		}
		if rng.Float64() < loss {
			continue
		}
		received++
		p, err := r.Add(schedule(i))
		if err != nil {
			t.Fatal(err)
		}
		if p.Done {
			return shown, received
		}
	}
}

// TestLoss25: with a random 25% of frames lost, reception completes. Each
// trial uses a new random message of exactly n fragments (the fountain
// parts depend on the message) and a new loss pattern. It logs the mean
// number of frames shown and received against n (run with -v), for the
// KC1 schedule and, for comparison, the schedule suggested by
// qr-transport.md section 4 and plain cycling.
func TestLoss25(t *testing.T) {
	const trials = 200
	const f = 100
	for _, n := range []int{4, 10, 25, 50} {
		rng := rand.New(rand.NewPCG(uint64(n), 25))
		newSeq := func() *FrameSequence {
			for size := n*f - 60; ; size-- {
				s, err := EncodeFrames(TypeFile, randomBytes(rng, size), f)
				if err != nil {
					t.Fatal(err)
				}
				if s.Len() == n {
					return s
				}
			}
		}
		schedules := []struct {
			name        string
			frame       func(seq *FrameSequence, i int) string
			randomStart bool
		}{
			{"KC1 schedule, from start", func(seq *FrameSequence, i int) string { return seq.Frame(i) }, false},
			{"KC1 schedule, random join", func(seq *FrameSequence, i int) string { return seq.Frame(i) }, true},
			{"doc alternating, from start", func(seq *FrameSequence, i int) string {
				if i < n {
					return seq.Part(uint32(i + 1)).String()
				}
				j := i - n
				if j%2 == 0 {
					return seq.Part(uint32(n + 1 + j/2)).String()
				}
				return seq.Part(uint32((j/2)%n + 1)).String()
			}, false},
			{"cyclic pure only", func(seq *FrameSequence, i int) string { return seq.Part(uint32(i%n + 1)).String() }, false},
		}
		for si, sc := range schedules {
			var shown, recv, sq float64
			for k := 0; k < trials; k++ {
				seq := newSeq()
				start := 0
				if sc.randomStart {
					start = rng.IntN(4 * n)
				}
				s, r := lossRun(t, seq, rng, 0.25, func(i int) string { return sc.frame(seq, i) }, start)
				shown += float64(s)
				recv += float64(r)
				sq += float64(s) * float64(s)
			}
			shown /= trials
			recv /= trials
			sd := math.Sqrt(sq/trials - shown*shown)
			t.Logf("n=%2d %-28s frames shown %6.1f (%.2f n, sd %.1f), received %6.1f (%.2f n)",
				n, sc.name, shown, shown/float64(n), sd, recv, recv/float64(n))
			if si == 0 && shown > 2*float64(n)+4 {
				t.Errorf("n=%d: mean %.1f frames shown is too many", n, shown)
			}
		}
	}
}

// BenchmarkReceive50 receives a 50-fragment message from fountain parts only.
func BenchmarkReceive50(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	seq, _ := EncodeFrames(TypeEvents, randomBytes(rng, 50*320-60), 320)
	var lines []string
	for s := seq.Len() + 1; len(lines) < 4*seq.Len(); s++ {
		lines = append(lines, seq.Part(uint32(s)).String())
	}
	for b.Loop() {
		r := NewReceiver()
		for _, l := range lines {
			if p, _ := r.Add(l); p.Done {
				break
			}
		}
		if !r.Progress().Done {
			b.Fatal("not done")
		}
	}
}

func BenchmarkEncodeFrame(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	seq, _ := EncodeFrames(TypeEvents, randomBytes(rng, 50*320-60), 320)
	for i := 0; b.Loop(); i++ {
		_ = seq.Frame(i % 1000)
	}
}
