package transport

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return b
}

// qb64 returns a code letter followed by 43 random base64url characters,
// the shape of a 44-character CESR primitive (key or digest).
func qb64(rng *rand.Rand, code byte) string {
	raw := randomBytes(rng, 33)
	s := base64.RawURLEncoding.EncodeToString(raw)[:43]
	return string(code) + s
}

// keriLikeICP returns JSON text with the size and shape of a KERI 1.0 icp
// event with the given number of keys (keri-1.0.md section 18:
// 205 + 94*keys bytes, one more each for two-digit kt and nt).
func keriLikeICP(rng *rand.Rand, keys int) []byte {
	th := fmt.Sprintf("%x", (keys+1)/2)
	var k, n []string
	for i := 0; i < keys; i++ {
		k = append(k, `"`+qb64(rng, 'D')+`"`)
		n = append(n, `"`+qb64(rng, 'E')+`"`)
	}
	said := qb64(rng, 'E')
	body := fmt.Sprintf(`,"t":"icp","d":"%s","i":"%s","s":"0","kt":"%s","k":[%s],"nt":"%s","n":[%s],"bt":"0","b":[],"c":[],"a":[]}`,
		said, said, th, strings.Join(k, ","), th, strings.Join(n, ","))
	size := len(`{"v":"KERI10JSON000000_"`) + len(body)
	return []byte(fmt.Sprintf(`{"v":"KERI10JSON%06x_"`, size) + body)
}

func TestKERILikeSizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for keys, want := range map[int]int{1: 299, 3: 487, 10: 1145, 70: 6787} {
		if got := len(keriLikeICP(rng, keys)); got != want {
			t.Errorf("%d keys: %d bytes, want %d", keys, got, want)
		}
	}
}

func TestFrameStringParse(t *testing.T) {
	f := Frame{Type: TypeSignature, Seq: 1, Total: 2, MID: "IKO34MA3", Data: []byte("hello")}
	s := f.String()
	if s != "KC1:S/1-2/IKO34MA3/NBSWY3DP" {
		t.Fatalf("String() = %q", s)
	}
	for _, in := range []string{s, strings.ToLower(s), "kC1:s/1-2/iKo34Ma3/NbSwY3dP", "  " + s + "\r\n"} {
		g, err := ParseFrame(in)
		if err != nil {
			t.Fatalf("ParseFrame(%q): %v", in, err)
		}
		if g.String() != s {
			t.Fatalf("ParseFrame(%q) = %q", in, g.String())
		}
	}
}

// TestFrameAlphabet: every frame is made only of QR alphanumeric characters
// (so QR encoders choose alphanumeric mode) and of the KC1 grammar.
func TestFrameAlphabet(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	seq, err := EncodeFrames(TypeEvents, randomBytes(rng, 3000), 80)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		fr := seq.Frame(i)
		for _, c := range fr {
			if !strings.ContainsRune("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ:/-", c) {
				t.Fatalf("frame %d has %q: %s", i, c, fr)
			}
		}
		if len(fr) > seq.MaxFrameLen() {
			t.Fatalf("frame %d is %d long, MaxFrameLen %d", i, len(fr), seq.MaxFrameLen())
		}
	}
}

func TestParseFrameErrors(t *testing.T) {
	good := "KC1:E/1-3/IKO34MA3/NBSWY3DPNBSWY3DP"
	cases := []struct {
		in   string
		want error
	}{
		{"", ErrFrameSyntax},
		{"hello", ErrFrameSyntax},
		{"KC2:E/1-3/IKO34MA3/NBSWY3DP", ErrFrameSyntax},
		{"KCX:E/1-3/IKO34MA3/NBSWY3DP", ErrKeyboardLayout},
		{"KC1", ErrFrameSyntax},
		{"KC1:E/1-", ErrFrameSyntax},
		{"KC1:E/1-3/IKO34MA3", ErrFrameSyntax},
		{"KC1:E/1-3/IKO34MA3/NBSWY3DP/X", ErrFrameSyntax},
		{"KC1:X/1-3/IKO34MA3/NBSWY3DP", ErrFrameSyntax},
		{"KC1:EE/1-3/IKO34MA3/NBSWY3DP", ErrFrameSyntax},
		{"KC1:E/13/IKO34MA3/NBSWY3DP", ErrFrameSyntax},
		{"KC1:E/01-3/IKO34MA3/NBSWY3DP", ErrFrameSyntax},
		{"KC1:E/1-03/IKO34MA3/NBSWY3DP", ErrFrameSyntax},
		{"KC1:E/A-3/IKO34MA3/NBSWY3DP", ErrFrameSyntax},
		{"KC1:E/1-3/IKO34MA/NBSWY3DP", ErrFrameSyntax},
		{"KC1:E/1-3/IKO34MA1/NBSWY3DP", ErrFrameSyntax},
		{"KC1:E/1-3/IKO34MA3/NBSWY3D0", ErrFrameSyntax}, // bad base32
		{"KC1:E/1-3/IKO34MA3/NBSWY3D8", ErrFrameSyntax},
		{"KC1:E/1-3/IKO34MA3/NBSWY3DP=", ErrFrameSyntax},
		{"KC1:E/1-3/IKO34MA3/NBSW Y3DP", ErrFrameSyntax},
		{"KC1:E/0-3/IKO34MA3/NBSWY3DP", ErrFrameCount},
		{"KC1:E/1-0/IKO34MA3/NBSWY3DP", ErrFrameCount},
		{"KC1:E/1-4097/IKO34MA3/NBSWY3DP", ErrFrameCount},
		{"KC1:E/4294967296-3/IKO34MA3/NBSWY3DP", ErrFrameCount},
		{"KC1:E/99999999999-3/IKO34MA3/NBSWY3DP", ErrFrameCount},
		{"KC1:E/1-3/IKO34MA3/", ErrFragmentSize},
		{"KC1:E/1-3/IKO34MA3/NBSWY3D", ErrFragmentSize},                      // truncated
		{good[:len(good)-3], ErrFragmentSize},                                // truncated
		{"KC1:E/1-3/IKO34MA3/" + strings.Repeat("A", 4264), ErrFragmentSize}, // 2665 bytes
		{"KC1:E/1-4096/IKO34MA3/" + strings.Repeat("A", 4256), ErrMessageTooLarge},
		// Keyboard layouts (qr-transport.md section 10).
		{"KC1ÖE-1ß3-IKO34MA3-NBSWY3DP", ErrKeyboardLayout},    // German QWERTZ
		{"kc1;e/1-3/iko34ma3/nbswy3dp", ErrKeyboardLayout},    // ';' for ':'
		{"KC&ME!&)\"!IKO34MA\"!NBSWY\"DP", ErrKeyboardLayout}, // French AZERTY
		{"KC1:E-1-3-IKO34MA3-NBSWY3DP", ErrKeyboardLayout},    // '/' typed as '-'
		{"KC1:E/1-3/IKO34MA3/NBSWY3DPé", ErrKeyboardLayout},
	}
	if _, err := ParseFrame(good); err != nil {
		t.Fatalf("good frame: %v", err)
	}
	for _, c := range cases {
		_, err := ParseFrame(c.in)
		if !errors.Is(err, c.want) {
			t.Errorf("ParseFrame(%.40q) = %v, want %v", c.in, err, c.want)
			continue
		}
		if msg := err.Error(); msg != strings.ToLower(msg[:1])+msg[1:] {
			t.Errorf("error message not lower-case: %q", msg)
		}
	}
}

func TestEncodeFramesErrors(t *testing.T) {
	if _, err := EncodeFrames(TypeFile, make([]byte, MaxMessageSize+1), 320); !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("oversized message: %v", err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	big := randomBytes(rng, MaxMessageSize)
	if _, err := EncodeFrames(TypeFile, big, 80); !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("1 MiB random at F=80 (13108 fragments): %v", err)
	}
	for _, f := range []int{0, 4, 7, MaxFragmentSize + 5} {
		if _, err := EncodeFrames(TypeFile, []byte("x"), f); !errors.Is(err, ErrFragmentSize) {
			t.Errorf("fragment size %d: %v", f, err)
		}
	}
	if _, err := EncodeFrames(FrameType('X'), []byte("x"), 80); !errors.Is(err, ErrFrameSyntax) {
		t.Errorf("bad type: %v", err)
	}
	if _, err := EncodeFramesFit(TypeFile, []byte("x"), 20); !errors.Is(err, ErrFragmentSize) {
		t.Errorf("tiny frame length: %v", err)
	}
}

// TestFitFragmentSize checks the fragment sizes of qr-transport.md section 5
// for QR alphanumeric capacities at ECC L: v5 154, v7 224, v12 535, v25 1853.
func TestFitFragmentSize(t *testing.T) {
	cases := []struct {
		capacity, compLen, want int
	}{
		{154, 1000, 80},  // v5, 13 fragments
		{224, 1000, 125}, // v7
		{535, 3000, 320}, // v12, 10 fragments
		{535, 30000, 320},
		{1853, 5000, 1145}, // v25 with n <= 9 (the doc's 1140 assumes a 22-character header)
		{1853, 20000, 1140},
	}
	for _, c := range cases {
		f := FitFragmentSize(c.capacity, c.compLen)
		if f != c.want {
			t.Errorf("FitFragmentSize(%d, %d) = %d, want %d", c.capacity, c.compLen, f, c.want)
		}
		n := (c.compLen + f - 1) / f
		if MaxFrameLen(n, f) > c.capacity {
			t.Errorf("capacity %d: frames of %d exceed it", c.capacity, MaxFrameLen(n, f))
		}
	}
}

func TestSequenceShape(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	msg := randomBytes(rng, 1000)
	seq, err := EncodeFrames(TypeKEL, msg, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := seq.Len()
	if n != (seq.CompressedSize()+99)/100 || seq.FragmentSize() != 100 || seq.MessageSize() != 1000 {
		t.Fatalf("n=%d F=%d comp=%d", n, seq.FragmentSize(), seq.CompressedSize())
	}
	if seq.MID() != MessageID(msg) || seq.Type() != TypeKEL {
		t.Fatal("MID or type")
	}
	// Schedule: 1..n, then fountain parts; the part numbers wrap before they
	// grow a third extra digit.
	for i := 0; i < 3*n; i++ {
		if seq.SeqAt(i) != uint32(i+1) {
			t.Fatalf("SeqAt(%d) = %d", i, seq.SeqAt(i))
		}
	}
	top := maxSeq(n) // 9999 for 10 <= n <= 99
	if n < 10 || n > 99 || top != 9999 {
		t.Fatalf("n = %d, maxSeq %d", n, top)
	}
	if seq.SeqAt(9998) != 9999 || seq.SeqAt(9999) != 1 {
		t.Fatalf("wrap: SeqAt(9998) = %d, SeqAt(9999) = %d", seq.SeqAt(9998), seq.SeqAt(9999))
	}
	for _, i := range []int{1 << 20, 1<<31 - 1} {
		if s := seq.SeqAt(i); s > 9999 {
			t.Fatalf("SeqAt(%d) = %d", i, s)
		}
	}
	if got, want := len(seq.Part(9999).String()), seq.MaxFrameLen(); got != want {
		t.Fatalf("longest frame %d, MaxFrameLen %d", got, want)
	}
	// A fountain part is the XOR of the chosen pure parts.
	for s := uint32(n + 1); s < uint32(n+30); s++ {
		p := seq.Part(s)
		want := make([]byte, 100)
		for _, i := range ChooseFragments(s, n, checksumOf(msg)) {
			xorInto(want, seq.Part(uint32(i+1)).Data)
		}
		if !bytes.Equal(p.Data, want) {
			t.Fatalf("part %d is not the XOR of its fragments", s)
		}
	}
	// A single-fragment message shrinks F and shows only part 1.
	small, err := EncodeFrames(TypeSignature, []byte("tiny"), 320)
	if err != nil {
		t.Fatal(err)
	}
	if small.Len() != 1 || small.FragmentSize() != 10 || small.Frame(5) != small.Frame(0) {
		t.Fatalf("small: n=%d F=%d", small.Len(), small.FragmentSize())
	}
}

func checksumOf(msg []byte) uint32 {
	d := digest(msg)
	return uint32(d[0])<<24 | uint32(d[1])<<16 | uint32(d[2])<<8 | uint32(d[3])
}
