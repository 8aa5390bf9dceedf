// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Components;
using Tug.Core.Tests.Infrastructure;
using Tug.Core.Topology;

namespace Tug.Core.Tests.Components;

/// <summary>The component specs as data: order, ports, health checks, version probes, config files.</summary>
public sealed class ComponentSpecTests
{
    [Fact]
    public void Should_List_Components_In_TiUPs_Start_Order_With_Etcd_Before_Prometheus_And_Agents_Last()
    {
        Assert.Equal(
        [
            "pd", "tso", "scheduling", "router", "resource-manager", "tidb-dashboard", "tiproxy", "tikv", "pump", "tidb", "tiflash",
            "drainer", "cdc", "tikv-cdc", "etcd", "prometheus", "grafana", "alertmanager", "tispark-master", "tispark-worker",
            "node_exporter", "blackbox_exporter",
        ], ComponentSpecs.All.Select(s => s.Role));
        Assert.Equal(Enumerable.Range(0, ComponentSpecs.All.Length), ComponentSpecs.All.Select(s => s.StartOrder));
    }

    [Fact]
    public void Should_Have_A_Spec_For_Every_Instance_Of_Every_Fixture()
    {
        var roles = Topologies.TiupFixtureFiles().Where(f => !f.EndsWith("full_scale_in_tispark.yaml", StringComparison.Ordinal))
            .SelectMany(f => TopologyLoader.Load(f).Instances).Select(i => i.Role).Distinct();

        Assert.All(roles, role => Assert.Equal(role, ComponentSpecs.For(role).Role));
    }

    [Theory]
    [InlineData("alertmanager", null)]
    [InlineData("node_exporter", null)]
    [InlineData("blackbox_exporter", null)]
    [InlineData("prometheus", "v3.4.23")]
    [InlineData("grafana", "v3.4.23")]
    [InlineData("etcd", "v3.4.23")]
    public void Should_Give_An_Unpinned_Role_At_Deploy_The_Version_TiUPs_CalculateVersion_Gives(string role, string? expected)
    {
        var topology = Topologies.Etcd;

        var version = Planning.PlanningRules.RequestedVersion(topology with { Monitored = topology.Monitored with { NodeExporterVersion = string.Empty, BlackboxExporterVersion = string.Empty } }, role, "v3.4.23");

        Assert.Equal(expected, version);
    }

    [Theory]
    [InlineData("etcd", "client_port", 2379, "peer_port", 2380)]
    [InlineData("pd", "client_port", 2379, "peer_port", 2380)]
    [InlineData("tidb", "port", 4000, "status_port", 10080)]
    [InlineData("tiproxy", "port", 6000, "status_port", 3080)]
    [InlineData("alertmanager", "web_port", 9093, "cluster_port", 9094)]
    [InlineData("tispark-master", "port", 7077, "web_port", 8080)]
    public void Should_Name_Ports_With_TiUPs_Defaults(string role, string first, int firstDefault, string second, int secondDefault) =>
        Assert.Equal([new PortSpec(first, firstDefault), new PortSpec(second, secondDefault)], ComponentSpecs.For(role).Ports);

    [Theory]
    [InlineData("node_exporter", "http://10.0.0.1:9100/metrics")]
    [InlineData("blackbox_exporter", "http://10.0.0.1:9115/metrics")]
    [InlineData("prometheus", "http://10.0.0.1:9090/-/healthy")]
    [InlineData("alertmanager", "http://10.0.0.2:9093/-/healthy")]
    [InlineData("grafana", "http://10.0.0.3:3000/api/health")]
    [InlineData("etcd", "http://10.0.0.1:2379/health")]
    public void Should_Check_Health_Over_Http_Where_The_Component_Offers_It(string role, string url)
    {
        var instance = Topologies.Etcd.OfRole(role)[0];
        var check = ComponentSpecs.For(role).Health;

        Assert.Equal((HealthCheckKind.Http, url), (check.Kind, check.UrlFor(instance)));
    }

    [Fact]
    public void Should_Check_TiDB_Family_Readiness_By_Port_As_TiUP_Does() =>
        Assert.All(ComponentSpecs.All.Where(s => s.Name is "pd" or "tidb" or "tikv" or "tiflash" or "cdc" or "pump" or "drainer"),
            s => Assert.Equal(HealthCheckKind.Tcp, s.Health.Kind));

    [Theory]
    [InlineData("node_exporter", "node_exporter, version 1.9.0 (branch: HEAD, revision: abc)\n  build user: x\n", "v1.9.0")]
    [InlineData("node_exporter", "node_exporter, version 1.5.0+ds (branch: debian/sid, revision: 1.5.0-1)\n", "v1.5.0")]
    [InlineData("blackbox_exporter", "blackbox_exporter, version 0.25.0 (branch: HEAD)\n", "v0.25.0")]
    [InlineData("prometheus", "prometheus, version 2.53.0 (branch: HEAD, revision: x)\n", "v2.53.0")]
    [InlineData("alertmanager", "alertmanager, version 0.27.0 (branch: HEAD)\n", "v0.27.0")]
    [InlineData("etcd", "etcd Version: 3.5.17\nGit SHA: 507c0de\nGo Version: go1.22\n", "v3.5.17")]
    [InlineData("etcd", "etcd Version: 3.4.30\n", "v3.4.30")]
    [InlineData("tidb", "Release Version: v8.5.0\nEdition: Community\n", "v8.5.0")]
    [InlineData("tikv", "TiKV \nRelease Version:   8.5.0\n", "v8.5.0")]
    [InlineData("grafana", "Version 7.5.11 (commit: 1, branch: HEAD)\n", "v7.5.11")]
    public void Should_Read_The_Version_A_Binary_Reports(string role, string output, string version)
    {
        var probe = ComponentSpecs.For(role).VersionProbe!;

        Assert.Equal(version, probe.Extract(output));
        Assert.NotEmpty(probe.Arguments);
    }

    [Fact]
    public void Should_Render_The_Monitoring_Config_Files_Into_The_Deploy_Dir()
    {
        // Given
        var blackbox = Topologies.Etcd.OfRole(Roles.BlackboxExporter)[0];

        // When
        var files = ComponentSpecs.For(blackbox).RenderConfigFiles(new InstanceContext(blackbox, Topologies.Etcd, "demo", "tidb", "v0.25.0", "blackbox_exporter"));

        // Then
        Assert.Equal("/opt/tug/deploy/monitor-9100/conf/blackbox.yml", Assert.Single(files).Path);
        Assert.Equal(["conf/tikv.toml"], ComponentSpecs.For(Roles.TiKV).ConfigFiles.Select(f => f.RelativePath));
        Assert.False(ComponentSpecs.For(Roles.TiKV).ConfigFiles[0].IsRendered);
    }

    [Fact]
    public void Should_Refuse_To_Render_An_Instance_Of_Another_Role()
    {
        var pd = Topologies.Full.OfRole(Roles.Pd)[0];

        Assert.Throws<ArgumentException>(() => ComponentSpecs.For(Roles.TiKV).RenderSystemdUnit(new InstanceContext(pd, Topologies.Full, "demo", "tidb", "v8.5.0", "tikv-server")));
    }

    [Fact]
    public void Should_Not_Pretend_To_Deploy_TiSpark()
    {
        var spec = ComponentSpecs.For(Roles.TiSparkMaster);

        Assert.False(spec.CanRender);
        Assert.Equal("tispark", spec.Name);
    }
}
