// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text;
using Tug.Core.Topology;

namespace Tug.Core.Components;

/// <summary>
/// Config files of the monitoring stack, rendered from the whole topology so they follow scale-out and scale-in:
/// <c>blackbox.yml</c> (TiUP's modules), <c>prometheus.yml</c> (every agent, etcd, alertmanager, Prometheus itself
/// and the TiDB-family status ports) and a default <c>alertmanager.yml</c>.
/// </summary>
internal static class MonitoringConfig
{
    private const string TlsBlock =
        "    scheme: https\n    tls_config:\n      insecure_skip_verify: false\n      ca_file: ../tls/ca.crt\n      cert_file: ../tls/prometheus.crt\n      key_file: ../tls/prometheus.pem\n";

    /// <summary>TiUP's <c>blackbox.yml.tpl</c> modules (http_2xx, tcp_connect, icmp...).</summary>
    public static string Blackbox(InstanceContext c)
    {
        var sb = new StringBuilder();
        sb.Append("modules:\n");
        sb.Append("  http_2xx:\n    prober: http\n    http:\n      method: GET\n");
        sb.Append("  http_post_2xx:\n    prober: http\n    http:\n      method: POST\n");
        sb.Append("  tcp_connect:\n    prober: tcp\n");
        if (c.Topology.Global.EnableTls)
        {
            var tls = $"{c.Instance.DeployDir}/tls";
            sb.Append("  tls_connect:\n    prober: tcp\n    tcp:\n      tls: true\n      tls_config:\n        insecure_skip_verify: false\n");
            sb.Append($"        ca_file: {tls}/ca.crt\n        cert_file: {tls}/blackbox_exporter.crt\n        key_file: {tls}/blackbox_exporter.pem\n");
        }

        sb.Append("  pop3s_banner:\n    prober: tcp\n    tcp:\n      query_response:\n        - expect: '^+OK'\n      tls: true\n      tls_config:\n        insecure_skip_verify: false\n");
        sb.Append("  ssh_banner:\n    prober: tcp\n    tcp:\n      query_response:\n        - expect: '^SSH-2.0-'\n");
        sb.Append("  irc_banner:\n    prober: tcp\n    tcp:\n      query_response:\n");
        sb.Append("        - send: 'NICK prober'\n        - send: 'USER prober prober prober :prober'\n");
        sb.Append("        - expect: 'PING :([^ ]+)'\n          send: 'PONG ${1}'\n        - expect: '^:[^ ]+ 001'\n");
        sb.Append("  icmp:\n    prober: icmp\n    timeout: 5s\n    icmp:\n      preferred_ip_protocol: 'ip4'\n");
        return sb.ToString();
    }

    /// <summary>A minimal alertmanager.yml (one "blackhole" receiver, TiUP's grouping), or the operator's <c>config_file</c>.</summary>
    /// <exception cref="IOException">The <c>config_file</c> cannot be read.</exception>
    public static string Alertmanager(InstanceContext c)
    {
        if (c.Instance.Extras.GetString("config_file") is { Length: > 0 } path)
        {
            return File.ReadAllText(path);
        }

        return """
            global:
              resolve_timeout: 5m

            route:
              # The default receiver drops alerts: configure your own (alertmanager_servers[].config_file).
              receiver: "blackhole"
              group_by: ["env", "instance", "alertname", "type", "group", "job"]
              group_wait: 30s
              group_interval: 3m
              repeat_interval: 3m

            receivers:
              - name: "blackhole"

            """;
    }

    /// <summary>
    /// prometheus.yml for one Prometheus instance, following TiUP's <c>prometheus.yml.tpl</c> (global block, job
    /// names, blackbox probes) simplified: no rule files, and a job is written only when it has targets.
    /// </summary>
    public static string Prometheus(InstanceContext c)
    {
        var topology = c.Topology;
        var self = c.Instance;
        var tls = topology.Global.EnableTls;
        var scrapeInterval = self.Extras.GetString("scrape_interval") ?? string.Empty;
        var scrapeTimeout = self.Extras.GetString("scrape_timeout") ?? string.Empty;

        var sb = new StringBuilder("---\nglobal:\n");
        sb.Append(scrapeInterval.Length > 0 ? $"  scrape_interval: {scrapeInterval}\n" : "  scrape_interval: 15s # By default, scrape targets every 15 seconds.\n");
        sb.Append("  evaluation_interval: 15s # By default, scrape targets every 15 seconds.\n");
        if (scrapeTimeout.Length > 0)
        {
            sb.Append($"  scrape_timeout: {scrapeTimeout}\n");
        }

        sb.Append($"  external_labels:\n    cluster: '{c.ClusterName}'\n    monitor: \"prometheus\"\n");

        var alertmanagers = Targets(topology, Roles.Alertmanager, "web_port")
            .Concat(self.Extras.GetList("external_alertmanagers").OfType<ConfigMap>()
                .Select(a => HostPort.Join(a.GetString("host") ?? string.Empty, (int)(a.GetInt64("web_port") ?? 9093))))
            .ToList();
        if (alertmanagers.Count > 0)
        {
            sb.Append("\nalerting:\n  alertmanagers:\n  - static_configs:\n    - targets:\n");
            AppendTargets(sb, alertmanagers, "      ");
        }

        sb.Append("\nscrape_configs:\n");
        Job(sb, "prometheus", Targets(topology, Roles.Prometheus, "port"), tls: false);
        Job(sb, "overwritten-nodes", Targets(topology, Roles.NodeExporter, "node_exporter_port"), tls: false);
        Job(sb, "blackbox_exporter", Targets(topology, Roles.BlackboxExporter, "blackbox_exporter_port"), tls: false);
        Job(sb, "etcd", Targets(topology, Roles.Etcd, "client_port"), tls: false);
        Job(sb, "alertmanager", Targets(topology, Roles.Alertmanager, "web_port"), tls: false);
        Job(sb, "tidb", Targets(topology, Roles.TiDB, "status_port"), tls);
        Job(sb, "tiproxy", Targets(topology, Roles.TiProxy, "status_port"), tls, "/api/metrics");
        Job(sb, "tikv", Targets(topology, Roles.TiKV, "status_port"), tls);
        Job(sb, "pd", Targets(topology, Roles.Pd, "client_port"), tls);
        Job(sb, "tso", Targets(topology, Roles.Tso, "port"), tls);
        Job(sb, "scheduling", Targets(topology, Roles.Scheduling, "port"), tls);
        Job(sb, "resource-manager", Targets(topology, Roles.ResourceManager, "port"), tls);
        Job(sb, "router", Targets(topology, Roles.Router, "port"), tls);
        Job(sb, "tiflash", [.. Targets(topology, Roles.TiFlash, "metrics_port"), .. Targets(topology, Roles.TiFlash, "flash_proxy_status_port")], tls);
        Job(sb, "pump", Targets(topology, Roles.Pump, "port"), tls);
        Job(sb, "drainer", Targets(topology, Roles.Drainer, "port"), tls);
        Job(sb, "ticdc", Targets(topology, Roles.Cdc, "port"), tls);
        Job(sb, "tikv-cdc", Targets(topology, Roles.TiKVCdc, "port"), tls);

        // Blackbox probes go through the blackbox_exporter on Prometheus' own host (TiUP's BlackboxAddr), else the first one.
        var blackboxes = topology.OfRole(Roles.BlackboxExporter);
        var local = blackboxes.FirstOrDefault(b => b.ManageHost == self.ManageHost) ?? blackboxes.FirstOrDefault();
        if (local is not null)
        {
            var probed = new List<(string Group, List<string> Targets)>
            {
                ("grafana", Targets(topology, Roles.Grafana, "port")),
                ("node_exporter", Targets(topology, Roles.NodeExporter, "node_exporter_port")),
                ("blackbox_exporter", Targets(topology, Roles.BlackboxExporter, "blackbox_exporter_port")),
            };
            sb.Append("  - job_name: \"monitor_port_probe\"\n    scrape_interval: 30s\n    metrics_path: /probe\n    params:\n      module: [tcp_connect]\n    static_configs:\n");
            foreach (var (group, targets) in probed.Where(p => p.Targets.Count > 0))
            {
                sb.Append("    - targets:\n");
                AppendTargets(sb, targets, "      ");
                sb.Append($"      labels:\n        group: '{group}'\n");
            }

            sb.Append("    relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n");
            sb.Append("      - source_labels: [__param_target]\n        target_label: instance\n");
            sb.Append($"      - target_label: __address__\n        replacement: '{HostPort.Join(local.Host, local.MainPort)}'\n");

            var hosts = topology.OfRole(Roles.NodeExporter).Select(n => n.Host).ToList();
            foreach (var blackbox in blackboxes)
            {
                var address = HostPort.Join(blackbox.Host, blackbox.MainPort);
                sb.Append($"  - job_name: \"blackbox_exporter_{address}_icmp\"\n    scrape_interval: 6s\n    metrics_path: /probe\n    params:\n      module: [icmp]\n");
                sb.Append("    static_configs:\n    - targets:\n");
                AppendTargets(sb, hosts, "      ");
                sb.Append("    relabel_configs:\n");
                sb.Append("      - source_labels: [__address__]\n        regex: (.*)(:80)?\n        target_label: __param_target\n        replacement: ${1}\n");
                sb.Append("      - source_labels: [__param_target]\n        regex: (.*)\n        target_label: ping\n        replacement: ${1}\n");
                sb.Append($"      - source_labels: []\n        regex: .*\n        target_label: __address__\n        replacement: '{address}'\n");
            }
        }

        return sb.ToString();
    }

    private static List<string> Targets(Topology.Topology topology, string role, string port) =>
        [.. topology.OfRole(role).Select(i => HostPort.Join(i.Host, i.Port(port)))];

    private static void Job(StringBuilder sb, string name, List<string> targets, bool tls, string? metricsPath = null)
    {
        if (targets.Count == 0)
        {
            return;
        }

        sb.Append($"  - job_name: \"{name}\"\n    honor_labels: true # don't overwrite job & instance labels\n");
        if (metricsPath is not null)
        {
            sb.Append($"    metrics_path: {metricsPath}\n");
        }

        if (tls)
        {
            sb.Append(TlsBlock);
        }

        sb.Append("    static_configs:\n    - targets:\n");
        AppendTargets(sb, targets, "      ");
    }

    private static void AppendTargets(StringBuilder sb, IEnumerable<string> targets, string indent)
    {
        foreach (var target in targets)
        {
            sb.Append($"{indent}- '{target}'\n");
        }
    }
}
