package tui

import (
	"slices"
	"testing"
)

// TestNewMemberChecksAgain: the start-up check of a home without members
// says "no member"; creating one runs the check again, so Home does not
// keep warning about a member that now exists.
func TestNewMemberChecksAgain(t *testing.T) {
	f := &fakeBackend{Snap: sampleSnapshot()}
	c := testCommon(f)
	drive(newMemberScreen(c), memberCreatedMsg{alias: "alice"})
	if !slices.Contains(f.Called(), "Check") {
		t.Fatalf("calls %v: no member check after creating a member", f.Called())
	}
}
