// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

// Command tiuprender renders one of TiUP's templates (tests/compat/tiup-templates) the way TiUP does:
// Go's text/template executed on a struct whose fields are named as TiUP's template structs name theirs
// (pkg/cluster/template/{scripts,systemd,config} at 842f05cc). It also writes a cluster's meta.yaml as
// TiUP's yaml.v3 Marshal of ClusterMeta would.
//
//	tiuprender TEMPLATE DATA.json    render TEMPLATE (which struct is chosen by its file name) to stdout
//	tiuprender meta DATA.json        meta.yaml to stdout, from JSON keyed as meta.yaml is
//
// DATA.json is decoded strictly: a field TiUP's struct does not have is an error, so a misspelt name
// cannot silently render as empty.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"text/template"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: tiuprender TEMPLATE|meta DATA.json")
		os.Exit(2)
	}
	out, err := run(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "tiuprender:", err)
		os.Exit(1)
	}
	os.Stdout.Write(out)
}

func run(what, dataPath string) ([]byte, error) {
	data, err := os.ReadFile(dataPath)
	if err != nil {
		return nil, err
	}
	if what == "meta" {
		return renderMeta(data)
	}
	tpl, err := os.ReadFile(what)
	if err != nil {
		return nil, err
	}
	name := filepath.Base(what)
	if name == "alertmanager.yml" {
		// TiUP's AlertManagerConfig returns this file unchanged; it is not a template (its comments hold
		// Alertmanager's own {{ }} placeholders).
		var empty struct{}
		if err := decode(data, &empty); err != nil {
			return nil, err
		}
		return tpl, nil
	}
	model, err := modelFor(name)
	if err != nil {
		return nil, err
	}
	if err := decode(data, model); err != nil {
		return nil, err
	}
	t, err := template.New(name).Parse(string(tpl))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, model); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decode(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return nil
}

func modelFor(name string) (any, error) {
	switch name {
	case "run_node_exporter.sh.tpl":
		return &NodeExporterScript{}, nil
	case "run_blackbox_exporter.sh.tpl":
		return &BlackboxExporterScript{}, nil
	case "run_alertmanager.sh.tpl":
		return &AlertManagerScript{}, nil
	case "system.service.tpl":
		return &SystemdConfig{}, nil
	case "blackbox.yml.tpl":
		return &BlackboxConfig{}, nil
	}
	return nil, fmt.Errorf("no data model for template %q", name)
}
