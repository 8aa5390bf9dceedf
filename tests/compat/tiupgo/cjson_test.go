package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

func TestCanonicalStrings(t *testing.T) {
	cases := []struct {
		in   string
		want string
	}{
		{"plain", `"plain"`},
		{`q"b\s`, `"q\"b\\s"`},
		{"\b\t\n\f\r", `"\b\t\n\f\r"`},
		{"\x00\x01\x1a\x1f", `"\u0000\u0001\u001A\u001F"`}, // uppercase hex
		{"<>&+/", `"<>&+/"`},                               // no HTML / '+' escaping
		{"\x7f", "\"\x7f\""},
		{"\u2028\u2029", "\"\u2028\u2029\""},
		{"é漢😀", "\"é漢😀\""},
	}
	for _, c := range cases {
		got, err := canonicalMarshal(c.in)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if string(got) != c.want {
			t.Errorf("%q: got %s want %s", c.in, got, c.want)
		}
	}
	if _, err := canonicalMarshal("\xff"); err == nil {
		t.Errorf("invalid UTF-8 accepted")
	}
}

func TestCanonicalObjects(t *testing.T) {
	g, err := decodeGeneric([]byte(` { "b" : [ 1 , true , null ], "a":{"z":"", "_t":0,"Z":{}}, "components":[], "_type":"x" } `))
	if err != nil {
		t.Fatal(err)
	}
	got, err := canonicalMarshal(g)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"_type":"x","a":{"Z":{},"_t":0,"z":""},"b":[1,true,null],"components":[]}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// Byte-wise order: "_" (0x5F) sorts after upper case and before lower case.
	keys := []string{"b", "_a", "B", "a", "é", "aa"}
	sort.Strings(keys)
	if keys[0] != "B" || keys[1] != "_a" || keys[5] != "é" {
		t.Fatalf("unexpected Go order %v", keys)
	}
	// Escaped input is not canonical.
	for _, in := range []string{`{"a":"\u0041"}`, `{"a":"\/"}`, `{"a":1.0}`, `{"a":1e2}`, "{\"a\":1}\n", `{"b":1,"a":2}`, `{"a":1, "b":2}`} {
		g, err := decodeGeneric([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		c, _ := canonicalMarshal(g)
		if string(c) == in {
			t.Errorf("%s considered canonical", in)
		}
	}
}

func TestNormalizeNumber(t *testing.T) {
	cases := map[string]string{
		"0": "0", "-0": "0", "7": "7", "1048576": "1048576", "18446744073709551615": "18446744073709551615",
		"1.0": "1", "1e2": "100", "1E+2": "100", "100e-2": "1", "-12": "-12",
		"0.5": "5.0E-1", "1.25": "1.25E0", "-0.001": "-1.0E-3", "123.45e1": "1.2345E3",
	}
	for in, want := range cases {
		got, err := normalizeNumber(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got != want {
			t.Errorf("%s: got %s want %s", in, got, want)
		}
	}
	for _, bad := range []string{"", "01", "1.", ".5", "+1", "1e", "--1", "0x1"} {
		if _, err := normalizeNumber(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Every manifest of the legacy fixture mirror (written by TiUP) re-encodes
// to its exact bytes.
func TestCanonicalRoundTripFixtures(t *testing.T) {
	dirs := []string{
		filepath.Join(fixtureRoot(), "pkg/repository/testdata/manifests"),
		filepath.Join(fixtureRoot(), "pkg/repository/testdata/polluted/bin"),
	}
	n := 0
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			g, err := decodeGeneric(data)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			c, err := canonicalMarshal(g)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if string(c) != string(data) {
				t.Errorf("%s: %s", f, describeDiff(data, c))
			}
			n++
		}
	}
	if n == 0 {
		t.Skip("fixtures not available")
	}
	t.Logf("%d fixture files round-trip", n)
}

// canonicalFromStruct emits every field, nil maps as null, in sorted order.
func TestCanonicalFromStruct(t *testing.T) {
	vi := versionItem{URL: "/x-v1-linux-amd64.tar.gz", Entry: "bin/x", Released: "2020-01-01T00:00:00Z", Hashes: map[string]string{"sha256": "ab"}, Length: 3}
	got, err := canonicalFromStruct(vi)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"dependencies":null,"entry":"bin/x","hashes":{"sha256":"ab"},"length":3,"released":"2020-01-01T00:00:00Z","url":"/x-v1-linux-amd64.tar.gz","yanked":false}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	var back map[string]json.RawMessage
	if err := json.Unmarshal(got, &back); err != nil || len(back) != 7 {
		t.Fatalf("%v %d", err, len(back))
	}
}
