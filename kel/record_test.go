package kel

import (
	"reflect"
	"slices"
	"testing"
)

// TestStateAtEveryEvent: the state after each event of the bench KEL (a
// rotation every 10th event, interactions between) names that event and
// holds the keys of the generation its last rotation revealed, whether it
// is read at the end, by sequence number, or while the KEL grows.
func TestStateAtEveryEvent(t *testing.T) {
	k := loadBenchKEL(t)
	msgs, err := ParseStream(k.stream)
	if err != nil {
		t.Fatal(err)
	}
	msgs = msgs[:35]
	grow := NewVerifier()
	want := func(st KeyState, sn int) {
		t.Helper()
		ev := msgs[sn].Event
		est := sn / benchRotEach * benchRotEach
		keys, next, _ := benchGen(sn / benchRotEach)
		if st.Sn != uint64(sn) || st.Last != ev.SAID() || st.Prior != ev.Prior() || st.LastIlk != ev.Ilk() ||
			st.EstSn != uint64(est) || st.EstSAID != msgs[est].Event.SAID() ||
			!slices.Equal(st.Keys, keys) || !slices.Equal(st.Next, next) || st.Prefix != k.prefix {
			t.Fatalf("state at %d: %+v", sn, st)
		}
	}
	for sn, m := range msgs {
		mustAccept(t, grow, m)
		st, _ := grow.State(k.prefix)
		want(st, sn)
	}
	for sn := range msgs {
		st, ok := grow.StateAt(k.prefix, uint64(sn))
		if !ok {
			t.Fatalf("no state at %d", sn)
		}
		want(st, sn)
		inner := grow.kels[k.prefix].stateAt(uint64(sn))
		want(inner, sn)
		if len(inner.pubs) != benchKeys { // what signatures verify against
			t.Fatalf("state at %d: %d decoded keys", sn, len(inner.pubs))
		}
	}
	if _, ok := grow.StateAt(k.prefix, uint64(len(msgs))); ok {
		t.Fatal("a state after the last event")
	}
	if n := len(grow.kels[k.prefix].states); n != 4 {
		t.Fatalf("%d states kept for 4 establishment events", n)
	}
}

// TestInteractionsShareNoEst: interactions carry no establishment fields of
// their own, and the empty set they share stays empty.
func TestInteractionsShareNoEst(t *testing.T) {
	k := loadBenchKEL(t)
	msgs, err := ParseStream(k.stream)
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier()
	for _, r := range v.AcceptMessages(msgs[:30]) {
		if !r.OK() {
			t.Fatal(r.Err)
		}
	}
	for _, m := range msgs[:30] {
		ev := m.Event
		if (ev.estFields == noEst) == ev.IsEstablishment() {
			t.Fatalf("%s at %d: shares noEst %v", ev.Ilk(), ev.Sn(), ev.estFields == noEst)
		}
		if !ev.IsEstablishment() && (ev.Keys() != nil || ev.Kt().Int() != 0 || ev.Delegator() != "" || ev.HasTrait("EO")) {
			t.Fatalf("ixn at %d has establishment fields", ev.Sn())
		}
	}
	if !reflect.DeepEqual(*noEst, estFields{}) {
		t.Fatalf("noEst was written: %+v", *noEst)
	}
}

// TestAcceptedKeepsTheMessage: a record gives back every field an accepted
// message came with, nil and empty lists alike, and nothing of the replay.
func TestAcceptedKeepsTheMessage(t *testing.T) {
	ev := &Event{ilk: IlkIxn, estFields: noEst}
	sig := Siger{Code: CodeSigCurrent, Index: 1, Sig: make([]byte, 64)}
	for name, m := range map[string]Message{
		"signatures only": {Event: ev, Sigs: []Siger{sig}},
		"witnessed":       {Event: ev, Sigs: []Siger{sig}, Wigs: []Siger{sig, sig}},
		"sources":         {Event: ev, Sigs: []Siger{sig}, Sources: []SourceSeal{{Sn: 3, SAID: "E"}}},
		"couples":         {Event: ev, Couples: []Couple{{Prefix: "B", Sig: []byte{1}}}},
		"empty lists":     {Event: ev, Sigs: []Siger{}, Wigs: []Siger{}, Sources: []SourceSeal{}, Couples: []Couple{}},
	} {
		replayed := m
		replayed.check = trustSig
		if got := keep(replayed).message(); !reflect.DeepEqual(got, m) {
			t.Errorf("%s: kept %+v, want %+v", name, got, m)
		}
	}
}
