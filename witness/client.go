// Package witness talks to KERI witnesses over HTTP, the way keripy's
// witnesses serve it: it resolves a witness's OOBI (its signed location),
// submits fully signed events for receipts (POST /receipts), passes the
// other witnesses' receipts on (POST /), asks what a witness accepted (GET
// /receipts) and fetches an identifier's KEL (its OOBI, or GET /query).
// It is keremony's only package that does network I/O. Every answer is
// parsed strictly (package kel) and nothing is trusted that kel has not
// checked; a witness that is down, slow or answers garbage gets bounded
// retries with back-off and an error that says why.
package witness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Errors: every error of the package wraps one of these.
var (
	// ErrUnreachable: no answer (connection refused, reset, or no answer
	// within the timeout).
	ErrUnreachable = errors.New("witness did not answer")
	// ErrRefused: the witness refused the request (a 4xx status).
	ErrRefused = errors.New("witness refused the request")
	// ErrFailed: the witness failed (a 5xx status).
	ErrFailed = errors.New("witness failed")
	// ErrGarbage: an answer that is not what the request asks for.
	ErrGarbage = errors.New("witness answered garbage")
	// ErrPending: the witness took the event but has not accepted it (202:
	// it does not know the identifier yet).
	ErrPending = errors.New("witness has not accepted the event")
	// ErrUnsigned: an event without controller signatures is never sent (a
	// keripy witness escrows, or hangs on, such a request).
	ErrUnsigned = errors.New("event without signatures")
	// ErrOOBI: a URL that is not an OOBI keremony understands.
	ErrOOBI = errors.New("invalid oobi url")
)

// Content types of keripy's HTTP API: requests carry exactly
// application/cesr+json (keripy answers 406 to anything else, charset
// included); replies come as application/json+cesr.
const (
	requestType      = "application/cesr+json"
	headerAttachment = "CESR-ATTACHMENT"
	headerDest       = "CESR-DESTINATION"
)

// Limits on what a witness may send back.
const (
	maxReceiptAnswer = 1 << 20
	maxKELAnswer     = 64 << 20
	maxErrorText     = 200
)

// Options configure a Client; zero values take the defaults.
type Options struct {
	// HTTP is the HTTP client (default: one with Timeout per request).
	HTTP *http.Client
	// Timeout bounds one request (default 10s).
	Timeout time.Duration
	// Attempts bounds the tries of one request (default 4).
	Attempts int
	// Backoff is the wait after the first failed try; it doubles after
	// each (default 250ms), up to MaxBackoff (default 4s).
	Backoff, MaxBackoff time.Duration
	// Sleep waits between tries (default: a timer that ctx cancels).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client talks to witnesses. It is safe for concurrent use.
type Client struct {
	http                *http.Client
	attempts            int
	backoff, maxBackoff time.Duration
	timeout             time.Duration
	sleep               func(context.Context, time.Duration) error
}

// New makes a Client.
func New(o Options) *Client {
	c := &Client{http: o.HTTP, attempts: o.Attempts, backoff: o.Backoff, maxBackoff: o.MaxBackoff, timeout: o.Timeout, sleep: o.Sleep}
	if c.timeout <= 0 {
		c.timeout = 10 * time.Second
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: c.timeout}
	}
	if c.attempts <= 0 {
		c.attempts = 4
	}
	if c.backoff <= 0 {
		c.backoff = 250 * time.Millisecond
	}
	if c.maxBackoff <= 0 {
		c.maxBackoff = 4 * time.Second
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	return c
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// answer is one HTTP answer, read up to a limit.
type answer struct {
	status int
	body   []byte
}

// request is one request to make (again on each try).
type request struct {
	method, url string
	body        []byte
	attachment  string
	dest        string
	limit       int
}

// retryable reports whether a failed try may succeed when repeated.
func retryable(err error) bool {
	return errors.Is(err, ErrUnreachable) || errors.Is(err, ErrFailed) || errors.Is(err, ErrPending) || errors.Is(err, ErrGarbage)
}

// do makes req, trying again with back-off while check's verdict (or the
// transport's) is retryable, and returns the last verdict with the number
// of tries in its text.
func (c *Client) do(ctx context.Context, req request, check func(answer) error) error {
	wait := c.backoff
	var err error
	for try := 1; ; try++ {
		var a answer
		a, err = c.once(ctx, req)
		if err == nil {
			err = check(a)
		}
		if err == nil || !retryable(err) || try >= c.attempts || ctx.Err() != nil {
			if err != nil && try > 1 {
				err = fmt.Errorf("%w (%d tries)", err, try)
			}
			return err
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%w (%d tries, then %v)", err, try, serr)
		}
		wait = min(wait*2, c.maxBackoff)
	}
}

// once makes one try.
func (c *Client) once(ctx context.Context, req request) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, req.url, body)
	if err != nil {
		return answer{}, fmt.Errorf("%w: %s: %w", ErrOOBI, req.url, err)
	}
	if req.body != nil {
		hr.Header.Set("Content-Type", requestType)
		if req.attachment == "" { // an empty attachment header hangs keripy 1.3.6
			return answer{}, fmt.Errorf("%w: %s %s without attachments", ErrUnsigned, req.method, req.url)
		}
		hr.Header.Set(headerAttachment, req.attachment)
		if req.dest != "" {
			hr.Header.Set(headerDest, req.dest)
		}
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded || isTimeout(err) {
			return answer{}, fmt.Errorf("%w: %s %s: no answer within %s", ErrUnreachable, req.method, req.url, c.timeout)
		}
		return answer{}, fmt.Errorf("%w: %s %s: %v", ErrUnreachable, req.method, req.url, unwrapURLError(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(req.limit)+1))
	if err != nil {
		return answer{}, fmt.Errorf("%w: %s %s: the answer broke off: %v", ErrUnreachable, req.method, req.url, unwrapURLError(err))
	}
	if len(b) > req.limit {
		return answer{}, fmt.Errorf("%w: %s %s: an answer of more than %d bytes", ErrGarbage, req.method, req.url, req.limit)
	}
	return answer{status: resp.StatusCode, body: b}, nil
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// unwrapURLError drops net/http's "Post \"url\": " prefix (the URL is
// already in the message).
func unwrapURLError(err error) error {
	var u *url.Error
	if errors.As(err, &u) {
		return u.Err
	}
	return err
}

// statusErr turns an unexpected status into an error naming it and the
// start of what the witness said.
func statusErr(req request, a answer) error {
	text := strings.TrimSpace(string(a.body))
	if len(text) > maxErrorText {
		text = text[:maxErrorText] + "…"
	}
	what := fmt.Sprintf("%s %s: status %d", req.method, req.url, a.status)
	if text != "" {
		what += ": " + text
	}
	switch {
	case a.status >= 500:
		return fmt.Errorf("%w: %s", ErrFailed, what)
	case a.status >= 400:
		return fmt.Errorf("%w: %s", ErrRefused, what)
	}
	return fmt.Errorf("%w: %s", ErrGarbage, what)
}

// join joins a witness's base URL and a path.
func join(base, path string) string { return strings.TrimRight(base, "/") + path }
