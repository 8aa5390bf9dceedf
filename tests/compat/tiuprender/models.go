// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

package main

// The template data. Field names and types are TiUP's (the templates refer to them by name); the set of
// fields is what each TiUP struct has, so a template referring to a field TiUP lacks fails to execute.

// NodeExporterScript is the data of run_node_exporter.sh.tpl (TiUP: scripts.NodeExporterScript).
type NodeExporterScript struct {
	Port      uint64
	DeployDir string
	LogDir    string
	NumaNode  string
}

// BlackboxExporterScript is the data of run_blackbox_exporter.sh.tpl (TiUP: scripts.BlackboxExporterScript).
type BlackboxExporterScript struct {
	Port      uint64
	DeployDir string
	LogDir    string
	NumaNode  string
}

// AlertManagerScript is the data of run_alertmanager.sh.tpl (TiUP: scripts.AlertManagerScript).
type AlertManagerScript struct {
	WebListenAddr     string
	WebExternalURL    string
	ClusterPeers      []string
	ClusterListenAddr string
	DeployDir         string
	LogDir            string
	DataDir           string
	NumaNode          string
	AdditionalArgs    []string
}

// SystemdConfig is the data of system.service.tpl (TiUP: systemd.Config).
type SystemdConfig struct {
	ServiceName         string
	User                string
	MemoryLimit         string
	CPUQuota            string
	IOReadBandwidthMax  string
	IOWriteBandwidthMax string
	LimitCORE           string
	DeployDir           string
	DisableSendSigkill  bool
	TimeoutStopSec      string
	TimeoutStartSec     string
	GrantCapNetRaw      bool
	Restart             string
	SystemdMode         string
}

// BlackboxConfig is the data of blackbox.yml.tpl (TiUP: config.BlackboxConfig).
type BlackboxConfig struct {
	DeployDir  string
	TLSEnabled bool
}
