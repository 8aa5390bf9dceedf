package main

// `tiupgo check DIR`: verify a local mirror directory the way TiUP's client
// reads it, plus the producer-side invariants TiUP's writers always keep
// (exact lengths, canonical bytes, exact field sets). See README.md for the
// list of rules and which of them are stricter than TiUP's client.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	specVersion      = "0.1.0"
	maxTimestampSize = 1024        // client fetch limit for /timestamp.json
	maxRootSize      = 1024 * 1024 // client fetch limit for /N.root.json
)

var requiredRoles = []string{"root", "index", "snapshot", "timestamp"}

var publishPlatforms = map[string]bool{
	"linux/amd64": true, "linux/arm64": true, "darwin/amd64": true, "darwin/arm64": true, "any/any": true,
}

type checkOptions struct {
	At         time.Time
	Legacy     bool // relax exact field sets, owner thresholds, lengths-as-maximum, root.json outside the chain
	NoTarballs bool
	// NoEntryCheck skips opening tarballs to look for the entry (TiUP's own
	// publish/install do not check it; `tiup <comp>` and `cluster patch` need it).
	NoEntryCheck bool
}

type checker struct {
	dir    string
	opt    checkOptions
	out    io.Writer
	errOut io.Writer
	errs   []string
	warns  []string
	files  map[string]*manifestFile
}

// manifestFile is one parsed manifest file.
type manifestFile struct {
	name      string
	data      []byte
	signedRaw []byte
	sigs      []signature
	base      signedBase
	typed     interface{} // *rootSigned, *indexSigned, ...
	usable    bool        // parsed far enough for semantic checks
	verified  string      // summary of the signature verification
}

// keySet is a role's verified public keys and threshold.
type keySet struct {
	name      string
	threshold uint64
	keys      map[string]*rsa.PublicKey
}

func (c *checker) fail(file string, format string, a ...interface{}) {
	msg := fmt.Sprintf("%s: %s", file, fmt.Sprintf(format, a...))
	c.errs = append(c.errs, msg)
	fmt.Fprintf(c.errOut, "FAIL %s\n", msg)
}

func (c *checker) warn(file string, format string, a ...interface{}) {
	msg := fmt.Sprintf("%s: %s", file, fmt.Sprintf(format, a...))
	c.warns = append(c.warns, msg)
	fmt.Fprintf(c.out, "WARN %s\n", msg)
}

func (c *checker) okLine(file string, format string, a ...interface{}) {
	fmt.Fprintf(c.out, "ok   %-28s %s\n", file, fmt.Sprintf(format, a...))
}

var (
	reVersionedRoot  = regexp.MustCompile(`^([1-9][0-9]*)\.root\.json$`)
	reVersionedIndex = regexp.MustCompile(`^([1-9][0-9]*)\.index\.json$`)
	reVersionedComp  = regexp.MustCompile(`^([1-9][0-9]*)\.(.+)\.json$`)
)

// runCheck checks the mirror in dir and returns the list of errors.
func runCheck(dir string, opt checkOptions, out, errOut io.Writer) []string {
	c := &checker{dir: dir, opt: opt, out: out, errOut: errOut, files: map[string]*manifestFile{}}
	c.run()
	if len(c.errs) == 0 {
		fmt.Fprintln(out, "OK")
	} else {
		fmt.Fprintf(errOut, "FAILED: %d error(s)\n", len(c.errs))
	}
	return c.errs
}

func (c *checker) run() {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		c.fail(c.dir, "cannot read mirror directory: %v", err)
		return
	}
	mode := "strict"
	if c.opt.Legacy {
		mode = "legacy"
	}
	fmt.Fprintf(c.out, "checking %s (%s mode, at %s)\n", c.dir, mode, c.opt.At.UTC().Format(time.RFC3339))

	// Pass 1: classify and parse every manifest file (canonical bytes,
	// envelope, exact field set, base fields).
	rootVersions := map[uint64]string{}
	indexVersions := map[uint64]string{}
	compVersions := map[string]map[uint64]string{}
	var names []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, name := range names {
		var role string
		switch {
		case name == "root.json":
			role = "root"
		case name == "snapshot.json":
			role = "snapshot"
		case name == "timestamp.json":
			role = "timestamp"
		case reVersionedRoot.MatchString(name):
			role = "root"
			rootVersions[mustUint(reVersionedRoot.FindStringSubmatch(name)[1])] = name
		case reVersionedIndex.MatchString(name):
			role = "index"
			indexVersions[mustUint(reVersionedIndex.FindStringSubmatch(name)[1])] = name
		case reVersionedComp.MatchString(name):
			role = "component"
			m := reVersionedComp.FindStringSubmatch(name)
			if compVersions[m[2]] == nil {
				compVersions[m[2]] = map[uint64]string{}
			}
			compVersions[m[2]][mustUint(m[1])] = name
		default:
			c.warn(name, "not a file name of the TiUP mirror layout; ignored")
			continue
		}
		c.files[name] = c.parseManifest(name, role)
	}

	// Versioned file names must match the version inside.
	for v, name := range rootVersions {
		c.checkNameVersion(name, v)
	}
	for v, name := range indexVersions {
		c.checkNameVersion(name, v)
	}
	for id, vs := range compVersions {
		for v, name := range vs {
			c.checkNameVersion(name, v)
			if mf := c.files[name]; mf != nil && mf.usable {
				if cs := mf.typed.(*componentSigned); cs.ID != id {
					c.fail(name, "component id is %q, file name says %q", cs.ID, id)
				}
			}
		}
	}

	// Root chain.
	root, rootFile := c.checkRootChain(rootVersions)
	if root == nil {
		return
	}
	roleKeys := map[string]*keySet{}
	for _, r := range requiredRoles {
		roleKeys[r] = c.roleKeySet(rootFile, r, root.Roles[r])
	}

	// Timestamp.
	ts := c.checkTimestamp(roleKeys["timestamp"])
	if ts == nil {
		return
	}
	// Snapshot.
	snap := c.checkSnapshot(ts, roleKeys["snapshot"], root, rootFile)
	if snap == nil {
		return
	}
	// Index.
	index, indexFile := c.checkIndex(snap, root, roleKeys["index"])
	if index == nil {
		return
	}
	c.checkSnapshotEntries(snap, root, index)
	// Components.
	latestComp := map[string]uint64{}
	for _, id := range sortedComponentIDs(index) {
		item := index.Components[id]
		if v := c.checkComponent(id, item, index, indexFile, snap); v > 0 {
			latestComp[id] = v
		}
	}
	// Files not reachable from the snapshot.
	c.checkUnreachable(indexVersions, compVersions, snap, root, index, latestComp)
}

func mustUint(s string) uint64 {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0
	}
	return v
}

func sortedComponentIDs(index *indexSigned) []string {
	ids := make([]string, 0, len(index.Components))
	for id := range index.Components {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// parseManifest reads one file and checks everything that does not depend on
// other files.
func (c *checker) parseManifest(name, role string) *manifestFile {
	mf := &manifestFile{name: name}
	data, err := os.ReadFile(filepath.Join(c.dir, name))
	if err != nil {
		c.fail(name, "cannot read: %v", err)
		return mf
	}
	mf.data = data
	g, err := decodeGeneric(data)
	if err != nil {
		c.fail(name, "not valid JSON: %v", err)
		return mf
	}
	canon, err := canonicalMarshal(g)
	if err != nil {
		c.fail(name, "cannot be canonicalised: %v", err)
		return mf
	}
	if !bytes.Equal(canon, data) {
		c.fail(name, "not canonical JSON: %s", describeDiff(data, canon))
		// keep going: later errors are still informative
	}
	top, ok := g.(map[string]interface{})
	if !ok {
		c.fail(name, "top-level value is %s, want object", jsonTypeName(g))
		return mf
	}
	envOK := true
	for _, k := range sortedKeys(top) {
		if k != "signatures" && k != "signed" {
			c.fail(name, "unexpected top-level field %q (want exactly signatures, signed)", k)
			envOK = false
		}
	}
	for _, k := range []string{"signatures", "signed"} {
		if _, ok := top[k]; !ok {
			c.fail(name, "missing top-level field %q", k)
			envOK = false
		}
	}
	if !envOK {
		return mf
	}
	if errs := checkShape(top["signatures"], shArr(shSignature), "signatures", false); len(errs) > 0 {
		for _, e := range errs {
			c.fail(name, "%s", e)
		}
		return mf
	}
	signedG, ok := top["signed"].(map[string]interface{})
	if !ok {
		c.fail(name, "signed is %s, want object", jsonTypeName(top["signed"]))
		return mf
	}
	if t, _ := signedG["_type"].(string); t != role {
		c.fail(name, "signed._type is %q, want %q", t, role)
		return mf
	}
	shapeErrs := checkShape(signedG, roleShape(role), "signed", c.opt.Legacy)
	for _, e := range shapeErrs {
		c.fail(name, "%s", e)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		c.fail(name, "cannot decode envelope: %v", err)
		return mf
	}
	mf.signedRaw = []byte(raw["signed"])
	if err := json.Unmarshal(raw["signatures"], &mf.sigs); err != nil {
		c.fail(name, "cannot decode signatures: %v", err)
		return mf
	}
	var typed interface{}
	switch role {
	case "root":
		typed = &rootSigned{}
	case "index":
		typed = &indexSigned{}
	case "component":
		typed = &componentSigned{}
	case "snapshot":
		typed = &snapshotSigned{}
	case "timestamp":
		typed = &timestampSigned{}
	}
	if err := json.Unmarshal(mf.signedRaw, typed); err != nil {
		c.fail(name, "signed does not decode into TiUP's %s type: %v", role, err)
		return mf
	}
	mf.typed = typed
	if err := json.Unmarshal(mf.signedRaw, &mf.base); err != nil {
		c.fail(name, "cannot decode signed base: %v", err)
		return mf
	}
	if mf.base.SpecVersion != specVersion {
		c.fail(name, "spec_version is %q, want %q", mf.base.SpecVersion, specVersion)
	}
	if _, err := time.Parse(time.RFC3339, mf.base.Expires); err != nil {
		c.fail(name, "expires %q is not RFC 3339: %v", mf.base.Expires, err)
		return mf
	}
	// Field-set errors (if any) are already reported; semantic checks still
	// run on the typed view so that further problems are visible too.
	mf.usable = true
	return mf
}

func describeDiff(file, canon []byte) string {
	i := 0
	for i < len(file) && i < len(canon) && file[i] == canon[i] {
		i++
	}
	ctx := func(b []byte) string {
		lo, hi := i-20, i+20
		if lo < 0 {
			lo = 0
		}
		if hi > len(b) {
			hi = len(b)
		}
		return strconv.Quote(string(b[lo:hi]))
	}
	if i == len(canon) && len(file) > len(canon) {
		return fmt.Sprintf("%d extra byte(s) after the canonical document at offset %d: %s", len(file)-len(canon), i, strconv.Quote(string(file[i:minInt(len(file), i+20)])))
	}
	return fmt.Sprintf("first difference at byte offset %d: file %s, canonical %s (file %d bytes, canonical %d bytes)", i, ctx(file), ctx(canon), len(file), len(canon))
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func (c *checker) checkNameVersion(name string, v uint64) {
	mf := c.files[name]
	if mf == nil || !mf.usable {
		return
	}
	if mf.base.Version != v {
		c.fail(name, "signed.version is %d but the file name says %d", mf.base.Version, v)
	}
}

// expired reports whether expires is before the check time.
func (c *checker) checkNotExpired(name, expires string) bool {
	t, err := time.Parse(time.RFC3339, expires)
	if err != nil {
		c.fail(name, "expires %q is not RFC 3339", expires)
		return false
	}
	if t.Before(c.opt.At) {
		c.fail(name, "expired at %s (checked at %s)", expires, c.opt.At.UTC().Format(time.RFC3339))
		return false
	}
	return true
}

// validateKeys checks key IDs, types and PEM encodings; returns parsed keys.
func (c *checker) validateKeys(file, where string, keys map[string]*keyInfo) map[string]*rsa.PublicKey {
	out := map[string]*rsa.PublicKey{}
	ids := make([]string, 0, len(keys))
	for id := range keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		k := keys[id]
		if k == nil {
			c.fail(file, "%s key %s is null", where, id)
			continue
		}
		if k.Type != keyTypeRSA {
			c.fail(file, "%s key %s: keytype %q, want %q", where, short(id), k.Type, keyTypeRSA)
			continue
		}
		if k.Scheme != keySchemePSS {
			c.fail(file, "%s key %s: scheme %q, want %q", where, short(id), k.Scheme, keySchemePSS)
			continue
		}
		if len(k.Value) != 1 || k.Value["public"] == "" {
			c.fail(file, "%s key %s: keyval must contain exactly one member \"public\"", where, short(id))
			continue
		}
		pub, err := parsePublicPEMStrict(k.Value["public"])
		if err != nil {
			c.fail(file, "%s key %s: %v", where, short(id), err)
			continue
		}
		want, err := keyIDForPublicPEM(k.Value["public"])
		if err != nil {
			c.fail(file, "%s key %s: %v", where, short(id), err)
			continue
		}
		if want != id {
			c.fail(file, "%s key ID %s does not match the key (sha256 of its canonical KeyInfo is %s)", where, id, want)
			continue
		}
		out[id] = pub
	}
	return out
}

func short(id string) string {
	if len(id) > shortIDLength {
		return id[:8] + "…"
	}
	return id
}

func (c *checker) roleKeySet(file, role string, r *roleDef) *keySet {
	ks := &keySet{name: role, keys: map[string]*rsa.PublicKey{}}
	if r == nil {
		return ks
	}
	ks.threshold = r.Threshold
	ks.keys = c.validateKeys(file, "roles."+role, r.Keys)
	return ks
}

// verifySignatures applies TiUP's KeyStore rules: duplicate key IDs are an
// error, signatures by unknown keys are ignored, a known key whose signature
// does not verify is an error, and at least threshold must verify.
func (c *checker) verifySignatures(mf *manifestFile, ks *keySet) (int, bool) {
	seen := map[string]bool{}
	for _, s := range mf.sigs {
		if seen[s.KeyID] {
			c.fail(mf.name, "duplicate signature by key %s", s.KeyID)
			return 0, false
		}
		seen[s.KeyID] = true
	}
	if ks.threshold == 0 {
		c.fail(mf.name, "role %s has threshold 0 (TiUP: invalid threshold (0))", ks.name)
		return 0, false
	}
	valid := 0
	for _, s := range mf.sigs {
		pub, ok := ks.keys[s.KeyID]
		if !ok {
			continue
		}
		if err := verifyPayload(pub, mf.signedRaw, s.Sig); err != nil {
			c.fail(mf.name, "signature by %s key %s does not verify: %v", ks.name, s.KeyID, err)
			return valid, false
		}
		if !c.opt.Legacy {
			if raw, err := base64.StdEncoding.DecodeString(s.Sig); err == nil && base64.StdEncoding.EncodeToString(raw) != s.Sig {
				c.fail(mf.name, "signature by key %s is not canonical padded standard base64", short(s.KeyID))
			}
		}
		valid++
	}
	if uint64(valid) < ks.threshold {
		c.fail(mf.name, "not enough valid signatures for role %s: %d, threshold %d", ks.name, valid, ks.threshold)
		return valid, false
	}
	mf.verified = fmt.Sprintf("%d/%d valid %s signature(s)", valid, ks.threshold, ks.name)
	return valid, true
}

// checkRootStructure checks a root's roles (TiUP Root.isValid + our URL rule).
func (c *checker) checkRootStructure(mf *manifestFile) *rootSigned {
	root := mf.typed.(*rootSigned)
	ok := true
	for _, r := range requiredRoles {
		role := root.Roles[r]
		if role == nil {
			c.fail(mf.name, "root is missing role %q", r)
			ok = false
			continue
		}
		if role.Threshold == 0 {
			c.fail(mf.name, "role %s has threshold 0", r)
			ok = false
		}
		if uint64(len(role.Keys)) < role.Threshold {
			c.fail(mf.name, "role %s has %d key(s), fewer than its threshold %d", r, len(role.Keys), role.Threshold)
			ok = false
		}
		if want := "/" + r + ".json"; role.URL != want {
			if c.opt.Legacy {
				c.warn(mf.name, "role %s url is %q, TiUP writes %q", r, role.URL, want)
			} else {
				c.fail(mf.name, "role %s url is %q, want %q", r, role.URL, want)
				ok = false
			}
		}
		if n := len(c.validateKeys(mf.name, "roles."+r, role.Keys)); n != len(role.Keys) {
			ok = false
		}
	}
	for name := range root.Roles {
		known := false
		for _, r := range requiredRoles {
			known = known || r == name
		}
		if !known {
			c.warn(mf.name, "extra role %q (ignored by TiUP)", name)
		}
	}
	if len(mf.data) > maxRootSize {
		c.fail(mf.name, "%d bytes, larger than the client's root limit %d", len(mf.data), maxRootSize)
		ok = false
	}
	if mf.base.Version == 0 {
		c.fail(mf.name, "root version is 0")
		ok = false
	}
	if !ok {
		return nil
	}
	return root
}

// checkRootChain verifies root.json and the N.root.json chain; returns the
// latest trusted root and the name of its file.
func (c *checker) checkRootChain(rootVersions map[uint64]string) (*rootSigned, string) {
	rj := c.files["root.json"]
	if rj == nil {
		c.fail("root.json", "missing")
		return nil, ""
	}
	if !rj.usable {
		return nil, ""
	}
	r := rj.base.Version
	versions := map[uint64]string{}
	for v, n := range rootVersions {
		versions[v] = n
	}
	var rootJSONInChain bool
	if n, ok := rootVersions[r]; ok {
		if !bytes.Equal(c.files[n].data, rj.data) {
			c.fail("root.json", "version %d but differs from %s", r, n)
			return nil, ""
		}
	} else {
		versions[r] = "root.json"
	}
	var sorted []uint64
	for v := range versions {
		sorted = append(sorted, v)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	// The chain is the consecutive run starting at the lowest version.
	chain := []uint64{sorted[0]}
	for _, v := range sorted[1:] {
		if v != chain[len(chain)-1]+1 {
			break
		}
		chain = append(chain, v)
	}
	inChain := map[uint64]bool{}
	for _, v := range chain {
		inChain[v] = true
	}
	for _, v := range sorted {
		if inChain[v] {
			continue
		}
		n := versions[v]
		if c.opt.Legacy {
			c.warn(n, "root version %d is not part of the root chain %d..%d (gap before it); not used as trust anchor", v, chain[0], chain[len(chain)-1])
		} else {
			c.fail(n, "root version %d is not reachable: the root chain %d..%d has a gap before it", v, chain[0], chain[len(chain)-1])
		}
	}

	rootJSONInChain = inChain[r]

	var prev *rootSigned
	var prevFile string
	var prevKS *keySet
	for _, v := range chain {
		name := versions[v]
		mf := c.files[name]
		if mf == nil || !mf.usable {
			return nil, ""
		}
		root := c.checkRootStructure(mf)
		if root == nil {
			return nil, ""
		}
		newKS := c.roleKeySet(name, "root", root.Roles["root"])
		if prev != nil {
			if _, ok := c.verifySignatures(mf, prevKS); !ok {
				c.fail(name, "not signed by a threshold of the previous root (%s) keys", prevFile)
				return nil, ""
			}
			prevSummary := mf.verified
			if _, ok := c.verifySignatures(mf, newKS); !ok {
				return nil, ""
			}
			mf.verified = "old root " + prevSummary + ", new root " + mf.verified
			pt, _ := time.Parse(time.RFC3339, prev.Expires)
			nt, _ := time.Parse(time.RFC3339, root.Expires)
			if nt.Before(pt) {
				c.fail(name, "expires %s earlier than the previous root's %s", root.Expires, prev.Expires)
				return nil, ""
			}
		} else {
			if _, ok := c.verifySignatures(mf, newKS); !ok {
				return nil, ""
			}
			mf.verified = "self-signed: " + mf.verified
		}
		c.okLine(name, "root v%d, expires %s, %s", root.Version, root.Expires, mf.verified)
		if name != "root.json" && v == r && rootJSONInChain {
			c.okLine("root.json", "identical to %s", name)
		}
		prev, prevFile, prevKS = root, name, newKS
	}
	if !rootJSONInChain && rj.usable {
		// Legacy: check root.json on its own so that its problems are visible.
		if root := c.checkRootStructure(rj); root != nil {
			ks := c.roleKeySet("root.json", "root", root.Roles["root"])
			if _, ok := c.verifySignatures(rj, ks); ok {
				c.okLine("root.json", "root v%d, expires %s, self-signed: %s (outside the chain, ignored)", root.Version, root.Expires, rj.verified)
			}
		}
	}
	// The latest root must not be expired (checked after the chain).
	if !c.checkNotExpired(prevFile, prev.Expires) {
		return nil, ""
	}
	return prev, prevFile
}

func (c *checker) checkLength(file, what string, declared, actual uint64) bool {
	if declared == actual {
		return true
	}
	if c.opt.Legacy && (declared == 0 || actual <= declared) {
		c.warn(file, "%s: declared length %d is a maximum, actual size %d (TiUP accepts; exact in strict mode)", what, declared, actual)
		return true
	}
	c.fail(file, "%s: declared length %d, actual size %d", what, declared, actual)
	return false
}

func (c *checker) checkTimestamp(ks *keySet) *timestampSigned {
	mf := c.files["timestamp.json"]
	if mf == nil {
		c.fail("timestamp.json", "missing")
		return nil
	}
	if !mf.usable {
		return nil
	}
	if len(mf.data) > maxTimestampSize {
		c.fail(mf.name, "%d bytes, larger than the client's limit %d", len(mf.data), maxTimestampSize)
	}
	if _, ok := c.verifySignatures(mf, ks); !ok {
		return nil
	}
	ts := mf.typed.(*timestampSigned)
	if !c.checkNotExpired(mf.name, ts.Expires) {
		return nil
	}
	if ts.Version == 0 && !c.opt.Legacy {
		c.fail(mf.name, "version is 0 (TiUP starts timestamps at 1)")
	}
	fh, ok := ts.Meta["/snapshot.json"]
	if !ok {
		c.fail(mf.name, "meta has no entry for /snapshot.json")
		return nil
	}
	if len(ts.Meta) != 1 {
		c.fail(mf.name, "meta has %d entries, want exactly one (/snapshot.json)", len(ts.Meta))
		return nil
	}
	if !c.checkHashes(mf.name, "meta[/snapshot.json].hashes", fh.Hashes) {
		return nil
	}
	c.okLine(mf.name, "timestamp v%d, expires %s, %s", ts.Version, ts.Expires, mf.verified)
	return ts
}

// checkHashes requires sha256 and allows sha512; values are lowercase hex.
func (c *checker) checkHashes(file, where string, h map[string]string) bool {
	if len(h) == 0 {
		c.fail(file, "%s is empty", where)
		return false
	}
	ok := true
	for k, v := range h {
		var n int
		switch k {
		case "sha256":
			n = 64
		case "sha512":
			n = 128
		default:
			if c.opt.Legacy {
				c.warn(file, "%s has unknown hash %q", where, k)
				continue
			}
			c.fail(file, "%s has unknown hash %q (TiUP writes sha256 and sha512 only)", where, k)
			ok = false
			continue
		}
		if len(v) != n || strings.ToLower(v) != v {
			c.fail(file, "%s.%s is not %d lowercase hex digits", where, k, n)
			ok = false
		} else if _, err := hex.DecodeString(v); err != nil {
			c.fail(file, "%s.%s is not hex", where, k)
			ok = false
		}
	}
	if _, has := h["sha256"]; !has {
		c.fail(file, "%s has no sha256 (the only hash TiUP's client checks)", where)
		ok = false
	}
	return ok
}

func hashesOf(data []byte) (string, string) {
	s256 := sha256.Sum256(data)
	s512 := sha512.Sum512(data)
	return hex.EncodeToString(s256[:]), hex.EncodeToString(s512[:])
}

func (c *checker) checkSnapshot(ts *timestampSigned, ks *keySet, root *rootSigned, rootFile string) *snapshotSigned {
	mf := c.files["snapshot.json"]
	if mf == nil {
		c.fail("snapshot.json", "missing")
		return nil
	}
	if mf.data == nil {
		return nil
	}
	fh := ts.Meta["/snapshot.json"]
	s256, s512 := hashesOf(mf.data)
	if fh.Hashes["sha256"] != s256 {
		c.fail(mf.name, "sha256 %s does not match timestamp.json's %s", s256, fh.Hashes["sha256"])
		return nil
	}
	if want, ok := fh.Hashes["sha512"]; ok && want != s512 {
		c.fail(mf.name, "sha512 does not match timestamp.json's")
		return nil
	}
	if !c.checkLength(mf.name, "timestamp meta[/snapshot.json]", fh.Length, uint64(len(mf.data))) {
		return nil
	}
	if !mf.usable {
		return nil
	}
	if _, ok := c.verifySignatures(mf, ks); !ok {
		return nil
	}
	snap := mf.typed.(*snapshotSigned)
	if !c.checkNotExpired(mf.name, snap.Expires) {
		return nil
	}
	if snap.Version != 0 {
		c.fail(mf.name, "version is %d, snapshot must be unversioned (0)", snap.Version)
	}
	rm, ok := snap.Meta["/root.json"]
	if !ok {
		c.fail(mf.name, "meta has no entry for /root.json")
		return nil
	}
	if rm.Version != root.Version {
		c.fail(mf.name, "meta[/root.json].version is %d but the latest root in the mirror is v%d (%s)", rm.Version, root.Version, rootFile)
	} else {
		c.checkLength(mf.name, "meta[/root.json] vs "+rootFile, rm.Length, uint64(len(c.files[rootFile].data)))
	}
	c.okLine(mf.name, "snapshot v%d, expires %s, %s, sha256/length match timestamp", snap.Version, snap.Expires, mf.verified)
	return snap
}

// versionedName maps a manifest URL and version to the mirror file, as
// TiUP's Snapshot.VersionedURL does ("/a/b.json", 3 => "/a/3.b.json").
func (c *checker) versionedName(file, url string, v uint64) (string, bool) {
	var u string
	if i := strings.LastIndex(url, "/"); i >= 0 {
		u = fmt.Sprintf("%s/%d.%s", url[:i], v, url[i+1:])
	} else {
		u = fmt.Sprintf("%d.%s", v, url)
	}
	rel := strings.TrimPrefix(path.Clean("/"+u), "/")
	if rel == "" || strings.HasPrefix(rel, "..") {
		c.fail(file, "url %q does not name a file inside the mirror", url)
		return "", false
	}
	return filepath.FromSlash(rel), true
}

func (c *checker) loadReferenced(from, name, role string) *manifestFile {
	mf := c.files[name]
	if mf == nil {
		// Referenced file in a subdirectory (non-standard URL) or missing.
		if _, err := os.Stat(filepath.Join(c.dir, name)); err != nil {
			c.fail(name, "referenced by %s but missing", from)
			return nil
		}
		mf = c.parseManifest(name, role)
		c.files[name] = mf
	}
	return mf
}

func (c *checker) checkIndex(snap *snapshotSigned, root *rootSigned, ks *keySet) (*indexSigned, string) {
	url := root.Roles["index"].URL
	fv, ok := snap.Meta[url]
	if !ok {
		c.fail("snapshot.json", "meta has no entry for the index url %q", url)
		return nil, ""
	}
	name, ok := c.versionedName("snapshot.json", url, fv.Version)
	if !ok {
		return nil, ""
	}
	mf := c.loadReferenced("snapshot.json", name, "index")
	if mf == nil || mf.data == nil {
		return nil, ""
	}
	if !c.checkLength(name, "snapshot meta["+url+"]", fv.Length, uint64(len(mf.data))) || !mf.usable {
		return nil, ""
	}
	if _, ok := c.verifySignatures(mf, ks); !ok {
		return nil, ""
	}
	index := mf.typed.(*indexSigned)
	if index.Version != fv.Version {
		c.fail(name, "version is %d, snapshot says %d", index.Version, fv.Version)
	}
	if !c.checkNotExpired(name, index.Expires) {
		return nil, ""
	}
	ok = true
	for _, oid := range sortedOwnerIDs(index) {
		o := index.Owners[oid]
		keys := c.validateKeys(name, "owners."+oid, o.Keys)
		if len(keys) != len(o.Keys) {
			ok = false
		}
		if o.Threshold < 1 {
			if c.opt.Legacy {
				c.warn(name, "owner %s threshold %d (current TiUP refuses this index: invalid threshold (0)); using 1", oid, o.Threshold)
			} else {
				c.fail(name, "owner %s threshold is %d; TiUP's key store refuses thresholds < 1", oid, o.Threshold)
				ok = false
			}
		} else if int64(len(o.Keys)) < o.Threshold {
			c.fail(name, "owner %s has %d key(s), fewer than its threshold %d", oid, len(o.Keys), o.Threshold)
			ok = false
		}
	}
	for _, id := range sortedComponentIDs(index) {
		item := index.Components[id]
		if _, has := index.Owners[item.Owner]; !has {
			c.fail(name, "component %s has unknown owner %q", id, item.Owner)
			ok = false
		}
		if want := "/" + id + ".json"; item.URL != want {
			if c.opt.Legacy {
				c.warn(name, "component %s url is %q, TiUP writes %q", id, item.URL, want)
			} else {
				c.fail(name, "component %s url is %q, want %q", id, item.URL, want)
				ok = false
			}
		}
	}
	for _, d := range index.DefaultComponents {
		if _, has := index.Components[d]; !has {
			c.fail(name, "default component %s is not a component", d)
			ok = false
		}
	}
	if !ok {
		return nil, ""
	}
	c.okLine(name, "index v%d, expires %s, %s, %d owner(s), %d component(s)", index.Version, index.Expires, mf.verified, len(index.Owners), len(index.Components))
	return index, name
}

func sortedOwnerIDs(index *indexSigned) []string {
	ids := make([]string, 0, len(index.Owners))
	for id := range index.Owners {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// checkSnapshotEntries: every component has a snapshot entry, and the
// snapshot lists nothing else than root, index and components.
func (c *checker) checkSnapshotEntries(snap *snapshotSigned, root *rootSigned, index *indexSigned) {
	known := map[string]bool{"/root.json": true, root.Roles["index"].URL: true}
	for _, id := range sortedComponentIDs(index) {
		url := index.Components[id].URL
		known[url] = true
		if _, ok := snap.Meta[url]; !ok {
			c.fail("snapshot.json", "meta has no entry for component %s (%s)", id, url)
		}
	}
	var extra []string
	for k := range snap.Meta {
		if !known[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		if c.opt.Legacy {
			c.warn("snapshot.json", "meta entry %q is not root, index or a component of the index", k)
		} else {
			c.fail("snapshot.json", "meta entry %q is not root, index or a component of the index", k)
		}
	}
}

// checkComponent verifies one component manifest and its tarballs; returns
// the snapshot version of the component (0 on failure).
func (c *checker) checkComponent(id string, item componentItem, index *indexSigned, indexFile string, snap *snapshotSigned) uint64 {
	fv, ok := snap.Meta[item.URL]
	if !ok {
		return 0 // already reported
	}
	name, ok := c.versionedName("snapshot.json", item.URL, fv.Version)
	if !ok {
		return 0
	}
	mf := c.loadReferenced("snapshot.json", name, "component")
	if mf == nil || mf.data == nil {
		return 0
	}
	if !c.checkLength(name, "snapshot meta["+item.URL+"]", fv.Length, uint64(len(mf.data))) || !mf.usable {
		return 0
	}
	owner, ok := index.Owners[item.Owner]
	if !ok {
		return 0
	}
	ks := &keySet{name: "owner " + item.Owner, threshold: uint64(maxInt64(owner.Threshold, 0)), keys: c.validateKeys(indexFile, "owners."+item.Owner, owner.Keys)}
	if c.opt.Legacy && owner.Threshold < 1 {
		ks.threshold = 1
	}
	if _, ok := c.verifySignatures(mf, ks); !ok {
		return 0
	}
	comp := mf.typed.(*componentSigned)
	if comp.Version != fv.Version {
		c.fail(name, "version is %d, snapshot says %d", comp.Version, fv.Version)
	}
	if comp.ID != id {
		c.fail(name, "id is %q, index component is %q", comp.ID, id)
	}
	if !c.checkNotExpired(name, comp.Expires) {
		return 0
	}
	nVersions, nTarballs, nTried := 0, 0, 0
	for _, plat := range sortedPlatformKeys(comp.Platforms) {
		if !publishPlatforms[plat] {
			c.warn(name, "platform %q is not one `tiup mirror publish` accepts", plat)
		}
		vers := comp.Platforms[plat]
		for _, ver := range sortedVersionKeys(vers) {
			vi := vers[ver]
			nVersions++
			where := fmt.Sprintf("platforms[%s][%s]", plat, ver)
			if _, err := time.Parse(time.RFC3339, vi.Released); err != nil {
				if c.opt.Legacy {
					c.warn(name, "%s.released %q is not RFC 3339", where, vi.Released)
				} else {
					c.fail(name, "%s.released %q is not RFC 3339", where, vi.Released)
				}
			}
			if vi.Yanked {
				continue
			}
			if vi.Entry == "" {
				c.fail(name, "%s: entry is empty (TiUP treats the version as absent)", where)
				continue
			}
			osArch := strings.Replace(plat, "/", "-", 1)
			if want := fmt.Sprintf("/%s-%s-%s.tar.gz", id, ver, osArch); vi.URL != want {
				c.warn(name, "%s.url is %q, `tiup mirror publish` writes %q", where, vi.URL, want)
			}
			if !c.checkHashes(name, where+".hashes", vi.Hashes) {
				continue
			}
			if c.opt.NoTarballs {
				continue
			}
			nTried++
			if c.checkTarball(name, where, vi) {
				nTarballs++
			}
		}
	}
	if comp.Nightly != "" {
		found := false
		for _, vers := range comp.Platforms {
			_, has := vers[comp.Nightly]
			found = found || has
		}
		if !found {
			c.warn(name, "nightly %q is not a version of any platform", comp.Nightly)
		}
	}
	tb := fmt.Sprintf("%d of %d tarball(s) verified", nTarballs, nTried)
	if c.opt.NoTarballs {
		tb = "tarballs not checked"
	}
	c.okLine(name, "component %s v%d, expires %s, %s, %d version item(s), %s", id, comp.Version, comp.Expires, mf.verified, nVersions, tb)
	return fv.Version
}

func maxInt64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func sortedPlatformKeys(m map[string]map[string]versionItem) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedVersionKeys(m map[string]versionItem) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkTarball checks existence, length, hashes and the entry inside.
func (c *checker) checkTarball(manifest, where string, vi versionItem) bool {
	if !strings.HasPrefix(vi.URL, "/") {
		c.fail(manifest, "%s.url %q does not start with /", where, vi.URL)
		return false
	}
	rel := strings.TrimPrefix(path.Clean(vi.URL), "/")
	if rel == "" || strings.HasPrefix(rel, "..") {
		c.fail(manifest, "%s.url %q is outside the mirror", where, vi.URL)
		return false
	}
	p := filepath.Join(c.dir, filepath.FromSlash(rel))
	data, err := os.ReadFile(p)
	if err != nil {
		c.fail(rel, "tarball referenced by %s %s: %v", manifest, where, err)
		return false
	}
	ok := true
	if uint64(len(data)) != vi.Length {
		c.fail(rel, "length %d, %s %s declares %d", len(data), manifest, where, vi.Length)
		ok = false
	}
	s256, s512 := hashesOf(data)
	if vi.Hashes["sha256"] != s256 {
		c.fail(rel, "sha256 %s, %s %s declares %s", s256, manifest, where, vi.Hashes["sha256"])
		ok = false
	}
	if want, has := vi.Hashes["sha512"]; has && want != s512 {
		c.fail(rel, "sha512 does not match %s %s", manifest, where)
		ok = false
	}
	if !ok {
		return false
	}
	if c.opt.NoEntryCheck {
		return true
	}
	if err := tarballHasEntry(data, vi.Entry); err != nil {
		c.fail(rel, "entry %q (%s %s): %v", vi.Entry, manifest, where, err)
		return false
	}
	return true
}

// tarballHasEntry requires the gzip'ed tar to contain entry as an executable
// regular file (or a link), relative to the archive root.
func tarballHasEntry(data []byte, entry string) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not gzip: %v", err)
	}
	tr := tar.NewReader(zr)
	want := path.Clean(strings.TrimPrefix(entry, "./"))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return fmt.Errorf("not found in the tarball")
		}
		if err != nil {
			return fmt.Errorf("not a valid tar: %v", err)
		}
		if path.Clean(strings.TrimPrefix(h.Name, "./")) != want {
			continue
		}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			if h.Mode&0o500 != 0o500 {
				return fmt.Errorf("mode %o is not readable+executable by owner (TiUP patch requires mode&0500 == 0500)", h.Mode)
			}
			return nil
		case tar.TypeSymlink, tar.TypeLink:
			return nil
		default:
			return fmt.Errorf("is not a regular file (tar type %q)", h.Typeflag)
		}
	}
}

// checkUnreachable checks versioned files the snapshot does not point to.
func (c *checker) checkUnreachable(indexVersions map[uint64]string, compVersions map[string]map[uint64]string, snap *snapshotSigned, root *rootSigned, index *indexSigned, latestComp map[string]uint64) {
	cur := snap.Meta[root.Roles["index"].URL].Version
	for v, name := range indexVersions {
		if v > cur {
			c.report(name, "index version %d is newer than the snapshot's %d (incomplete transaction?)", v, cur)
		} else if v < cur {
			c.okLine(name, "older index version (canonical, schema and file-name version checked)")
		}
	}
	ids := make([]string, 0, len(compVersions))
	for id := range compVersions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		item, inIndex := index.Components[id]
		for v, name := range compVersions[id] {
			if !inIndex {
				c.report(name, "component %s is not in the index", id)
				continue
			}
			cur := snap.Meta[item.URL].Version
			if v > cur {
				c.report(name, "component version %d is newer than the snapshot's %d (incomplete transaction?)", v, cur)
			} else if v < cur {
				c.okLine(name, "older %s version (canonical, schema and file-name version checked)", id)
			}
		}
	}
}

// report is an error in strict mode and a warning in legacy mode.
func (c *checker) report(file, format string, a ...interface{}) {
	if c.opt.Legacy {
		c.warn(file, format, a...)
	} else {
		c.fail(file, format, a...)
	}
}
