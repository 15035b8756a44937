package transport

import "fmt"

// Holder is a process that holds a port or socket path.
type Holder struct {
	Name string
	PID  int
}

func (h *Holder) String() string { return fmt.Sprintf("%s, pid %d", h.Name, h.PID) }
