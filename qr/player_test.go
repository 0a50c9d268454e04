package qr

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/keremony/keremony/transport"
)

func TestPlayer(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	l, err := Fit(80, 24, Options{})
	if err != nil {
		t.Fatal(err)
	}
	seq, err := l.Encode(transport.TypeEvents, keriLikeICP(rng, 3))
	if err != nil {
		t.Fatal(err)
	}
	p := NewPlayer(seq, l)
	if p.FPS() != DefaultFPS || p.Interval() != 200*time.Millisecond || p.Stepping() {
		t.Fatalf("defaults: %d fps, %v", p.FPS(), p.Interval())
	}
	n := seq.Len()
	if p.Position() != "1/"+strconv.Itoa(n) || p.Text() != seq.Frame(0) {
		t.Fatalf("position %s", p.Position())
	}
	for i := 0; i < n; i++ {
		p.Next()
	}
	if p.Position() != strconv.Itoa(n+1)+"/"+strconv.Itoa(n) {
		t.Fatalf("after n: %s", p.Position())
	}
	p.Prev()
	if p.Index() != n-1 {
		t.Fatalf("prev: index %d", p.Index())
	}
	for i := 0; i < n+3; i++ {
		p.Prev()
	}
	if p.Index() != 0 {
		t.Fatal("prev stops at the first frame")
	}
	p.SetFPS(50)
	if p.FPS() != MaxFPS || p.Interval() != 100*time.Millisecond {
		t.Fatal("clamp high")
	}
	p.SetFPS(0)
	p.Slower()
	if p.FPS() != MinFPS || p.Interval() != time.Second {
		t.Fatal("clamp low")
	}
	p.Faster()
	p.SetStepping(true)
	if p.FPS() != 2 || !p.Stepping() {
		t.Fatal("faster / step")
	}
	p.SetInverted(true)
	if !p.Layout().Invert {
		t.Fatal("invert")
	}
}
