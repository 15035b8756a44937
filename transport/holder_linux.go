package transport

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FindPortHolder names the process listening on port, by matching the
// socket inodes of /proc/net/{tcp,tcp6,udp,udp6} against /proc/*/fd. It
// returns nil when the port is free or the holder is not visible to us
// (another user's process, without root).
func FindPortHolder(network string, port int) *Holder {
	if port <= 0 {
		return nil
	}
	tables, wantState := []string{"/proc/net/tcp", "/proc/net/tcp6"}, "0A" // LISTEN
	if network == "udp" {
		tables, wantState = []string{"/proc/net/udp", "/proc/net/udp6"}, "07" // unconnected
	}
	inodes := make(map[string]bool)
	for _, table := range tables {
		for _, f := range readTable(table) {
			// fields: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			if len(f) < 10 || f[3] != wantState {
				continue
			}
			_, hexPort, ok := strings.Cut(f[1], ":")
			if p, err := strconv.ParseUint(hexPort, 16, 16); ok && err == nil && int(p) == port && f[9] != "0" {
				inodes[f[9]] = true
			}
		}
	}
	return findSocketOwner(inodes)
}

// FindUnixHolder names the process bound to a Unix socket path.
func FindUnixHolder(path string) *Holder {
	names := boundNames(path)
	inodes := make(map[string]bool)
	for _, f := range readUnixTable() {
		if names[f[7]] {
			inodes[f[6]] = true
		}
	}
	return findSocketOwner(inodes)
}

// unixPathBound tells whether /proc/net/unix proves a socket bound to
// path (under one of its boundNames). No match proves nothing: the table
// lists this network namespace's sockets only, by the path as it was bound.
func unixPathBound(path string) bool {
	names := boundNames(path)
	for _, f := range readUnixTable() {
		if names[f[7]] {
			return true
		}
	}
	return false
}

// boundNames are the names under which /proc/net/unix may list a socket
// bound to path: as given, made absolute, and with symbolic links in its
// directory resolved.
func boundNames(path string) map[string]bool {
	names := map[string]bool{path: true}
	if abs, err := filepath.Abs(path); err == nil {
		names[abs] = true
		if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
			names[filepath.Join(dir, filepath.Base(abs))] = true
		}
	}
	return names
}

// readUnixTable reads /proc/net/unix as rows of eight fields: Num RefCount
// Protocol Flags Type St Inode Path. The path is the rest of the line, as
// it may contain spaces; unnamed sockets are left out.
func readUnixTable() [][]string {
	f, err := os.Open("/proc/net/unix")
	if err != nil {
		return nil
	}
	defer f.Close()
	rows := [][]string{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		line := sc.Text()
		var row []string
		for range 7 {
			line = strings.TrimLeft(line, " ")
			field, rest, ok := strings.Cut(line, " ")
			if !ok {
				break
			}
			row = append(row, field)
			line = rest
		}
		if len(row) == 7 && line != "" {
			rows = append(rows, append(row, line))
		}
	}
	return rows
}

func readTable(name string) [][]string {
	f, err := os.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		rows = append(rows, strings.Fields(sc.Text()))
	}
	return rows
}

func findSocketOwner(inodes map[string]bool) *Holder {
	if len(inodes) == 0 {
		return nil
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range procs {
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil {
			continue
		}
		fds, err := os.ReadDir(dir + "/fd")
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(dir + "/fd/" + fd.Name())
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
				name, _ := os.ReadFile(dir + "/comm")
				return &Holder{Name: strings.TrimSpace(string(name)), PID: pid}
			}
		}
	}
	return nil
}

// portInTimeWaitOnly tells whether the only TCP sockets on local port are
// closed connections in TIME_WAIT, which keep a port from being bound for
// up to a minute after the connection that used it.
func portInTimeWaitOnly(network string, port int) bool {
	if network != "tcp" || port <= 0 {
		return false
	}
	timeWait := false
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		for _, f := range readTable(table) {
			if len(f) < 4 {
				continue
			}
			_, hexPort, ok := strings.Cut(f[1], ":")
			if p, err := strconv.ParseUint(hexPort, 16, 16); !ok || err != nil || int(p) != port {
				continue
			}
			if f[3] != "06" { // TIME_WAIT
				return false
			}
			timeWait = true
		}
	}
	return timeWait
}
