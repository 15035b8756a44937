// Package certtest makes the certificates the TLS tests need: a test CA
// ("sonde test CA") and certificates it signs (or that sign themselves),
// valid, expired, not valid yet or for another name, parsed and written
// as PEM files.
package certtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const day = 24 * time.Hour

// PKI is a certificate authority made for one test.
type PKI struct {
	CA     *x509.Certificate
	CAKey  *ecdsa.PrivateKey
	CAFile string // PEM of the CA certificate, for --ca
}

// Cert is a certificate with its key, parsed and as files.
type Cert struct {
	TLS      tls.Certificate
	Leaf     *x509.Certificate
	CertFile string
	KeyFile  string
}

// Spec describes a certificate to make: who it is for, when it is valid,
// and whether the CA signs it (else it signs itself).
type Spec struct {
	File      string // base name of its files
	CN        string
	Names     []string // DNS names and IP addresses
	NotBefore time.Time
	NotAfter  time.Time
	SelfSign  bool
	Client    bool // for client authentication instead of a server
	RawDNS    bool // names are DNS names even when they read as IP addresses
}

// New makes a CA, valid from yesterday for 30 days.
func New(t testing.TB) *PKI {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: "sonde test CA"},
		NotBefore:             time.Now().Add(-day),
		NotAfter:              time.Now().Add(30 * day),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, ca := create(t, tmpl, tmpl, key, key)
	p := &PKI{CA: ca, CAKey: key, CAFile: filepath.Join(t.TempDir(), "ca.pem")}
	writePEM(t, p.CAFile, "CERTIFICATE", der)
	return p
}

// create signs tmpl (for key) as parent with signer, and returns the
// certificate both as DER and parsed.
func create(t testing.TB, tmpl, parent *x509.Certificate, key, signer *ecdsa.PrivateKey) ([]byte, *x509.Certificate) {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return der, cert
}

// Issue makes a certificate as spec says (valid from yesterday for 30
// days unless it gives dates) and writes it and its key as PEM files, in
// a directory of the caller's own (parallel subtests issue at once).
func (p *PKI) Issue(t testing.TB, spec Spec) Cert {
	t.Helper()
	if spec.NotBefore.IsZero() {
		spec.NotBefore = time.Now().Add(-day)
	}
	if spec.NotAfter.IsZero() {
		spec.NotAfter = time.Now().Add(30 * day)
	}
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: spec.CN},
		NotBefore:    spec.NotBefore,
		NotAfter:     spec.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if spec.Client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	for _, n := range spec.Names {
		if ip := net.ParseIP(n); ip != nil && !spec.RawDNS {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	parent, signer := p.CA, p.CAKey
	if spec.SelfSign {
		parent, signer = tmpl, key
	}
	der, leaf := create(t, tmpl, parent, key, signer)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := Cert{
		TLS:      tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		Leaf:     leaf,
		CertFile: filepath.Join(dir, spec.File+".pem"),
		KeyFile:  filepath.Join(dir, spec.File+".key"),
	}
	writePEM(t, c.CertFile, "CERTIFICATE", der)
	writePEM(t, c.KeyFile, "PRIVATE KEY", keyDER)
	return c
}

// Loopback are the names of a server on this machine.
var Loopback = []string{"localhost", "127.0.0.1"}

// The certificates the tests serve. Dates are half a day away from a
// whole number of days, so that "N days ago" cannot flip while a test
// runs: Expired ended 3 days ago, NotYetValid starts in 2 days.

func (p *PKI) Valid(t testing.TB) Cert {
	return p.Issue(t, Spec{File: "valid", CN: "localhost", Names: Loopback})
}

func (p *PKI) Expired(t testing.TB) Cert {
	return p.Issue(t, Spec{File: "expired", CN: "localhost", Names: Loopback,
		NotBefore: time.Now().Add(-60 * day), NotAfter: time.Now().Add(-3*day - 12*time.Hour)})
}

func (p *PKI) NotYetValid(t testing.TB) Cert {
	return p.Issue(t, Spec{File: "future", CN: "localhost", Names: Loopback,
		NotBefore: time.Now().Add(2*day + 12*time.Hour), NotAfter: time.Now().Add(60 * day)})
}

// OtherName is for other.example and www.other.example, not this machine.
func (p *PKI) OtherName(t testing.TB) Cert {
	return p.Issue(t, Spec{File: "other", CN: "other.example", Names: []string{"other.example", "www.other.example"}})
}

func (p *PKI) SelfSigned(t testing.TB) Cert {
	return p.Issue(t, Spec{File: "self", CN: "sonde test self-signed", Names: Loopback, SelfSign: true})
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func writePEM(t testing.TB, name, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(name, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
