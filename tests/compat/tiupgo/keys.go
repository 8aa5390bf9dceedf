package main

// Keys and signatures of the TiUP v1 mirror format:
//   - RSA keys (2048 bits when generated), scheme rsassa-pss-sha256;
//   - public key PEM: label "PUBLIC KEY", PKIX SubjectPublicKeyInfo DER,
//     64-character base64 lines, trailing newline (encoding/pem);
//   - private key PEM: label "PRIVATE KEY" but PKCS#1 RSAPrivateKey DER;
//   - key ID: lowercase hex sha256 of the canonical JSON of
//     {"keytype":"rsa","keyval":{"public":<public PEM>},"scheme":"rsassa-pss-sha256"};
//   - signature: base64(std, padded) of RSASSA-PSS over sha256(payload) with
//     Go's default options (nil => salt length "auto" when verifying, maximum
//     salt length when signing).

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

const (
	keyTypeRSA    = "rsa"
	keySchemePSS  = "rsassa-pss-sha256"
	rsaKeyBits    = 2048
	shortIDLength = 16
)

// keyInfo is the JSON object describing a key, in the member order used by
// TiUP's key files (keytype, keyval, scheme). In manifests it is written
// canonically (the same order happens to be the sorted order).
type keyInfo struct {
	Type   string            `json:"keytype"`
	Value  map[string]string `json:"keyval"`
	Scheme string            `json:"scheme"`
}

// publicPEM returns the PEM text TiUP stores for a public key.
func publicPEM(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// privatePEM returns the PEM text TiUP stores for a private key
// ("PRIVATE KEY" label around PKCS#1 DER).
func privatePEM(k *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

// keyIDForPublicPEM computes the key ID of a public key given as PEM text.
func keyIDForPublicPEM(pubPEM string) (string, error) {
	payload, err := canonicalMarshal(map[string]interface{}{
		"keytype": keyTypeRSA,
		"keyval":  map[string]interface{}{"public": pubPEM},
		"scheme":  keySchemePSS,
	})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(payload)
	return hex.EncodeToString(sum[:]), nil
}

// parsePublicPEMStrict parses a public key PEM and requires it to be exactly
// what Go's encoders would produce for that key (64-char lines, trailing
// newline, "PUBLIC KEY" label, PKIX DER, nothing before or after).
func parsePublicPEMStrict(s string) (*rsa.PublicKey, error) {
	block, rest := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("public key is not PEM")
	}
	if len(rest) != 0 {
		return nil, errors.New("data after the PEM block")
	}
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("PEM label is %q, want \"PUBLIC KEY\"", block.Type)
	}
	if len(block.Headers) != 0 {
		return nil, errors.New("PEM block has headers")
	}
	pubAny, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("not a PKIX public key: %v", err)
	}
	pub, ok := pubAny.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key is %T, want RSA", pubAny)
	}
	again, err := publicPEM(pub)
	if err != nil {
		return nil, err
	}
	if again != s {
		return nil, errors.New("public key PEM is not in Go's exact encoding (64-char lines, trailing newline, canonical PKIX DER)")
	}
	return pub, nil
}

// signPayload signs exactly like TiUP: SignPSS(rand, key, SHA256,
// sha256(payload), nil), base64 standard encoding.
func signPayload(k *rsa.PrivateKey, payload []byte) (string, error) {
	digest := sha256.Sum256(payload)
	sig, err := rsa.SignPSS(rand.Reader, k, crypto.SHA256, digest[:], nil)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// verifyPayload verifies exactly like TiUP: VerifyPSS(pub, SHA256,
// sha256(payload), sig, nil).
func verifyPayload(pub *rsa.PublicKey, payload []byte, sigB64 string) error {
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return fmt.Errorf("signature is not base64: %v", err)
	}
	digest := sha256.Sum256(payload)
	return rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, nil)
}

// privKey is a generated or loaded private key with its ID.
type privKey struct {
	ID  string
	Key *rsa.PrivateKey
}

func newPrivKey() (*privKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
	if err != nil {
		return nil, err
	}
	return wrapPrivKey(k)
}

func wrapPrivKey(k *rsa.PrivateKey) (*privKey, error) {
	p, err := publicPEM(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	id, err := keyIDForPublicPEM(p)
	if err != nil {
		return nil, err
	}
	return &privKey{ID: id, Key: k}, nil
}

// publicInfo returns the public KeyInfo stored in manifests.
func (p *privKey) publicInfo() keyInfo {
	pemText, err := publicPEM(&p.Key.PublicKey)
	if err != nil {
		panic(err) // cannot fail for an RSA key
	}
	return keyInfo{Type: keyTypeRSA, Value: map[string]string{"public": pemText}, Scheme: keySchemePSS}
}

// keyFileBytes returns the bytes TiUP writes for a private key file:
// json.NewEncoder(f).Encode(KeyInfo) => struct order, compact, "\n" at end.
func (p *privKey) keyFileBytes() ([]byte, error) {
	var buf bytes.Buffer
	ki := keyInfo{Type: keyTypeRSA, Value: map[string]string{"private": privatePEM(p.Key)}, Scheme: keySchemePSS}
	if err := json.NewEncoder(&buf).Encode(ki); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// loadPrivKeyFile reads a TiUP private key file.
func loadPrivKeyFile(path string) (*privKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ki keyInfo
	if err := json.Unmarshal(data, &ki); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if ki.Type != keyTypeRSA || ki.Scheme != keySchemePSS {
		return nil, fmt.Errorf("%s: unsupported key type/scheme %q/%q", path, ki.Type, ki.Scheme)
	}
	block, _ := pem.Decode([]byte(ki.Value["private"]))
	if block == nil {
		return nil, fmt.Errorf("%s: no private key PEM", path)
	}
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return wrapPrivKey(k)
}
