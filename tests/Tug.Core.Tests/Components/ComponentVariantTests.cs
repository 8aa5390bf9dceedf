// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Components;
using Tug.Core.Tests.Infrastructure;
using Tug.Core.Topology;

namespace Tug.Core.Tests.Components;

/// <summary>
/// The template branches the main golden files do not reach (numactl, PD micro-service mode, scale-out join,
/// old versions, ng-monitoring, resource control, user-mode units), each checked against TiUP's template
/// rendered by Go with the same inputs.
/// </summary>
public sealed class ComponentVariantTests
{
    [Fact]
    public void Should_Bind_TiDB_To_Numa_Cores_And_Skip_Secure_Boot_Before_v5_3()
    {
        // Given
        var topology = TopologyLoader.Parse("""
            pd_servers:
              - host: n3
            tidb_servers:
              - host: n1
                numa_node: "1"
                numa_cores: 0-3
            """, "numa.yaml");

        // When
        var script = Render(topology, Roles.TiDB, "v5.2.0", "tidb-server");

        // Then
        Snapshot.Verify("Components/Variants", "tidb-numa", script);
    }

    [Fact]
    public void Should_Join_With_Every_PD_When_Scaling_Out_In_Microservice_Mode()
    {
        // Given
        var topology = TopologyLoader.Parse("""
            global:
              pd_mode: ms
            pd_servers:
              - host: n3
                numa_node: "0"
              - host: n4
            """, "pd.yaml");
        var pd = topology.OfRole(Roles.Pd)[0];

        // When
        var script = ComponentSpecs.For(pd).RenderRunScript(new InstanceContext(pd, topology, "demo", "tidb", "v8.5.0", "pd-server") { JoinExisting = true });

        // Then
        Snapshot.Verify("Components/Variants", "pd-scale-ms-numa", script);
    }

    [Fact]
    public void Should_Leave_Out_The_Service_Name_Before_v8_3()
    {
        // Given
        var topology = TopologyLoader.Parse("""
            pd_servers:
              - host: 10.0.1.1
            tso_servers:
              - host: 10.0.1.1
                numa_node: "1"
            """, "tso.yaml");

        // When
        var script = Render(topology, Roles.Tso, "v8.1.0", "pd-server");

        // Then
        Snapshot.Verify("Components/Variants", "tso-numa", script);
    }

    [Fact]
    public void Should_Start_NgMonitoring_And_Pass_Retention_And_Extra_Arguments()
    {
        // Given
        var topology = TopologyLoader.Parse("""
            monitoring_servers:
              - host: n1
                ng_port: 12020
                numa_node: "2"
                additional_args: [--log.format=json]
                storage_retention_time: 15d
                storage_retention_size: 10GB
            """, "prometheus.yaml");

        // When
        var script = Render(topology, Roles.Prometheus, "v8.5.0", "prometheus/prometheus");

        // Then
        Snapshot.Verify("Components/Variants", "prometheus-ng", script);
    }

    [Theory]
    [InlineData("system")]
    [InlineData("user")]
    public void Should_Merge_Instance_Limits_Over_Global_Ones(string mode)
    {
        // Given
        var topology = TopologyLoader.Parse($"""
            global:
              systemd_mode: {mode}
              resource_control:
                memory_limit: 4G
                limit_core: infinity
                timeout_stop_sec: 120s
            tikv_servers:
              - host: n1
                resource_control:
                  memory_limit: 8G
                  cpu_quota: 200%
                  io_read_bandwidth_max: /dev/sda 100M
                  timeout_start_sec: 60s
            """, "rc.yaml");
        var tikv = topology.OfRole(Roles.TiKV)[0];

        // When
        var unit = ComponentSpecs.For(tikv).RenderSystemdUnit(new InstanceContext(tikv, topology, "demo", "tidb", "v8.5.0", "tikv-server"));

        // Then
        Snapshot.Verify("Components/Variants", $"unit-rc-{mode}", unit);
    }

    [Fact]
    public void Should_Refuse_An_Entry_That_Is_Not_A_Plain_Relative_Path()
    {
        // Given
        var exporter = Topologies.Etcd.OfRole(Roles.NodeExporter)[0];
        var context = new InstanceContext(exporter, Topologies.Etcd, "demo", "tidb", "v1.9.0", "../../x; rm -rf /");

        // When
        var error = Assert.Throws<ArgumentException>(() => ComponentSpecs.For(exporter).RenderRunScript(context));

        // Then
        Assert.Contains("not a plain relative path", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Start_Etcd_As_A_Joining_Member_When_Scaling_Out()
    {
        // Given
        var etcd = Topologies.Etcd.OfRole(Roles.Etcd)[2];

        // When
        var script = ComponentSpecs.For(etcd).RenderRunScript(new InstanceContext(etcd, Topologies.Etcd, "demo", "tidb", "v3.4.30", "etcd") { JoinExisting = true });

        // Then
        Assert.Contains("    --initial-cluster-state=\"existing\" \\\n", script, StringComparison.Ordinal);
        Assert.Contains("exec bin/etcd \\\n", script, StringComparison.Ordinal);
    }

    private static string Render(Topology.Topology topology, string role, string version, string entry)
    {
        var instance = topology.OfRole(role)[0];
        return ComponentSpecs.For(instance).RenderRunScript(new InstanceContext(instance, topology, "demo", "tidb", version, entry));
    }
}
