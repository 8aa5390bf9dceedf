// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text;
using Tug.Core.Components;
using Tug.Core.Tests.Infrastructure;

namespace Tug.Core.Tests.Components;

/// <summary>
/// What Tug writes on a host for one instance of each component: run script, systemd unit and rendered config
/// files, as snapshots under Expectations/Components. The TiDB family cannot run here; their snapshots were
/// checked against TiUP's own templates rendered by Go's text/template with the same inputs.
/// </summary>
public sealed class ComponentGoldenTests
{
    public static TheoryData<string> Roles() =>
    [
        .. ComponentSpecs.All.Where(s => s.CanRender).Select(s => s.Role),
    ];

    [Theory]
    [MemberData(nameof(Roles))]
    public void Should_Render_What_TiUP_Renders_For(string role)
    {
        // Given
        var context = Context(role);
        var spec = ComponentSpecs.For(context.Instance);

        // When
        var sb = new StringBuilder();
        sb.Append($"=== {spec.RunScriptPath(context.Instance)} (entry {context.Entry}, version {context.Version})\n");
        sb.Append(spec.RenderRunScript(context));
        sb.Append($"=== /etc/systemd/system/{context.Instance.UnitName}\n");
        sb.Append(spec.RenderSystemdUnit(context));
        foreach (var file in spec.RenderConfigFiles(context))
        {
            sb.Append($"=== {file.Path}\n").Append(file.Content);
        }

        // Then
        Snapshot.Verify("Components", role, sb.ToString());
    }

    /// <summary>The instance each golden file shows, and the package it runs.</summary>
    internal static InstanceContext Context(string role)
    {
        var (topology, host, version, entry) = role switch
        {
            Core.Topology.Roles.Pd => (Topologies.Full, "n3", "v8.5.0", "pd-server"),
            Core.Topology.Roles.TiKV => (Topologies.Full, "n3", "v8.5.0", "tikv-server"),
            Core.Topology.Roles.TiDB => (Topologies.Full, "n1", "v8.5.0", "tidb-server"),
            Core.Topology.Roles.TiFlash => (Topologies.Full, "n3", "v8.5.0", "tiflash/tiflash"),
            Core.Topology.Roles.TiProxy => (Topologies.Full, "n1", "v1.3.0", "tiproxy"),
            Core.Topology.Roles.Pump => (Topologies.Full, "n3", "v8.5.0", "pump"),
            Core.Topology.Roles.Drainer => (Topologies.Full, "n1", "v8.5.0", "drainer"),
            Core.Topology.Roles.Cdc => (Topologies.Full, "n3", "v8.5.0", "cdc"),
            Core.Topology.Roles.TiKVCdc => (Topologies.Full, "n4", "v1.1.1", "tikv-cdc"),
            Core.Topology.Roles.Prometheus => (Topologies.Full, "n1", "v8.5.0", "prometheus/prometheus"),
            Core.Topology.Roles.Grafana => (Topologies.Full, "n1", "v8.5.0", "bin/grafana-server"),
            Core.Topology.Roles.NodeExporter => (Topologies.Full, "n1", "v1.9.0", "node_exporter-1.9.0.linux-amd64/node_exporter"),
            Core.Topology.Roles.BlackboxExporter => (Topologies.Full, "n1", "v0.25.0", "blackbox_exporter-0.25.0.linux-amd64/blackbox_exporter"),
            Core.Topology.Roles.Etcd => (Topologies.Etcd, "10.0.0.2", "v3.5.17", "etcd-v3.5.17-linux-amd64/etcd"),
            Core.Topology.Roles.Alertmanager => (Topologies.Etcd, "10.0.0.2", "v0.27.0", "alertmanager/alertmanager"),
            Core.Topology.Roles.TiDBDashboard => (Topologies.PdMicroServices, "10.0.1.3", "v8.5.0", "tidb-dashboard"),
            _ => (Topologies.PdMicroServices, "10.0.1.1", "v8.5.0", "pd-server"),
        };
        var instance = topology.OfRole(role).First(i => i.Host == host || topology.OfRole(role).Length == 1);
        return new InstanceContext(instance, topology, "demo", topology.Global.User, version, entry) { ClusterVersion = "v8.5.0" };
    }
}
