package main

// The options of ncat (and nc) that sonde spells differently. Where the
// meaning is the same, sonde's flag carries ncat's name as an alias (see
// the catalogue in flags.go: --ssl-cert, --ssl-key, --ssl-trustfile,
// --ssl-alpn, --ssl-servername, --nodns, --unixsock, --source-port).
// Where it is not, or sonde has no such thing, the name is refused here
// with the spelling sonde uses instead.

import "github.com/sondeproject/sonde/transport"

// ncatOption is what sonde says of an option of ncat's it does not take.
type ncatOption struct {
	why, hint string
}

// ncatOptions are keyed by name without dashes. A command that has a flag
// of the name (echo's --delay, relay's --idle-timeout) never gets here:
// only unknown flags are looked up.
var ncatOptions = map[string]ncatOption{
	"hex-dump":      {"sonde writes dumps with --hex-file FILE (or --hex to stderr)", "e.g. sonde --hex-file dump.txt HOST PORT"},
	"output":        {"sonde writes what it receives to stdout: redirect it", "e.g. sonde HOST PORT > FILE, or --hex-file FILE for a dump of both ways"},
	"o":             {"sonde writes what it receives to stdout: redirect it", "e.g. sonde HOST PORT > FILE, or --hex-file FILE for a dump of both ways"},
	"append-output": {"sonde writes what it receives to stdout: redirect it", "e.g. sonde HOST PORT >> FILE"},
	"ssl-verify":    {"sonde --tls always verifies the server's certificate (--insecure turns that off)", "drop --ssl-verify; --ca FILE trusts a private CA"},
	"ssl-ciphers":   {"sonde uses Go's TLS cipher suites and does not choose among them", "drop --ssl-ciphers"},
	"allowfile":     {"sonde takes the clients to serve as --allow CIDR (repeatable, comma-separated)", "e.g. sonde -lk --allow \"$(paste -sd, FILE)\" PORT"},
	"denyfile":      {"sonde takes the clients to refuse as --deny CIDR (repeatable, comma-separated)", "e.g. sonde -lk --deny \"$(paste -sd, FILE)\" PORT"},
	"idle-timeout":  {"sonde's -w DUR is also the idle timeout of a session", "e.g. sonde -w 30s HOST PORT"},
	"delay":         {"sonde paces the lines it sends with -i DUR", "e.g. sonde -i 500ms HOST PORT"},
	"lua-exec":      {"sonde runs programs with -e PROG or shell commands with -c CMD", "e.g. sonde -l -e /bin/cat PORT"},
	"broker":        {"sonde has no connection brokering", "sonde -lk serves many clients, each on its own"},
	"chat":          {"sonde has no chat mode", "sonde -lk serves many clients, each on its own"},
	"telnet":        {"sonde does not negotiate telnet options", "drop --telnet"},
	"sctp":          {"sonde speaks TCP, UDP and Unix sockets, not SCTP", "drop --sctp"},
	"vsock":         {"sonde speaks TCP, UDP and Unix sockets, not vsock", "drop --vsock"},
}

// ncatError refuses an ncat option by its name (without dashes), or
// returns nil when name is none of them.
func ncatError(name string) error {
	o, ok := ncatOptions[name]
	if !ok {
		return nil
	}
	return &transport.InputError{Msg: dashed(name) + ": " + o.why, Hint: o.hint}
}
