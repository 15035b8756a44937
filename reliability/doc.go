// Package reliability holds no code of its own: its tests are sonde's
// reliability suite (see RELIABILITY.md at the top of the repository).
// They drive the sonde binary, built once by TestMain, through faulty
// networks (internal/faultnet), load, floods, generated bad input and
// signals, and check that nothing is lost, leaked or left hanging.
//
// Tests that need root and a private network namespace (everything that
// builds a faulty network, or probes ports it did not open) say so loudly
// and skip when they cannot have one, or fail when the CI environment
// variable is set: CI runs as root and must run them all.
package reliability
