// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Cluster;
using Tug.Core.Execution;
using Tug.Core.Planning;
using Tug.Core.Topology;
using Tug.Testing;

namespace Tug.Core.Tests.Execution;

/// <summary>
/// A control machine in a temp directory (clusters and audit log, as under <c>$TUG_HOME</c>) with one saved cluster,
/// <c>prod</c>, on three hosts; fake hosts behind a <see cref="FakeRemoteConnector"/>; and a fake handler for each of a
/// few step kinds, acting on a shared <see cref="FakeHostState"/>. <see cref="StepKind.Switch"/> is re-probed when done,
/// the other kinds are not.
/// </summary>
internal sealed class ExecutorFixture : IDisposable
{
    public const string Prod = "prod";
    public const string H1 = "10.0.0.1";
    public const string H2 = "10.0.0.2";
    public const string H3 = "10.0.0.3";

    private const string TopologyYaml = """
        global:
          user: tidb
          deploy_dir: /opt/tug/deploy
          data_dir: /opt/tug/data
        etcd_servers:
          - host: 10.0.0.1
          - host: 10.0.0.2
          - host: 10.0.0.3
        """;

    public ExecutorFixture()
    {
        Root = Directory.CreateTempSubdirectory("tug-executor-tests-").FullName;
        Store = new ClusterStore(Path.Combine(Root, "clusters"), TimeProvider.System);
        Audit = new AuditLog(Path.Combine(Root, "audit"), TimeProvider.System);
        var topologyFile = Path.Combine(Root, "topology.yaml");
        File.WriteAllText(topologyFile, TopologyYaml);
        Store.Save(Prod, new ClusterMeta { User = "tidb", Version = "v3.5.17", Topology = TopologyLoader.Load(topologyFile) });
        Handlers = new Dictionary<StepKind, FakeStepHandler>
        {
            [StepKind.Stage] = new(StepKind.Stage, Hosts, Log),
            [StepKind.Switch] = new(StepKind.Switch, Hosts, Log, reprobeWhenDone: true),
            [StepKind.Start] = new(StepKind.Start, Hosts, Log),
            [StepKind.Stop] = new(StepKind.Stop, Hosts, Log),
        };
    }

    /// <summary>The temp directory standing for <c>$TUG_HOME</c>.</summary>
    public string Root { get; }

    public ClusterStore Store { get; }

    public AuditLog Audit { get; }

    /// <summary>The cluster's directory (meta.yaml, lock, operations/).</summary>
    public string ClusterDirectory => Store.Directory(Prod);

    public FakeRemoteConnector Connector { get; } = new();

    /// <summary>What the fake handlers have done on each host.</summary>
    public FakeHostState Hosts { get; } = new();

    /// <summary>Every handler call, in order, across hosts.</summary>
    public CallLog Log { get; } = new();

    public IReadOnlyDictionary<StepKind, FakeStepHandler> Handlers { get; }

    public FakeStepHandler this[StepKind kind] => Handlers[kind];

    /// <summary>An executor over the fake handlers, with <paramref name="failpoints"/> armed (none by default).</summary>
    public Executor Executor(Failpoints? failpoints = null) =>
        new(Store, Audit, Handlers.Values, TimeProvider.System, failpoints ?? Failpoints.None);

    /// <summary>Options reaching the fake hosts, up to eight at once.</summary>
    public ExecutionOptions Options(bool force = false) =>
        new(new Reach(Connector, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5), Concurrency: 8), ["cluster", "test", Prod], force);

    /// <summary>A plan of <paramref name="steps"/>, based on the cluster's meta.yaml as it is now.</summary>
    public Plan Plan(params Step[] steps) => new("test", Prod, [.. steps]) { BasedOn = Tug.Core.Execution.Executor.MetaRevision(Store, Prod) };

    /// <summary>A step of <paramref name="kind"/> on <paramref name="host"/>; its subject is the host unless given.</summary>
    public static Step Step(StepKind kind, string host, int wave, string? subject = null, StepGate gate = StepGate.None) =>
        new(new StepKey(kind, subject ?? host), host, "etcd", wave, gate, StepLogin.Deploy, $"{StepKinds.Name(kind)} {subject ?? host}", new InstanceInputs(subject ?? host));

    /// <summary>Runs a plan with a fresh executor (or <paramref name="executor"/>).</summary>
    public Task<OperationReport> RunAsync(Plan plan, IProgress<ProgressEvent>? progress = null, Executor? executor = null, bool force = false, CancellationToken cancellationToken = default) =>
        (executor ?? Executor()).RunAsync(plan, Options(force), progress, cancellationToken);

    /// <summary>Resumes the cluster's replayable operation (or <paramref name="id"/>) with an unarmed executor.</summary>
    public Task<OperationReport> ReplayAsync(string? id = null, IProgress<ProgressEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        var executor = Executor();
        var record = executor.FindReplayable(Prod, id);
        return executor.ReplayAsync(Prod, record, Options(), progress, cancellationToken);
    }

    /// <summary>The journal of operation <paramref name="id"/>.</summary>
    public OperationRecord Journal(string id) => OperationJournal.Read(ClusterDirectory, id) ?? throw new InvalidOperationException($"no journal for {id}");

    /// <summary>The only operation the cluster has recorded.</summary>
    public OperationRecord OnlyOperation() => Assert.Single(OperationJournal.List(ClusterDirectory));

    /// <summary>The states recorded for <paramref name="step"/>, in order.</summary>
    public static ImmutableArray<StepState> StatesOf(OperationRecord record, Step step) =>
        [.. record.Steps.Where(r => r.Step == step.Key.ToString()).Select(r => r.State)];

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
