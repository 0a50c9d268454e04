package witness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/keremony/keremony/kel"
)

// OOBI is a parsed OOBI URL: http(s)://HOST/oobi/AID[/controller |
// /witness/WIT], with an optional ?name= that names the endpoint.
type OOBI struct {
	Base    string // scheme://host/ the witness serves
	AID     string
	Role    string // "controller", "witness" or ""
	Witness string // for role witness
	Name    string // ?name=, "" when absent
	URL     string // the whole URL
}

// ParseOOBI reads an OOBI URL.
func ParseOOBI(s string) (OOBI, error) {
	u, err := url.Parse(s)
	if err != nil {
		return OOBI{}, fmt.Errorf("%w: %q: %v", ErrOOBI, clip(s), err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return OOBI{}, fmt.Errorf("%w: %q: want http://HOST:PORT/oobi/AID/…", ErrOOBI, clip(s))
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 || parts[0] != "oobi" {
		return OOBI{}, fmt.Errorf("%w: %q: the path is not /oobi/AID/…", ErrOOBI, clip(s))
	}
	o := OOBI{Base: u.Scheme + "://" + u.Host + "/", AID: parts[1], URL: s, Name: u.Query().Get("name")}
	if _, err := kel.DecodeMatter(o.AID, kel.CodeEd25519N, kel.CodeEd25519, kel.CodeBlake3_256); err != nil {
		return OOBI{}, fmt.Errorf("%w: %q: %q is not an identifier: %v", ErrOOBI, clip(s), clip(o.AID), err)
	}
	switch {
	case len(parts) == 2:
	case len(parts) == 3 && parts[2] == "controller":
		o.Role = "controller"
	case len(parts) == 4 && parts[2] == "witness":
		o.Role, o.Witness = "witness", parts[3]
		if _, err := kel.DecodeMatter(o.Witness, kel.CodeEd25519N); err != nil {
			return OOBI{}, fmt.Errorf("%w: %q: witness %q: %v", ErrOOBI, clip(s), clip(o.Witness), err)
		}
	default:
		return OOBI{}, fmt.Errorf("%w: %q: want /oobi/AID, /oobi/AID/controller or /oobi/AID/witness/WIT", ErrOOBI, clip(s))
	}
	return o, nil
}

// Location is a resolved witness: its prefix and the URL it signed as
// where it is reached.
type Location struct {
	Prefix string
	URL    string
}

// Resolve fetches a witness's OOBI (http://HOST/oobi/WIT/controller) and
// returns where the witness says it is: its KEL must be a non-transferable
// inception of WIT that kel accepts, and a /loc/scheme reply signed by WIT
// must name its URL.
func (c *Client) Resolve(ctx context.Context, oobi string) (Location, error) {
	o, err := ParseOOBI(oobi)
	if err != nil {
		return Location{}, err
	}
	if o.AID[0] != 'B' {
		return Location{}, fmt.Errorf("%w: %q names %s, which is not a witness (a non-transferable B… prefix)", ErrOOBI, clip(oobi), o.AID)
	}
	var loc Location
	req := request{method: http.MethodGet, url: o.URL, limit: maxReceiptAnswer}
	err = c.do(ctx, req, func(a answer) error {
		if a.status != http.StatusOK {
			return statusErr(req, a)
		}
		var err error
		loc, err = witnessLocation(o.AID, a.body)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrGarbage, o.URL, err)
		}
		return nil
	})
	return loc, err
}

// witnessLocation reads a witness's OOBI answer.
func witnessLocation(wit string, b []byte) (Location, error) {
	s, err := kel.ParseOOBI(b)
	if err != nil {
		return Location{}, err
	}
	v := kel.NewVerifier()
	held := false
	for _, m := range s.Messages {
		if m.Event.Prefix() != wit {
			continue
		}
		if r := v.Accept(m); !r.OK() {
			return Location{}, fmt.Errorf("the witness's own kel: %w", r.Err)
		}
		held = true
	}
	if !held {
		return Location{}, fmt.Errorf("no inception of %s in the answer", wit)
	}
	for _, r := range s.Replies {
		if r.Route != "/loc/scheme" || r.Attrs["eid"] != wit {
			continue
		}
		l, err := r.LocScheme()
		if err != nil {
			return Location{}, err
		}
		return Location{Prefix: wit, URL: l.URL}, nil
	}
	return Location{}, fmt.Errorf("no /loc/scheme reply of %s in the answer", wit)
}

// Receipt submits a fully signed event to the witness at base (POST
// /receipts, the event as the body and its attachments in the header) and
// returns the receipt it answers with, checked to name the event; the
// caller checks the couple's signature and witness against the event's
// key state. A 202 (the witness does not know the identifier yet) is
// retried and, in the end, ErrPending.
func (c *Client) Receipt(ctx context.Context, base, wit string, m kel.Message) (kel.Receipt, error) {
	if len(m.Sigs) == 0 {
		return kel.Receipt{}, fmt.Errorf("%w: %s", ErrUnsigned, eventName(m.Event))
	}
	req := request{method: http.MethodPost, url: join(base, "/receipts"), body: m.Event.Raw(),
		attachment: m.Attachments(), dest: wit, limit: maxReceiptAnswer}
	var rct kel.Receipt
	err := c.do(ctx, req, func(a answer) error {
		switch a.status {
		case http.StatusOK:
		case http.StatusAccepted:
			return fmt.Errorf("%w: %s: the witness escrowed %s (202); it does not know %s yet", ErrPending, req.url, eventName(m.Event), m.Event.Prefix())
		default:
			return statusErr(req, a)
		}
		r, err := kel.ParseReceipt(a.body)
		if err == nil {
			err = r.Names(m.Event)
		}
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrGarbage, req.url, err)
		}
		rct = r
		return nil
	})
	return rct, err
}

// Submit sends a fully signed event, with whatever witness signatures it
// carries, to the witness's inbox (POST /; how a witness added by a
// rotation learns the identifier's earlier events). The witness answers
// 204 and processes it later.
func (c *Client) Submit(ctx context.Context, base, wit string, m kel.Message) error {
	if len(m.Sigs) == 0 {
		return fmt.Errorf("%w: %s", ErrUnsigned, eventName(m.Event))
	}
	req := request{method: http.MethodPost, url: join(base, "/"), body: m.Event.Raw(), attachment: m.Attachments(), dest: wit, limit: maxReceiptAnswer}
	return c.do(ctx, req, func(a answer) error {
		if a.status != http.StatusNoContent && a.status != http.StatusOK {
			return statusErr(req, a)
		}
		return nil
	})
}

// SendReceipt passes receipts (the other witnesses' couples) to a witness
// (POST / with the rct), so that it holds bt receipts too and serves the
// identifier's KEL fully witnessed. A receipt without couples is not sent.
func (c *Client) SendReceipt(ctx context.Context, base, wit string, r kel.Receipt) error {
	if len(r.Couples) == 0 && len(r.Wigs) == 0 {
		return nil
	}
	req := request{method: http.MethodPost, url: join(base, "/"), body: r.Body(), attachment: r.Attachments(), dest: wit, limit: maxReceiptAnswer}
	return c.do(ctx, req, func(a answer) error {
		if a.status != http.StatusNoContent && a.status != http.StatusOK {
			return statusErr(req, a)
		}
		return nil
	})
}

// Accepted asks the witness which event it accepted at sn of pre (GET
// /receipts?pre=&sn=) and returns its receipt (witness signatures as
// -B). ErrRefused wraps a 404: it accepted none there.
func (c *Client) Accepted(ctx context.Context, base, pre string, sn uint64) (kel.Receipt, error) {
	q := url.Values{"pre": {pre}, "sn": {strconv.FormatUint(sn, 10)}}
	req := request{method: http.MethodGet, url: join(base, "/receipts?"+q.Encode()), limit: maxReceiptAnswer}
	var rct kel.Receipt
	err := c.do(ctx, req, func(a answer) error {
		if a.status != http.StatusOK {
			return statusErr(req, a)
		}
		r, err := kel.ParseReceipt(a.body)
		if err == nil && (r.Prefix != pre || r.Sn != sn) {
			err = fmt.Errorf("%w: asked for %s sn %d, got %s sn %d", kel.ErrReceipt, pre, sn, r.Prefix, r.Sn)
		}
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrGarbage, req.url, err)
		}
		rct = r
		return nil
	})
	return rct, err
}

// Fetched is what Fetch got: the identifier's KEL messages and the
// replies that came with them, and the URL that served them.
type Fetched struct {
	OOBI   OOBI
	Stream kel.OOBIStream
	From   string
}

// Fetch gets an identifier's KEL from the witness an OOBI names: the OOBI
// itself and, when the witness does not serve it there (404 until the
// identifier's latest event is fully witnessed there), its KEL query
// (GET /query?typ=kel&pre=AID). Nothing is verified here: the caller
// replays the messages.
func (c *Client) Fetch(ctx context.Context, oobi string) (Fetched, error) {
	o, err := ParseOOBI(oobi)
	if err != nil {
		return Fetched{}, err
	}
	get := func(u string) (kel.OOBIStream, error) {
		req := request{method: http.MethodGet, url: u, limit: maxKELAnswer}
		var s kel.OOBIStream
		err := c.do(ctx, req, func(a answer) error {
			if a.status != http.StatusOK {
				return statusErr(req, a)
			}
			var err error
			if s, err = kel.ParseOOBI(a.body); err != nil {
				return fmt.Errorf("%w: %s: %w", ErrGarbage, u, err)
			}
			return nil
		})
		return s, err
	}
	s, err := get(o.URL)
	if err == nil && len(s.Messages) > 0 {
		return Fetched{OOBI: o, Stream: s, From: o.URL}, nil
	}
	if errors.Is(err, ErrUnreachable) {
		return Fetched{}, err // the same host serves the query: no point asking it
	}
	q := join(o.Base, "/query?"+url.Values{"typ": {"kel"}, "pre": {o.AID}}.Encode())
	s2, err2 := get(q)
	if err2 != nil {
		if err != nil {
			return Fetched{}, fmt.Errorf("%w; then %w", err, err2)
		}
		return Fetched{}, err2
	}
	s2.Replies = append(s2.Replies, s.Replies...)
	return Fetched{OOBI: o, Stream: s2, From: q}, nil
}

func eventName(ev *kel.Event) string {
	return fmt.Sprintf("%s sn %d of %s", ev.Ilk(), ev.Sn(), ev.Prefix())
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
