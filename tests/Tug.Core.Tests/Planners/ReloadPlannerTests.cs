// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Cluster;
using Tug.Core.Components;
using Tug.Core.Planning;
using Tug.Core.Tests.Infrastructure;
using Tug.Core.Topology;
using Tug.Testing;

namespace Tug.Core.Tests.Planners;

/// <summary>
/// The reload planner: one reload step per instance whose rendered files differ from the host's, listing exactly
/// those files with their diff; nothing for the others (named in the notes); rolling in role order; the plan as JSON.
/// </summary>
public sealed class ReloadPlannerTests
{
    private const string Name = "demo";

    private static ClusterMeta Meta(Func<InstanceSpec, InstanceSpec>? change = null)
    {
        var topology = Topologies.Etcd;
        return new ClusterMeta
        {
            User = "tidb",
            Version = "v3.4.23",
            Topology = topology with { Instances = [.. topology.Instances.Select(change ?? (i => i))] },
        };
    }

    private static InstanceSpec Prometheus(ClusterMeta meta) => meta.Topology.OfRole(Roles.Prometheus).Single();

    /// <summary>What the hosts hold when every file is as <paramref name="meta"/> renders it.</summary>
    private static Dictionary<string, Dictionary<string, string?>> HostsAsRendered(ClusterMeta meta)
    {
        var hosts = new Dictionary<string, Dictionary<string, string?>>(StringComparer.Ordinal);
        foreach (var i in meta.Topology.Instances)
        {
            var files = hosts.TryGetValue(i.ManageHost, out var f) ? f : hosts[i.ManageHost] = new(StringComparer.Ordinal);
            foreach (var rendered in InstanceFiles.Render(Name, meta, i))
            {
                files[rendered.Path] = rendered.Content;
            }
        }

        return hosts;
    }

    private static Plan Build(ClusterMeta meta, Dictionary<string, Dictionary<string, string?>> hosts, bool skipRestart = false, int window = 0,
        Dictionary<string, long?>? modified = null, Dictionary<string, long?>? started = null)
    {
        var selected = meta.Topology.Instances;
        var rendered = selected.ToImmutableDictionary(i => i.Id, i => InstanceFiles.Render(Name, meta, i));
        var onHosts = hosts.ToImmutableDictionary(h => h.Key, h => new HostFiles(h.Value.ToImmutableDictionary(StringComparer.Ordinal),
            (modified ?? []).ToImmutableDictionary(StringComparer.Ordinal),
            (started ?? []).Where(s => selected.First(i => i.Id == s.Key).ManageHost == h.Key).ToImmutableDictionary(StringComparer.Ordinal)));
        return ReloadPlanner.Build(new ReloadRequest(Name, InstanceFilter.All, skipRestart, window), meta, selected, rendered, onHosts, "base");
    }

    private static ClusterMeta WithRetention(string days) =>
        Meta(i => i.Role == Roles.Prometheus ? i with { Extras = i.Extras.With("storage_retention", days) } : i);

    [Fact]
    public void Should_Plan_Nothing_And_Name_Every_Instance_When_Every_File_On_The_Hosts_Is_As_Rendered()
    {
        // Given
        var meta = Meta();
        var hosts = HostsAsRendered(meta);

        // When
        var plan = Build(meta, hosts);

        // Then
        Assert.True(plan.IsEmpty);
        Assert.Equal(meta.Topology.Instances.Length, plan.Notes.Length);
        Assert.All(plan.Notes, n => Assert.EndsWith("not restarted", n, StringComparison.Ordinal));
        Assert.Equal("base", plan.BasedOn);
    }

    [Fact]
    public void Should_Restart_Only_Prometheus_With_Its_Run_Script_And_Diff_When_One_Setting_Changed()
    {
        // Given the hosts hold what the old metadata rendered, and the metadata now has a new retention
        var hosts = HostsAsRendered(Meta());
        var meta = WithRetention("31d");
        var prometheus = Prometheus(meta);

        // When
        var plan = Build(meta, hosts);

        // Then
        var step = Assert.Single(plan.Steps);
        Assert.Equal(new StepKey(StepKind.Reload, prometheus.Id), step.Key);
        Assert.Equal(StepGate.Healthy, step.Gate);
        var inputs = Assert.IsType<ReloadInputs>(step.Inputs);
        Assert.True(inputs.Restart);
        Assert.False(inputs.UnitChanged);
        var file = Assert.Single(inputs.Files);
        Assert.Equal(ComponentSpecs.For(prometheus).RunScriptPath(prometheus), file.Path);
        Assert.Equal(hosts[prometheus.ManageHost][file.Path], file.Before);
        Assert.Equal(ReloadPlanner.Sha256(file.Before!), file.BeforeSha256);
        Assert.Contains("-    --storage.tsdb.retention.time=\"30d\"", file.Diff, StringComparison.Ordinal);
        Assert.Contains("+    --storage.tsdb.retention.time=\"31d\"", file.Diff, StringComparison.Ordinal);
        Assert.Contains("restart prometheus-9090.service", step.Summary, StringComparison.Ordinal);
        Assert.Equal(meta.Topology.Instances.Length - 1, plan.Notes.Length);
        Assert.DoesNotContain(plan.Notes, n => n.Contains(prometheus.Id, StringComparison.Ordinal));
    }

    [Fact]
    public void Should_Restart_An_Instance_Whose_Files_Are_As_Rendered_But_Were_Written_After_Its_Process_Started()
    {
        // Given every file is as rendered; Prometheus' run script was written after its process started, etcd's before
        var meta = Meta();
        var hosts = HostsAsRendered(meta);
        var prometheus = Prometheus(meta);
        var etcd = meta.Topology.OfRole(Roles.Etcd)[0];
        var prometheusScript = ComponentSpecs.For(prometheus).RunScriptPath(prometheus);
        var modified = new Dictionary<string, long?> { [prometheusScript] = 2_000, [ComponentSpecs.For(etcd).RunScriptPath(etcd)] = 1_000 };
        var started = new Dictionary<string, long?> { [prometheus.Id] = 1_500, [etcd.Id] = 1_500 };

        // When
        var plan = Build(meta, hosts, modified: modified, started: started);
        var skipped = Build(meta, hosts, skipRestart: true, modified: modified, started: started);

        // Then only Prometheus restarts, to read the file it has not read; nothing is written
        var step = Assert.Single(plan.Steps);
        Assert.Equal(prometheus.Id, step.Key.Subject);
        var file = Assert.Single(((ReloadInputs)step.Inputs).Files);
        Assert.Equal(prometheusScript, file.Path);
        Assert.Equal(file.AfterSha256, file.BeforeSha256);
        Assert.Equal(string.Empty, file.Diff);
        Assert.Contains("written after its process started", step.Summary, StringComparison.Ordinal);
        Assert.Contains(plan.Notes, n => n.Contains(etcd.Id, StringComparison.Ordinal) && n.Contains("started after they were written", StringComparison.Ordinal));
        Assert.True(skipped.IsEmpty);
    }

    [Fact]
    public void Should_Reload_Systemd_And_Record_A_Missing_File_As_Missing_When_The_Unit_Is_Gone_From_The_Host()
    {
        // Given
        var meta = Meta();
        var hosts = HostsAsRendered(meta);
        var prometheus = Prometheus(meta);
        var unit = $"/etc/systemd/system/{prometheus.UnitName}";
        hosts[prometheus.ManageHost].Remove(unit);

        // When
        var plan = Build(meta, hosts);

        // Then
        var inputs = Assert.IsType<ReloadInputs>(Assert.Single(plan.Steps).Inputs);
        var file = Assert.Single(inputs.Files);
        Assert.Equal(unit, file.Path);
        Assert.Null(file.Before);
        Assert.Equal(string.Empty, file.BeforeSha256);
        Assert.StartsWith("--- /dev/null\n", file.Diff, StringComparison.Ordinal);
        Assert.True(inputs.UnitChanged);
        Assert.Contains("daemon-reload", Assert.Single(plan.Steps).Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Roll_One_Instance_Per_Wave_In_Role_Order_With_Membership_Components_Gated_On_Their_Cluster()
    {
        // Given every etcd member's run script and Prometheus' run script differ on the hosts
        var meta = WithRetention("31d");
        var hosts = HostsAsRendered(Meta());
        foreach (var etcd in meta.Topology.OfRole(Roles.Etcd))
        {
            hosts[etcd.ManageHost][ComponentSpecs.For(etcd).RunScriptPath(etcd)] = "#!/bin/bash\n# edited by hand\n";
        }

        // When
        var plan = Build(meta, hosts);

        // Then the etcd members go first, one per wave, then Prometheus
        Assert.Equal([Roles.Etcd, Roles.Etcd, Roles.Etcd, Roles.Prometheus], plan.Steps.Select(s => s.Role));
        Assert.Equal([1, 2, 3, 4], plan.Steps.Select(s => s.Wave));
        Assert.All(plan.Steps.Take(3), s => Assert.Equal(StepGate.ClusterHealthy, s.Gate));
        Assert.False(plan.ContinueOnFailure);
        Assert.True(plan.RequireAllHosts);
    }

    [Fact]
    public void Should_Write_Everything_In_One_Wave_Without_Restarts_Or_Gates_When_Restarts_Are_Skipped()
    {
        // Given
        var meta = WithRetention("31d");
        var hosts = HostsAsRendered(Meta());
        var etcd = meta.Topology.OfRole(Roles.Etcd)[0];
        hosts[etcd.ManageHost][ComponentSpecs.For(etcd).RunScriptPath(etcd)] = "edited\n";

        // When
        var plan = Build(meta, hosts, skipRestart: true, window: 5);

        // Then
        Assert.Equal(2, plan.Steps.Length);
        Assert.All(plan.Steps, s => Assert.Equal(1, s.Wave));
        Assert.All(plan.Steps, s => Assert.Equal(StepGate.None, s.Gate));
        Assert.All(plan.Steps, s => Assert.Equal(new ReloadInputs(((ReloadInputs)s.Inputs).Instance, ((ReloadInputs)s.Inputs).Files, false, 0), s.Inputs));
        Assert.All(plan.Steps, s => Assert.Contains("--skip-restart", s.Summary, StringComparison.Ordinal));
    }

    [Fact]
    public void Should_Keep_Every_Input_Through_The_Stored_Plan()
    {
        // Given
        var plan = Build(WithRetention("31d"), HostsAsRendered(Meta()), window: 7);

        // When
        var back = PlanJson.Deserialize(PlanJson.Serialize(plan), "plan.json");

        // Then
        var inputs = Assert.IsType<ReloadInputs>(Assert.Single(back.Steps).Inputs);
        var original = (ReloadInputs)plan.Steps[0].Inputs;
        Assert.Equal(original.Instance, inputs.Instance);
        Assert.Equal(original.Files.ToList(), inputs.Files.ToList());
        Assert.Equal(7, inputs.HealthWindow);
        Assert.True(inputs.Restart);
        Assert.Equal(plan.Notes.ToList(), back.Notes.ToList());
    }

    [Fact]
    public async Task Should_Read_Only_The_Selected_Instances_Files_On_Their_Hosts_And_Plan_From_What_They_Hold()
    {
        // Given a saved cluster whose Prometheus retention changed after its hosts got their files
        using var dir = new Tug.Core.Tests.Cluster.TempDirectory(Name);
        var store = new ClusterStore(dir.Root, TimeProvider.System);
        store.Save(Name, WithRetention("31d"));
        var reader = new FakeReader(HostsAsRendered(Meta()));
        var planner = new ReloadPlanner(store, reader);

        // When
        var plan = await planner.PlanAsync(new ReloadRequest(Name, new InstanceFilter([Roles.Prometheus], [])), Reach(), TestContext.Current.CancellationToken);

        // Then
        var prometheus = Prometheus(store.Load(Name));
        var asked = Assert.Single(reader.Asked);
        Assert.Equal(prometheus.ManageHost, asked.Key);
        Assert.Equal(InstanceFiles.Render(Name, store.Load(Name), prometheus).Select(f => f.Path), asked.Value);
        Assert.Equal(prometheus.Id, Assert.Single(plan.Steps).Key.Subject);
        Assert.Empty(plan.Notes);
        Assert.Equal(Tug.Core.Execution.Executor.MetaRevision(store, Name), plan.BasedOn);
    }

    [Fact]
    public async Task Should_Refuse_A_Health_Window_Out_Of_Range_Before_Reading_Any_Host()
    {
        // Given
        using var dir = new Tug.Core.Tests.Cluster.TempDirectory(Name);
        var store = new ClusterStore(dir.Root, TimeProvider.System);
        store.Save(Name, Meta());
        var reader = new FakeReader([]);

        // When
        var e = await Assert.ThrowsAsync<ClusterException>(() => new ReloadPlanner(store, reader).PlanAsync(new ReloadRequest(Name, InstanceFilter.All, HealthWindow: -1), Reach(), TestContext.Current.CancellationToken));

        // Then
        Assert.Equal(ClusterException.BadInput, e.Code);
        Assert.Empty(reader.Asked);
    }

    private static Reach Reach() => new(new FakeRemoteConnector(), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 1);

    private sealed class FakeReader(Dictionary<string, Dictionary<string, string?>> hosts) : IHostFileReader
    {
        public Dictionary<string, ImmutableArray<string>> Asked { get; } = new(StringComparer.Ordinal);

        public Task<ImmutableDictionary<string, HostFiles>> ReadFilesAsync(string cluster, ClusterMeta meta, IReadOnlyList<InstanceSpec> instances, IReadOnlyDictionary<string, ImmutableArray<string>> pathsByHost, Reach reach, CancellationToken cancellationToken)
        {
            foreach (var (host, paths) in pathsByHost)
            {
                Asked[host] = paths;
            }

            return Task.FromResult(pathsByHost.ToImmutableDictionary(p => p.Key, p => HostFiles.Empty with
            {
                Contents = p.Value.ToImmutableDictionary(path => path, path => hosts.GetValueOrDefault(p.Key)?.GetValueOrDefault(path), StringComparer.Ordinal),
            }));
        }
    }
}
