package transport

import (
	"fmt"
	"hash/crc32"
	"slices"
	"testing"
)

func TestChooseDegreeWolf(t *testing.T) {
	want := []int{11, 3, 6, 5, 2, 1, 2, 11, 1, 3, 9, 10, 10, 4, 2, 1, 1, 2, 1, 1}
	var got []int
	for i := 1; i <= 20; i++ {
		rng := newXoshiro256([]byte(fmt.Sprintf("Wolf-%d", i)))
		got = append(got, chooseDegree(11, rng))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("chooseDegree(11) = %v, want %v", got, want)
	}
}

// TestChooseFragmentsBCUR uses BC-UR's own checksum (CRC32 of the message),
// exactly as the reference test does, to check that the chooser is unchanged.
func TestChooseFragmentsBCUR(t *testing.T) {
	msg := newXoshiro256([]byte("Wolf")).nextData(1024)
	crc := crc32.ChecksumIEEE(msg)
	if crc != 790229947 {
		t.Fatalf("crc32(message) = %d, want 790229947", crc)
	}
	want := [][]int{{9}, {2, 5, 6, 8, 9, 10}, {8}, {1, 5}, {1}, {0, 2, 4, 5, 8, 10}}
	for i, w := range want {
		seq := uint32(12 + i)
		if got := ChooseFragments(seq, 11, crc); !slices.Equal(got, w) {
			t.Errorf("chooseFragments(%d, 11, crc) = %v, want %v", seq, got, w)
		}
	}
	// The cached chooser gives the same answers.
	c := newFragmentChooser(11)
	for i, w := range want {
		if got := c.choose(uint32(12+i), crc); !slices.Equal(got, w) {
			t.Errorf("cached choose(%d) = %v, want %v", 12+i, got, w)
		}
	}
}

func TestChooseFragmentsPure(t *testing.T) {
	for seq := uint32(1); seq <= 11; seq++ {
		if got := ChooseFragments(seq, 11, 1); !slices.Equal(got, []int{int(seq) - 1}) {
			t.Errorf("seq %d: %v", seq, got)
		}
	}
	if ChooseFragments(0, 11, 1) != nil || ChooseFragments(1, 0, 1) != nil {
		t.Error("seq 0 or n 0 must give nil")
	}
	// n = 1: every part is fragment 0.
	for seq := uint32(2); seq < 50; seq++ {
		if got := ChooseFragments(seq, 1, 7); !slices.Equal(got, []int{0}) {
			t.Fatalf("n=1 seq %d: %v", seq, got)
		}
	}
}

// TestChooseDegreeDistribution checks the 1/d shape loosely: degree 1 and 2
// together are about half of all draws for n = 50.
func TestChooseDegreeDistribution(t *testing.T) {
	c := newFragmentChooser(50)
	counts := make([]int, 51)
	for seq := uint32(51); seq < 51+4000; seq++ {
		counts[len(c.choose(seq, 12345))]++
	}
	low := float64(counts[1]+counts[2]) / 4000
	if low < 0.25 || low > 0.45 {
		t.Fatalf("share of degree 1-2 = %.2f, counts %v", low, counts)
	}
}
