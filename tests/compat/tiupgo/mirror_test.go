package main

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// ---- helpers ----

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if info.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode())
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func containsErr(errs []string, sub string) bool {
	for _, e := range errs {
		if strings.Contains(e, sub) {
			return true
		}
	}
	return false
}

var (
	now       = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	baseOnce  sync.Once
	baseDir   string
	baseRes   *writeResult
	baseErr   error
	baseClean []string
)

// baseMirror writes one mirror per test binary run (key generation is slow)
// and returns a fresh copy of it for the caller.
func baseMirror(t *testing.T) string {
	t.Helper()
	baseOnce.Do(func() {
		d, err := os.MkdirTemp("", "tiupgo-base-")
		if err != nil {
			baseErr = err
			return
		}
		baseClean = append(baseClean, d)
		baseDir = filepath.Join(d, "mirror")
		opt := defaultWriteOptions()
		opt.Now = now
		baseRes, baseErr = runWrite(baseDir, opt)
	})
	if baseErr != nil {
		t.Fatal(baseErr)
	}
	dir := filepath.Join(t.TempDir(), "m")
	copyDir(t, baseDir, dir)
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range baseClean {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

func checkDir(t *testing.T, dir string, opt checkOptions) ([]string, string) {
	t.Helper()
	if opt.At.IsZero() {
		opt.At = now.Add(time.Hour)
	}
	var out, errOut bytes.Buffer
	errs := runCheck(dir, opt, &out, &errOut)
	return errs, out.String() + errOut.String()
}

// mirrorKeys loads keys/<id16>-<role>.json by role.
func mirrorKeys(t *testing.T, dir string) map[string][]*privKey {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "keys", "*.json"))
	keys := map[string][]*privKey{}
	re := regexp.MustCompile(`^([0-9a-f]{16})-([a-z]+)\.json$`)
	for _, f := range files {
		m := re.FindStringSubmatch(filepath.Base(f))
		if m == nil {
			t.Fatalf("unexpected key file %s", f)
		}
		k, err := loadPrivKeyFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if k.ID[:16] != m[1] {
			t.Fatalf("%s: key ID %s", f, k.ID)
		}
		keys[m[2]] = append(keys[m[2]], k)
	}
	return keys
}

// resign rewrites a manifest after mutating its signed object, signing it
// with keys (canonically, no trailing newline).
func resign(t *testing.T, dir, name string, keys []*privKey, mutate func(signed map[string]interface{})) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	g, err := decodeGeneric(data)
	if err != nil {
		t.Fatal(err)
	}
	signed := g.(map[string]interface{})["signed"].(map[string]interface{})
	if mutate != nil {
		mutate(signed)
	}
	payload, err := canonicalMarshal(signed)
	if err != nil {
		t.Fatal(err)
	}
	sigs := []interface{}{}
	for _, k := range keys {
		s, err := signPayload(k.Key, payload)
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, map[string]interface{}{"keyid": k.ID, "sig": s})
	}
	file, err := canonicalMarshal(map[string]interface{}{"signatures": sigs, "signed": signed})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), file, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// refreshSnapshot updates snapshot meta lengths/versions from the given
// url->file map (plus optional extra mutation), re-signs snapshot, and
// re-hashes and re-signs timestamp.
func refreshSnapshot(t *testing.T, dir string, files map[string]string, mutate func(meta map[string]interface{})) {
	t.Helper()
	keys := mirrorKeys(t, dir)
	snap := resign(t, dir, "snapshot.json", keys["snapshot"], func(s map[string]interface{}) {
		meta := s["meta"].(map[string]interface{})
		for url, name := range files {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			v := strings.SplitN(name, ".", 2)[0]
			meta[url] = map[string]interface{}{"length": json.Number(itoa(fi.Size())), "version": json.Number(v)}
		}
		if mutate != nil {
			mutate(meta)
		}
	})
	s256, s512 := hashesOf(snap)
	resign(t, dir, "timestamp.json", keys["timestamp"], func(s map[string]interface{}) {
		s["meta"] = map[string]interface{}{"/snapshot.json": map[string]interface{}{
			"hashes": map[string]interface{}{"sha256": s256, "sha512": s512},
			"length": json.Number(itoa(int64(len(snap)))),
		}}
	})
}

func itoa(n int64) string { return strings.TrimSpace(string(must(json.Marshal(n)))) }

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func readJSON(t *testing.T, path string) map[string]interface{} {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := decodeGeneric(data)
	if err != nil {
		t.Fatal(err)
	}
	return g.(map[string]interface{})
}

func expectFail(t *testing.T, dir string, opt checkOptions, wants ...string) {
	t.Helper()
	errs, out := checkDir(t, dir, opt)
	if len(errs) == 0 {
		t.Fatalf("check passed, expected failure %q:\n%s", wants, out)
	}
	for _, w := range wants {
		if !containsErr(errs, w) {
			t.Errorf("missing expected error %q; got:\n%s", w, strings.Join(errs, "\n"))
		}
	}
}

func expectPass(t *testing.T, dir string, opt checkOptions) string {
	t.Helper()
	errs, out := checkDir(t, dir, opt)
	if len(errs) > 0 {
		t.Fatalf("check failed:\n%s", out)
	}
	return out
}

// ---- write + check ----

func TestWriteThenCheck(t *testing.T) {
	dir := baseMirror(t)
	out := expectPass(t, dir, checkOptions{})
	for _, want := range []string{"ok   timestamp.json", "timestamp v4", "index v3", "component hello v2", "2 of 2 tarball(s) verified", "identical to 1.root.json"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if baseRes.Components["hello"][0] != "v1.0.0" || baseRes.Components["hello"][1] != "v1.1.0" || !strings.HasSuffix(baseRes.OwnerKey, "-pingcap.json") {
		t.Fatalf("summary %+v", baseRes)
	}
	for _, f := range []string{"root.json", "1.root.json", "1.index.json", "2.index.json", "3.index.json", "1.hello.json", "2.hello.json",
		"snapshot.json", "timestamp.json", "hello-v1.0.0-linux-amd64.tar.gz", "hello-v1.1.0-linux-amd64.tar.gz"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	if a, b := must(os.ReadFile(filepath.Join(dir, "root.json"))), must(os.ReadFile(filepath.Join(dir, "1.root.json"))); !bytes.Equal(a, b) {
		t.Errorf("root.json != 1.root.json")
	}
	// Exact expiries relative to the write time.
	exp := func(name string) string {
		return readJSON(t, filepath.Join(dir, name))["signed"].(map[string]interface{})["expires"].(string)
	}
	for name, want := range map[string]string{
		"root.json": "2027-01-02T03:04:05Z", "3.index.json": "2027-01-02T03:04:05Z",
		"snapshot.json": "2026-02-01T03:04:05Z", "timestamp.json": "2026-02-01T03:04:05Z",
		"2.hello.json": "2031-01-01T03:04:05Z",
	} {
		if got := exp(name); got != want {
			t.Errorf("%s expires %s, want %s", name, got, want)
		}
	}
	// Snapshot meta: exact lengths and versions.
	meta := readJSON(t, filepath.Join(dir, "snapshot.json"))["signed"].(map[string]interface{})["meta"].(map[string]interface{})
	for url, file := range map[string]string{"/root.json": "1.root.json", "/index.json": "3.index.json", "/hello.json": "2.hello.json"} {
		e := meta[url].(map[string]interface{})
		fi, _ := os.Stat(filepath.Join(dir, file))
		if e["length"].(json.Number).String() != itoa(fi.Size()) || e["version"].(json.Number).String() != strings.SplitN(file, ".", 2)[0] {
			t.Errorf("snapshot meta %s = %v (file %s, %d bytes)", url, e, file, fi.Size())
		}
	}
	if len(meta) != 3 {
		t.Errorf("snapshot meta has %d entries", len(meta))
	}
}

func TestWrittenKeysAndSignatures(t *testing.T) {
	dir := baseMirror(t)
	keys := mirrorKeys(t, dir)
	for role, n := range map[string]int{"root": 3, "index": 1, "snapshot": 1, "timestamp": 1, "pingcap": 1} {
		if len(keys[role]) != n {
			t.Errorf("%d %s key(s), want %d", len(keys[role]), role, n)
		}
	}
	files, _ := filepath.Glob(filepath.Join(baseDir, "keys", "*.json"))
	for _, f := range files {
		fi, _ := os.Stat(f)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %o", f, fi.Mode().Perm())
		}
		data := must(os.ReadFile(f))
		if !bytes.HasPrefix(data, []byte(`{"keytype":"rsa","keyval":{"private":"-----BEGIN PRIVATE KEY-----\n`)) ||
			!bytes.HasSuffix(data, []byte("-----END PRIVATE KEY-----\\n\"},\"scheme\":\"rsassa-pss-sha256\"}\n")) {
			t.Errorf("%s: unexpected key file shape: %.80s…", f, data)
		}
		var ki keyInfo
		if err := json.Unmarshal(data, &ki); err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode([]byte(ki.Value["private"]))
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes) // PKCS#1 under a "PRIVATE KEY" label
		if err != nil {
			t.Errorf("%s: not PKCS#1: %v", f, err)
			continue
		}
		if k.N.BitLen() != 2048 {
			t.Errorf("%s: %d-bit key", f, k.N.BitLen())
		}
		if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
			t.Errorf("%s: PKCS#8 DER, TiUP writes PKCS#1", f)
		}
	}
	// Every signature uses the maximum PSS salt length (222 for 2048-bit keys).
	for _, name := range []string{"root.json", "3.index.json", "snapshot.json", "timestamp.json", "2.hello.json"} {
		data := must(os.ReadFile(filepath.Join(dir, name)))
		var raw map[string]json.RawMessage
		_ = json.Unmarshal(data, &raw)
		var sigs []signature
		_ = json.Unmarshal(raw["signatures"], &sigs)
		digest := sha256.Sum256(raw["signed"])
		for _, s := range sigs {
			var pub *rsa.PublicKey
			for _, ks := range keys {
				for _, k := range ks {
					if k.ID == s.KeyID {
						pub = &k.Key.PublicKey
					}
				}
			}
			if pub == nil {
				t.Fatalf("%s: signature by unknown key %s", name, s.KeyID)
			}
			sig, _ := base64.StdEncoding.DecodeString(s.Sig)
			if err := rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: 222}); err != nil {
				t.Errorf("%s: not a max-salt signature: %v", name, err)
			}
		}
	}
	// Root signed by all three root keys; owner in the index as TiUP grants it.
	root := readJSON(t, filepath.Join(dir, "root.json"))
	if n := len(root["signatures"].([]interface{})); n != 3 {
		t.Errorf("root has %d signatures", n)
	}
	idx := readJSON(t, filepath.Join(dir, "3.index.json"))["signed"].(map[string]interface{})
	owner := idx["owners"].(map[string]interface{})["pingcap"].(map[string]interface{})
	if owner["name"] != "PingCAP" || owner["threshold"].(json.Number) != "1" {
		t.Errorf("owner %v", owner)
	}
	if _, ok := owner["keys"].(map[string]interface{})[keys["pingcap"][0].ID]; !ok {
		t.Errorf("owner key not granted")
	}
	item := idx["components"].(map[string]interface{})["hello"].(map[string]interface{})
	if item["owner"] != "pingcap" || item["url"] != "/hello.json" || item["yanked"] != false || item["hidden"] != false || item["standalone"] != false {
		t.Errorf("index item %v", item)
	}
}

func TestPublishStyleTimestamp(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	opt := defaultWriteOptions()
	opt.Now = now
	opt.PublishStyleTimestamp = true
	opt.SnapshotExpiry = 2 * day
	if _, err := runWrite(dir, opt); err != nil {
		t.Fatal(err)
	}
	ts := readJSON(t, filepath.Join(dir, "timestamp.json"))["signed"].(map[string]interface{})
	h := ts["meta"].(map[string]interface{})["/snapshot.json"].(map[string]interface{})["hashes"].(map[string]interface{})
	if len(h) != 1 || h["sha256"] == nil {
		t.Fatalf("hashes %v", h)
	}
	expectPass(t, dir, checkOptions{})
	expectFail(t, dir, checkOptions{At: now.Add(3 * day)}, "snapshot.json: expired at 2026-01-04T03:04:05Z")
}

func TestWriteRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "x"), nil, 0o644)
	if _, err := runWrite(dir, defaultWriteOptions()); err == nil {
		t.Fatal("non-empty dir accepted")
	}
}

// ---- negative cases ----

func TestFailTarballByteChanged(t *testing.T) {
	dir := baseMirror(t)
	p := filepath.Join(dir, "hello-v1.1.0-linux-amd64.tar.gz")
	data := must(os.ReadFile(p))
	data[len(data)/2] ^= 0x01
	_ = os.WriteFile(p, data, 0o644)
	expectFail(t, dir, checkOptions{}, "hello-v1.1.0-linux-amd64.tar.gz: sha256")
	// --no-tarballs skips them.
	expectPass(t, dir, checkOptions{NoTarballs: true})
}

func TestFailTarballMissingOrTruncated(t *testing.T) {
	dir := baseMirror(t)
	p := filepath.Join(dir, "hello-v1.0.0-linux-amd64.tar.gz")
	data := must(os.ReadFile(p))
	_ = os.WriteFile(p, data[:len(data)-1], 0o644)
	expectFail(t, dir, checkOptions{}, "hello-v1.0.0-linux-amd64.tar.gz: length ")
	_ = os.Remove(p)
	expectFail(t, dir, checkOptions{}, "hello-v1.0.0-linux-amd64.tar.gz: tarball referenced by 2.hello.json")
}

func TestFailEntryNotInTarball(t *testing.T) {
	dir := baseMirror(t)
	keys := mirrorKeys(t, dir)
	resign(t, dir, "2.hello.json", keys["pingcap"], func(s map[string]interface{}) {
		vi := s["platforms"].(map[string]interface{})["linux/amd64"].(map[string]interface{})["v1.1.0"].(map[string]interface{})
		vi["entry"] = "hello-v1.1.0/bin/missing"
	})
	refreshSnapshot(t, dir, map[string]string{"/hello.json": "2.hello.json"}, nil)
	expectFail(t, dir, checkOptions{}, `entry "hello-v1.1.0/bin/missing"`, "not found in the tarball")
	expectPass(t, dir, checkOptions{NoEntryCheck: true})
}

func TestFailTrailingNewline(t *testing.T) {
	for _, name := range []string{"timestamp.json", "2.hello.json", "root.json"} {
		t.Run(name, func(t *testing.T) {
			dir := baseMirror(t)
			p := filepath.Join(dir, name)
			data := must(os.ReadFile(p))
			_ = os.WriteFile(p, append(data, '\n'), 0o644)
			if name == "2.hello.json" {
				// Keep the snapshot consistent so that only the newline is wrong.
				refreshSnapshot(t, dir, map[string]string{"/hello.json": "2.hello.json"}, nil)
			}
			expectFail(t, dir, checkOptions{}, name+": not canonical JSON: 1 extra byte(s)")
		})
	}
}

func TestFailNonCanonicalEscape(t *testing.T) {
	dir := baseMirror(t)
	p := filepath.Join(dir, "1.hello.json")
	data := must(os.ReadFile(p))
	data = bytes.Replace(data, []byte(`"_type":"component"`), []byte(`"_type":"\u0063omponent"`), 1)
	_ = os.WriteFile(p, data, 0o644)
	expectFail(t, dir, checkOptions{}, "1.hello.json: not canonical JSON: first difference at byte offset")
}

func TestFailExtraField(t *testing.T) {
	t.Run("timestamp", func(t *testing.T) {
		dir := baseMirror(t)
		keys := mirrorKeys(t, dir)
		resign(t, dir, "timestamp.json", keys["timestamp"], func(s map[string]interface{}) { s["name"] = "x" })
		expectFail(t, dir, checkOptions{}, `timestamp.json: signed: unexpected field "name"`)
		// The legacy mode does not check field sets.
		expectPass(t, dir, checkOptions{Legacy: true})
	})
	t.Run("version item", func(t *testing.T) {
		dir := baseMirror(t)
		keys := mirrorKeys(t, dir)
		resign(t, dir, "2.hello.json", keys["pingcap"], func(s map[string]interface{}) {
			vi := s["platforms"].(map[string]interface{})["linux/amd64"].(map[string]interface{})["v1.0.0"].(map[string]interface{})
			vi["size"] = json.Number("1")
		})
		refreshSnapshot(t, dir, map[string]string{"/hello.json": "2.hello.json"}, nil)
		expectFail(t, dir, checkOptions{}, `2.hello.json: signed.platforms["linux/amd64"]["v1.0.0"]: unexpected field "size"`)
	})
	t.Run("envelope", func(t *testing.T) {
		dir := baseMirror(t)
		p := filepath.Join(dir, "timestamp.json")
		g := readJSON(t, p)
		g["x"] = true
		_ = os.WriteFile(p, must(canonicalMarshal(g)), 0o644)
		expectFail(t, dir, checkOptions{}, `timestamp.json: unexpected top-level field "x"`)
	})
}

func TestFailMissingField(t *testing.T) {
	dir := baseMirror(t)
	keys := mirrorKeys(t, dir)
	resign(t, dir, "2.hello.json", keys["pingcap"], func(s map[string]interface{}) { delete(s, "nightly") })
	refreshSnapshot(t, dir, map[string]string{"/hello.json": "2.hello.json"}, nil)
	expectFail(t, dir, checkOptions{}, `2.hello.json: signed: missing field "nightly"`)
	expectPass(t, dir, checkOptions{Legacy: true})
}

func TestFailSignatureByteChanged(t *testing.T) {
	for _, name := range []string{"timestamp.json", "snapshot.json", "3.index.json", "2.hello.json", "1.root.json"} {
		t.Run(name, func(t *testing.T) {
			dir := baseMirror(t)
			p := filepath.Join(dir, name)
			g := readJSON(t, p)
			s := g["signatures"].([]interface{})[0].(map[string]interface{})
			sig, _ := base64.StdEncoding.DecodeString(s["sig"].(string))
			sig[100] ^= 0x80
			s["sig"] = base64.StdEncoding.EncodeToString(sig)
			_ = os.WriteFile(p, must(canonicalMarshal(g)), 0o644)
			if name == "1.root.json" {
				copyFile(t, p, filepath.Join(dir, "root.json"))
			}
			if name == "snapshot.json" {
				// Re-hash in the timestamp so that only the signature is wrong.
				keys := mirrorKeys(t, dir)
				snap := must(os.ReadFile(p))
				s256, s512 := hashesOf(snap)
				resign(t, dir, "timestamp.json", keys["timestamp"], func(s map[string]interface{}) {
					s["meta"] = map[string]interface{}{"/snapshot.json": map[string]interface{}{
						"hashes": map[string]interface{}{"sha256": s256, "sha512": s512},
						"length": json.Number(itoa(int64(len(snap)))),
					}}
				})
			}
			expectFail(t, dir, checkOptions{}, name+": signature by", "does not verify")
		})
	}
}

func TestFailSnapshotLengthWrong(t *testing.T) {
	for _, url := range []string{"/hello.json", "/index.json", "/root.json"} {
		t.Run(url, func(t *testing.T) {
			dir := baseMirror(t)
			refreshSnapshot(t, dir, nil, func(meta map[string]interface{}) {
				e := meta[url].(map[string]interface{})
				n := must(json.Marshal(e["length"]))
				var v int64
				_ = json.Unmarshal(n, &v)
				e["length"] = json.Number(itoa(v + 1))
			})
			expectFail(t, dir, checkOptions{}, "declared length")
			// A longer declared length is a valid maximum for TiUP's client.
			expectPass(t, dir, checkOptions{Legacy: true})
		})
	}
	t.Run("timestamp length", func(t *testing.T) {
		dir := baseMirror(t)
		keys := mirrorKeys(t, dir)
		resign(t, dir, "timestamp.json", keys["timestamp"], func(s map[string]interface{}) {
			e := s["meta"].(map[string]interface{})["/snapshot.json"].(map[string]interface{})
			e["length"] = json.Number("1048576")
		})
		expectFail(t, dir, checkOptions{}, "snapshot.json: timestamp meta[/snapshot.json]: declared length 1048576")
	})
	t.Run("shorter than file", func(t *testing.T) {
		dir := baseMirror(t)
		refreshSnapshot(t, dir, nil, func(meta map[string]interface{}) {
			meta["/hello.json"].(map[string]interface{})["length"] = json.Number("10")
		})
		expectFail(t, dir, checkOptions{Legacy: true}, "2.hello.json: snapshot meta[/hello.json]: declared length 10")
	})
}

func TestFailSnapshotHash(t *testing.T) {
	dir := baseMirror(t)
	keys := mirrorKeys(t, dir)
	// Re-sign the snapshot without updating the timestamp.
	resign(t, dir, "snapshot.json", keys["snapshot"], nil)
	expectFail(t, dir, checkOptions{}, "snapshot.json: sha256")
}

func TestFailExpired(t *testing.T) {
	dir := baseMirror(t)
	expectFail(t, dir, checkOptions{At: now.Add(31 * day)}, "timestamp.json: expired at 2026-02-01T03:04:05Z")
	expectFail(t, dir, checkOptions{At: now.Add(366 * day)}, "1.root.json: expired at 2027-01-02T03:04:05Z")
}

func TestSignatureThresholdRules(t *testing.T) {
	t.Run("unknown key ignored", func(t *testing.T) {
		dir := baseMirror(t)
		keys := mirrorKeys(t, dir)
		resign(t, dir, "3.index.json", []*privKey{keys["index"][0], keys["pingcap"][0]}, nil)
		refreshSnapshot(t, dir, map[string]string{"/index.json": "3.index.json"}, nil)
		expectPass(t, dir, checkOptions{})
	})
	t.Run("only unknown keys", func(t *testing.T) {
		dir := baseMirror(t)
		keys := mirrorKeys(t, dir)
		resign(t, dir, "3.index.json", []*privKey{keys["pingcap"][0]}, nil)
		refreshSnapshot(t, dir, map[string]string{"/index.json": "3.index.json"}, nil)
		expectFail(t, dir, checkOptions{}, "3.index.json: not enough valid signatures for role index: 0, threshold 1")
	})
	t.Run("duplicate keyid", func(t *testing.T) {
		dir := baseMirror(t)
		keys := mirrorKeys(t, dir)
		resign(t, dir, "3.index.json", []*privKey{keys["index"][0], keys["index"][0]}, nil)
		refreshSnapshot(t, dir, map[string]string{"/index.json": "3.index.json"}, nil)
		expectFail(t, dir, checkOptions{}, "3.index.json: duplicate signature by key")
	})
	t.Run("root below threshold", func(t *testing.T) {
		dir := baseMirror(t)
		keys := mirrorKeys(t, dir)
		f := resign(t, dir, "1.root.json", keys["root"][:2], nil)
		_ = os.WriteFile(filepath.Join(dir, "root.json"), f, 0o644)
		refreshSnapshot(t, dir, map[string]string{"/root.json": "1.root.json"}, nil)
		expectFail(t, dir, checkOptions{}, "1.root.json: not enough valid signatures for role root: 2, threshold 3")
	})
}

// rotate writes 2.root.json with a new set of root keys (threshold 2 of 3),
// signed by signers, and points the snapshot at it.
func rotate(t *testing.T, dir string, signers func(old, new []*privKey) []*privKey, updateSnapshot bool) {
	t.Helper()
	keys := mirrorKeys(t, dir)
	var newKeys []*privKey
	for i := 0; i < 3; i++ {
		k, err := newPrivKey()
		if err != nil {
			t.Fatal(err)
		}
		newKeys = append(newKeys, k)
	}
	copyFile(t, filepath.Join(dir, "1.root.json"), filepath.Join(dir, "2.root.json"))
	resign(t, dir, "2.root.json", signers(keys["root"], newKeys), func(s map[string]interface{}) {
		s["version"] = json.Number("2")
		roles := s["roles"].(map[string]interface{})
		rk := map[string]interface{}{}
		for _, k := range newKeys {
			ki := k.publicInfo()
			rk[k.ID] = map[string]interface{}{"keytype": ki.Type, "keyval": map[string]interface{}{"public": ki.Value["public"]}, "scheme": ki.Scheme}
		}
		roles["root"] = map[string]interface{}{"keys": rk, "threshold": json.Number("2"), "url": "/root.json"}
	})
	if updateSnapshot {
		refreshSnapshot(t, dir, map[string]string{"/root.json": "2.root.json"}, nil)
	}
}

func TestRootRotation(t *testing.T) {
	t.Run("valid", func(t *testing.T) {
		dir := baseMirror(t)
		rotate(t, dir, func(old, new []*privKey) []*privKey { return append(append([]*privKey{}, old...), new[:2]...) }, true)
		out := expectPass(t, dir, checkOptions{})
		if !strings.Contains(out, "ok   2.root.json") || !strings.Contains(out, "old root 3/3") {
			t.Fatalf("unexpected output:\n%s", out)
		}
	})
	t.Run("init style: root.json only + 2.root.json", func(t *testing.T) {
		dir := baseMirror(t)
		rotate(t, dir, func(old, new []*privKey) []*privKey { return append(append([]*privKey{}, old...), new...) }, true)
		_ = os.Remove(filepath.Join(dir, "1.root.json"))
		expectPass(t, dir, checkOptions{})
	})
	t.Run("not signed by old root", func(t *testing.T) {
		dir := baseMirror(t)
		rotate(t, dir, func(old, new []*privKey) []*privKey { return new }, true)
		expectFail(t, dir, checkOptions{}, "2.root.json: not enough valid signatures for role root: 0, threshold 3")
	})
	t.Run("below new threshold", func(t *testing.T) {
		dir := baseMirror(t)
		rotate(t, dir, func(old, new []*privKey) []*privKey { return append(append([]*privKey{}, old...), new[:1]...) }, true)
		expectFail(t, dir, checkOptions{}, "2.root.json: not enough valid signatures for role root: 1, threshold 2")
	})
	t.Run("snapshot not updated", func(t *testing.T) {
		dir := baseMirror(t)
		rotate(t, dir, func(old, new []*privKey) []*privKey { return append(append([]*privKey{}, old...), new...) }, false)
		expectFail(t, dir, checkOptions{}, "meta[/root.json].version is 1 but the latest root in the mirror is v2")
	})
	t.Run("gap in chain", func(t *testing.T) {
		dir := baseMirror(t)
		rotate(t, dir, func(old, new []*privKey) []*privKey { return append(append([]*privKey{}, old...), new...) }, false)
		_ = os.Rename(filepath.Join(dir, "2.root.json"), filepath.Join(dir, "3.root.json"))
		expectFail(t, dir, checkOptions{}, "3.root.json: signed.version is 2 but the file name says 3", "3.root.json: root version 3 is not reachable")
	})
}

func TestFailIndexVersionMismatch(t *testing.T) {
	dir := baseMirror(t)
	// 4.index.json newer than the snapshot says.
	keys := mirrorKeys(t, dir)
	copyFile(t, filepath.Join(dir, "3.index.json"), filepath.Join(dir, "4.index.json"))
	resign(t, dir, "4.index.json", keys["index"], func(s map[string]interface{}) { s["version"] = json.Number("4") })
	expectFail(t, dir, checkOptions{}, "4.index.json: index version 4 is newer than the snapshot's 3")
}

func TestCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	var out, errOut bytes.Buffer
	if code := run([]string{"write", dir, "--now", "2026-01-02T03:04:05Z", "--expires-days-snapshot", "3"}, &out, &errOut); code != 0 {
		t.Fatalf("write: %d %s", code, errOut.String())
	}
	var res writeResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("summary %q: %v", out.String(), err)
	}
	if res.Root != filepath.Join(dir, "root.json") && !strings.HasSuffix(res.Root, "/m/root.json") {
		t.Fatalf("root path %s", res.Root)
	}
	out.Reset()
	if code := run([]string{"check", dir, "--at=2026-01-04T00:00:00Z"}, &out, &errOut); code != 0 {
		t.Fatalf("check: %d\n%s\n%s", code, out.String(), errOut.String())
	}
	if code := run([]string{"check", "--at", "2026-01-06T00:00:00Z", dir}, &out, &errOut); code != 1 {
		t.Fatalf("expired snapshot not detected: %d", code)
	}
	if code := run([]string{"check", dir, "--bogus"}, &out, &errOut); code != 2 {
		t.Fatalf("bad flag: %d", code)
	}
}
