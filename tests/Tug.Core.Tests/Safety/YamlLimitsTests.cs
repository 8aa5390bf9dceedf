// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Diagnostics;
using System.Text;
using Tug.Core.Cluster;
using Tug.Core.Tests.Cluster;
using Tug.Core.Tests.Infrastructure;
using Tug.Core.Topology;

namespace Tug.Core.Tests.Safety;

/// <summary>Issue 11 item 4: YAML is bounded (size, depth, alias expansion) in topologies and in meta.yaml alike.</summary>
public sealed class YamlLimitsTests
{
    private const string Head = "global:\n  user: tidb\n";
    private const string Tail = "etcd_servers:\n  - host: 10.0.0.1\n";

    /// <summary>A "billion laughs" of 9 levels of 9 aliases each (9^9 = 387,420,489 leaves) in under 500 bytes.</summary>
    public static string Bomb(string indent = "    ")
    {
        var text = new StringBuilder();
        text.Append(indent).Append("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
        for (var c = 'b'; c <= 'i'; c++)
        {
            var previous = (char)(c - 1);
            text.Append(indent).Append(c).Append(": &").Append(c).Append(" [").Append(string.Join(",", Enumerable.Repeat("*" + previous, 9))).Append("]\n");
        }

        return text.ToString();
    }

    private static string BombTopology() => Head + "server_configs:\n  pd:\n" + Bomb() + Tail;

    private static string Nested(int depth, char open = '[', char close = ']') => new string(open, depth) + new string(close, depth);

    private static TopologyException Refused(string yaml, string file = "t.yaml") =>
        Assert.Throws<TopologyException>(() => TopologyLoader.Parse(yaml, file));

    [Fact]
    public void Should_Refuse_A_Billion_Laughs_In_Server_Configs_Fast_With_The_Alias_And_Its_Position()
    {
        var yaml = BombTopology();
        Assert.True(Encoding.UTF8.GetByteCount(yaml) < 500);
        var clock = Stopwatch.StartNew();
        var e = Refused(yaml);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        Assert.Equal(TopologyErrors.TooManyAliases, e.Code);
        Assert.Equal(2, e.ExitCode);
        Assert.Contains("t.yaml:", e.Message, StringComparison.Ordinal);
        Assert.Contains("10,000 nodes", e.Message, StringComparison.Ordinal);
        Assert.True(e.Line > 0 && e.Column > 0);
    }

    [Fact]
    public void Should_Refuse_An_Alias_Bomb_Of_Mappings_Too()
    {
        var yaml = Head + "server_configs:\n  pd:\n    a: &a {k1: v, k2: v, k3: v, k4: v, k5: v, k6: v, k7: v, k8: v}\n    b: &b {k1: *a, k2: *a, k3: *a, k4: *a, k5: *a, k6: *a, k7: *a, k8: *a}\n    c: &c {k1: *b, k2: *b, k3: *b, k4: *b, k5: *b, k6: *b, k7: *b, k8: *b}\n    d: &d {k1: *c, k2: *c, k3: *c, k4: *c, k5: *c, k6: *c, k7: *c, k8: *c}\n    e: &e {k1: *d, k2: *d, k3: *d, k4: *d, k5: *d, k6: *d, k7: *d, k8: *d}\n    f: &f {k1: *e, k2: *e, k3: *e, k4: *e, k5: *e, k6: *e, k7: *e, k8: *e}\n" + Tail;
        Assert.Equal(TopologyErrors.TooManyAliases, Refused(yaml).Code);
    }

    [Fact]
    public void Should_Refuse_One_Long_Text_Repeated_By_Aliases_Past_The_Text_Limit()
    {
        var yaml = Head + "server_configs:\n  pd:\n    a: &a \"" + new string('x', 200_000) + "\"\n    b: [*a, *a, *a, *a, *a, *a]\n" + Tail;
        var e = Refused(yaml);
        Assert.Equal(TopologyErrors.TooManyAliases, e.Code);
        Assert.Contains("characters", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Still_Read_Ordinary_Anchors_And_Aliases()
    {
        var yaml = Head + "server_configs:\n  pd:\n    common: &c {log.level: info, replication.max-replicas: 3}\n    copy: *c\n" + Tail;
        var topology = TopologyLoader.Parse(yaml, "t.yaml");
        Assert.Single(topology.Servers);
    }

    [Theory]
    [InlineData('[', ']', 20_000)]
    [InlineData('{', '}', 20_000)]
    [InlineData('[', ']', 65)]
    public void Should_Refuse_Deep_Nesting_Without_Overflowing_The_Stack(char open, char close, int depth)
    {
        var yaml = Head + "server_configs:\n  pd:\n    a: " + Nested(depth, open, close) + "\n" + Tail;
        var e = Refused(yaml);
        Assert.Equal(TopologyErrors.TooDeep, e.Code);
        Assert.Contains("limit of 64 levels", e.Message, StringComparison.Ordinal);
        Assert.Equal(5, e.Line);
    }

    [Fact]
    public void Should_Refuse_Deep_Block_Nesting_Too()
    {
        var text = new StringBuilder(Head + "server_configs:\n  pd:\n");
        for (var i = 0; i < 80; i++)
        {
            text.Append(new string(' ', 4 + (2 * i))).Append('k').Append(i).Append(":\n");
        }

        text.Append(new string(' ', 4 + 160)).Append("v: 1\n").Append(Tail);
        Assert.Equal(TopologyErrors.TooDeep, Refused(text.ToString()).Code);
    }

    [Fact]
    public void Should_Refuse_An_Alias_Whose_Copy_Would_Nest_Too_Deep()
    {
        // 40 levels anchored, then copied 40 levels down: each alone fits, the copy does not.
        var yaml = Head + "server_configs:\n  pd:\n    a: &deep " + Nested(40) + "\n    b: " + new string('[', 40) + "*deep" + new string(']', 40) + "\n" + Tail;
        Assert.Equal(TopologyErrors.TooDeep, Refused(yaml).Code);
    }

    [Fact]
    public void Should_Accept_Nesting_Up_To_The_Limit()
    {
        // Root mapping (1) > server_configs (2) > pd (3) > a: 61 lists = 64.
        var yaml = Head + "server_configs:\n  pd:\n    a: " + Nested(61) + "\n" + Tail;
        Assert.Single(TopologyLoader.Parse(yaml, "t.yaml").Servers);
    }

    [Fact]
    public void Should_Refuse_A_Topology_File_Over_4_MiB_Before_Parsing_It()
    {
        using var dir = new TempDirectory();
        var path = System.IO.Path.Combine(dir.Path, "big.yaml");
        File.WriteAllText(path, Head + "# " + new string('x', 4 * 1024 * 1024) + "\n" + Tail);
        var e = Assert.Throws<TopologyException>(() => TopologyLoader.Load(path));
        Assert.Equal(TopologyErrors.TooLarge, e.Code);
        Assert.Contains("4,194,304 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Refuse_Topology_Text_Over_4_MiB()
    {
        Assert.Equal(TopologyErrors.TooLarge, Refused(Head + "# " + new string('x', (4 * 1024 * 1024) + 1) + "\n" + Tail).Code);
    }

    [Fact]
    public void Should_Refuse_A_Bomb_In_Meta_Yaml()
    {
        var yaml = "user: tidb\ntidb_version: v3.4.23\ntopology:\n  server_configs:\n    pd:\n" + Bomb("      ") + "  etcd_servers:\n    - host: 10.0.0.1\n";
        var e = Assert.Throws<TopologyException>(() => ClusterMetaSerializer.Deserialize(yaml, "meta.yaml"));
        Assert.Equal(TopologyErrors.TooManyAliases, e.Code);
        Assert.Contains("meta.yaml:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Refuse_Deep_Nesting_In_Meta_Yaml()
    {
        var yaml = "user: tidb\ntidb_version: v3.4.23\ntopology:\n  server_configs:\n    pd:\n      a: " + Nested(20_000) + "\n";
        Assert.Equal(TopologyErrors.TooDeep, Assert.Throws<TopologyException>(() => ClusterMetaSerializer.Deserialize(yaml, "meta.yaml")).Code);
    }

    [Fact]
    public void Should_Read_Back_The_Meta_Of_A_Topology_Nested_To_The_Limit()
    {
        // What the topology reader accepts, meta.yaml (one level deeper) must read back.
        var topology = TopologyLoader.Parse(Head + "server_configs:\n  pd:\n    a: " + Nested(61) + "\n" + Tail, "t.yaml");
        var yaml = ClusterMetaSerializer.Serialize(new ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = topology });
        Assert.Single(ClusterMetaSerializer.Deserialize(yaml, "meta.yaml").Topology.Servers);
    }

    [Fact]
    public void Should_Refuse_A_Meta_Yaml_Over_16_MiB_In_The_Store()
    {
        using var dir = new TempDirectory();
        var store = new ClusterStore(dir.Root, TimeProvider.System);
        Directory.CreateDirectory(System.IO.Path.Combine(dir.Root, "big"));
        File.WriteAllText(store.MetaFile("big"), "user: tidb\n# " + new string('x', 16 * 1024 * 1024) + "\n");
        var e = Assert.Throws<ClusterException>(() => store.Load("big"));
        Assert.Equal(ClusterException.MetaBroken, e.Code);
        Assert.Contains("16,777,216 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Keep_The_Limits_Named_In_One_Place()
    {
        Assert.Equal(4 * 1024 * 1024, YamlLimits.Topology.MaxBytes);
        Assert.Equal(64, YamlLimits.Topology.MaxDepth);
        Assert.Equal(10_000, YamlLimits.Topology.MaxAliasNodes);
        Assert.Equal(YamlLimits.Topology.MaxDepth + 1, YamlLimits.Meta.MaxDepth);
        _ = Repo.Root;
    }
}
