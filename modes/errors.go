package modes

// How a mode's end reaches main: the exported errors main maps to exit
// statuses, and the unexported ones a mode uses to tell its own cases apart.

import (
	"errors"
	"fmt"
)

// Interrupted is returned when a signal ended the session.
type Interrupted struct{ Signal string }

func (e *Interrupted) Error() string { return "interrupted by " + e.Signal }

// isInterrupted tells whether err is, or wraps, a signal's interruption.
func isInterrupted(err error) bool {
	var intr *Interrupted
	return errors.As(err, &intr)
}

// ExitStatus ends sonde with Code and no further message: the mode has
// already reported what happened (e.g. a scan that found no open port).
type ExitStatus struct{ Code int }

func (e *ExitStatus) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// Summarized is a session's error with its -v summary ("sent N bytes,
// received M bytes in D"), which main prints after explaining the error:
// the cause first, then the totals.
type Summarized struct {
	Err     error
	Summary string
}

func (e *Summarized) Error() string { return e.Err.Error() }
func (e *Summarized) Unwrap() error { return e.Err }

// errStdoutClosed ends a session quietly: the reader of our stdout went
// away (sonde ... | head -c 10), which is success, as it is for cat.
var errStdoutClosed = errors.New("stdout closed")

// quietIfClosed turns a closed stdout into a quiet success.
func quietIfClosed(err error) error {
	if errors.Is(err, errStdoutClosed) {
		return nil
	}
	return err
}

// stdinError and stdoutError mark which local stream failed, so the report
// does not blame the network for a full disk.
type stdinError struct{ err error }
type stdoutError struct{ err error }

func (e *stdinError) Error() string  { return "cannot read stdin: " + e.err.Error() }
func (e *stdinError) Unwrap() error  { return e.err }
func (e *stdoutError) Error() string { return "cannot write stdout: " + e.err.Error() }
func (e *stdoutError) Unwrap() error { return e.err }
