package main

// Exact field sets of the current TiUP v1 manifest schema (doc §1.6), and
// typed views used for the semantic checks and by the writer.
//
// Field sets are described as shapes and checked on the generic decoded
// tree: every object must contain exactly the listed members (strict mode),
// with JSON types matching the Go type TiUP decodes into. Members whose Go
// type is a map or a slice may be null (Go round-trips nil as null);
// strings, booleans and numbers may not (null would become "" / false / 0 on
// TiUP's re-serialisation and break the signature of its cached copy).

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"
)

type kind int

const (
	kString kind = iota
	kBool
	kUint
	kInt
	kObject
	kMap
	kArray
)

type shape struct {
	kind     kind
	fields   map[string]*shape // kObject
	elem     *shape            // kMap, kArray
	nullable bool              // the Go type is a map or a slice
}

var (
	shString = &shape{kind: kString}
	shBool   = &shape{kind: kBool}
	shUint   = &shape{kind: kUint}
	shInt    = &shape{kind: kInt}
)

func shObj(fields map[string]*shape) *shape { return &shape{kind: kObject, fields: fields} }
func shMap(elem *shape) *shape              { return &shape{kind: kMap, elem: elem, nullable: true} }
func shArr(elem *shape) *shape              { return &shape{kind: kArray, elem: elem, nullable: true} }

// withBase adds the SignedBase members.
func withBase(fields map[string]*shape) *shape {
	fields["_type"] = shString
	fields["spec_version"] = shString
	fields["expires"] = shString
	fields["version"] = shUint
	return shObj(fields)
}

var (
	shKeyInfo = shObj(map[string]*shape{
		"keytype": shString,
		"keyval":  shMap(shString),
		"scheme":  shString,
	})
	shRole = shObj(map[string]*shape{
		"url":       shString,
		"keys":      shMap(shKeyInfo),
		"threshold": shUint,
	})
	shRoot = withBase(map[string]*shape{
		"roles": shMap(shRole),
	})
	shOwner = shObj(map[string]*shape{
		"name":      shString,
		"keys":      shMap(shKeyInfo),
		"threshold": shInt,
	})
	shComponentItem = shObj(map[string]*shape{
		"yanked":     shBool,
		"owner":      shString,
		"url":        shString,
		"standalone": shBool,
		"hidden":     shBool,
	})
	shIndex = withBase(map[string]*shape{
		"owners":             shMap(shOwner),
		"components":         shMap(shComponentItem),
		"default_components": shArr(shString),
	})
	shVersionItem = shObj(map[string]*shape{
		"url":          shString,
		"yanked":       shBool,
		"entry":        shString,
		"released":     shString,
		"dependencies": shMap(shString),
		"hashes":       shMap(shString),
		"length":       shUint,
	})
	shComponent = withBase(map[string]*shape{
		"id":          shString,
		"description": shString,
		"nightly":     shString,
		"platforms":   shMap(shMap(shVersionItem)),
	})
	shSnapshot = withBase(map[string]*shape{
		"meta": shMap(shObj(map[string]*shape{
			"version": shUint,
			"length":  shUint,
		})),
	})
	shTimestamp = withBase(map[string]*shape{
		"meta": shMap(shObj(map[string]*shape{
			"hashes": shMap(shString),
			"length": shUint,
		})),
	})
	shSignature = shObj(map[string]*shape{
		"keyid": shString,
		"sig":   shString,
	})
)

func roleShape(role string) *shape {
	switch role {
	case "root":
		return shRoot
	case "index":
		return shIndex
	case "component":
		return shComponent
	case "snapshot":
		return shSnapshot
	case "timestamp":
		return shTimestamp
	}
	return nil
}

var maxUint64 = new(big.Int).SetUint64(^uint64(0))

// checkShape validates v against s. With lenient=true, missing and extra
// object members are tolerated (only types of known members are checked).
func checkShape(v interface{}, s *shape, path string, lenient bool) []string {
	var errs []string
	bad := func(format string, a ...interface{}) {
		errs = append(errs, fmt.Sprintf("%s: %s", path, fmt.Sprintf(format, a...)))
	}
	if v == nil {
		if !s.nullable {
			bad("is null, want %s", kindName(s))
		}
		return errs
	}
	switch s.kind {
	case kString:
		if _, ok := v.(string); !ok {
			bad("is %s, want string", jsonTypeName(v))
		}
	case kBool:
		if _, ok := v.(bool); !ok {
			bad("is %s, want boolean", jsonTypeName(v))
		}
	case kUint, kInt:
		n, ok := v.(json.Number)
		if !ok {
			bad("is %s, want number", jsonTypeName(v))
			break
		}
		z, ok := new(big.Int).SetString(string(n), 10)
		if !ok {
			bad("number %s is not an integer", n)
			break
		}
		if s.kind == kUint && (z.Sign() < 0 || z.Cmp(maxUint64) > 0) {
			bad("number %s does not fit an unsigned 64-bit integer", n)
		}
		if s.kind == kInt && !z.IsInt64() {
			bad("number %s does not fit a 64-bit integer", n)
		}
	case kObject:
		m, ok := v.(map[string]interface{})
		if !ok {
			bad("is %s, want object", jsonTypeName(v))
			break
		}
		for _, k := range sortedKeys(m) {
			fs, known := s.fields[k]
			if !known {
				if !lenient {
					bad("unexpected field %q (not in TiUP's schema)", k)
				}
				continue
			}
			errs = append(errs, checkShape(m[k], fs, path+"."+k, lenient)...)
		}
		if !lenient {
			var missing []string
			for k := range s.fields {
				if _, ok := m[k]; !ok {
					missing = append(missing, k)
				}
			}
			sort.Strings(missing)
			for _, k := range missing {
				bad("missing field %q", k)
			}
		}
	case kMap:
		m, ok := v.(map[string]interface{})
		if !ok {
			bad("is %s, want object", jsonTypeName(v))
			break
		}
		for _, k := range sortedKeys(m) {
			if m[k] == nil && s.elem.kind == kObject {
				bad("member %q is null", k)
				continue
			}
			errs = append(errs, checkShape(m[k], s.elem, path+"["+quote(k)+"]", lenient)...)
		}
	case kArray:
		a, ok := v.([]interface{})
		if !ok {
			bad("is %s, want array", jsonTypeName(v))
			break
		}
		for i, e := range a {
			errs = append(errs, checkShape(e, s.elem, fmt.Sprintf("%s[%d]", path, i), lenient)...)
		}
	}
	return errs
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func sortedKeys(m map[string]interface{}) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func kindName(s *shape) string {
	switch s.kind {
	case kString:
		return "string"
	case kBool:
		return "boolean"
	case kUint, kInt:
		return "number"
	case kArray:
		return "array"
	}
	return "object"
}

func jsonTypeName(v interface{}) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case []interface{}:
		return "array"
	case map[string]interface{}:
		return "object"
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", v), "main.")
}

// ---- typed views (decoded with encoding/json after the shape check) ----

type signedBase struct {
	Type        string `json:"_type"`
	SpecVersion string `json:"spec_version"`
	Expires     string `json:"expires"`
	Version     uint64 `json:"version"`
}

type signature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

type roleDef struct {
	URL       string              `json:"url"`
	Keys      map[string]*keyInfo `json:"keys"`
	Threshold uint64              `json:"threshold"`
}

type rootSigned struct {
	signedBase
	Roles map[string]*roleDef `json:"roles"`
}

type ownerDef struct {
	Name      string              `json:"name"`
	Keys      map[string]*keyInfo `json:"keys"`
	Threshold int64               `json:"threshold"`
}

type componentItem struct {
	Yanked     bool   `json:"yanked"`
	Owner      string `json:"owner"`
	URL        string `json:"url"`
	Standalone bool   `json:"standalone"`
	Hidden     bool   `json:"hidden"`
}

type indexSigned struct {
	signedBase
	Owners            map[string]ownerDef      `json:"owners"`
	Components        map[string]componentItem `json:"components"`
	DefaultComponents []string                 `json:"default_components"`
}

type versionItem struct {
	URL          string            `json:"url"`
	Yanked       bool              `json:"yanked"`
	Entry        string            `json:"entry"`
	Released     string            `json:"released"`
	Dependencies map[string]string `json:"dependencies"`
	Hashes       map[string]string `json:"hashes"`
	Length       uint64            `json:"length"`
}

type componentSigned struct {
	signedBase
	ID          string                            `json:"id"`
	Description string                            `json:"description"`
	Nightly     string                            `json:"nightly"`
	Platforms   map[string]map[string]versionItem `json:"platforms"`
}

type fileVersion struct {
	Version uint64 `json:"version"`
	Length  uint64 `json:"length"`
}

type snapshotSigned struct {
	signedBase
	Meta map[string]fileVersion `json:"meta"`
}

type fileHash struct {
	Hashes map[string]string `json:"hashes"`
	Length uint64            `json:"length"`
}

type timestampSigned struct {
	signedBase
	Meta map[string]fileHash `json:"meta"`
}

// envelope is the whole manifest file as written by the writer.
type envelope struct {
	Signatures []signature `json:"signatures"`
	Signed     interface{} `json:"signed"`
}
