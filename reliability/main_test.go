package reliability

import (
	"os"
	"testing"

	"github.com/sondeproject/sonde/internal/proctest"
)

// sondeBin is the sonde binary under test, built once by TestMain.
var sondeBin string

func TestMain(m *testing.M) {
	os.Exit(proctest.MainWithSonde(m, &sondeBin))
}
