package transport

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzReceiver feeds newline-separated lines to a Receiver. Invariants: no
// panic; a refused line leaves the state unchanged; progress is consistent;
// a completed message matches its MID.
func FuzzReceiver(f *testing.F) {
	msg := []byte(`{"v":"KERI10JSON00012b_","t":"icp","d":"EBfdlu8R27Fbx-ehrqwImnK-8Cm79sqbAQ4MmvEAYqao","k":["DAxyz"]}`)
	seq, _ := EncodeFrames(TypeEvents, msg, 15)
	other, _ := EncodeFrames(TypeSignature, []byte("another message entirely"), 10)
	var pure, mixed []string
	for i := 0; i < seq.Len(); i++ {
		pure = append(pure, seq.Part(uint32(i+1)).String())
	}
	for i := 0; i < 3*seq.Len(); i++ {
		mixed = append(mixed, seq.Part(uint32(seq.Len()+1+i)).String())
	}
	f.Add(strings.Join(pure, "\n"))
	f.Add(strings.Join(mixed, "\n"))
	f.Add(strings.Join(append(mixed[:4:4], pure[2:]...), "\n"))
	f.Add(other.Frame(0) + "\n" + strings.Join(pure, "\n"))
	f.Add(pure[0] + "\n" + other.Frame(0) + "\n" + strings.ToLower(pure[1]))
	f.Add("KC1:F/1-2/AAAAAAAA/AAAAAAAA\nKC1:F/2-2/AAAAAAAA/AAAAAAAB")
	f.Fuzz(func(t *testing.T, input string) {
		r := NewReceiver()
		lines := strings.Split(input, "\n")
		if len(lines) > 400 {
			lines = lines[:400]
		}
		for _, l := range lines {
			before := snap(r)
			p, err := r.Add(l)
			if err != nil {
				if after := snap(r); !reflect.DeepEqual(before, after) {
					t.Fatalf("refused line %q changed the state: %+v -> %+v", l, before.P, after.P)
				}
				continue
			}
			if p.Held < 0 || p.Mixed < 0 || p.Held+p.Mixed > p.Total || p.Total > MaxFragments {
				t.Fatalf("inconsistent progress %+v", p)
			}
			if p.Done {
				typ, m, ok := r.Message()
				if !ok || typ != p.Type || MessageID(m) != p.MID || len(m) > MaxMessageSize {
					t.Fatalf("completed message does not match its progress %+v", p)
				}
			}
		}
	})
}
