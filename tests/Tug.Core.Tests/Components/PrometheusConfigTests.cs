// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.RegularExpressions;
using Tug.Core.Components;
using Tug.Core.Tests.Infrastructure;
using Tug.Core.Topology;

namespace Tug.Core.Tests.Components;

/// <summary>prometheus.yml is rendered from the whole topology, so it lists every target and follows scale-out/in.</summary>
public sealed partial class PrometheusConfigTests
{
    private static string Render(Core.Topology.Topology topology)
    {
        var prometheus = topology.OfRole(Roles.Prometheus)[0];
        var file = ComponentSpecs.For(prometheus).RenderConfigFiles(new InstanceContext(prometheus, topology, "demo", "tidb", "v2.53.0", "prometheus/prometheus")).Single();
        Assert.Equal("/opt/tug/deploy/prometheus-9090/conf/prometheus.yml", file.Path);
        return file.Content;
    }

    /// <summary>Job name → its static targets, read back from the rendered file.</summary>
    private static Dictionary<string, List<string>> Jobs(string yaml) =>
        JobRegex().Matches(yaml).ToDictionary(
            m => m.Groups["job"].Value,
            m => TargetRegex().Matches(m.Groups["body"].Value).Select(t => t.Groups[1].Value).ToList());

    [Fact]
    public void Should_Scrape_Every_Agent_Etcd_Alertmanager_And_Itself()
    {
        // Given
        var topology = Topologies.Etcd;

        // When
        var yaml = Render(topology);
        var jobs = Jobs(yaml);

        // Then
        Assert.Equal(["10.0.0.1:9090"], jobs["prometheus"]);
        Assert.Equal(["10.0.0.1:9100", "10.0.0.2:9100", "10.0.0.3:9100"], jobs["overwritten-nodes"]);
        Assert.Equal(["10.0.0.1:9115", "10.0.0.2:9115", "10.0.0.3:9115"], jobs["blackbox_exporter"]);
        Assert.Equal(["10.0.0.1:2379", "10.0.0.2:2379", "10.0.0.3:2379"], jobs["etcd"]);
        Assert.Equal(["10.0.0.2:9093"], jobs["alertmanager"]);
        Assert.Equal(["10.0.0.3:3000", "10.0.0.1:9100", "10.0.0.2:9100", "10.0.0.3:9100", "10.0.0.1:9115", "10.0.0.2:9115", "10.0.0.3:9115"], jobs["monitor_port_probe"]);
        Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.3"], jobs["blackbox_exporter_10.0.0.2:9115_icmp"]);
        Assert.Contains("alerting:\n  alertmanagers:\n  - static_configs:\n    - targets:\n      - '10.0.0.2:9093'\n", yaml, StringComparison.Ordinal);
        Assert.Contains("    cluster: 'demo'\n", yaml, StringComparison.Ordinal);
        Assert.Contains("        replacement: '10.0.0.1:9115'\n", yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("job_name: \"tidb\"", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Follow_Scale_Out_And_Scale_In()
    {
        // Given
        var scaledOut = TopologyLoader.ParseScaleOut("etcd_servers:\n  - host: 10.0.0.4\n", "scale-out.yaml", Topologies.Etcd);

        // When
        var afterOut = Jobs(Render(scaledOut));
        var afterIn = Jobs(Render(scaledOut.Without(["10.0.0.4:2379", "10.0.0.3:2379"])));

        // Then
        Assert.Equal(["10.0.0.1:2379", "10.0.0.2:2379", "10.0.0.3:2379", "10.0.0.4:2379"], afterOut["etcd"]);
        Assert.Contains("10.0.0.4:9100", afterOut["overwritten-nodes"]);
        Assert.Equal(["10.0.0.1:2379", "10.0.0.2:2379"], afterIn["etcd"]);

        // 10.0.0.3 still runs grafana, so its agents stay.
        Assert.Equal(["10.0.0.1:9100", "10.0.0.2:9100", "10.0.0.3:9100"], afterIn["overwritten-nodes"]);
    }

    [Fact]
    public void Should_Point_Alerting_At_External_Alertmanagers_Too()
    {
        // Given
        var topology = TopologyLoader.Parse("""
            global:
              deploy_dir: /opt/tug/deploy
            monitoring_servers:
              - host: 10.0.0.1
                scrape_interval: 30s
                external_alertmanagers:
                  - host: 10.9.9.9
            """, "topology.yaml");

        // When
        var yaml = Render(topology);

        // Then
        Assert.Contains("      - '10.9.9.9:9093'\n", yaml, StringComparison.Ordinal);
        Assert.Contains("  scrape_interval: 30s\n", yaml, StringComparison.Ordinal);
    }

    [GeneratedRegex("""  - job_name: "(?<job>[^"]+)"\n(?<body>(?:    .*\n|      .*\n)*)""")]
    private static partial Regex JobRegex();

    [GeneratedRegex(@"^\s+- '([^']+)'$", RegexOptions.Multiline)]
    private static partial Regex TargetRegex();
}
