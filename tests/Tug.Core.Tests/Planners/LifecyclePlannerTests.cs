// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Cluster;
using Tug.Core.Inspection;
using Tug.Core.Planning;
using Tug.Core.Remote;
using Tug.Core.Topology;
using Tug.Testing;

namespace Tug.Core.Tests.Planners;

/// <summary>
/// The lifecycle planner (enable/disable, clean, prune) and destroy's retained data: which steps, on which hosts, for
/// which instances, in which order; what is refused before anything runs.
/// </summary>
public sealed class LifecyclePlannerTests : IDisposable
{
    private const string Name = "demo";

    private const string Etcd3 = """
        global:
          user: tidb
          deploy_dir: /opt/tug/deploy
          data_dir: /opt/tug/data
        etcd_servers:
          - host: 10.0.0.1
          - host: 10.0.0.2
          - host: 10.0.0.3
        monitoring_servers:
          - host: 10.0.0.1
        alertmanager_servers:
          - host: 10.0.0.2
        """;

    private readonly TempDirectory _dir = new();

    private readonly ClusterStore _store;

    public LifecyclePlannerTests()
    {
        _store = new ClusterStore(_dir.Combine("clusters"), TimeProvider.System);
    }

    public void Dispose() => _dir.Dispose();

    private LifecyclePlanner Planner(Dictionary<string, bool>? members = null) =>
        new(_store, Topologies(), new FakeMembers(members ?? []));

    private TopologyPlanner Topologies() => new(_store, null!, new Preflight(_store, TimeProvider.System));

    private ClusterMeta Save(string yaml)
    {
        _store.Save(Name, new ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = TopologyLoader.Parse(yaml, "topology.yaml") });
        return _store.Load(Name);
    }

    private static ImmutableArray<string> Ids(Step step) => step.Inputs switch
    {
        HostInputs h => h.Instances,
        CleanInputs c => [.. c.Targets.Select(t => t.Instance).Distinct()],
        _ => [],
    };

    private sealed class FakeMembers(Dictionary<string, bool> members) : IMemberReader
    {
        public List<string> Asked { get; } = [];

        public Task<ImmutableDictionary<string, bool>> AreMembersAsync(string cluster, ClusterMeta meta, IReadOnlyList<InstanceSpec> leaving, Reach reach, CancellationToken cancellationToken)
        {
            Asked.AddRange(leaving.Select(l => l.Id));
            return Task.FromResult(leaving.ToImmutableDictionary(l => l.Id, l => members.GetValueOrDefault(l.Id, true)));
        }
    }

    private static Reach Reach => new(new FakeRemoteConnector(), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 1);

    public sealed class TheEnableMethod : IDisposable
    {
        private readonly LifecyclePlannerTests _t = new();

        public void Dispose() => _t.Dispose();

        [Fact]
        public void Should_Disable_Only_The_Agent_On_Every_Host_With_R_NodeExporter()
        {
            // Given
            _t.Save(Etcd3);

            // When
            var plan = _t.Planner().Enable(Name, new InstanceFilter(["node_exporter"], []), enable: false);

            // Then: one disable step per host, each for that host's node_exporter alone
            Assert.Equal("disable", plan.Operation);
            Assert.All(plan.Steps, s => Assert.Equal(StepKind.Disable, s.Key.Kind));
            Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.3"], plan.Steps.Select(s => s.Host).Order());
            Assert.All(plan.Steps, s => Assert.Equal([$"{s.Host}:9100"], Ids(s)));
        }

        [Fact]
        public void Should_Take_A_Hosts_Agents_Only_When_Every_Other_Instance_Of_It_Is_Selected()
        {
            // Given
            _t.Save(Etcd3);

            // When: every etcd member (10.0.0.3 runs nothing else; 10.0.0.1 and .2 do)
            var plan = _t.Planner().Enable(Name, new InstanceFilter(["etcd"], []), enable: true);

            // Then
            var byHost = plan.Steps.ToDictionary(s => s.Host, Ids);
            Assert.All(plan.Steps, s => Assert.Equal(StepKind.Enable, s.Key.Kind));
            Assert.Equal(["10.0.0.1:2379"], byHost["10.0.0.1"]);
            Assert.Equal(["10.0.0.2:2379"], byHost["10.0.0.2"]);
            Assert.Equal(["10.0.0.3:2379", "10.0.0.3:9100", "10.0.0.3:9115"], byHost["10.0.0.3"].Order());
            Assert.DoesNotContain(plan.Steps, s => s.Key.Kind is StepKind.Start or StepKind.Stop);
        }

        [Fact]
        public void Should_Refuse_A_Filter_That_Matches_Nothing()
        {
            _t.Save(Etcd3);
            var e = Assert.Throws<ClusterException>(() => _t.Planner().Enable(Name, new InstanceFilter(["tikv"], []), enable: true));
            Assert.Equal(ClusterException.BadInput, e.Code);
        }
    }

    public sealed class TheCleanMethod : IDisposable
    {
        private readonly LifecyclePlannerTests _t = new();

        public void Dispose() => _t.Dispose();

        private static CleanRequest Request(bool data = false, bool log = false, bool audit = false, string[]? nodes = null, string[]? roles = null) =>
            new(Name, data, log, audit, [.. nodes ?? []], [.. roles ?? []]);

        [Fact]
        public void Should_Stop_Every_Instance_Then_Delete_Log_Files_Per_Host_And_Start_Nothing()
        {
            // Given
            var meta = _t.Save(Etcd3);

            // When
            var plan = _t.Planner().Clean(Request(log: true));

            // Then: every instance stopped (gated), before any clean; nothing started
            var stops = plan.Steps.Where(s => s.Key.Kind == StepKind.Stop).ToList();
            var cleans = plan.Steps.Where(s => s.Key.Kind == StepKind.Clean).ToList();
            Assert.Equal(meta.Topology.Instances.Length, stops.Count);
            Assert.All(stops, s => Assert.Equal(StepGate.Stopped, s.Gate));
            Assert.True(stops.Max(s => s.Wave) < cleans.Min(s => s.Wave));
            Assert.DoesNotContain(plan.Steps, s => s.Key.Kind == StepKind.Start);
            Assert.Equal(3, cleans.Count);
            var h1 = ((CleanInputs)cleans.Single(s => s.Host == "10.0.0.1").Inputs).Targets;
            Assert.Equal(
                ["/opt/tug/deploy/etcd-2379/log", "/opt/tug/deploy/monitor-9100/log", "/opt/tug/deploy/prometheus-9090/log"],
                h1.Select(t => t.Dir).Order());
            Assert.All(h1, t => Assert.Equal(("log", "*.log"), (t.Kind, t.Pattern)));
            Assert.Contains(plan.Notes, n => n.Contains("stays stopped", StringComparison.Ordinal));
        }

        [Fact]
        public void Should_Keep_The_Files_Of_Ignored_Roles_And_Nodes()
        {
            // Given
            _t.Save(Etcd3);

            // When
            var plan = _t.Planner().Clean(Request(data: true, log: true, roles: ["etcd"], nodes: ["10.0.0.2"]));

            // Then: no etcd directory, nothing on 10.0.0.2; Prometheus' data emptied entirely
            var targets = plan.Steps.Where(s => s.Inputs is CleanInputs).SelectMany(s => ((CleanInputs)s.Inputs).Targets).ToList();
            Assert.DoesNotContain(targets, t => t.Dir.Contains("etcd", StringComparison.Ordinal));
            Assert.DoesNotContain(plan.Steps, s => s.Key.Kind == StepKind.Clean && s.Host == "10.0.0.2");
            Assert.Contains(targets, t => t is { Dir: "/opt/tug/data/prometheus-9090", Kind: "data", Pattern: "*" });
            Assert.Contains(plan.Notes, n => n.Contains("10.0.0.1:2379", StringComparison.Ordinal) && n.Contains("10.0.0.2:9093", StringComparison.Ordinal));
        }

        [Fact]
        public void Should_Keep_TiDBs_Audit_Log_Unless_Asked()
        {
            // Given
            _t.Save(Etcd3 + "\ntidb_servers:\n  - host: 10.0.0.3\n");

            // When
            var logs = _t.Planner().Clean(Request(log: true, roles: ["etcd", "prometheus", "alertmanager", "node_exporter", "blackbox_exporter"]));
            var audit = _t.Planner().Clean(Request(audit: true));

            // Then
            Assert.Equal(["tidb.log", "tidb?[!audit]*.log"], logs.Steps.Single(s => s.Key.Kind == StepKind.Clean).Inputs is CleanInputs c ? c.Targets.Select(t => t.Pattern).Order() : []);
            Assert.Equal(["tidb-audit*.log"], ((CleanInputs)audit.Steps.Single(s => s.Key.Kind == StepKind.Clean).Inputs).Targets.Select(t => t.Pattern));
        }

        [Theory]
        [InlineData(false, false, false, null, null, "Say what to clean")]
        [InlineData(true, false, false, null, "etcdd", "role name `etcdd` invalid")]
        [InlineData(true, false, false, "10.0.0.9", null, "no instance or host 10.0.0.9")]
        public void Should_Refuse_Bad_Input_Before_Anything_Runs(bool data, bool log, bool audit, string? node, string? role, string message)
        {
            _t.Save(Etcd3);
            var e = Assert.Throws<ClusterException>(() => _t.Planner().Clean(Request(data, log, audit, node is null ? null : [node], role is null ? null : [role])));
            Assert.Equal(ClusterException.BadInput, e.Code);
            Assert.Contains(message, e.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Should_Refuse_A_Directory_Shared_With_An_Instance_That_Is_Kept()
        {
            // Given: node_exporter and blackbox_exporter share the monitored log directory
            _t.Save(Etcd3);

            // When node_exporter is kept but blackbox_exporter's logs would go
            var e = Assert.Throws<ClusterException>(() => _t.Planner().Clean(Request(log: true, roles: ["node_exporter"])));

            // Then
            Assert.Contains("/opt/tug/deploy/monitor-9100/log", e.Message, StringComparison.Ordinal);
            Assert.Contains("stay", e.Message, StringComparison.Ordinal);
        }

        [Theory]
        [InlineData("/var", "system directory")]
        [InlineData("relative/dir", "not an absolute path")]
        [InlineData("/opt/tug/deploy", "deploy directory")]
        [InlineData("/opt/tug/data", "shares")]
        [InlineData("/opt/tug/data/etcd-2379/x", "shares")]
        public void Should_Refuse_A_System_Directory_Or_One_Holding_Files_That_Stay(string dataDir, string why)
        {
            // Given a metadata (not validated again by the planner) whose Prometheus data directory is dangerous
            var meta = _t.Save(Etcd3);
            meta = meta with { Topology = meta.Topology with { Instances = [.. meta.Topology.Instances.Select(i => i.Role == "prometheus" ? i with { DataDirs = [dataDir] } : i)] } };

            // When only Prometheus' data is cleaned (etcd's stays)
            var e = Assert.Throws<ClusterException>(() => LifecyclePlanner.Clean(Request(data: true, roles: ["etcd"]), meta, "base"));

            // Then
            Assert.Contains(why, e.Message, StringComparison.Ordinal);
            Assert.Contains("nothing was changed", e.Message, StringComparison.Ordinal);
        }
    }

    public sealed class ThePruneMethod : IDisposable
    {
        private readonly LifecyclePlannerTests _t = new();

        public void Dispose() => _t.Dispose();

        private static string Offline(string host) =>
            Etcd3.Replace($"  - host: {host}\n", $"  - host: {host}\n    offline: true\n", StringComparison.Ordinal);

        [Fact]
        public async Task Should_Plan_Nothing_When_No_Instance_Is_Marked_Offline()
        {
            _t.Save(Etcd3);
            var plan = await _t.Planner().PruneAsync(Name, Reach, TestContext.Current.CancellationToken);
            Assert.True(plan.IsEmpty);
            Assert.Contains(plan.Notes, n => n.StartsWith("nothing to prune", StringComparison.Ordinal));
        }

        [Fact]
        public void Should_Keep_The_Offline_Mark_Through_A_Meta_Round_Trip()
        {
            // Given / When: saved and loaded again, then saved once more
            var meta = _t.Save(Offline("10.0.0.3"));
            _t._store.Save(Name, meta);
            var again = _t._store.Load(Name);

            // Then
            Assert.True(LifecyclePlanner.IsOffline(again.Topology.Find("10.0.0.3:2379")!));
            Assert.False(LifecyclePlanner.IsOffline(again.Topology.Find("10.0.0.1:2379")!));
            Assert.Contains("offline: true", ClusterMetaSerializer.Serialize(again), StringComparison.Ordinal);
        }

        [Fact]
        public async Task Should_Remove_An_Offline_Member_That_Left_With_Scale_Ins_Steps()
        {
            // Given 10.0.0.3's etcd is marked offline and is no longer a member
            _t.Save(Offline("10.0.0.3"));
            var members = new Dictionary<string, bool> { ["10.0.0.3:2379"] = false };

            // When
            var plan = await _t.Planner(members).PruneAsync(Name, Reach, TestContext.Current.CancellationToken);

            // Then: removed from its (now empty) host with its agents, forgotten, Prometheus' targets follow
            Assert.Equal("prune", plan.Operation);
            var remove = plan.Steps.Single(s => s.Key.Kind == StepKind.Remove);
            Assert.Equal("10.0.0.3", remove.Host);
            Assert.Equal(["10.0.0.3:2379", "10.0.0.3:9100", "10.0.0.3:9115"], Ids(remove).Order());
            Assert.True(((HostInputs)remove.Inputs).EmptiesHost);
            Assert.Contains(plan.Steps, s => s.Key.Kind == StepKind.SaveMeta);
            Assert.Contains(plan.Steps, s => s.Key == new StepKey(StepKind.Refresh, "10.0.0.1:9090"));
            Assert.DoesNotContain("10.0.0.3", plan.Meta, StringComparison.Ordinal);
        }

        [Fact]
        public async Task Should_Leave_An_Offline_Instance_That_Is_Still_A_Member()
        {
            _t.Save(Offline("10.0.0.3"));
            var plan = await _t.Planner(new() { ["10.0.0.3:2379"] = true }).PruneAsync(Name, Reach, TestContext.Current.CancellationToken);
            Assert.True(plan.IsEmpty);
            Assert.Contains(plan.Notes, n => n.Contains("still a member", StringComparison.Ordinal));
        }
    }

    public sealed class TheDestroyMethod : IDisposable
    {
        private readonly LifecyclePlannerTests _t = new();

        public void Dispose() => _t.Dispose();

        [Fact]
        public void Should_Keep_The_Data_Directories_Of_A_Retained_Role_And_Say_So()
        {
            // Given
            var meta = _t.Save(Etcd3);

            // When
            var plan = _t.Topologies().Destroy(Name, force: false, [], ["etcd"]);

            // Then: every host emptied but for its etcd data directory; the script deletes everything else
            var h1 = plan.Steps.Single(s => s.Key == new StepKey(StepKind.DestroyHost, "10.0.0.1"));
            Assert.Equal(["/opt/tug/data/etcd-2379"], ((HostInputs)h1.Inputs).RetainedDirs);
            Assert.Contains(plan.Notes, n => n == "kept on 10.0.0.1: /opt/tug/data/etcd-2379 (data of etcd 10.0.0.1:2379)");
            var script = HostScripts.Destroy([.. meta.Topology.Instances.Where(i => i.ManageHost == "10.0.0.1")], "tidb", string.Empty, ((HostInputs)h1.Inputs).RetainedDirs);
            Assert.DoesNotContain("'/opt/tug/data/etcd-2379'", script, StringComparison.Ordinal);
            Assert.Contains("'/opt/tug/deploy/etcd-2379'", script, StringComparison.Ordinal);
            Assert.Contains("'/opt/tug/data/prometheus-9090'", script, StringComparison.Ordinal);
        }

        [Fact]
        public void Should_Keep_A_Deploy_Directory_That_Holds_Retained_Data_But_Not_Its_Binaries()
        {
            // Given etcd's data lives inside its deploy directory
            var meta = _t.Save(Etcd3.Replace("  - host: 10.0.0.2\n", "  - host: 10.0.0.2\n    data_dir: data\n", StringComparison.Ordinal));

            // When
            var plan = _t.Topologies().Destroy(Name, force: false, ["10.0.0.2:2379"], []);

            // Then
            var step = plan.Steps.Single(s => s.Key == new StepKey(StepKind.DestroyHost, "10.0.0.2"));
            var retained = ((HostInputs)step.Inputs).RetainedDirs;
            Assert.Equal(["/opt/tug/deploy/etcd-2379", "/opt/tug/deploy/etcd-2379/data"], retained.Order());
            var script = HostScripts.Destroy([meta.Topology.Find("10.0.0.2:2379")!], "tidb", string.Empty, retained);
            Assert.Contains("'/opt/tug/deploy/etcd-2379/bin' '/opt/tug/deploy/etcd-2379/conf' '/opt/tug/deploy/etcd-2379/scripts'", script, StringComparison.Ordinal);
            Assert.Contains("'/opt/tug/deploy/etcd-2379/log'", script, StringComparison.Ordinal);
            Assert.DoesNotContain("'/opt/tug/deploy/etcd-2379' ", script, StringComparison.Ordinal);
            Assert.Empty(plan.Steps.Where(s => s.Host == "10.0.0.1").SelectMany(s => ((HostInputs)s.Inputs).RetainedDirs));
        }

        [Fact]
        public void Should_Refuse_An_Unknown_Role_Or_Node_To_Retain()
        {
            _t.Save(Etcd3);
            Assert.Contains("role name `pdd` invalid", Assert.Throws<ClusterException>(() => _t.Topologies().Destroy(Name, false, [], ["pdd"])).Message, StringComparison.Ordinal);
            Assert.Equal(ClusterException.BadInput, Assert.Throws<ClusterException>(() => _t.Topologies().Destroy(Name, false, ["10.9.9.9"], [])).Code);
        }

        [Fact]
        public void Should_Keep_Retained_Dirs_And_Clean_Targets_Through_The_Stored_Plan()
        {
            // Given plans as the journal stores them (replay reads them back)
            _t.Save(Etcd3);
            var destroy = _t.Topologies().Destroy(Name, force: false, [], ["etcd"]);
            var clean = _t.Planner().Clean(new CleanRequest(Name, true, true, false, [], []));

            // When
            var destroyBack = PlanJson.Deserialize(PlanJson.Serialize(destroy), "plan.json");
            var cleanBack = PlanJson.Deserialize(PlanJson.Serialize(clean), "plan.json");

            // Then
            Assert.Equal(destroy.Steps.Select(s => s.Inputs is HostInputs h ? string.Join(",", h.RetainedDirs) : "-"), destroyBack.Steps.Select(s => s.Inputs is HostInputs h ? string.Join(",", h.RetainedDirs) : "-"));
            Assert.Equal(clean.Steps.Where(s => s.Inputs is CleanInputs).SelectMany(s => ((CleanInputs)s.Inputs).Targets), cleanBack.Steps.Where(s => s.Inputs is CleanInputs).SelectMany(s => ((CleanInputs)s.Inputs).Targets));
            Assert.Equal(clean.Steps.Select(s => s.Key), cleanBack.Steps.Select(s => s.Key));
        }

        [Fact]
        public void Should_Write_No_Retained_Field_When_Nothing_Is_Kept()
        {
            _t.Save(Etcd3);
            var plan = _t.Topologies().Destroy(Name, force: false);
            Assert.DoesNotContain("retained", PlanJson.Serialize(plan), StringComparison.OrdinalIgnoreCase);
            Assert.Empty(plan.Notes);
        }
    }
}
