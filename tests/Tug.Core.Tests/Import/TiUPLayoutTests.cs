// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;
using Tug.Core.Components;
using Tug.Core.Planning;
using Tug.Core.Remote;
using Tug.Core.Tests.Remote;
using Tug.Core.Topology;

namespace Tug.Core.Tests.Import;

/// <summary>
/// TiUP's layout for imported clusters: which path a package is installed at (<see cref="PackageLayouts"/>), the
/// host script that moves an unpacked package there (<c>relayout.sh</c>, run by bash on this machine in a temporary
/// directory), the exporters' run scripts in TiUP's exact text, and meta.yaml keeping the layout and unknown builds.
/// </summary>
public sealed class TiUPLayoutTests : IDisposable
{
    private static readonly Topology.Topology Topology = TopologyLoader.Parse(
        "global:\n  user: tidb\n  deploy_dir: /tidb-deploy\nalertmanager_servers:\n  - host: 10.0.0.1\ngrafana_servers:\n  - host: 10.0.0.1\n", "t.yaml");

    private readonly string _root = Directory.CreateTempSubdirectory("tug-layout-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static InstanceSpec Of(string role) => Topology.Instances.First(i => i.Role == role);

    private static PackageRef Package(string component, string entry) => new(component, "v1.9.0", "linux/amd64", entry, new string('1', 64), new string('2', 64));

    [Fact]
    public void Should_Install_At_TiUPs_Path_Only_In_TiUPs_Layout()
    {
        // Given
        var upstream = Package("node_exporter", "node_exporter-1.9.0.linux-amd64/node_exporter");
        var agent = Of(Roles.NodeExporter);

        // When
        var tiup = PackageLayouts.Install(upstream, PackageLayouts.TiUP, agent);
        var tug = PackageLayouts.Install(upstream, PackageLayouts.Tug, agent);
        var already = PackageLayouts.Install(Package("node_exporter", "node_exporter/node_exporter"), PackageLayouts.TiUP, agent);
        var patch = PackageLayouts.Install(upstream with { Patch = true }, PackageLayouts.TiUP, agent);
        var grafana = PackageLayouts.Install(Package("grafana", "grafana-v9/bin/grafana-server"), PackageLayouts.TiUP, Of(Roles.Grafana));

        // Then
        Assert.Equal(("node_exporter/node_exporter", "node_exporter-1.9.0.linux-amd64/node_exporter"), (tiup.Entry, tiup.Unpacked));
        Assert.Equal(upstream, tug);
        Assert.Equal(string.Empty, already.Unpacked);
        Assert.Equal(upstream with { Patch = true }, patch);
        Assert.Equal(string.Empty, grafana.Unpacked);
        Assert.Equal("alertmanager/alertmanager", PackageLayouts.TiUPEntry(Of(Roles.Alertmanager)));
    }

    [Theory]
    [InlineData("node_exporter-1.9.0.linux-amd64/node_exporter", "node_exporter/node_exporter")]
    [InlineData("node_exporter", "node_exporter/node_exporter")]
    [InlineData("a/b/node_exporter", "node_exporter/node_exporter")]
    [InlineData("alertmanager-0.28.1.linux-amd64/alertmanager", "alertmanager/alertmanager")]
    [InlineData("pd-v8.5.0/pd-server", "pd-server")]
    public void Should_Move_An_Unpacked_Package_Into_TiUPs_Layout(string unpacked, string entry)
    {
        // Given: a package as it unpacks (the executable, a file beside it, a stray file at the top), and an old build in bin
        var stage = Path.Combine(_root, "it's $(id) stage");
        var executable = Path.Combine(stage, unpacked);
        Directory.CreateDirectory(Path.GetDirectoryName(executable)!);
        File.WriteAllText(executable, "new build");
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(executable)!, "LICENSE"), "license");
        var stray = unpacked.Contains('/', StringComparison.Ordinal) ? Path.Combine(stage, "README-top") : null;
        if (stray is not null)
        {
            File.WriteAllText(stray, "stray");
        }

        var bin = Path.Combine(_root, "bin");
        Directory.CreateDirectory(Path.Combine(bin, Path.GetDirectoryName(entry)!));
        File.WriteAllText(Path.Combine(bin, entry), "old build");
        File.WriteAllText(Path.Combine(bin, Path.GetDirectoryName(entry)!, "old-only"), "old");

        // When
        var script = ScriptRenderer.Render("relayout.sh", new() { { "dir", stage }, { "unpacked", unpacked }, { "entry", entry }, { "owner", Environment.UserName }, { "into", bin } });
        var (exit, _, stderr) = Shell.Bash(script);

        // Then: bin holds the new build at TiUP's path, with its directory's other files, and nothing else of the package
        Assert.True(exit == 0, stderr);
        Assert.Equal("new build", File.ReadAllText(Path.Combine(bin, entry)));
        Assert.Equal("license", File.ReadAllText(Path.Combine(bin, Path.GetDirectoryName(entry) is { Length: > 0 } d ? d : string.Empty, "LICENSE")));
        Assert.False(Directory.Exists(stage));
        Assert.False(File.Exists(Path.Combine(bin, "README-top")));
        if (Path.GetDirectoryName(entry) is { Length: > 0 } dir)
        {
            Assert.False(File.Exists(Path.Combine(bin, dir, "old-only")), "the old build's directory is replaced whole");
        }
    }

    [Fact]
    public void Should_Exit_42_When_The_Executable_Is_Not_Where_The_Package_Says()
    {
        // Given
        var stage = Path.Combine(_root, "stage");
        Directory.CreateDirectory(Path.Combine(stage, "other"));

        // When
        var script = ScriptRenderer.Render("relayout.sh", new() { { "dir", stage }, { "unpacked", "ne/node_exporter" }, { "entry", "node_exporter/node_exporter" }, { "owner", Environment.UserName }, { "into", string.Empty } });
        var (exit, _, stderr) = Shell.Bash(script);

        // Then: refused, the stage as it was
        Assert.Equal(42, exit);
        Assert.Contains("ne/node_exporter is not a file in the package", stderr, StringComparison.Ordinal);
        Assert.True(Directory.Exists(Path.Combine(stage, "other")));
    }

    [Fact]
    public void Should_Render_The_Exporters_Run_Scripts_As_TiUP_Does_In_TiUPs_Layout()
    {
        // Given
        var meta = new ClusterMeta { User = "tidb", Version = "v8.5.0", Topology = Topology };
        var agent = Of(Roles.NodeExporter);
        var context = InstanceFiles.Context("c", meta, agent);

        // When
        var tiup = ComponentSpecs.For(agent).RenderRunScript(context with { Entry = "node_exporter/node_exporter" });
        var tug = ComponentSpecs.For(agent).RenderRunScript(context with { Entry = "node_exporter-1.9.0.linux-amd64/node_exporter" });

        // Then: TiUP's lines, fallback included (tests/compat/tiup-templates has the template itself)
        Assert.Contains("EXPORTER_BIN=bin/node_exporter/node_exporter\nif [ ! -f $EXPORTER_BIN ]; then\n  EXPORTER_BIN=bin/node_exporter\nfi\nexec $EXPORTER_BIN \\\n", tiup, StringComparison.Ordinal);
        Assert.Contains("EXPORTER_BIN=bin/node_exporter-1.9.0.linux-amd64/node_exporter\nexec $EXPORTER_BIN \\\n", tug, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Keep_The_Layout_And_Unknown_Builds_In_Meta()
    {
        // Given
        var meta = new ClusterMeta
        {
            User = "tidb", Version = "v8.5.0", Topology = Topology,
            Tug = new TugState
            {
                Layout = PackageLayouts.TiUP,
                Instances = System.Collections.Immutable.ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
                    [new KeyValuePair<string, DeployedInstance>("10.0.0.1:9093", new DeployedInstance("v0.21.0", "alertmanager/alertmanager", new string('a', 64), false) { Build = DeployedInstance.UnknownBuild })]),
            },
        };

        // When
        var read = ClusterMetaSerializer.Deserialize(ClusterMetaSerializer.Serialize(meta), "meta.yaml");

        // Then
        Assert.Equal(PackageLayouts.TiUP, read.Tug.Layout);
        Assert.Equal(DeployedInstance.UnknownBuild, read.Tug.Instances["10.0.0.1:9093"].Build);
    }

    [Fact]
    public void Should_Refuse_A_Layout_It_Does_Not_Know()
    {
        // Given
        var yaml = ClusterMetaSerializer.Serialize(new ClusterMeta { User = "tidb", Version = "v8.5.0", Topology = Topology, Tug = new TugState { Layout = PackageLayouts.TiUP } })
            .Replace("layout: tiup", "layout: flat", StringComparison.Ordinal);

        // When
        var e = Assert.Throws<TopologyException>(() => ClusterMetaSerializer.Deserialize(yaml, "meta.yaml"));

        // Then
        Assert.Contains("tug.layout \"flat\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Write_Pins_Where_TiUP_Keeps_Versions()
    {
        // Given
        var meta = new ClusterMeta
        {
            User = "tidb", Version = "v8.5.0", Topology = Topology,
            Tug = new TugState { Versions = System.Collections.Immutable.ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [new KeyValuePair<string, string>(Roles.NodeExporter, "v1.9.0"), new(Roles.Alertmanager, "v0.21.0")]) },
        };

        // When
        var (topology, versions, unplaced) = ClusterExporter.WithPins(meta);
        var yaml = ClusterMetaSerializer.Serialize(meta with { Topology = topology, Tug = TugState.Empty });

        // Then
        Assert.Equal("v1.9.0", topology.Monitored.NodeExporterVersion);
        Assert.Equal("v0.21.0", topology.ComponentVersions["alertmanager"]);
        Assert.Equal(["component_versions.alertmanager", "monitored.node_exporter_version"], versions.Keys);
        Assert.Empty(unplaced);
        Assert.Contains("node_exporter_version: v1.9.0", yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("tug:", yaml, StringComparison.Ordinal);
    }
}
