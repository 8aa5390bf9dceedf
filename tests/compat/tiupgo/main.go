// Command tiupgo is an independent implementation of TiUP's v1 mirror
// format (standard library only), used as a compatibility oracle.
//
//	tiupgo check DIR [--at RFC3339] [--legacy] [--no-tarballs] [--no-entry-check]
//	tiupgo write DIR [--now RFC3339] [--expires-days-snapshot N]
//	                 [--expires-days-timestamp N] [--publish-style-timestamp]
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

const usage = `usage:
  tiupgo check DIR [--at RFC3339] [--legacy] [--no-tarballs] [--no-entry-check]
  tiupgo write DIR [--now RFC3339] [--expires-days-snapshot N] [--expires-days-timestamp N]
                   [--publish-style-timestamp]
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// parsed command line: positional arguments and flags (flags may appear
// anywhere; "--flag value" and "--flag=value" are accepted).
type cmdLine struct {
	args  []string
	flags map[string]string
}

func parseArgs(args []string, boolFlags, valueFlags map[string]bool) (*cmdLine, error) {
	cl := &cmdLine{flags: map[string]string{}}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			cl.args = append(cl.args, a)
			continue
		}
		name, val, hasVal := strings.Cut(a[2:], "=")
		switch {
		case boolFlags[name]:
			if hasVal {
				return nil, fmt.Errorf("flag --%s takes no value", name)
			}
			cl.flags[name] = "true"
		case valueFlags[name]:
			if !hasVal {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("flag --%s needs a value", name)
				}
				i++
				val = args[i]
			}
			cl.flags[name] = val
		default:
			return nil, fmt.Errorf("unknown flag --%s", name)
		}
	}
	return cl, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "check":
		cl, err := parseArgs(args[1:], map[string]bool{"legacy": true, "no-tarballs": true, "no-entry-check": true}, map[string]bool{"at": true})
		if err != nil || len(cl.args) != 1 {
			if err != nil {
				fmt.Fprintf(stderr, "tiupgo check: %v\n", err)
			}
			fmt.Fprint(stderr, usage)
			return 2
		}
		opt := checkOptions{At: time.Now(), Legacy: cl.flags["legacy"] != "", NoTarballs: cl.flags["no-tarballs"] != "",
			NoEntryCheck: cl.flags["no-entry-check"] != ""}
		if s, ok := cl.flags["at"]; ok {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				fmt.Fprintf(stderr, "tiupgo check: --at: %v\n", err)
				return 2
			}
			opt.At = t
		}
		if errs := runCheck(cl.args[0], opt, stdout, stderr); len(errs) > 0 {
			return 1
		}
		return 0
	case "write":
		cl, err := parseArgs(args[1:], map[string]bool{"publish-style-timestamp": true},
			map[string]bool{"now": true, "expires-days-snapshot": true, "expires-days-timestamp": true})
		if err != nil || len(cl.args) != 1 {
			if err != nil {
				fmt.Fprintf(stderr, "tiupgo write: %v\n", err)
			}
			fmt.Fprint(stderr, usage)
			return 2
		}
		opt := defaultWriteOptions()
		opt.PublishStyleTimestamp = cl.flags["publish-style-timestamp"] != ""
		if s, ok := cl.flags["now"]; ok {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				fmt.Fprintf(stderr, "tiupgo write: --now: %v\n", err)
				return 2
			}
			opt.Now = t
		}
		for flag, dst := range map[string]*time.Duration{
			"expires-days-snapshot":  &opt.SnapshotExpiry,
			"expires-days-timestamp": &opt.TimestampExpiry,
		} {
			if s, ok := cl.flags[flag]; ok {
				n, err := strconv.Atoi(s)
				if err != nil {
					fmt.Fprintf(stderr, "tiupgo write: --%s: %v\n", flag, err)
					return 2
				}
				*dst = time.Duration(n) * day
			}
		}
		res, err := runWrite(cl.args[0], opt)
		if err != nil {
			fmt.Fprintf(stderr, "tiupgo write: %v\n", err)
			return 1
		}
		out, _ := json.Marshal(res)
		fmt.Fprintln(stdout, string(out))
		return 0
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "tiupgo: unknown command %q\n", args[0])
	fmt.Fprint(stderr, usage)
	return 2
}
