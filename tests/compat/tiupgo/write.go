package main

// `tiupgo write DIR`: produce a new mirror the way `tiup mirror init`,
// `tiup mirror grant pingcap --name PingCAP` and two
// `tiup mirror publish hello <v> … --os linux --arch amd64` would, using
// this program's canonical encoder and Go's crypto exactly as TiUP calls it.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

const day = 24 * time.Hour

type writeOptions struct {
	Now                   time.Time
	SnapshotExpiry        time.Duration
	TimestampExpiry       time.Duration
	PublishStyleTimestamp bool // after init, write only sha256 in timestamp (as TiUP's publish/grant do)
	Description           string
}

func defaultWriteOptions() writeOptions {
	return writeOptions{
		Now:             time.Now().UTC(),
		SnapshotExpiry:  30 * day,
		TimestampExpiry: 30 * day,
		Description:     "Hello world test component",
	}
}

type writeResult struct {
	Root       string              `json:"root"`
	OwnerKey   string              `json:"ownerKey"`
	Components map[string][]string `json:"components"`
}

type mirrorWriter struct {
	dir string
	opt writeOptions
	now time.Time

	rootKeys                 []*privKey
	indexKey, snapKey, tsKey *privKey
	ownerKey                 *privKey
	ownerKeyPath             string
	root                     *rootSigned
	rootFile                 []byte
	index                    *indexSigned
	snapshot                 *snapshotSigned
	timestamp                *timestampSigned
	components               map[string]*componentSigned
	published                map[string][]string
}

func (w *mirrorWriter) expiresIn(d time.Duration) string {
	return w.now.Add(d).UTC().Format(time.RFC3339)
}

// renew mimics RenewManifest: bump a non-zero version, move expiry forward
// to now+d if it is earlier.
func (w *mirrorWriter) renew(b *signedBase, d time.Duration) {
	if b.Version > 0 {
		b.Version++
	}
	target := w.now.Add(d)
	cur, err := time.Parse(time.RFC3339, b.Expires)
	if err != nil || cur.Before(target) {
		b.Expires = target.UTC().Format(time.RFC3339)
	}
}

// signManifest returns the file bytes of a signed manifest: canonical JSON of
// {"signatures":[…],"signed":…}, no trailing newline.
func signManifest(signed interface{}, keys ...*privKey) ([]byte, error) {
	payload, err := canonicalFromStruct(signed)
	if err != nil {
		return nil, err
	}
	sigs := []signature{}
	for _, k := range keys {
		s, err := signPayload(k.Key, payload)
		if err != nil {
			return nil, err
		}
		sigs = append(sigs, signature{KeyID: k.ID, Sig: s})
	}
	g, err := decodeGeneric(payload)
	if err != nil {
		return nil, err
	}
	file, err := canonicalFromStruct(envelope{Signatures: sigs, Signed: g})
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(file, payload) {
		return nil, fmt.Errorf("internal error: signed payload not embedded verbatim")
	}
	return file, nil
}

func (w *mirrorWriter) writeFile(name string, data []byte, mode os.FileMode) error {
	p := filepath.Join(w.dir, name)
	if err := os.WriteFile(p, data, mode); err != nil {
		return err
	}
	return os.Chmod(p, mode)
}

// saveKey writes keys/<id16>-<role>.json like TiUP's SaveKeyInfo.
func (w *mirrorWriter) saveKey(k *privKey, role string) (string, error) {
	data, err := k.keyFileBytes()
	if err != nil {
		return "", err
	}
	p := filepath.Join(w.dir, "keys", fmt.Sprintf("%s-%s.json", k.ID[:shortIDLength], role))
	if err := os.WriteFile(p, data, 0o600); err != nil {
		return "", err
	}
	return p, os.Chmod(p, 0o600)
}

func runWrite(dir string, opt writeOptions) (*writeResult, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s: the target path is not an empty directory", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(abs, "keys"), 0o755); err != nil {
		return nil, err
	}
	w := &mirrorWriter{dir: abs, opt: opt, now: opt.Now.UTC().Truncate(time.Second),
		components: map[string]*componentSigned{}, published: map[string][]string{}}
	if err := w.init(); err != nil {
		return nil, err
	}
	if err := w.grant("pingcap", "PingCAP"); err != nil {
		return nil, err
	}
	for _, v := range []string{"v1.0.0", "v1.1.0"} {
		tgz, err := helloTarball(v, w.now)
		if err != nil {
			return nil, err
		}
		if err := w.publish("hello", v, "linux", "amd64", fmt.Sprintf("hello-%s/bin/hello", v), tgz); err != nil {
			return nil, err
		}
	}
	return &writeResult{
		Root:       filepath.Join(abs, "root.json"),
		OwnerKey:   w.ownerKeyPath,
		Components: w.published,
	}, nil
}

// init = `tiup mirror init` (+ 1.root.json, as `tiup mirror clone` writes).
func (w *mirrorWriter) init() error {
	var err error
	for i := 0; i < 3; i++ {
		k, err := newPrivKey()
		if err != nil {
			return err
		}
		w.rootKeys = append(w.rootKeys, k)
		if _, err := w.saveKey(k, "root"); err != nil {
			return err
		}
	}
	for _, x := range []struct {
		role string
		dst  **privKey
	}{{"index", &w.indexKey}, {"snapshot", &w.snapKey}, {"timestamp", &w.tsKey}} {
		if *x.dst, err = newPrivKey(); err != nil {
			return err
		}
		if _, err := w.saveKey(*x.dst, x.role); err != nil {
			return err
		}
	}
	role := func(name string, threshold uint64, keys ...*privKey) *roleDef {
		r := &roleDef{URL: "/" + name + ".json", Threshold: threshold, Keys: map[string]*keyInfo{}}
		for _, k := range keys {
			ki := k.publicInfo()
			r.Keys[k.ID] = &ki
		}
		return r
	}
	w.root = &rootSigned{
		signedBase: signedBase{Type: "root", SpecVersion: specVersion, Expires: w.expiresIn(365 * day), Version: 1},
		Roles: map[string]*roleDef{
			"root":      role("root", 3, w.rootKeys...),
			"index":     role("index", 1, w.indexKey),
			"snapshot":  role("snapshot", 1, w.snapKey),
			"timestamp": role("timestamp", 1, w.tsKey),
		},
	}
	if w.rootFile, err = signManifest(w.root, w.rootKeys...); err != nil {
		return err
	}
	w.index = &indexSigned{
		signedBase:        signedBase{Type: "index", SpecVersion: specVersion, Expires: w.expiresIn(365 * day), Version: 1},
		Owners:            map[string]ownerDef{},
		Components:        map[string]componentItem{},
		DefaultComponents: []string{},
	}
	indexFile, err := signManifest(w.index, w.indexKey)
	if err != nil {
		return err
	}
	w.snapshot = &snapshotSigned{
		signedBase: signedBase{Type: "snapshot", SpecVersion: specVersion, Expires: w.expiresIn(w.opt.SnapshotExpiry), Version: 0},
		Meta: map[string]fileVersion{
			"/root.json":  {Version: 1, Length: uint64(len(w.rootFile))},
			"/index.json": {Version: 1, Length: uint64(len(indexFile))},
		},
	}
	snapFile, err := signManifest(w.snapshot, w.snapKey)
	if err != nil {
		return err
	}
	w.timestamp = &timestampSigned{
		signedBase: signedBase{Type: "timestamp", SpecVersion: specVersion, Expires: w.expiresIn(w.opt.TimestampExpiry), Version: 1},
	}
	tsFile, err := w.signTimestamp(snapFile, true)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"root.json", w.rootFile}, {"1.root.json", w.rootFile}, {"1.index.json", indexFile}, {"snapshot.json", snapFile}, {"timestamp.json", tsFile}} {
		if err := w.writeFile(f.name, f.data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// signTimestamp sets meta[/snapshot.json] from the snapshot file bytes.
func (w *mirrorWriter) signTimestamp(snapFile []byte, initial bool) ([]byte, error) {
	s256, s512 := hashesOf(snapFile)
	hashes := map[string]string{"sha256": s256, "sha512": s512}
	if !initial && w.opt.PublishStyleTimestamp {
		hashes = map[string]string{"sha256": s256}
	}
	w.timestamp.Meta = map[string]fileHash{"/snapshot.json": {Hashes: hashes, Length: uint64(len(snapFile))}}
	return signManifest(w.timestamp, w.tsKey)
}

// commit re-signs snapshot (with updated meta) and timestamp and writes the
// given versioned files first, timestamp.json last.
func (w *mirrorWriter) commit(files map[string][]byte, meta map[string]fileVersion) error {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := w.writeFile(n, files[n], 0o644); err != nil {
			return err
		}
	}
	for k, v := range meta {
		w.snapshot.Meta[k] = v
	}
	w.renew(&w.snapshot.signedBase, w.opt.SnapshotExpiry)
	snapFile, err := signManifest(w.snapshot, w.snapKey)
	if err != nil {
		return err
	}
	if err := w.writeFile("snapshot.json", snapFile, 0o644); err != nil {
		return err
	}
	w.renew(&w.timestamp.signedBase, w.opt.TimestampExpiry)
	tsFile, err := w.signTimestamp(snapFile, false)
	if err != nil {
		return err
	}
	return w.writeFile("timestamp.json", tsFile, 0o644)
}

// newIndexVersion renews, signs and returns the next index file.
func (w *mirrorWriter) newIndexVersion() (string, []byte, error) {
	w.renew(&w.index.signedBase, 365*day)
	data, err := signManifest(w.index, w.indexKey)
	if err != nil {
		return "", nil, err
	}
	return fmt.Sprintf("%d.index.json", w.index.Version), data, nil
}

// grant = `tiup mirror grant <id> --name <name> -k <new owner key>`; the
// owner key is saved as keys/<id16>-pingcap.json (as clone does).
func (w *mirrorWriter) grant(id, name string) error {
	k, err := newPrivKey()
	if err != nil {
		return err
	}
	w.ownerKey = k
	if w.ownerKeyPath, err = w.saveKey(k, "pingcap"); err != nil {
		return err
	}
	ki := k.publicInfo()
	w.index.Owners[id] = ownerDef{Name: name, Keys: map[string]*keyInfo{k.ID: &ki}, Threshold: 1}
	fname, data, err := w.newIndexVersion()
	if err != nil {
		return err
	}
	return w.commit(map[string][]byte{fname: data},
		map[string]fileVersion{"/index.json": {Version: w.index.Version, Length: uint64(len(data))}})
}

// publish = `tiup mirror publish <id> <ver> <tarball> <entry> --os --arch --desc -k owner`.
func (w *mirrorWriter) publish(id, ver, goos, goarch, entry string, tgz []byte) error {
	plat := goos + "/" + goarch
	comp := w.components[id]
	files := map[string][]byte{}
	meta := map[string]fileVersion{}
	if comp == nil {
		comp = &componentSigned{
			signedBase:  signedBase{Type: "component", SpecVersion: specVersion, Expires: w.expiresIn(5 * 365 * day), Version: 1},
			ID:          id,
			Description: w.opt.Description,
			Platforms:   map[string]map[string]versionItem{},
		}
		w.components[id] = comp
		// New component: the index gets an item owned by the signer's owner.
		w.index.Components[id] = componentItem{Owner: "pingcap", URL: "/" + id + ".json", Standalone: false, Hidden: false, Yanked: false}
		fname, data, err := w.newIndexVersion()
		if err != nil {
			return err
		}
		files[fname] = data
		meta["/index.json"] = fileVersion{Version: w.index.Version, Length: uint64(len(data))}
	} else {
		w.renew(&comp.signedBase, 5*365*day)
	}
	if comp.Platforms[plat] == nil {
		comp.Platforms[plat] = map[string]versionItem{}
	}
	s256, s512 := hashesOf(tgz)
	tarName := fmt.Sprintf("%s-%s-%s-%s.tar.gz", id, ver, goos, goarch)
	comp.Platforms[plat][ver] = versionItem{
		URL:          "/" + tarName,
		Yanked:       false,
		Entry:        entry,
		Released:     w.now.UTC().Format(time.RFC3339),
		Dependencies: nil,
		Hashes:       map[string]string{"sha256": s256, "sha512": s512},
		Length:       uint64(len(tgz)),
	}
	compFile, err := signManifest(comp, w.ownerKey)
	if err != nil {
		return err
	}
	files[fmt.Sprintf("%d.%s.json", comp.Version, id)] = compFile
	meta["/"+id+".json"] = fileVersion{Version: comp.Version, Length: uint64(len(compFile))}
	if err := w.writeFile(tarName, tgz, 0o644); err != nil {
		return err
	}
	if err := w.commit(files, meta); err != nil {
		return err
	}
	w.published[id] = append(w.published[id], ver)
	return nil
}

// helloTarball builds hello-<v>/bin/hello (a shell script, mode 0755).
func helloTarball(ver string, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	script := []byte(fmt.Sprintf("#!/bin/sh\necho hello %s\n", ver))
	top := "hello-" + ver
	for _, h := range []*tar.Header{
		{Name: top + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mtime},
		{Name: top + "/bin/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mtime},
		{Name: top + "/bin/hello", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(script)), ModTime: mtime},
	} {
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(script); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
