// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

package main

import (
	"bytes"

	"gopkg.in/yaml.v3"
)

// What meta.yaml holds, as TiUP's spec.ClusterMeta and spec.Specification (pkg/cluster/spec/{util,spec}.go at
// 842f05cc) lay it out: the same keys, in the same (struct) order, with the same omitempty flags, so that
// yaml.v3's Marshal writes the same bytes. Only the sections a cluster of alertmanagers and monitoring agents
// fills are modelled in full; the other instance lists TiUP always writes (no omitempty) are here as empty
// lists, and the omitempty ones are left out, as TiUP leaves them out when empty.

type clusterMeta struct {
	User     string         `json:"user" yaml:"user"`
	Version  string         `json:"tidb_version" yaml:"tidb_version"`
	OpsVer   string         `json:"last_ops_ver" yaml:"last_ops_ver,omitempty"`
	Topology *specification `json:"topology" yaml:"topology"`
}

type specification struct {
	GlobalOptions     globalOptions     `json:"global" yaml:"global,omitempty"`
	MonitoredOptions  monitoredOptions  `json:"monitored" yaml:"monitored,omitempty"`
	ComponentVersions componentVersions `json:"component_versions" yaml:"component_versions,omitempty"`
	ServerConfigs     serverConfigs     `json:"server_configs" yaml:"server_configs,omitempty"`
	TiDBServers       []any             `json:"tidb_servers" yaml:"tidb_servers"`
	TiKVServers       []any             `json:"tikv_servers" yaml:"tikv_servers"`
	TiFlashServers    []any             `json:"tiflash_servers" yaml:"tiflash_servers"`
	TiProxyServers    []any             `json:"tiproxy_servers" yaml:"tiproxy_servers"`
	PDServers         []any             `json:"pd_servers" yaml:"pd_servers"`
	Monitors          []any             `json:"monitoring_servers" yaml:"monitoring_servers"`
	Alertmanagers     []*alertmanager   `json:"alertmanager_servers" yaml:"alertmanager_servers,omitempty"`
}

type resourceControl struct {
	MemoryLimit         string `json:"memory_limit" yaml:"memory_limit,omitempty"`
	CPUQuota            string `json:"cpu_quota" yaml:"cpu_quota,omitempty"`
	IOReadBandwidthMax  string `json:"io_read_bandwidth_max" yaml:"io_read_bandwidth_max,omitempty"`
	IOWriteBandwidthMax string `json:"io_write_bandwidth_max" yaml:"io_write_bandwidth_max,omitempty"`
	LimitCORE           string `json:"limit_core" yaml:"limit_core,omitempty"`
	TimeoutStopSec      string `json:"timeout_stop_sec" yaml:"timeout_stop_sec,omitempty"`
	TimeoutStartSec     string `json:"timeout_start_sec" yaml:"timeout_start_sec,omitempty"`
}

type globalOptions struct {
	User            string          `json:"user" yaml:"user,omitempty"`
	Group           string          `json:"group" yaml:"group,omitempty"`
	SSHPort         int             `json:"ssh_port" yaml:"ssh_port,omitempty"`
	SSHType         string          `json:"ssh_type" yaml:"ssh_type,omitempty"`
	TLSEnabled      bool            `json:"enable_tls" yaml:"enable_tls,omitempty"`
	ListenHost      string          `json:"listen_host" yaml:"listen_host,omitempty"`
	DeployDir       string          `json:"deploy_dir" yaml:"deploy_dir,omitempty"`
	DataDir         string          `json:"data_dir" yaml:"data_dir,omitempty"`
	LogDir          string          `json:"log_dir" yaml:"log_dir,omitempty"`
	ResourceControl resourceControl `json:"resource_control" yaml:"resource_control,omitempty"`
	OS              string          `json:"os" yaml:"os,omitempty"`
	Arch            string          `json:"arch" yaml:"arch,omitempty"`
	SystemdMode     string          `json:"systemd_mode" yaml:"systemd_mode,omitempty"`
	PDMode          string          `json:"pd_mode" yaml:"pd_mode,omitempty"`
}

type monitoredOptions struct {
	NodeExporterPort        int             `json:"node_exporter_port" yaml:"node_exporter_port,omitempty"`
	BlackboxExporterPort    int             `json:"blackbox_exporter_port" yaml:"blackbox_exporter_port,omitempty"`
	NodeExporterVersion     string          `json:"node_exporter_version" yaml:"node_exporter_version,omitempty"`
	BlackboxExporterVersion string          `json:"blackbox_exporter_version" yaml:"blackbox_exporter_version,omitempty"`
	DeployDir               string          `json:"deploy_dir" yaml:"deploy_dir,omitempty"`
	DataDir                 string          `json:"data_dir" yaml:"data_dir,omitempty"`
	LogDir                  string          `json:"log_dir" yaml:"log_dir,omitempty"`
	NumaNode                string          `json:"numa_node" yaml:"numa_node,omitempty"`
	ResourceControl         resourceControl `json:"resource_control" yaml:"resource_control,omitempty"`
}

type componentVersions struct {
	Prometheus   string `json:"prometheus" yaml:"prometheus,omitempty"`
	Grafana      string `json:"grafana" yaml:"grafana,omitempty"`
	AlertManager string `json:"alertmanager" yaml:"alertmanager,omitempty"`
}

// serverConfigs has every key of TiUP's ServerConfigs, none omitempty: once one holds something, all are written.
type serverConfigs struct {
	TiDB            map[string]any    `json:"tidb" yaml:"tidb"`
	TiKV            map[string]any    `json:"tikv" yaml:"tikv"`
	PD              map[string]any    `json:"pd" yaml:"pd"`
	TSO             map[string]any    `json:"tso" yaml:"tso"`
	Scheduling      map[string]any    `json:"scheduling" yaml:"scheduling"`
	ResourceManager map[string]any    `json:"resource_manager" yaml:"resource_manager"`
	Router          map[string]any    `json:"router" yaml:"router"`
	Dashboard       map[string]any    `json:"tidb_dashboard" yaml:"tidb_dashboard"`
	TiFlash         map[string]any    `json:"tiflash" yaml:"tiflash"`
	TiProxy         map[string]any    `json:"tiproxy" yaml:"tiproxy"`
	TiFlashLearner  map[string]any    `json:"tiflash-learner" yaml:"tiflash-learner"`
	Pump            map[string]any    `json:"pump" yaml:"pump"`
	Drainer         map[string]any    `json:"drainer" yaml:"drainer"`
	CDC             map[string]any    `json:"cdc" yaml:"cdc"`
	TiKVCDC         map[string]any    `json:"kvcdc" yaml:"kvcdc"`
	Grafana         map[string]string `json:"grafana" yaml:"grafana"`
	NGMonitoring    map[string]any    `json:"ng_monitoring" yaml:"ng_monitoring"`
}

type alertmanager struct {
	Host            string          `json:"host" yaml:"host"`
	ManageHost      string          `json:"manage_host" yaml:"manage_host,omitempty"`
	SSHPort         int             `json:"ssh_port" yaml:"ssh_port,omitempty"`
	Patched         bool            `json:"patched" yaml:"patched,omitempty"`
	IgnoreExporter  bool            `json:"ignore_exporter" yaml:"ignore_exporter,omitempty"`
	WebPort         int             `json:"web_port" yaml:"web_port"`
	ClusterPort     int             `json:"cluster_port" yaml:"cluster_port"`
	ListenHost      string          `json:"listen_host" yaml:"listen_host,omitempty"`
	DeployDir       string          `json:"deploy_dir" yaml:"deploy_dir,omitempty"`
	DataDir         string          `json:"data_dir" yaml:"data_dir,omitempty"`
	LogDir          string          `json:"log_dir" yaml:"log_dir,omitempty"`
	NumaNode        string          `json:"numa_node" yaml:"numa_node,omitempty"`
	ResourceControl resourceControl `json:"resource_control" yaml:"resource_control,omitempty"`
	AdditionalArgs  []string        `json:"additional_args" yaml:"additional_args,omitempty"`
	Arch            string          `json:"arch" yaml:"arch,omitempty"`
	OS              string          `json:"os" yaml:"os,omitempty"`
	ConfigFilePath  string          `json:"config_file" yaml:"config_file,omitempty"`
}

func renderMeta(data []byte) ([]byte, error) {
	var m clusterMeta
	if err := decode(data, &m); err != nil {
		return nil, err
	}
	// TiUP writes with yaml.Marshal, whose encoder indents by 4.
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(&m); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
