package tui

import (
	"errors"
	"fmt"
	"strings"
	"sync"
)

// errFake is what fakeBackend methods without a hook return.
var errFake = errors.New("fake backend: not set up")

// fakeBackend is a Backend for tests: Snap is what Snapshot returns, each
// method calls its hook when set, and every call is recorded in Calls.
type fakeBackend struct {
	mu    sync.Mutex
	Snap  Snapshot
	Calls []string

	OnNewMember        func(alias string) error
	OnCard             func(alias, forGroup string) (Outgoing, error)
	OnCheck            func() (CheckReport, error)
	OnContribute       func(group, alias string) (Outgoing, error)
	OnPoll             func() ([]Notice, error)
	OnReceive          func(source string, data []byte) ([]Notice, error)
	OnProposeInception func(InceptionRequest) (string, error)
	OnProposeRotation  func(RotationRequest) (string, error)
	OnProposeAnchoring func(AnchoringRequest) (string, error)
	OnReview           func(id string) (ReviewInfo, error)
	OnReviewDocs       func(id string, docs []string) (ReviewInfo, error) // when set, instead of OnReview
	OnSign             func(id string) (Outgoing, error)
	OnFinalize         func(id string) (Outgoing, error)
	OnPublish          func(id string) (PublishReport, error)
	OnAbort            func(id, reason string) error
	OnExport           func(id string, what ExportKind) (Outgoing, error)
	OnWriteFile        func(path string, data []byte) error
	OnReadFile         func(path string, limit int) ([]byte, error)
	OnDrop             func(name string, data []byte) (string, error)
}

var _ Backend = (*fakeBackend)(nil)

func (f *fakeBackend) call(format string, a ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls = append(f.Calls, fmt.Sprintf(format, a...))
}

// Called reports the calls made so far.
func (f *fakeBackend) Called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.Calls...)
}

func (f *fakeBackend) Snapshot() (Snapshot, error) {
	f.call("Snapshot")
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Snap, nil
}

func (f *fakeBackend) NewMember(alias string) error {
	f.call("NewMember %s", alias)
	if f.OnNewMember == nil {
		return errFake
	}
	return f.OnNewMember(alias)
}

func (f *fakeBackend) Card(alias, forGroup string) (Outgoing, error) {
	f.call("Card %s %s", alias, forGroup)
	if f.OnCard == nil {
		return Outgoing{}, errFake
	}
	return f.OnCard(alias, forGroup)
}

// Check is ready unless OnCheck says otherwise.
func (f *fakeBackend) Check() (CheckReport, error) {
	f.call("Check")
	if f.OnCheck == nil {
		return CheckReport{Ready: true, Lines: []string{"journal: 0 signatures"}}, nil
	}
	return f.OnCheck()
}

func (f *fakeBackend) Contribute(group, alias string) (Outgoing, error) {
	f.call("Contribute %s %s", group, alias)
	if f.OnContribute == nil {
		return Outgoing{}, errFake
	}
	return f.OnContribute(group, alias)
}

func (f *fakeBackend) Poll() ([]Notice, error) {
	f.call("Poll")
	if f.OnPoll == nil {
		return nil, nil
	}
	return f.OnPoll()
}

func (f *fakeBackend) Receive(source string, data []byte) ([]Notice, error) {
	f.call("Receive %s %d", source, len(data))
	if f.OnReceive == nil {
		return nil, errFake
	}
	return f.OnReceive(source, data)
}

func (f *fakeBackend) ProposeInception(r InceptionRequest) (string, error) {
	f.call("ProposeInception %s", r.Alias)
	if f.OnProposeInception == nil {
		return "", errFake
	}
	return f.OnProposeInception(r)
}

func (f *fakeBackend) ProposeRotation(r RotationRequest) (string, error) {
	f.call("ProposeRotation %s", r.Group)
	if f.OnProposeRotation == nil {
		return "", errFake
	}
	return f.OnProposeRotation(r)
}

func (f *fakeBackend) ProposeAnchoring(r AnchoringRequest) (string, error) {
	f.call("ProposeAnchoring %s", r.Group)
	if f.OnProposeAnchoring == nil {
		return "", errFake
	}
	return f.OnProposeAnchoring(r)
}

func (f *fakeBackend) Review(id string, docs ...string) (ReviewInfo, error) {
	if len(docs) > 0 {
		f.call("Review %s %s", id, strings.Join(docs, " "))
	} else {
		f.call("Review %s", id)
	}
	if f.OnReviewDocs != nil {
		return f.OnReviewDocs(id, docs)
	}
	if f.OnReview == nil {
		return ReviewInfo{}, errFake
	}
	return f.OnReview(id)
}

func (f *fakeBackend) Sign(id string) (Outgoing, error) {
	f.call("Sign %s", id)
	if f.OnSign == nil {
		return Outgoing{}, errFake
	}
	return f.OnSign(id)
}

func (f *fakeBackend) Finalize(id string) (Outgoing, error) {
	f.call("Finalize %s", id)
	if f.OnFinalize == nil {
		return Outgoing{}, errFake
	}
	return f.OnFinalize(id)
}

func (f *fakeBackend) Publish(id string) (PublishReport, error) {
	f.call("Publish %s", id)
	if f.OnPublish == nil {
		return PublishReport{}, errFake
	}
	return f.OnPublish(id)
}

func (f *fakeBackend) Abort(id, reason string) error {
	f.call("Abort %s %s", id, reason)
	if f.OnAbort == nil {
		return errFake
	}
	return f.OnAbort(id, reason)
}

func (f *fakeBackend) Export(id string, what ExportKind) (Outgoing, error) {
	f.call("Export %s %s", id, what)
	if f.OnExport == nil {
		return Outgoing{}, errFake
	}
	return f.OnExport(id, what)
}

func (f *fakeBackend) WriteFile(path string, data []byte) error {
	f.call("WriteFile %s %d", path, len(data))
	if f.OnWriteFile == nil {
		return errFake
	}
	return f.OnWriteFile(path, data)
}

func (f *fakeBackend) ReadFile(path string, limit int) ([]byte, error) {
	f.call("ReadFile %s", path)
	if f.OnReadFile == nil {
		return nil, errFake
	}
	return f.OnReadFile(path, limit)
}

func (f *fakeBackend) Drop(name string, data []byte) (string, error) {
	f.call("Drop %s %d", name, len(data))
	if f.OnDrop == nil {
		return "", errFake
	}
	return f.OnDrop(name, data)
}

func (f *fakeBackend) Close() error { f.call("Close"); return nil }
