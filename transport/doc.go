// Package transport holds what sonde knows about sockets, below the modes:
//
//   - addresses and the parsing of what the user typed: targets, ports and
//     port ranges, durations, proxies, access lists (--allow/--deny). Package
//     main calls these parsers once; the rest of transport takes what they
//     return (an Endpoint, a *Proxy) and never parses again;
//   - dialing (with -4/-6, -s/-p, -w) and listening, TCP, UDP and Unix;
//   - TLS client and server configuration and verification;
//   - SOCKS4, SOCKS5 and HTTP CONNECT proxies;
//   - the direction-tagged hex dump of --hex;
//   - port probes for scan, ping and wait, and service names;
//   - error explanation: turning a network error into a one-line message
//     and a hint (see Explain);
//   - finding the process that holds a busy port or socket path.
//
// The loops that copy bytes between sockets and stdin/stdout live in
// package modes, not here. transport never prints: it returns errors that
// carry enough context to explain themselves.
package transport
