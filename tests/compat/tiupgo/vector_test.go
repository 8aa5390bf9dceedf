package main

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Exact bytes of pkg/repository/testdata/polluted/manifests/timestamp.json
// in pingcap/tiup (681 bytes, signed by PingCAP's production timestamp key),
// as quoted in docs/tiup-compat.md §1.10.
const pollutedTimestamp = `{"signatures":[{"keyid":"66d4ea1da00076c822a6e1b4df5eb1e529eb38f6edcedff323e62f2bfe3eaddd","sig":"V8MgDDCmfVb8N0O3unbAno8q6i2Ag1Sbr/3n12Odk8McKzZaif7OcDm1IZB5J3o7ajsBF1tduTrcO7OijJQvx8l9i6aZi9J1lb/eJpYsyvQWdzd/T7osdRkEIhtM4/sGFjGslOolTFmpA/U5IkJ+FWAi38YaFPRn8bfIPLGniRAYs4/qjLBB3RgBUlDIIVvTiJIHEHtf3Bqb5LjpEjW4XhmDK94LJbKUqfO/6oDnQzI6Rot7zBWwDQVrIHakvQxoqA5c2jtMHCXSdX9cN7aRrNO4csggMzvQot7K0JYYszlroXnsL2ioNMgcPhtoEaMLW9mFjmdgR0j1//n1mxtdWA=="}],"signed":{"_type":"timestamp","expires":"2000-08-01T14:47:48+08:00","meta":{"/snapshot.json":{"hashes":{"sha256":"24c9fa83f15eda0683999b98ac0ff87fb95aed91c10410891fb38313f38e35c1"},"length":1760}},"spec_version":"0.1.0","version":639}}`

// Timestamp role key of pkg/repository/testdata/polluted/bin/root.json.
const pollutedTimestampKeyPEM = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuzTgV5iKhMnunUDxt4PB\npYqTMPaJN/ZdOOsP6cS3DeCE/EcYGfgCjvP7KD3gjG98VDBTVcuwZClSy+/zvHhV\nIq7VWu+yxQL5c6oa1xpCyHoA96JiLIDPhmqEdscdRybcRQ2CYywzKA8jSwEQCnEK\nc8a74ceY352l/MEcOem0+AtKrOjqcjbXCayDwC9yTg/c78bkp+4T8AhSWgt6Tlrt\nY8jLE7zwojFtIYtMwobWRIW2O3nJDXiSBbTPG3M9kF1G43INshSdBcuq5Tmy8lpE\n/XiG/E7+hP63Hm+KAcdvl553Zs7pLhAZxV0kqlApqRRwhscw+JQci8sVONun5t9t\nNwIDAQAB\n-----END PUBLIC KEY-----\n"

const pollutedTimestampKeyID = "66d4ea1da00076c822a6e1b4df5eb1e529eb38f6edcedff323e62f2bfe3eaddd"

// fixtureRoot is where the copies of TiUP's test data live in this workspace.
func fixtureRoot() string {
	if d := os.Getenv("TIUP_FIXTURES"); d != "" {
		return d
	}
	return "/work/shared/fixtures/tiup"
}

func TestTimestampVectorBytes(t *testing.T) {
	data := []byte(pollutedTimestamp)
	if len(data) != 681 {
		t.Fatalf("length %d, want 681", len(data))
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != "58349b4ee7fa923ead19a5061ea6be5afd2a655762dd67683901ee7dce5c8e10" {
		t.Fatalf("sha256 %s", got)
	}
	// The file is canonical JSON exactly.
	g, err := decodeGeneric(data)
	if err != nil {
		t.Fatal(err)
	}
	canon, err := canonicalMarshal(g)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(canon, data) {
		t.Fatalf("re-encoding differs:\n%s\n%s", canon, data)
	}
	// Same bytes as the fixture copy, when available.
	p := filepath.Join(fixtureRoot(), "pkg/repository/testdata/polluted/manifests/timestamp.json")
	if f, err := os.ReadFile(p); err == nil {
		if !bytes.Equal(f, data) {
			t.Fatalf("%s differs from the embedded vector", p)
		}
	} else {
		t.Logf("fixture not available (%v); embedded vector only", err)
	}
}

func TestKeyIDVector(t *testing.T) {
	payload, err := canonicalMarshal(map[string]interface{}{
		"keytype": "rsa",
		"keyval":  map[string]interface{}{"public": pollutedTimestampKeyPEM},
		"scheme":  "rsassa-pss-sha256",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(payload) != 529 {
		t.Fatalf("canonical KeyInfo is %d bytes, want 529", len(payload))
	}
	if !strings.Contains(string(payload), `\nMIIBIjAN`) || strings.Contains(string(payload), `\u002B`) {
		t.Fatalf("unexpected escaping: %s", payload)
	}
	id, err := keyIDForPublicPEM(pollutedTimestampKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if id != pollutedTimestampKeyID {
		t.Fatalf("key ID %s", id)
	}
	if _, err := parsePublicPEMStrict(pollutedTimestampKeyPEM); err != nil {
		t.Fatal(err)
	}
}

func TestSignatureVector(t *testing.T) {
	data := []byte(pollutedTimestamp)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	signed := []byte(raw["signed"])
	// The payload is the bytes from {"_type" up to the second-to-last '}'.
	start := bytes.Index(data, []byte(`{"_type"`))
	if want := data[start : len(data)-1]; !bytes.Equal(signed, want) {
		t.Fatalf("signed member is not the expected byte range")
	}
	var sigs []signature
	if err := json.Unmarshal(raw["signatures"], &sigs); err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 1 || sigs[0].KeyID != pollutedTimestampKeyID {
		t.Fatalf("signatures: %+v", sigs)
	}
	pub, err := parsePublicPEMStrict(pollutedTimestampKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	// TiUP's exact call: VerifyPSS(pub, SHA256, sha256(payload), sig, nil).
	if err := verifyPayload(pub, signed, sigs[0].Sig); err != nil {
		t.Fatalf("TiUP-style verification failed: %v", err)
	}
	sig, _ := base64.StdEncoding.DecodeString(sigs[0].Sig)
	if len(sig) != 256 || len(sigs[0].Sig) != 344 {
		t.Fatalf("signature %d bytes / %d base64 chars", len(sig), len(sigs[0].Sig))
	}
	digest := sha256.Sum256(signed)
	// The salt is the maximum for a 2048-bit key: 256 - 32 - 2 = 222.
	if err := rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: 222}); err != nil {
		t.Fatalf("salt 222: %v", err)
	}
	if err := rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: 32}); err == nil {
		t.Fatalf("salt 32 unexpectedly verified")
	}
	// One changed byte of the payload breaks it.
	bad := append([]byte(nil), signed...)
	bad[len(bad)-2] ^= 1
	if err := verifyPayload(pub, bad, sigs[0].Sig); err == nil {
		t.Fatalf("modified payload verified")
	}
}

// All 8 keys of the official root v6 have reproducible IDs and its 5 root
// signatures verify (threshold 3).
func TestOfficialRootFixture(t *testing.T) {
	p := filepath.Join(fixtureRoot(), "pkg/repository/testdata/polluted/bin/root.json")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("fixture not available: %v", err)
	}
	dir := t.TempDir()
	copyFile(t, p, filepath.Join(dir, "root.json"))
	var out, errOut bytes.Buffer
	c := &checker{dir: dir, opt: checkOptions{}, out: &out, errOut: &errOut, files: map[string]*manifestFile{}}
	mf := c.parseManifest("root.json", "root")
	root := c.checkRootStructure(mf)
	if root == nil || len(c.errs) > 0 {
		t.Fatalf("root structure: %v", c.errs)
	}
	n := 0
	for _, r := range requiredRoles {
		n += len(root.Roles[r].Keys)
	}
	if n != 8 {
		t.Fatalf("%d keys", n)
	}
	valid, ok := c.verifySignatures(mf, c.roleKeySet("root.json", "root", root.Roles["root"]))
	if !ok || valid != 5 {
		t.Fatalf("valid=%d ok=%v errs=%v", valid, ok, c.errs)
	}
}

func TestPollutedIndexFixtureRejected(t *testing.T) {
	dirIn := filepath.Join(fixtureRoot(), "pkg/repository/testdata/polluted")
	if _, err := os.Stat(dirIn); err != nil {
		t.Skipf("fixture not available: %v", err)
	}
	dir := t.TempDir()
	copyFile(t, filepath.Join(dirIn, "manifests/index.json"), filepath.Join(dir, "420.index.json"))
	copyFile(t, filepath.Join(dirIn, "bin/root.json"), filepath.Join(dir, "root.json"))
	var out, errOut bytes.Buffer
	c := &checker{dir: dir, opt: checkOptions{}, out: &out, errOut: &errOut, files: map[string]*manifestFile{}}
	mf := c.parseManifest("420.index.json", "index")
	if !containsErr(c.errs, "extra byte(s) after the canonical document") {
		t.Fatalf("trailing newline not reported: %v", c.errs)
	}
	rmf := c.parseManifest("root.json", "root")
	root := c.checkRootStructure(rmf)
	if _, ok := c.verifySignatures(mf, c.roleKeySet("root.json", "index", root.Roles["index"])); ok {
		t.Fatalf("invalid index signature accepted")
	}
	if !containsErr(c.errs, "does not verify") {
		t.Fatalf("bad signature not reported: %v", c.errs)
	}
	// The current-schema tidb component has the exact field set and a
	// valid owner signature (key a61b695e… of the index).
	copyFile(t, filepath.Join(dirIn, "manifests/tidb.json"), filepath.Join(dir, "1.tidb.json"))
	c.errs = nil
	tmf := c.parseManifest("1.tidb.json", "component")
	if len(c.errs) > 0 {
		t.Fatalf("tidb.json: %v", c.errs)
	}
	idx := mf.typed.(*indexSigned)
	owner := idx.Owners["pingcap"]
	ks := &keySet{name: "owner pingcap", threshold: uint64(owner.Threshold), keys: c.validateKeys("420.index.json", "owners.pingcap", owner.Keys)}
	if _, ok := c.verifySignatures(tmf, ks); !ok {
		t.Fatalf("tidb.json owner signature: %v", c.errs)
	}
}

func TestLegacyFixtureMirror(t *testing.T) {
	dir := filepath.Join(fixtureRoot(), "pkg/repository/testdata/manifests")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("fixture not available: %v", err)
	}
	var out, errOut bytes.Buffer
	errs := runCheck(dir, checkOptions{At: mustTime(t, "2021-01-01T00:00:00Z"), Legacy: true, NoTarballs: true}, &out, &errOut)
	if len(errs) > 0 {
		t.Fatalf("legacy check failed:\n%s\n%s", out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "ok   1.tikv.json") || !strings.HasSuffix(out.String(), "OK\n") {
		t.Fatalf("unexpected output:\n%s", out.String())
	}
	// Strict mode rejects the legacy schema.
	out.Reset()
	errOut.Reset()
	errs = runCheck(dir, checkOptions{At: mustTime(t, "2021-01-01T00:00:00Z"), NoTarballs: true}, &out, &errOut)
	for _, want := range []string{
		`1.index.json: signed.owners["pingcap"]: missing field "threshold"`,
		`1.index.json: signed.components["tidb"]: unexpected field "threshold"`,
		`1.index.json: signed.components["tidb"]: missing field "hidden"`,
		`1.node_exporter.json: signed: unexpected field "name"`,
		`1.node_exporter.json: signed: missing field "nightly"`,
		`declared length 1048576, actual size 1619`,
	} {
		if !containsErr(errs, want) {
			t.Errorf("strict check did not report %q; errors:\n%s", want, strings.Join(errs, "\n"))
		}
	}
}
