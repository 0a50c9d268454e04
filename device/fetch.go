package device

import (
	"context"
	"fmt"
	"slices"

	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/transport"
	"github.com/keremony/keremony/witness"
)

// Fetched is what FetchKEL did.
type Fetched struct {
	Prefix string
	// From is the URL that served the KEL.
	From     string
	Imported *Imported
	// Located are the witnesses whose signed location came with the KEL
	// (their URLs are now recorded here).
	Located []WitnessInfo
}

// FetchKEL fetches an identifier's KEL from the witness its OOBI names
// (http://HOST/oobi/AID/witness/WIT, or /oobi/AID/controller) and imports
// it through authenticated replay, witness receipts included: how a late
// joiner or a replacement device gets a group's state. alias ("": none) is
// recorded for the identifier. The witness's signed location, when it
// came along, is recorded for the witnesses of the KEL.
func (d *Device) FetchKEL(ctx context.Context, oobi, alias string) (*Fetched, error) {
	o, err := witness.ParseOOBI(oobi)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRequest, err)
	}
	f, err := d.net.Fetch(ctx, oobi)
	if err != nil {
		return nil, fmt.Errorf("fetching the kel of %s: %w", o.AID, err)
	}
	s := transport.Stream{}
	for _, m := range f.Stream.Messages {
		if alias == "" || m.Event.Prefix() == o.AID {
			s.Messages = append(s.Messages, m)
		}
	}
	if !slices.ContainsFunc(s.Messages, func(m kel.Message) bool { return m.Event.Prefix() == o.AID }) {
		return nil, fmt.Errorf("%w: %s served no event of %s", witness.ErrGarbage, f.From, o.AID)
	}
	im, err := d.ImportStream(s, alias)
	out := &Fetched{Prefix: o.AID, From: f.From, Imported: im}
	if st, ok := d.store.State(o.AID); ok {
		known := map[string]bool{}
		v, err := d.store.VerifierOf(o.AID)
		if err != nil {
			return out, err
		}
		for sn := uint64(0); sn <= st.Sn; sn++ {
			at, _ := v.StateAt(o.AID, sn)
			for _, w := range at.Witnesses {
				known[w] = true
			}
		}
		for _, r := range f.Stream.Replies {
			l, lerr := r.LocScheme()
			if lerr != nil || !known[l.EID] {
				continue
			}
			w := WitnessInfo{Prefix: l.EID, URL: l.URL}
			if l.EID == o.Witness {
				w.Name = o.Name
			}
			if perr := d.wits.put(w); perr != nil && err == nil {
				err = perr
			}
			w, _ = d.wits.get(l.EID)
			out.Located = append(out.Located, w)
		}
	}
	return out, err
}
