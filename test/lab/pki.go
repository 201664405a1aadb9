package lab

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Each cluster has its own CA. Every identity is a client certificate signed by it: the
// apiservers run the real Node and RBAC authorizers with NodeRestriction, so a kubelet can
// only touch its own Node, and controllers authenticate as the users the bootstrap RBAC
// roles name (system:kube-controller-manager, system:kube-scheduler).

type certAuthority struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newKey() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
}

func newCA(name string) (*certAuthority, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: "ycloud-lab " + name + " CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &certAuthority{cert: cert, key: key}, nil
}

// issue signs a certificate for cn/orgs. Serving certificates list their names and IPs.
func (ca *certAuthority) issue(cn string, orgs []string, serving bool, dnsNames []string, ips []net.IP) (certPEM, keyPEM []byte, err error) {
	key, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: cn, Organization: orgs},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(5 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		DNSNames:     dnsNames,
		IPAddresses:  ips,
	}
	if serving {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}

func (ca *certAuthority) certPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
}

// clusterPKI is what one cluster's processes need, as files under <cluster dir>/pki.
type clusterPKI struct {
	dir                   string
	ca                    *certAuthority
	caFile                string
	serverCert, serverKey string
	kubeletClientCert     string
	kubeletClientKey      string
	saKey, saPub          string
}

// writeClusterPKI creates the CA, the apiserver's serving and kubelet-client certificates,
// and the service-account key pair.
func writeClusterPKI(ci *ClusterInfo) (*clusterPKI, error) {
	dir := filepath.Join(ci.Dir, "pki")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cluster %s pki: %w", ci.Name, err)
	}
	ca, err := newCA(ci.Name)
	if err != nil {
		return nil, fmt.Errorf("cluster %s pki: %w", ci.Name, err)
	}
	p := &clusterPKI{dir: dir, ca: ca, caFile: filepath.Join(dir, "ca.crt")}
	write := func(name string, data []byte) (string, error) {
		f := filepath.Join(dir, name)
		return f, os.WriteFile(f, data, 0o600)
	}
	if _, err := write("ca.crt", ca.certPEM()); err != nil {
		return nil, fmt.Errorf("cluster %s pki: %w", ci.Name, err)
	}
	ips := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP(ci.BindIP), net.ParseIP(kubernetesServiceIP)}
	dns := []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	crt, key, err := ca.issue("kube-apiserver", nil, true, dns, ips)
	if err != nil {
		return nil, fmt.Errorf("cluster %s pki: %w", ci.Name, err)
	}
	if p.serverCert, err = write("apiserver.crt", crt); err == nil {
		p.serverKey, err = write("apiserver.key", key)
	}
	if err != nil {
		return nil, fmt.Errorf("cluster %s pki: %w", ci.Name, err)
	}
	// The apiserver's identity towards kubelets (exec, logs, port-forward); kubelets
	// authorize it through a SubjectAccessReview, which system:masters passes.
	crt, key, err = ca.issue("kube-apiserver-kubelet-client", []string{"system:masters"}, false, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("cluster %s pki: %w", ci.Name, err)
	}
	if p.kubeletClientCert, err = write("apiserver-kubelet-client.crt", crt); err == nil {
		p.kubeletClientKey, err = write("apiserver-kubelet-client.key", key)
	}
	if err != nil {
		return nil, fmt.Errorf("cluster %s pki: %w", ci.Name, err)
	}
	sa, err := newKey()
	if err != nil {
		return nil, fmt.Errorf("cluster %s pki: %w", ci.Name, err)
	}
	kder, err := x509.MarshalECPrivateKey(sa)
	if err != nil {
		return nil, fmt.Errorf("cluster %s pki: %w", ci.Name, err)
	}
	pder, err := x509.MarshalPKIXPublicKey(sa.Public())
	if err != nil {
		return nil, fmt.Errorf("cluster %s pki: %w", ci.Name, err)
	}
	if p.saKey, err = write("sa.key", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})); err == nil {
		p.saPub, err = write("sa.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pder}))
	}
	if err != nil {
		return nil, fmt.Errorf("cluster %s pki: %w", ci.Name, err)
	}
	return p, nil
}

// writeKubeconfig issues a client certificate for user/groups and writes a self-contained
// kubeconfig (certificates embedded) for the cluster's apiserver.
func (p *clusterPKI) writeKubeconfig(path, clusterName, server, user string, groups []string) error {
	crt, key, err := p.ca.issue(user, groups, false, nil, nil)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters[clusterName] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: p.ca.certPEM()}
	kc.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: crt, ClientKeyData: key}
	kc.Contexts[clusterName] = &clientcmdapi.Context{Cluster: clusterName, AuthInfo: user}
	kc.CurrentContext = clusterName
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return os.Chmod(path, 0o600)
}
