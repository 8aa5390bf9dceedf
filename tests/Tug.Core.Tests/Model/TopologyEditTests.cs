// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Tug.Core.Cluster;
using Tug.Core.Planning;
using Tug.Core.Tests.Infrastructure;
using Tug.Core.Topology;

namespace Tug.Core.Tests.Model;

/// <summary>
/// <c>edit-config</c>'s topology rules (issue 12 item 1): the edited text round-trips, TiUP's <c>validate:</c> tags decide
/// what may change (editable, ignored, expandable, everything else fixed), refusals name the field, both values and the
/// place in the edited file, and the plan is one local save-meta step that keeps Tug's section.
/// </summary>
public sealed class TopologyEditTests
{
    private static readonly string EtcdYaml = TopologyEdit.Render(Topologies.Etcd);

    /// <summary>The text with the first match of <paramref name="pattern"/> (multiline regex) replaced; fails when it does not match.</summary>
    private static string Edit(string yaml, string pattern, string replacement)
    {
        var regex = new Regex(pattern, RegexOptions.Multiline);
        Assert.True(regex.IsMatch(yaml), $"/{pattern}/ is not in:\n{yaml}");
        return regex.Replace(yaml, replacement, 1);
    }

    private static int LineOf(string yaml, string text) =>
        yaml.Split('\n').Select((l, i) => (l, i)).First(p => p.l.Contains(text, StringComparison.Ordinal)).i + 1;

    public static TheoryData<string> Topologies3() => ["etcd", "full", "pdms"];

    private static Topology.Topology Named(string name) => name switch
    {
        "etcd" => Topologies.Etcd,
        "full" => Topologies.Full,
        _ => Topologies.PdMicroServices,
    };

    [Theory]
    [MemberData(nameof(Topologies3))]
    public void Should_Read_Back_The_Rendered_Topology_As_The_Same_Topology(string name)
    {
        // Given the topology as edit-config writes it to the editor
        var topology = Named(name);
        var yaml = TopologyEdit.Render(topology);

        // When it is read back strictly and validated, unchanged
        var again = TopologyEdit.Parse(yaml, "edit.yaml");

        // Then nothing differs: no change, same text
        Assert.Empty(TopologyEdit.Changes(topology, again));
        Assert.Equal(yaml, TopologyEdit.Render(again));
    }

    public static TheoryData<string, string, string, string> EditableChanges() => new()
    {
        { "prometheus retention", @"^(monitoring_servers:\n    - host: 10\.0\.0\.1)$", "$1\n      storage_retention_time: 15d", "monitoring_servers[0].storage_retention_time" },
        { "global ssh_port", @"^    ssh_port: 22$", "    ssh_port: 2222", "global.ssh_port" },
        { "an instance's config", @"^(etcd_servers:\n    - host: 10\.0\.0\.1)$", "$1\n      config:\n          auto-compaction-retention: \"1\"", "etcd_servers[0].config" },
        { "server_configs", @"^tidb_servers:", "server_configs:\n    tidb:\n        log.level: warn\ntidb_servers:", "server_configs.tidb" },
        { "global resource_control", @"^(global:\n)", "$1    resource_control:\n        memory_limit: 2G\n", "global.resource_control.memory_limit" },
        { "grafana password", @"^      password: admin$", "      password: s3cret", "grafana_servers[0].password" },
        { "monitored numa_node", @"^(monitored:\n)", "$1    numa_node: \"0\"\n", "monitored.numa_node" },
    };

    [Theory]
    [MemberData(nameof(EditableChanges))]
    public void Should_Let_A_Field_TiUP_Marks_Editable_Or_Ignored_Change(string why, string pattern, string replacement, string path)
    {
        // Given an edit of one field TiUP lets edit-config change
        var edited = Edit(EtcdYaml, pattern, replacement);
        var after = TopologyEdit.Parse(edited, "edit.yaml");

        // When
        var changes = TopologyEdit.Changes(Topologies.Etcd, after);
        TopologyEdit.RefuseImmutable(Topologies.Etcd, after, edited, "edit.yaml");

        // Then it is the one change, and it may be made
        var change = Assert.Single(changes);
        Assert.True(change.Path == path, $"{why}: {change.Describe()}");
        Assert.True(change.Editable, why);
    }

    public static TheoryData<string, string, string, string> FixedChanges() => new()
    {
        { "an instance's host", @"^(monitoring_servers:\n    - host: )10\.0\.0\.1$", "${1}10.0.0.4", "monitoring_servers[0].host (host 10.0.0.1) changed from '10.0.0.1' to '10.0.0.4'" },
        { "a port", @"^      port: 9090$", "      port: 9091", "monitoring_servers[0].port (host 10.0.0.1) changed from '9090' to '9091'" },
        { "a deploy dir", @"^      deploy_dir: /opt/tug/deploy/grafana-3000$", "      deploy_dir: /srv/grafana", "grafana_servers[0].deploy_dir (host 10.0.0.3) changed from '/opt/tug/deploy/grafana-3000' to '/srv/grafana'" },
        { "the deploy user", @"^    user: tidb$", "    user: ops", "global.user changed from 'tidb' to 'ops'" },
        { "an exporter version", @"^    node_exporter_version: v1\.9\.0$", "    node_exporter_version: v1.8.2", "monitored.node_exporter_version changed from 'v1.9.0' to 'v1.8.2'" },
        { "an exporter port", @"^    node_exporter_port: 9100$", "    node_exporter_port: 9200", "monitored.node_exporter_port changed from '9100' to '9200'" },
        { "a component version", @"^tidb_servers:", "component_versions:\n    prometheus: v2.53.0\ntidb_servers:", "component_versions.prometheus changed from '' to 'v2.53.0'" },
        { "an etcd member name", @"^      name: etcd-10\.0\.0\.2-2379$", "      name: e2", "etcd_servers[1].name (host 10.0.0.2) changed from 'etcd-10.0.0.2-2379' to 'e2'" },
    };

    [Theory]
    [MemberData(nameof(FixedChanges))]
    public void Should_Refuse_A_Field_TiUP_Does_Not_Let_Change_Naming_It_Both_Values_And_Its_Place(string why, string pattern, string replacement, string said)
    {
        // Given an edit of a field TiUP's edit-config refuses
        var edited = Edit(EtcdYaml, pattern, replacement);
        var after = TopologyEdit.Parse(edited, "edit.yaml");

        // When
        var refused = Assert.Throws<TopologyException>(() => TopologyEdit.RefuseImmutable(Topologies.Etcd, after, edited, "edit.yaml"));

        // Then E1040 names the field and both values, at the changed line of the edited file
        var diagnostic = Assert.Single(refused.Diagnostics, d => d.Message.Contains(said, StringComparison.Ordinal));
        Assert.True(diagnostic.Code == TopologyEditErrors.ImmutableField, why);
        Assert.All(refused.Diagnostics, d => Assert.Equal(TopologyEditErrors.ImmutableField, d.Code));
        Assert.Equal("edit.yaml", diagnostic.Location.File);
        Assert.True(diagnostic.Location.Line > 1, $"{why}: {diagnostic}");
        Assert.Equal(2, refused.ExitCode);
    }

    [Fact]
    public void Should_Point_At_The_Changed_Line_And_Column()
    {
        // Given
        var edited = Edit(EtcdYaml, @"^      port: 9090$", "      port: 9091");

        // When
        var refused = Assert.Throws<TopologyException>(() => TopologyEdit.RefuseImmutable(Topologies.Etcd, TopologyEdit.Parse(edited, "edit.yaml"), edited, "edit.yaml"));

        // Then: the key of the changed value (port, and the dirs named after it)
        var port = refused.Diagnostics.Single(d => d.Message.StartsWith("monitoring_servers[0].port ", StringComparison.Ordinal));
        Assert.Equal(new SourceLocation("edit.yaml", LineOf(edited, "port: 9091"), 7), port.Location);
    }

    [Fact]
    public void Should_Refuse_An_Added_Or_Removed_Instance_Pointing_To_Scale_Out_And_Scale_In()
    {
        // Given one etcd member more, and one less
        var added = EtcdYaml + "    - host: 10.0.0.9\n";
        var removed = Edit(EtcdYaml, @"^    - host: 10\.0\.0\.3\n      ssh_port: 22\n      name: etcd-10\.0\.0\.3-2379\n(      .*\n)*", string.Empty);

        // When
        var more = Assert.Throws<TopologyException>(() => TopologyEdit.RefuseImmutable(Topologies.Etcd, TopologyEdit.Parse(added, "e.yaml"), added, "e.yaml"));
        var fewer = TopologyEdit.Changes(Topologies.Etcd, TopologyEdit.Parse(removed, "e.yaml"));

        // Then
        var add = Assert.Single(more.Diagnostics);
        Assert.Contains("etcd_servers[3] (host 10.0.0.9) added", add.Message, StringComparison.Ordinal);
        Assert.Contains("scale-out", add.Hint, StringComparison.Ordinal);
        var gone = Assert.Single(fewer, c => c.Kind == FieldChangeKind.Removed);
        Assert.Equal("etcd_servers[2]", gone.Path);
        Assert.Equal("10.0.0.3", gone.Host);
        Assert.False(gone.Editable);
    }

    [Fact]
    public void Should_Let_A_TiFlash_Data_Dir_Gain_Paths_But_Not_Lose_Or_Reorder_Its_First()
    {
        // Given TiUP's full topology, whose TiFlash has one data dir
        var yaml = TopologyEdit.Render(Topologies.Full);
        var dataDir = Regex.Match(yaml, @"^tiflash_servers:\n    - host: \S+\n(?:      .*\n)*?      data_dir: (\S+)$", RegexOptions.Multiline).Groups[1].Value;
        Assert.NotEmpty(dataDir);

        // When a path is added after it, and when another one replaces it
        var grown = yaml.Replace($"data_dir: {dataDir}\n", $"data_dir: {dataDir},/data/tiflash-extra\n", StringComparison.Ordinal);
        var swapped = yaml.Replace($"data_dir: {dataDir}\n", $"data_dir: /data/tiflash-extra,{dataDir}\n", StringComparison.Ordinal);
        var grownChange = Assert.Single(TopologyEdit.Changes(Topologies.Full, TopologyEdit.Parse(grown, "g.yaml")));
        var swappedChange = Assert.Single(TopologyEdit.Changes(Topologies.Full, TopologyEdit.Parse(swapped, "s.yaml")));

        // Then TiUP's expandable rule: more paths, same first one
        Assert.True(grownChange.Editable, grownChange.Describe());
        Assert.False(swappedChange.Editable, swappedChange.Describe());
    }

    [Fact]
    public void Should_Plan_One_Local_Save_Meta_Step_Keeping_Tugs_Section()
    {
        // Given a cluster with pinned versions, host keys and instance records
        using var dir = new Cluster.TempDirectory();
        var store = new ClusterStore(dir.Root, TimeProvider.System);
        var meta = new ClusterMeta
        {
            User = "tidb",
            Version = "v3.4.23",
            Topology = Topologies.Etcd,
            Tug = new TugState
            {
                Versions = ImmutableSortedDictionary.CreateRange(new Dictionary<string, string> { ["etcd"] = "v3.4.23", ["prometheus"] = "v2.53.0" }),
                HostKeys = ImmutableSortedDictionary.CreateRange(new Dictionary<string, string> { ["10.0.0.1:22"] = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU" }),
                Instances = ImmutableSortedDictionary.CreateRange(new Dictionary<string, DeployedInstance> { ["10.0.0.1:2379"] = new("v3.4.23", "etcd-v3.4.23-linux-amd64/etcd", new string('a', 64), false) }),
            },
        };
        store.Save("prod", meta);
        var planner = new ConfigPlanner(store);
        var current = planner.Current("prod");
        var edited = Edit(current.Yaml, @"^(monitoring_servers:\n    - host: 10\.0\.0\.1)$", "$1\n      storage_retention_time: 15d");

        // When
        var edit = ConfigPlanner.EditConfig(current, edited, "edit.yaml");

        // Then: one local save-meta step, based on meta.yaml as it was, toward the same meta with the new topology
        var plan = Assert.IsType<Plan>(edit.Plan);
        Assert.Equal("edit-config", plan.Operation);
        var step = Assert.Single(plan.Steps);
        Assert.Equal(new StepKey(StepKind.SaveMeta, "prod"), step.Key);
        Assert.Equal(StepLogin.Local, step.Login);
        Assert.Empty(plan.Hosts);
        Assert.Equal(Core.Execution.Executor.MetaRevision(store, "prod"), plan.BasedOn);
        var next = ClusterMetaSerializer.Deserialize(plan.Meta!, "plan");
        Assert.Equal("15d", next.Topology.Find("10.0.0.1:9090")!.Extras.GetString("storage_retention_time"));
        Assert.Equal(ClusterMetaSerializer.Serialize(meta with { Topology = next.Topology }), plan.Meta);
        Assert.Equal(meta.Tug.Versions, next.Tug.Versions);
        Assert.Equal(meta.Tug.HostKeys, next.Tug.HostKeys);
        Assert.Equal(meta.Tug.Instances, next.Tug.Instances);
        Assert.Contains("+      storage_retention_time: 15d\n", edit.Diff, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Plan_Nothing_When_The_Edit_Changes_Nothing_But_Layout()
    {
        // Given a cluster, and its topology rewritten with other indentation and a comment
        using var dir = new Cluster.TempDirectory();
        var store = new ClusterStore(dir.Root, TimeProvider.System);
        store.Save("prod", new ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = Topologies.Etcd });
        var current = new ConfigPlanner(store).Current("prod");
        var relaid = "# edited by hand\n" + current.Yaml.Replace("    ", "  ", StringComparison.Ordinal);

        // When
        var edit = ConfigPlanner.EditConfig(current, relaid, "edit.yaml");

        // Then
        Assert.True(edit.Unchanged);
        Assert.Empty(edit.Diff);
    }

    [Fact]
    public void Should_Refuse_An_Unknown_Field_With_Line_And_Column_As_Deploy_Does()
    {
        // Given
        using var dir = new Cluster.TempDirectory();
        var store = new ClusterStore(dir.Root, TimeProvider.System);
        store.Save("prod", new ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = Topologies.Etcd });
        var current = new ConfigPlanner(store).Current("prod");
        var edited = Edit(current.Yaml, @"^(monitoring_servers:\n    - host: 10\.0\.0\.1)$", "$1\n      storage_retension_time: 15d");

        // When
        var refused = Assert.Throws<TopologyException>(() => ConfigPlanner.EditConfig(current, edited, "edit.yaml"));

        // Then
        var diagnostic = Assert.Single(refused.Diagnostics);
        Assert.Equal(TopologyErrors.UnknownKey, diagnostic.Code);
        Assert.Equal(new SourceLocation("edit.yaml", LineOf(edited, "storage_retension_time"), 7), diagnostic.Location);
    }

    [Fact]
    public void Should_Write_A_Unified_Diff_With_Context_And_Hunk_Ranges()
    {
        // Given
        var before = string.Join('\n', Enumerable.Range(1, 20).Select(i => $"line {i}")) + "\n";
        var after = before.Replace("line 5\n", "line five\n", StringComparison.Ordinal).Replace("line 18\n", string.Empty, StringComparison.Ordinal);

        // When
        var diff = UnifiedDiff.Compute(before, after, "a", "b");

        // Then two hunks, 3 lines of context each
        Assert.Equal(
            "--- a\n+++ b\n" +
            "@@ -2,7 +2,7 @@\n line 2\n line 3\n line 4\n-line 5\n+line five\n line 6\n line 7\n line 8\n" +
            "@@ -15,6 +15,5 @@\n line 15\n line 16\n line 17\n-line 18\n line 19\n line 20\n",
            diff);
        Assert.Empty(UnifiedDiff.Compute(before, before, "a", "b"));
    }
}
