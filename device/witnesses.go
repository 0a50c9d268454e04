package device

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/keremony/keremony/ceremony"
	"github.com/keremony/keremony/kel"
	"github.com/keremony/keremony/witness"
)

// Witnesses: HOME/witnesses.json keeps, for each witness this device has
// resolved, the URL it signed as where it is reached and the name its OOBI
// gave. The network is reached only through WitnessNet (package witness),
// never from this package itself.

// Errors of witnesses.
var (
	ErrWitnessUnknown = errors.New("this device does not know where the witness is")
	ErrNotWitnessed   = errors.New("not fully witnessed")
)

// WitnessNet is how the device reaches witnesses: package witness's
// Client, or a fake in tests.
type WitnessNet interface {
	Resolve(ctx context.Context, oobi string) (witness.Location, error)
	Receipt(ctx context.Context, base, wit string, m kel.Message) (kel.Receipt, error)
	Submit(ctx context.Context, base, wit string, m kel.Message) error
	SendReceipt(ctx context.Context, base, wit string, r kel.Receipt) error
	Accepted(ctx context.Context, base, pre string, sn uint64) (kel.Receipt, error)
	Fetch(ctx context.Context, oobi string) (witness.Fetched, error)
}

const witnessBookName = "witnesses.json"

// WitnessInfo is a witness this device knows.
type WitnessInfo struct {
	Prefix string `json:"prefix"`
	URL    string `json:"url"`
	Name   string `json:"name,omitempty"`
}

type witnessBook struct {
	path      string
	V         int           `json:"v"`
	Witnesses []WitnessInfo `json:"witnesses"`
}

func loadWitnessBook(home string) (*witnessBook, error) {
	b := &witnessBook{path: filepath.Join(home, witnessBookName), V: 1}
	data, err := os.ReadFile(b.path)
	if errors.Is(err, os.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	var in witnessBook
	if err := json.Unmarshal(data, &in); err != nil || in.V != 1 {
		return nil, fmt.Errorf("witnesses %s do not parse (version %d): %v", b.path, in.V, err)
	}
	b.Witnesses = in.Witnesses
	return b, nil
}

func (b *witnessBook) get(prefix string) (WitnessInfo, bool) {
	for _, w := range b.Witnesses {
		if w.Prefix == prefix {
			return w, true
		}
	}
	return WitnessInfo{}, false
}

// put records (or updates) a witness; a name already known is kept when
// the new one is empty.
func (b *witnessBook) put(w WitnessInfo) error {
	i := slices.IndexFunc(b.Witnesses, func(x WitnessInfo) bool { return x.Prefix == w.Prefix })
	switch {
	case i < 0:
		b.Witnesses = append(b.Witnesses, w)
	case b.Witnesses[i] == w || (w.Name == "" && b.Witnesses[i].URL == w.URL):
		return nil
	default:
		if w.Name == "" {
			w.Name = b.Witnesses[i].Name
		}
		b.Witnesses[i] = w
	}
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(b.path, append(data, '\n'), 0o600)
}

// names maps each known witness prefix to its name.
func (b *witnessBook) names() map[string]string {
	out := map[string]string{}
	for _, w := range b.Witnesses {
		if w.Name != "" {
			out[w.Prefix] = w.Name
		}
	}
	return out
}

// Witnesses lists the witnesses this device knows.
func (d *Device) Witnesses() []WitnessInfo { return slices.Clone(d.wits.Witnesses) }

// WitnessName is a witness's name, else its shortened prefix.
func (d *Device) WitnessName(prefix string) string {
	if w, ok := d.wits.get(prefix); ok && w.Name != "" {
		return w.Name
	}
	return ShortID(prefix)
}

// ResolveWitness resolves a witness's OOBI through the network (the
// witness's signed location) and records it: its URL, and the name the
// OOBI gives (?name=).
func (d *Device) ResolveWitness(ctx context.Context, oobi string) (WitnessInfo, error) {
	o, err := witness.ParseOOBI(oobi)
	if err != nil {
		return WitnessInfo{}, fmt.Errorf("%w: %w", ErrRequest, err)
	}
	loc, err := d.net.Resolve(ctx, oobi)
	if err != nil {
		return WitnessInfo{}, fmt.Errorf("witness %s: %w", firstNonEmpty(o.Name, oobi), err)
	}
	w := WitnessInfo{Prefix: loc.Prefix, URL: loc.URL, Name: o.Name}
	if err := d.wits.put(w); err != nil {
		return WitnessInfo{}, err
	}
	w, _ = d.wits.get(loc.Prefix)
	return w, nil
}

// resolveWitnesses resolves OOBIs, refusing one witness named twice.
func (d *Device) resolveWitnesses(ctx context.Context, oobis []string) ([]string, error) {
	var out []string
	for _, o := range oobis {
		w, err := d.ResolveWitness(ctx, o)
		if err != nil {
			return nil, err
		}
		if slices.Contains(out, w.Prefix) {
			return nil, requestf("witness %s (%s) is named twice", d.WitnessName(w.Prefix), w.Prefix)
		}
		out = append(out, w.Prefix)
	}
	return out, nil
}

// witnessPrefix turns a witness's name or prefix into its prefix.
func (d *Device) witnessPrefix(name string, current []string) (string, error) {
	if slices.Contains(current, name) {
		return name, nil
	}
	for _, w := range d.wits.Witnesses {
		if w.Name == name && slices.Contains(current, w.Prefix) {
			return w.Prefix, nil
		}
	}
	var names []string
	for _, c := range current {
		names = append(names, fmt.Sprintf("%s (%s)", d.WitnessName(c), c))
	}
	return "", requestf("--witness-cut %q is not a witness of the group (its witnesses: %s)", name, orNone(strings.Join(names, ", ")))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// checkToad checks a witness threshold against n witnesses.
func checkToad(toad uint64, n int) error {
	if (n == 0 && toad != 0) || (n > 0 && (toad < 1 || toad > uint64(n))) {
		return requestf("--toad %d does not fit %d witnesses (1 to %d)", toad, n, n)
	}
	return nil
}

// withWitnessNames adds the names of the known witnesses to a label book.
func (d *Device) withWitnessNames(book map[string]string) map[string]string {
	for p, n := range d.wits.names() {
		if _, ok := book[p]; !ok {
			book[p] = n
		}
	}
	return book
}

// witnessChange sets a rotation's witness cuts, adds and threshold from
// the request.
func (d *Device) witnessChange(req Rotation, st kel.KeyState, p *ceremony.RotationParams) error {
	for _, c := range req.WitnessCut {
		w, err := d.witnessPrefix(c, st.Witnesses)
		if err != nil {
			return err
		}
		if slices.Contains(p.Cuts, w) {
			return requestf("--witness-cut %q is given twice", c)
		}
		p.Cuts = append(p.Cuts, w)
	}
	adds, err := d.resolveWitnesses(context.Background(), req.WitnessAdd)
	if err != nil {
		return err
	}
	for _, a := range adds {
		if slices.Contains(st.Witnesses, a) {
			return requestf("--witness-add: %s (%s) is a witness of the group already", d.WitnessName(a), a)
		}
	}
	p.Adds = adds
	n := len(st.Witnesses) - len(p.Cuts) + len(adds)
	switch {
	case req.Toad != nil:
		p.Bt = *req.Toad
	case len(p.Cuts) > 0 || len(adds) > 0:
		p.Bt = kel.Ample(n)
	default:
		p.Bt = st.Bt
	}
	return checkToad(p.Bt, n)
}

// WitnessesText names witnesses with the names this device knows, and the
// toad: "wan, wil (toad 2 of 2)", "none".
func (d *Device) WitnessesText(ws []string, toad uint64) string {
	if len(ws) == 0 {
		return "none"
	}
	names := make([]string, len(ws))
	for i, w := range ws {
		names[i] = d.WitnessName(w)
	}
	return fmt.Sprintf("%s (toad %d of %d)", strings.Join(names, ", "), toad, len(ws))
}
