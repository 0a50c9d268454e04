package tui

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
)

// ancFixture is the rotation fixture's device, which also holds the KEL of
// a group beta.
func ancFixture() (rotFixture, GroupInfo) {
	x := newRotFixture()
	beta := GroupInfo{Alias: "beta", Prefix: kel.Digest([]byte("beta")),
		State: kel.KeyState{Prefix: kel.Digest([]byte("beta")), Sn: 5, Last: kel.Digest([]byte("beta 5")), Kt: kel.IntThreshold(1), Nt: kel.IntThreshold(1)}}
	x.snap.Groups = append(x.snap.Groups, beta)
	return x, beta
}

func newAncTest(t *testing.T) (rotFixture, GroupInfo, *fakeBackend, *common, screen) {
	t.Helper()
	x, beta := ancFixture()
	f := &fakeBackend{Snap: x.snap}
	c := testCommon(f)
	return x, beta, f, c, newAnchorWizard(c, x.prefix)
}

func ancFocus(s screen) int { return s.(*anchorWizard).focus[ancSeals] }

// addEventSeal types an event seal into the form (from the list) and
// presses enter in its last field.
func addEventSeal(s screen, aid, sn, said string) screen {
	s, _ = drive(s, keyMsg("tab"))
	s, _ = drive(s, retype(aid)...)
	s, _ = drive(s, keyMsg("tab"))
	s, _ = drive(s, retype(sn)...)
	s, _ = drive(s, keyMsg("tab"))
	s, _ = drive(s, retype(said)...)
	s, _ = drive(s, keyMsg("enter"))
	return s
}

func TestWizardAnchorRequest(t *testing.T) {
	x, beta, f, _, s := newAncTest(t)
	doc := []byte("minutes of the board meeting, 2026-11-20\n")
	f.OnReadFile = func(path string, limit int) ([]byte, error) {
		if path != "/tmp/minutes.txt" {
			return nil, errors.New("no such file")
		}
		return doc, nil
	}
	var got []AnchoringRequest
	f.OnProposeAnchoring = func(r AnchoringRequest) (string, error) {
		got = append(got, r)
		return "a11ce000-0000-4000-8000-000000000000", nil
	}
	if s.Typing() {
		t.Error("Typing on the seal list")
	}
	// An event of beta, named by its alias.
	said := kel.Digest([]byte("beta event 2"))
	s = addEventSeal(s, "beta", "2", said)
	w := s.(*anchorWizard)
	if w.formErr != nil || len(w.seals.items) != 1 {
		t.Fatalf("event seal: err %v, %d seals", w.formErr, len(w.seals.items))
	}
	if !s.Typing() || ancFocus(s) != ancFocusAID || w.aid.Value() != "" {
		t.Errorf("after adding: focus %d typing %v aid %q, want an empty AID field", ancFocus(s), s.Typing(), w.aid.Value())
	}
	// A document, read through the backend.
	s, _ = drive(s, keys("tab", "tab", "tab")...)
	if ancFocus(s) != ancFocusFile {
		t.Fatalf("focus %d, want the file field", ancFocus(s))
	}
	s, _ = drive(s, retype("/tmp/nope.txt")...)
	s, out := drive(s, keyMsg("enter"))
	if em, ok := find[errMsg](out); !ok || !strings.Contains(em.err.Error(), "no such file") {
		t.Errorf("missing file: %v", out)
	}
	if w := s.(*anchorWizard); w.file.Value() != "/tmp/nope.txt" || len(w.seals.items) != 1 {
		t.Errorf("after a refused file: path %q, %d seals", w.file.Value(), len(w.seals.items))
	}
	viewHas(t, s.View(), "no such file")
	s, _ = drive(s, retype("/tmp/minutes.txt")...)
	s, _ = drive(s, keyMsg("enter"))
	if w := s.(*anchorWizard); len(w.seals.items) != 2 || w.formErr != nil {
		t.Fatalf("document: %d seals, err %v", len(w.seals.items), w.formErr)
	}
	viewHas(t, s.View(), "minutes.txt")
	if !slices.Contains(f.Called(), "ReadFile /tmp/minutes.txt") {
		t.Errorf("calls %v", f.Called())
	}
	s, _ = drive(s, keyMsg("tab"))
	s, _ = drive(s, keyMsg("enter"))
	if s.(*anchorWizard).step != ancPropose || s.Typing() {
		t.Fatalf("step %d, want the summary", s.(*anchorWizard).step)
	}
	viewHas(t, s.View(), said)
	viewHas(t, s.View(), kel.Digest(doc))
	_, out = drive(s, keyMsg("p"))
	if len(got) != 1 {
		t.Fatalf("ProposeAnchoring called %d times", len(got))
	}
	want := []kel.Seal{kel.EventSeal(beta.Prefix, 2, said), {Kind: kel.SealDigest, D: kel.Digest(doc)}}
	if got[0].Group != x.prefix || !slices.Equal(got[0].Seals, want) || got[0].Expires != 0 {
		t.Errorf("request %+v, want seals %v", got[0], want)
	}
	// The co-signers learn the file's name and size (never trusted).
	if note := []ceremony.DocumentNote{{Digest: kel.Digest(doc), Name: "minutes.txt", Size: int64(len(doc))}}; !slices.Equal(got[0].Documents, note) {
		t.Errorf("document notes %+v, want %+v", got[0].Documents, note)
	}
	if _, ok := find[replaceMsg](out); !ok {
		t.Errorf("no collect screen: %v", out)
	}
}

func TestWizardAnchorBadSeals(t *testing.T) {
	said := kel.Digest([]byte("an event"))
	tests := []struct {
		name, aid, sn, said string
		kel                 error // the kel error underneath, when there is one
		text                string
	}{
		{"said not qb64", "beta", "2", "Enot-a-digest", nil, "the SAID"},
		{"said is a key", "beta", "2", wizKey(1), kel.ErrUnknownCode, "the SAID"},
		{"unknown alias", "gamma", "2", said, nil, `the AID "gamma"`},
		{"sn not a number", "beta", "two", said, nil, `sequence number "two"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, _, s := newAncTest(t)
			s = addEventSeal(s, tc.aid, tc.sn, tc.said)
			w := s.(*anchorWizard)
			if !errors.Is(w.formErr, errSeal) || tc.kel != nil && !errors.Is(w.formErr, tc.kel) {
				t.Errorf("err %v, want errSeal (and %v)", w.formErr, tc.kel)
			}
			if len(w.seals.items) != 0 {
				t.Errorf("a bad seal was added: %v", w.seals.items)
			}
			// Nothing typed is lost.
			if w.aid.Value() != tc.aid || w.sn.Value() != tc.sn || w.said.Value() != tc.said {
				t.Errorf("fields now %q %q %q", w.aid.Value(), w.sn.Value(), w.said.Value())
			}
			viewHas(t, s.View(), tc.text)
			viewHas(t, s.View(), w.formErr.Error())
		})
	}
	// The same seal twice.
	_, _, _, _, s := newAncTest(t)
	s = addEventSeal(s, "beta", "2", said)
	s = addEventSeal(shiftBack(s), "beta", "2", said)
	if w := s.(*anchorWizard); len(w.seals.items) != 1 || !errors.Is(w.formErr, errSeal) {
		t.Errorf("duplicate: %d seals, err %v", len(w.seals.items), w.formErr)
	}
}

// shiftBack moves the focus from the AID field back to the seal list.
func shiftBack(s screen) screen {
	s, _ = drive(s, shiftTab)
	return s
}

func TestWizardAnchorDeleteAndRules(t *testing.T) {
	x, _, f, c, s := newAncTest(t)
	f.OnProposeAnchoring = func(AnchoringRequest) (string, error) { t.Error("proposed"); return "", nil }
	// No seal: the step does not go on.
	s, _ = drive(s, keys("tab", "tab", "tab", "tab", "tab")...)
	if ancFocus(s) != ancFocusExpires {
		t.Fatalf("focus %d, want the expiry", ancFocus(s))
	}
	s, out := drive(s, keyMsg("enter"))
	if em, ok := find[errMsg](out); !ok || !errors.Is(em.err, errNoSeals) || s.(*anchorWizard).step != ancSeals {
		t.Errorf("no seals: %v", out)
	}
	// Two seals, delete the first from the list.
	s, _ = drive(s, shiftTab, shiftTab, shiftTab, shiftTab, shiftTab)
	if ancFocus(s) != ancFocusList || s.Typing() {
		t.Fatalf("focus %d, want the list", ancFocus(s))
	}
	first, second := kel.Digest([]byte("one")), kel.Digest([]byte("two"))
	s = addEventSeal(s, x.prefix, "1", first)
	s = addEventSeal(shiftBack(s), x.prefix, "2", second)
	s = shiftBack(s)
	s, _ = drive(s, keys("up", "d")...)
	w := s.(*anchorWizard)
	if len(w.seals.items) != 1 || w.seals.items[0].seal.D != second {
		t.Errorf("after deleting the first: %v", w.seals.items)
	}
	// esc on the seals step pops the wizard.
	if _, out := drive(s, keyMsg("esc")); len(out) != 1 {
		t.Errorf("esc: %v", out)
	} else if _, ok := out[0].(popMsg); !ok {
		t.Errorf("esc: %T, want popMsg", out[0])
	}
	// An establishment-only group cannot anchor.
	c.snap.Groups[0].State.Config = []string{"EO"}
	viewHas(t, s.View(), errAnchorEO.Error())
	if err := w.checkStep(ancSeals); !errors.Is(err, errAnchorEO) {
		t.Errorf("EO group: %v", err)
	}
}

func TestWizardAnchorGolden(t *testing.T) {
	_, _, _, c, s := newAncTest(t)
	s = addEventSeal(s, "beta", "5", kel.Digest([]byte("beta 5")))
	s = addEventSeal(shiftBack(s), "beta", "4", "Ebad")
	requireTeaGolden(t, c, s)
}

func TestWizardAnchorFits(t *testing.T) {
	_, _, _, c, s := newAncTest(t)
	checkSizes(t, c, s, "empty")
	for i := range 12 {
		s = addEventSeal(s, "beta", strconv.Itoa(i+1), kel.Digest([]byte{byte(i)}))
		s = shiftBack(s)
	}
	checkSizes(t, c, s, "many seals")
	s = addEventSeal(s, "beta", "1", "Ewrong")
	checkSizes(t, c, s, "a refused seal")
	s, _ = drive(s, keys("tab", "tab", "tab")...) // SAID → file → expiry → summary
	if s.(*anchorWizard).step != ancPropose {
		t.Fatalf("step %d, want the summary", s.(*anchorWizard).step)
	}
	checkSizes(t, c, s, "summary")
}
