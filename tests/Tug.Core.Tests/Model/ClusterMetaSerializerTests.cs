// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Tests.Infrastructure;
using Tug.Core.Topology;

namespace Tug.Core.Tests.Model;

/// <summary>meta.yaml: TiUP's shape (yaml.v3, 4-space indent, omitempty), Tug's own section, lossless round trips.</summary>
public sealed class ClusterMetaSerializerTests
{
    private static ClusterMeta Meta(Core.Topology.Topology topology) => new()
    {
        User = "tidb",
        Version = "v8.5.0",
        OpsVersion = "1.16.5 tiup\nGo Version: go1.25.1\nGit Ref: v1.16.5\nGitHash: abc",
        Topology = topology,
        Tug = new TugState
        {
            Versions = ImmutableSortedDictionary.CreateRange(new Dictionary<string, string> { ["node_exporter"] = "v1.9.0", ["etcd"] = "v3.5.17" }),
            HostKeys = ImmutableSortedDictionary.CreateRange(new Dictionary<string, string> { ["10.0.0.1:22"] = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU" }),
            Instances = ImmutableSortedDictionary.CreateRange(new Dictionary<string, DeployedInstance>
            {
                ["10.0.0.1:9100"] = new("v1.9.0", "node_exporter-1.9.0.linux-amd64/node_exporter", "9a1c7e2a0c1b4f6e8d3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d", false),
            }),
        },
    };

    [Fact]
    public void Should_Write_TiUPs_Shape_With_Tugs_Section()
    {
        // Given
        var meta = Meta(Topologies.Etcd);

        // When
        var yaml = ClusterMetaSerializer.Serialize(meta);

        // Then
        Snapshot.Verify("Meta", "etcd", yaml);
    }

    [Fact]
    public void Should_Write_Full_Yaml_As_TiUP_Would_Store_It()
    {
        Snapshot.Verify("Meta", "full", ClusterMetaSerializer.Serialize(Meta(TopologyLoader.Load(Repo.Fixture("tests", "tiup-cluster", "topo", "full.yaml"))) with { Tug = TugState.Empty }));
    }

    public static TheoryData<string> Files() => [.. Topologies.TiupFixtureFiles().Select(Path.GetFileName).Where(f => f != "full_scale_in_tispark.yaml").OfType<string>()];

    [Theory]
    [MemberData(nameof(Files))]
    public void Should_Round_Trip_Every_Fixture(string file)
    {
        // Given
        var topology = TopologyLoader.Load(Topologies.TiupFixtureFiles().Single(f => Path.GetFileName(f) == file));
        var first = ClusterMetaSerializer.Serialize(Meta(topology));

        // When
        var read = ClusterMetaSerializer.Deserialize(first, "meta.yaml");
        var second = ClusterMetaSerializer.Serialize(read);

        // Then
        Assert.Equal(first, second);
        Assert.Equal(topology.Instances.Select(i => (i.Id, i.Role, i.Component, i.DeployDir, string.Join(',', i.DataDirs), i.LogDir, i.ListenHost, i.Name)),
            read.Topology.Instances.Select(i => (i.Id, i.Role, i.Component, i.DeployDir, string.Join(',', i.DataDirs), i.LogDir, i.ListenHost, i.Name)));
        Assert.Equal(topology.Monitored, read.Topology.Monitored);
        Assert.Equal(topology.Global with { Custom = null }, read.Topology.Global with { Custom = null });
    }

    [Fact]
    public void Should_Read_Back_Tugs_Section_And_TiUPs_Fields()
    {
        // Given
        var meta = Meta(Topologies.Etcd);

        // When
        var read = ClusterMetaSerializer.Deserialize(ClusterMetaSerializer.Serialize(meta), "meta.yaml");

        // Then
        Assert.Equal(("tidb", "v8.5.0", meta.OpsVersion), (read.User, read.Version, read.OpsVersion));
        Assert.Equal(meta.Tug.Versions, read.Tug.Versions);
        Assert.Equal(meta.Tug.HostKeys, read.Tug.HostKeys);
        Assert.Equal(meta.Tug.Instances, read.Tug.Instances);
    }

    [Fact]
    public void Should_Keep_The_Build_Before_A_Patch_Through_A_Round_Trip()
    {
        // Given an instance patched over a verified 1.9.0
        var before = new DeployedInstance("v1.9.0", "node_exporter-1.9.0.linux-amd64/node_exporter", new string('a', 64), false);
        var patched = new DeployedInstance("v1.9.0", before.Entry, new string('b', 64), true) { Previous = before };
        var meta = Meta(Topologies.Etcd);
        meta = meta with { Tug = meta.Tug with { Instances = meta.Tug.Instances.SetItem("10.0.0.1:9100", patched) } };

        // When
        var read = ClusterMetaSerializer.Deserialize(ClusterMetaSerializer.Serialize(meta), "meta.yaml").Tug.Instances["10.0.0.1:9100"];

        // Then
        Assert.Equal(patched, read);
        Assert.Equal(before, read.Previous);
        Assert.Equal("v1.9.0-patch.bbbbbbbbbbbb", read.Label);
        Assert.Equal("v1.9.0", read.Previous!.Label);
    }

    [Fact]
    public void Should_Ignore_Unknown_Keys_As_TiUP_Does()
    {
        // Given
        const string Yaml = """
            user: tidb
            tidb_version: v6.5.0
            firewall: true
            topology:
                global:
                    user: tidb
                    something_new: 1
                tidb_servers:
                    - host: 10.0.1.14
                      future_field: x
            tug:
                versions:
                    node_exporter: v1.9.0
                later: {}
            """;

        // When
        var meta = ClusterMetaSerializer.Deserialize(Yaml, "meta.yaml");

        // Then
        Assert.Equal("10.0.1.14:4000", Assert.Single(meta.Topology.Servers).Id);
        Assert.Equal("v1.9.0", meta.Tug.Versions["node_exporter"]);
    }

    [Fact]
    public void Should_Still_Refuse_Malformed_Yaml_And_Wrong_Types()
    {
        var error = Assert.Throws<TopologyException>(() => ClusterMetaSerializer.Deserialize("user: tidb\ntopology:\n    tidb_servers:\n        - host: a\n          port: x\n", "meta.yaml"));

        Assert.Equal("meta.yaml:5:17: error[E1002]: tidb_servers[0].port must be a whole number, not \"x\"", error.Diagnostics[0].ToString());
    }

    [Fact]
    public void Should_Keep_Config_Types_Through_A_Round_Trip()
    {
        // Given
        var topology = TopologyLoader.Parse("""
            server_configs:
              tidb:
                performance.feedback-probability: 12.0
                log.level: "true"
                empty: ""
                list: [1, "2", 3.5]
            tidb_servers:
              - host: "::1"
                config:
                  multi: "a\nb"
            """, "t.yaml");

        // When
        var yaml = ClusterMetaSerializer.Serialize(new ClusterMeta { User = "tidb", Version = "v8.5.0", Topology = topology });
        var read = ClusterMetaSerializer.Deserialize(yaml, "meta.yaml").Topology;

        // Then
        Assert.Contains("            performance.feedback-probability: 12.0\n", yaml, StringComparison.Ordinal);
        Assert.Contains("            log.level: \"true\"\n", yaml, StringComparison.Ordinal);
        Assert.Equal(12.0, read.ServerConfig("tidb")["performance.feedback-probability"]);
        Assert.Equal("true", read.ServerConfig("tidb")["log.level"]);
        Assert.Equal(string.Empty, read.ServerConfig("tidb")["empty"]);
        Assert.Equal([1L, "2", 3.5], read.ServerConfig("tidb").GetList("list"));
        Assert.Equal("a\nb", read.OfRole(Roles.TiDB)[0].Config["multi"]);
        Assert.Equal("[::1]:4000", read.OfRole(Roles.TiDB)[0].Id);
    }
}
