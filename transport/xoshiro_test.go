package transport

import (
	"encoding/hex"
	"slices"
	"testing"
)

// Known answers from bc-ur test/test.cpp, reproduced in qr-transport.md section 4.

func TestXoshiroWolfMod100(t *testing.T) {
	rng := newXoshiro256([]byte("Wolf"))
	want := []uint64{42, 81, 85, 8, 82, 84, 76, 73, 70, 88}
	var got []uint64
	for range want {
		got = append(got, rng.next()%100)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("next()%%100 = %v, want %v", got, want)
	}
}

func TestXoshiroWolfNextInt(t *testing.T) {
	rng := newXoshiro256([]byte("Wolf"))
	want := []uint64{6, 5, 8, 4, 10, 5, 7, 10, 4, 9}
	var got []uint64
	for range want {
		got = append(got, rng.nextInt(1, 10))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("nextInt(1, 10) = %v, want %v", got, want)
	}
}

func TestXoshiroWolfShuffle(t *testing.T) {
	rng := newXoshiro256([]byte("Wolf"))
	got := shuffle([]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, rng)
	want := []int{6, 4, 9, 3, 10, 5, 7, 8, 1, 2}
	if !slices.Equal(got, want) {
		t.Fatalf("shuffle = %v, want %v", got, want)
	}
}

func TestXoshiroWolfBytes(t *testing.T) {
	rng := newXoshiro256([]byte("Wolf"))
	if got := hex.EncodeToString(rng.nextData(10)); got != "916ec65cf77cadf55cd7" {
		t.Fatalf("nextData(10) = %s, want 916ec65cf77cadf55cd7", got)
	}
}

func TestShufflePrefixMatchesShuffle(t *testing.T) {
	items := make([]int, 40)
	for i := range items {
		items[i] = i
	}
	for k := 0; k <= len(items); k++ {
		full := shuffle(items, newXoshiro256([]byte("prefix")))
		pre := shufflePrefix(items, k, newXoshiro256([]byte("prefix")))
		if !slices.Equal(full[:k], pre) {
			t.Fatalf("k=%d: prefix %v, full %v", k, pre, full[:k])
		}
	}
}
