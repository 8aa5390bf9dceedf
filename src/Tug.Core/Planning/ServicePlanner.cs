// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Cluster;
using Tug.Core.Execution;
using Tug.Core.Topology;

namespace Tug.Core.Planning;

/// <summary>
/// Plans <c>start</c>, <c>stop</c> and <c>restart</c>: one step per instance, one wave per role, in start order (stop
/// in the reverse); a start is gated on health and verification, a stop on being proven stopped. Unreachable hosts
/// fail their own steps and the others go on, as every role does after a failed one.
/// </summary>
public sealed class ServicePlanner(ClusterStore store)
{
    /// <exception cref="ClusterException">The cluster does not exist, or nothing matches the filter.</exception>
    public Plan Start(string name, InstanceFilter filter) => Plan("start", name, filter, stop: false, start: true);

    /// <exception cref="ClusterException">The cluster does not exist, or nothing matches the filter.</exception>
    public Plan Stop(string name, InstanceFilter filter) => Plan("stop", name, filter, stop: true, start: false);

    /// <exception cref="ClusterException">The cluster does not exist, or nothing matches the filter.</exception>
    /// <param name="name">The cluster.</param>
    /// <param name="filter">The instances.</param>
    /// <param name="healthWindow">Seconds each started instance must stay healthy after its first healthy check (<c>--health-window</c>); 0: none.</param>
    public Plan Restart(string name, InstanceFilter filter, int healthWindow = 0)
    {
        PlanningRules.CheckHealthWindow(healthWindow);
        return Plan("restart", name, filter, stop: true, start: true, healthWindow);
    }

    private Plan Plan(string operation, string name, InstanceFilter filter, bool stop, bool start, int healthWindow = 0)
    {
        var meta = store.Load(name);
        var selected = PlanningRules.Select(meta, filter);
        var steps = ImmutableArray.CreateBuilder<Step>();
        var wave = 0;
        if (stop)
        {
            foreach (var role in PlanningRules.ByRole(selected, stopping: true))
            {
                wave++;
                steps.AddRange(role.Select(i => StopStep(i, wave)));
            }
        }

        if (start)
        {
            foreach (var role in PlanningRules.ByRole(selected))
            {
                wave++;
                steps.AddRange(role.Select(i => StartStep(i, wave, healthWindow)));
            }
        }

        return new Plan(operation, name, steps.ToImmutable()) { RequireAllHosts = false, ContinueOnFailure = true, BasedOn = Executor.MetaRevision(store, name) };
    }

    /// <summary>A start of one instance, gated on health and verification.</summary>
    public static Step StartStep(InstanceSpec i, int wave, int healthWindow = 0) =>
        new(new StepKey(StepKind.Start, i.Id), i.ManageHost, i.Role, wave, StepGate.Healthy, StepLogin.Deploy, $"start {i.UnitName}", new InstanceInputs(i.Id, healthWindow));

    /// <summary>A stop of one instance, gated on it being proven stopped.</summary>
    public static Step StopStep(InstanceSpec i, int wave) =>
        new(new StepKey(StepKind.Stop, i.Id), i.ManageHost, i.Role, wave, StepGate.Stopped, StepLogin.Deploy, $"stop {i.UnitName}", new InstanceInputs(i.Id));
}
