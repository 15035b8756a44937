package modes

// Who a datagram listener answers, and which senders it has reported.

import (
	"net"
	"sync"
)

// datagramPeer is who a datagram listener talks to. It locks onto the
// first sender it can answer and hears no one else, as nc and ncat do, so
// that a datagram from elsewhere can neither reach stdout nor take the
// rest of stdin. With -k (any) it hears every sender and answers the
// latest. Unnamed Unix datagram sockets cannot be answered: they are heard
// until a peer is locked, and never become it.
type datagramPeer struct {
	any       bool
	known     chan struct{} // closed once there is someone to answer (confirm)
	knownOnce sync.Once

	mu        sync.Mutex
	addr      net.Addr // the peer (with -k, the latest sender); nil until known
	name      string
	lastHeard *string // the sender of the last datagram heard, for -v
}

func newDatagramPeer(any bool) *datagramPeer {
	return &datagramPeer{any: any, known: make(chan struct{})}
}

// admit tells whether a datagram from from, whose name is name, is heard,
// and whether its sender differs from the last one heard.
func (p *datagramPeer) admit(from net.Addr, name string) (heard, newSender bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case name == "":
		heard = p.any || p.addr == nil
	case p.addr == nil:
		p.addr, p.name = from, name // known once confirmed
		heard = true
	case p.any || name == p.name:
		p.addr, p.name = from, name
		heard = true
	}
	if heard {
		newSender = p.lastHeard == nil || *p.lastHeard != name
		p.lastHeard = &name
	}
	return heard, newSender
}

// confirm makes the peer known, once there is one: stdin may go to it.
func (p *datagramPeer) confirm() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.addr != nil {
		p.knownOnce.Do(func() { close(p.known) })
	}
}

// current is the address stdin goes to, and its name.
func (p *datagramPeer) current() (net.Addr, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr, p.name
}

// answerable tells whether someone is known to answer.
func (p *datagramPeer) answerable() bool {
	select {
	case <-p.known:
		return true
	default:
		return false
	}
}

// reportedSenders remembers the senders already reported, so that each is
// reported once however many datagrams it sends; a flood from many
// addresses cannot grow it past 4096.
type reportedSenders map[string]bool

// first tells whether key is reported for the first time.
func (r reportedSenders) first(key string) bool {
	if r[key] {
		return false
	}
	if len(r) >= 4096 {
		clear(r)
	}
	r[key] = true
	return true
}
