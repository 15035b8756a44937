package transport

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// ServiceName returns the service name of port for network ("tcp" or
// "udp"), as scan reports it: from the system's services file (the first
// name listed for that port, as getservbyport(3) answers), else from a
// small built-in table of common ports, else "". Go has no reverse of
// net.LookupPort, hence this.
func ServiceName(port int, network string) string {
	if name := systemServices()[serviceKey{port, network}]; name != "" {
		return name
	}
	return builtinServices()[serviceKey{port, network}]
}

type serviceKey struct {
	port    int
	network string
}

var systemServices = sync.OnceValue(func() map[serviceKey]string {
	f, err := os.Open(servicesPath())
	if err != nil {
		return nil
	}
	defer f.Close()
	return parseServices(f)
})

func servicesPath() string {
	if runtime.GOOS == "windows" {
		return filepath.Join(os.Getenv("SystemRoot"), `System32\drivers\etc\services`)
	}
	return "/etc/services"
}

// parseServices reads services(5): "name port/protocol [aliases] [# comment]".
// The first name given for a port and protocol wins.
func parseServices(r io.Reader) map[serviceKey]string {
	m := make(map[serviceKey]string)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		portStr, proto, ok := strings.Cut(fields[1], "/")
		if !ok {
			continue
		}
		port, err := strconv.Atoi(portStr)
		if err != nil || port < 1 || port > 65535 {
			continue
		}
		k := serviceKey{port, strings.ToLower(proto)}
		if _, seen := m[k]; !seen {
			m[k] = fields[0]
		}
	}
	return m
}

// builtinServices covers common ports where no services file exists (or
// it lacks them), so every platform names them alike. It is built on first
// use, not at start-up: most runs name no port.
var builtinServices = sync.OnceValue(func() map[serviceKey]string {
	m := make(map[serviceKey]string)
	both := func(port int, name string) {
		m[serviceKey{port, "tcp"}] = name
		m[serviceKey{port, "udp"}] = name
	}
	tcp := func(port int, name string) { m[serviceKey{port, "tcp"}] = name }
	udp := func(port int, name string) { m[serviceKey{port, "udp"}] = name }
	both(7, "echo")
	tcp(20, "ftp-data")
	tcp(21, "ftp")
	tcp(22, "ssh")
	tcp(23, "telnet")
	tcp(25, "smtp")
	both(53, "domain")
	udp(67, "bootps")
	udp(68, "bootpc")
	udp(69, "tftp")
	tcp(80, "http")
	both(88, "kerberos")
	tcp(110, "pop3")
	both(123, "ntp")
	tcp(143, "imap2")
	udp(161, "snmp")
	udp(162, "snmp-trap")
	tcp(179, "bgp")
	tcp(389, "ldap")
	tcp(443, "https")
	udp(443, "https")
	tcp(445, "microsoft-ds")
	tcp(465, "submissions")
	udp(500, "isakmp")
	udp(514, "syslog")
	tcp(587, "submission")
	tcp(636, "ldaps")
	tcp(853, "domain-s")
	tcp(873, "rsync")
	tcp(993, "imaps")
	tcp(995, "pop3s")
	udp(1194, "openvpn")
	tcp(1433, "ms-sql-s")
	tcp(1883, "mqtt")
	tcp(2049, "nfs")
	udp(2049, "nfs")
	tcp(2375, "docker")
	tcp(2376, "docker-s")
	tcp(2379, "etcd-client")
	tcp(3306, "mysql")
	tcp(3389, "ms-wbt-server")
	both(3478, "stun")
	udp(4500, "ipsec-nat-t")
	tcp(5060, "sip")
	udp(5060, "sip")
	tcp(5222, "xmpp-client")
	tcp(5432, "postgresql")
	udp(5353, "mdns")
	tcp(5672, "amqp")
	tcp(5900, "vnc")
	tcp(6379, "redis")
	tcp(8080, "http-alt")
	tcp(8443, "https-alt")
	tcp(11211, "memcache")
	tcp(27017, "mongodb")
	udp(51820, "wireguard")
	return m
})
