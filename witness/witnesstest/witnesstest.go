// Package witnesstest runs a stand-in for a keripy witness on a loopback
// port, for tests: it serves the routes package witness uses with the
// bytes keripy 1.3.6 answers (its OOBI with a signed /loc/scheme, POST
// /receipts with a -C couple, POST / for events and receipts, GET
// /receipts, GET /query?typ=kel and an identifier's OOBI), and it can be
// made to fail: down, slow, answering garbage, or failing a number of
// requests first. The real witness is exercised by make test-witness.
package witnesstest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/keremony/keremony/kel"
)

// Mode is how the witness answers.
type Mode int

const (
	Up      Mode = iota
	Down         // every connection is closed without an answer
	Slow         // answers after Delay
	Garbage      // answers 200 with HTML
)

// Witness is one running stand-in.
type Witness struct {
	Name   string
	Prefix string
	URL    string // base URL, with a trailing slash

	mu        sync.Mutex
	srv       *httptest.Server
	priv      ed25519.PrivateKey
	v         *kel.Verifier
	wigs      map[string]map[int]kel.Siger // event SAID → witness index → signature
	mode      Mode
	delay     time.Duration
	failFirst int
	log       []string
}

// Start starts a witness whose key derives from name.
func Start(name string) *Witness {
	seed := sha256.Sum256([]byte("witnesstest/" + name))
	w := &Witness{Name: name, priv: ed25519.NewKeyFromSeed(seed[:]), v: kel.NewVerifier(), wigs: map[string]map[int]kel.Siger{}}
	w.Prefix = kel.Matter{Code: kel.CodeEd25519N, Raw: w.priv.Public().(ed25519.PublicKey)}.Qb64()
	w.srv = httptest.NewServer(http.HandlerFunc(w.serve))
	w.URL = w.srv.URL + "/"
	return w
}

// Close stops the witness.
func (w *Witness) Close() { w.srv.Close() }

// OOBI is the witness's own OOBI URL, named.
func (w *Witness) OOBI() string {
	return fmt.Sprintf("%soobi/%s/controller?name=%s", w.URL, w.Prefix, w.Name)
}

// SetMode changes how the witness answers; delay is for Slow.
func (w *Witness) SetMode(m Mode, delay time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.mode, w.delay = m, delay
}

// FailFirst makes the next n requests fail with 500.
func (w *Witness) FailFirst(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failFirst = n
}

// Log lists the requests served: "METHOD PATH STATUS".
func (w *Witness) Log() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.log...)
}

// KEL is the witness's copy of an identifier's KEL with the witness
// signatures it holds.
func (w *Witness) KEL(prefix string) []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.kel(prefix)
}

func (w *Witness) kel(prefix string) []byte {
	var out []byte
	for _, m := range w.v.Messages(prefix) {
		out = append(out, m.WithWigs(w.wigList(m.Event.SAID())).Bytes()...)
	}
	return out
}

func (w *Witness) wigList(said string) []kel.Siger {
	var out []kel.Siger
	for i := 0; i < kel.MaxSigIndex; i++ {
		if len(out) == len(w.wigs[said]) {
			break
		}
		if s, ok := w.wigs[said][i]; ok {
			out = append(out, s)
		}
	}
	return out
}

func (w *Witness) serve(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	mode, delay := w.mode, w.delay
	fail := w.failFirst > 0
	if fail {
		w.failFirst--
	}
	w.mu.Unlock()
	switch mode {
	case Down:
		w.note(r, 0)
		if hj, ok := rw.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case Slow:
		// Read the request first, so that the server notices when the
		// client gives up.
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<24))
		r.Body = io.NopCloser(bytes.NewReader(body))
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			w.note(r, 0)
			return
		}
	case Garbage:
		w.note(r, 200)
		rw.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
		return
	}
	if fail {
		w.note(r, 500)
		http.Error(rw, `{"title": "500 Internal Server Error"}`, 500)
		return
	}
	status, ctype, body := w.route(r)
	w.note(r, status)
	if ctype != "" {
		rw.Header().Set("Content-Type", ctype)
	}
	rw.WriteHeader(status)
	rw.Write(body)
}

func (w *Witness) note(r *http.Request, status int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.log = append(w.log, fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, status))
}

const cesr = "application/json+cesr"

func (w *Witness) route(r *http.Request) (int, string, []byte) {
	path := strings.Trim(r.URL.Path, "/")
	parts := strings.Split(path, "/")
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && (path == "oobi" || path == "oobi/"+w.Prefix+"/controller"):
		return 200, cesr, w.ownOOBI()
	case r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "oobi" && parts[2] == "witness" && parts[3] == w.Prefix:
		return w.aidOOBI(parts[1])
	case r.Method == http.MethodGet && path == "query":
		if r.URL.Query().Get("typ") != "kel" || r.URL.Query().Get("pre") == "" {
			return 400, "application/json", []byte(`{"title": "400 Bad Request"}`)
		}
		return 200, cesr, w.kel(r.URL.Query().Get("pre"))
	case r.Method == http.MethodGet && path == "receipts":
		return w.getReceipt(r.URL.Query().Get("pre"), r.URL.Query().Get("sn"))
	case r.Method == http.MethodPost && (path == "receipts" || path == ""):
		if r.Header.Get("Content-Type") != "application/cesr+json" {
			return 406, "application/json", []byte(`{"title": "406 Not Acceptable"}`)
		}
		att := r.Header.Get("CESR-ATTACHMENT")
		if att == "" {
			return 412, "application/json", []byte(`{"title": "412 Precondition Failed"}`)
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<24))
		if err != nil {
			return 400, "", nil
		}
		if path == "" {
			w.inbox(append(body, att...))
			return 204, "", nil
		}
		return w.postReceipts(append(body, att...))
	}
	return 404, "application/json", []byte(`{"title": "404 Not Found"}`)
}

// ownOOBI is the witness's KEL (a non-transferable inception) and its
// signed /loc/scheme reply.
func (w *Witness) ownOOBI() []byte {
	one, _ := kel.ParseThresholdText("1")
	zero, _ := kel.ParseThresholdText("0")
	ev, err := kel.Incept(kel.InceptionOptions{Keys: []string{w.Prefix}, Kt: one, Nt: zero, BasicPrefix: true})
	if err != nil {
		panic(err)
	}
	sig, _ := kel.NewSiger(ed25519.Sign(w.priv, ev.Raw()), 0, 0, false)
	out := kel.NewMessage(ev, []kel.Siger{sig}).Bytes()
	rp, err := kel.NewReply("/loc/scheme", "2022-01-20T12:57:59.823350+00:00", "eid", w.Prefix, "scheme", "http", "url", w.URL)
	if err != nil {
		panic(err)
	}
	rp.Couples = []kel.Couple{{Prefix: w.Prefix, Sig: ed25519.Sign(w.priv, rp.Raw())}}
	return append(out, rp.Bytes()...)
}

// aidOOBI serves an identifier's KEL, 404 until its latest event holds bt
// witness signatures here (as keripy does).
func (w *Witness) aidOOBI(prefix string) (int, string, []byte) {
	st, ok := w.v.State(prefix)
	if !ok || uint64(len(w.wigs[st.Last])) < st.Bt {
		return 404, "application/json", []byte(`{"title": "404 Not Found"}`)
	}
	rp, _ := kel.NewReply("/loc/scheme", "2022-01-20T12:57:59.823350+00:00", "eid", w.Prefix, "scheme", "http", "url", w.URL)
	rp.Couples = []kel.Couple{{Prefix: w.Prefix, Sig: ed25519.Sign(w.priv, rp.Raw())}}
	return 200, cesr, append(w.kel(prefix), rp.Bytes()...)
}

// inbox takes POST /: an event (with witness signatures) or a receipt
// carrying other witnesses' couples.
func (w *Witness) inbox(b []byte) {
	if rct, err := kel.ParseReceipt(b); err == nil {
		msgs := w.v.Messages(rct.Prefix)
		if rct.Sn >= uint64(len(msgs)) || msgs[rct.Sn].Event.SAID() != rct.SAID {
			return
		}
		st, _ := w.v.StateAt(rct.Prefix, rct.Sn)
		for _, c := range rct.Couples {
			if s, err := kel.WitnessSig(msgs[rct.Sn].Event, st.Witnesses, c); err == nil {
				w.addWig(rct.SAID, s)
			}
		}
		return
	}
	msgs, err := kel.ParseStream(b)
	if err != nil {
		return
	}
	for _, m := range msgs {
		if r := w.v.Accept(m); r.OK() {
			for _, s := range m.Wigs {
				w.addWig(m.Event.SAID(), s)
			}
		}
	}
}

func (w *Witness) addWig(said string, s kel.Siger) {
	if w.wigs[said] == nil {
		w.wigs[said] = map[int]kel.Siger{}
	}
	w.wigs[said][s.Index] = s
}

// postReceipts takes POST /receipts: the event is processed, and the
// witness signs it when it knows the identifier and is one of its
// witnesses.
func (w *Witness) postReceipts(b []byte) (int, string, []byte) {
	msgs, err := kel.ParseStream(b)
	if err != nil || len(msgs) != 1 {
		return 500, "application/json", []byte(`{"title": "500 Internal Server Error"}`)
	}
	m := msgs[0]
	ev := m.Event
	w.v.Accept(m)
	held := w.v.Messages(ev.Prefix())
	if len(held) == 0 {
		return 202, "", nil
	}
	st, ok := w.v.StateAt(ev.Prefix(), ev.Sn())
	if !ok {
		st, _ = w.v.State(ev.Prefix())
	}
	idx := -1
	for i, x := range st.Witnesses {
		if x == w.Prefix {
			idx = i
		}
	}
	if idx < 0 {
		return 400, "application/json", []byte(fmt.Sprintf(`{"title": "400 Bad Request", "description": "%s is not a valid witness for %s event at %d: wits=%v"}`, w.Prefix, ev.Prefix(), ev.Sn(), st.Witnesses))
	}
	sig := ed25519.Sign(w.priv, ev.Raw())
	if ev.Sn() < uint64(len(held)) && held[ev.Sn()].Event.SAID() == ev.SAID() {
		s, _ := kel.NewSiger(sig, idx, idx, false)
		w.addWig(ev.SAID(), s)
	}
	rct := kel.NewReceipt(ev, []kel.Couple{{Prefix: w.Prefix, Sig: sig}})
	return 200, cesr, rct.Bytes()
}

// getReceipt answers GET /receipts?pre=&sn=.
func (w *Witness) getReceipt(pre, snText string) (int, string, []byte) {
	sn, err := strconv.ParseUint(snText, 10, 64)
	msgs := w.v.Messages(pre)
	if err != nil || sn >= uint64(len(msgs)) {
		return 404, "application/json", []byte(fmt.Sprintf(`{"title": "404 Not Found", "description": "event for %s at %s not found"}`, pre, snText))
	}
	ev := msgs[sn].Event
	rct := kel.NewReceipt(ev, nil)
	rct.Wigs = w.wigList(ev.SAID())
	var b bytes.Buffer
	b.Write(rct.Bytes())
	return 200, cesr, b.Bytes()
}
