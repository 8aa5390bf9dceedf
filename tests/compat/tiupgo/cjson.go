package main

// Canonical JSON as written by TiUP (github.com/gibson042/canonicaljson-go
// v1.0.3), re-implemented from its documented rules:
//
//   - object members sorted by key, byte-wise on the UTF-8 encoding;
//   - no insignificant whitespace;
//   - strings are raw UTF-8; only '"', '\\' and bytes < 0x20 are escaped,
//     using \b \t \n \f \r where they exist and \u00XX (UPPERCASE hex)
//     otherwise; no HTML escaping, U+2028/U+2029 and 0x7F are literal;
//   - integral numbers are plain digits (no sign for zero); non-integral
//     numbers use the form d.dddE<exp> (never produced by TiUP manifests);
//   - nil maps/slices are null.
//
// The encoder works on generic values as produced by encoding/json with
// UseNumber (map[string]interface{}, []interface{}, string, json.Number,
// bool, nil) and on a few concrete Go types used by the writer.

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

const upperHex = "0123456789ABCDEF"

// canonicalMarshal encodes v as canonical JSON.
func canonicalMarshal(v interface{}) ([]byte, error) {
	return appendCanonical(nil, v)
}

// canonicalFromStruct converts a Go value to canonical JSON by going through
// encoding/json (struct field names/tags, nil => null) and then re-encoding
// the generic tree canonically. HTML escaping done by json.Marshal is undone
// by the decode step, so it has no effect on the result.
func canonicalFromStruct(v interface{}) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	g, err := decodeGeneric(raw)
	if err != nil {
		return nil, err
	}
	return canonicalMarshal(g)
}

// decodeGeneric decodes exactly one JSON value with numbers kept as
// json.Number. Trailing non-space data is an error.
func decodeGeneric(data []byte) (interface{}, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var v interface{}
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after the JSON value")
	}
	return v, nil
}

func appendCanonical(buf []byte, v interface{}) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case bool:
		if x {
			return append(buf, "true"...), nil
		}
		return append(buf, "false"...), nil
	case string:
		return appendCanonicalString(buf, x)
	case json.Number:
		s, err := normalizeNumber(string(x))
		if err != nil {
			return nil, err
		}
		return append(buf, s...), nil
	case int:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case uint:
		return strconv.AppendUint(buf, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(buf, x, 10), nil
	case []interface{}:
		if x == nil {
			return append(buf, "null"...), nil
		}
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			if buf, err = appendCanonical(buf, e); err != nil {
				return nil, err
			}
		}
		return append(buf, ']'), nil
	case []string:
		if x == nil {
			return append(buf, "null"...), nil
		}
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			if buf, err = appendCanonicalString(buf, e); err != nil {
				return nil, err
			}
		}
		return append(buf, ']'), nil
	case map[string]interface{}:
		if x == nil {
			return append(buf, "null"...), nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // Go string order = byte-wise order
		buf = append(buf, '{')
		for i, k := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			if buf, err = appendCanonicalString(buf, k); err != nil {
				return nil, err
			}
			buf = append(buf, ':')
			if buf, err = appendCanonical(buf, x[k]); err != nil {
				return nil, err
			}
		}
		return append(buf, '}'), nil
	case map[string]string:
		if x == nil {
			return append(buf, "null"...), nil
		}
		m := make(map[string]interface{}, len(x))
		for k, s := range x {
			m[k] = s
		}
		return appendCanonical(buf, m)
	default:
		return nil, fmt.Errorf("canonical json: unsupported type %T", v)
	}
}

func appendCanonicalString(buf []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("canonical json: invalid UTF-8 in string %q", s)
	}
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b == '"' || b == '\\':
			buf = append(buf, '\\', b)
		case b >= 0x20:
			buf = append(buf, b)
		case b == '\b':
			buf = append(buf, '\\', 'b')
		case b == '\t':
			buf = append(buf, '\\', 't')
		case b == '\n':
			buf = append(buf, '\\', 'n')
		case b == '\f':
			buf = append(buf, '\\', 'f')
		case b == '\r':
			buf = append(buf, '\\', 'r')
		default:
			buf = append(buf, '\\', 'u', '0', '0', upperHex[b>>4], upperHex[b&0xF])
		}
	}
	return append(buf, '"'), nil
}

// normalizeNumber rewrites a JSON number literal in canonical form:
// integers as plain digits, other values as <d>.<ddd>E<exp> with the
// shortest mantissa that still has one digit after the point.
func normalizeNumber(lit string) (string, error) {
	s := lit
	neg := false
	if strings.HasPrefix(s, "-") {
		neg = true
		s = s[1:]
	}
	mant, expPart, hasExp := s, "", false
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, expPart, hasExp = s[:i], s[i+1:], true
	}
	intPart, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
		if frac == "" {
			return "", fmt.Errorf("invalid number literal %q", lit)
		}
	}
	if intPart == "" || !allDigits(intPart) || !allDigits(frac) ||
		(len(intPart) > 1 && intPart[0] == '0') {
		return "", fmt.Errorf("invalid number literal %q", lit)
	}
	exp := 0
	if hasExp {
		e := expPart
		if e != "" && (e[0] == '+' || e[0] == '-') {
			e = e[1:]
		}
		if e == "" || !allDigits(e) {
			return "", fmt.Errorf("invalid number literal %q", lit)
		}
		v, err := strconv.Atoi(expPart)
		if err != nil {
			return "", fmt.Errorf("number exponent out of range in %q", lit)
		}
		exp = v
	}
	// value = digits * 10^exp
	digits := intPart + frac
	exp -= len(frac)
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return "0", nil
	}
	for strings.HasSuffix(digits, "0") {
		digits = digits[:len(digits)-1]
		exp++
	}
	var sb strings.Builder
	if neg {
		sb.WriteByte('-')
	}
	if exp >= 0 {
		sb.WriteString(digits)
		sb.WriteString(strings.Repeat("0", exp))
		return sb.String(), nil
	}
	sci := exp + len(digits) - 1
	m := digits
	if len(m) == 1 {
		m += "0"
	}
	sb.WriteString(m[:1])
	sb.WriteByte('.')
	sb.WriteString(m[1:])
	sb.WriteByte('E')
	sb.WriteString(strconv.Itoa(sci))
	return sb.String(), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
