// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Planning;
using Tug.Core.Remote;

namespace Tug.Core.Execution.Steps;

/// <summary>Starts one instance; gated on its health check and on the running executable being the deployed, signed one.</summary>
public sealed class StartStep(InstanceChecks checks) : StepHandler
{
    public override StepKind Kind => StepKind.Start;

    public override async Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var instance = context.Instance(((InstanceInputs)step.Inputs).Instance);
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var result = await remote.RunAsync(HostScripts.Start([instance], context.Reach.WaitTimeout), new RunOptions(Sudo: true, Timeout: context.Reach.WaitTimeout + TimeSpan.FromSeconds(30)), cancellationToken).ConfigureAwait(false);
        return InstanceChecks.Waited(instance, result, "listening");
    }

    public override async Task<StepResult> GateAsync(StepContext context, Step step, StepResult acted, CancellationToken cancellationToken)
    {
        var instance = context.Instance(((InstanceInputs)step.Inputs).Instance);
        var health = await checks.HealthAsync(instance, context.Reach.WaitTimeout, cancellationToken).ConfigureAwait(false);
        if (!health.Ok)
        {
            return health;
        }

        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var status = (await InstanceChecks.ProbeAsync(remote, context.TargetMeta, [instance], context.Reach, cancellationToken).ConfigureAwait(false))[0];
        if (!status.Verified)
        {
            return StepResult.Fail($"running but not verified: {status.Detail}");
        }

        var done = StepResult.Done($"{health.Message}; running {status.Version ?? "?"}, verified");
        var window = ((InstanceInputs)step.Inputs).HealthWindow;
        if (window <= 0)
        {
            return done;
        }

        var held = await checks.HoldAsync(remote, instance, TimeSpan.FromSeconds(window), cancellationToken).ConfigureAwait(false);
        return held.Ok ? done with { Message = $"{done.Message}; {held.Message}" } : held;
    }

    public override async Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var instance = context.Instance(((InstanceInputs)step.Inputs).Instance);
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var status = (await InstanceChecks.ProbeAsync(remote, context.TargetMeta, [instance], context.Reach, cancellationToken).ConfigureAwait(false))[0];
        if (status is not { Status: "Up", Verified: true })
        {
            return null;
        }

        var health = await checks.HealthAsync(instance, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        return health.Ok ? StepResult.Done($"running {status.Version ?? "?"}, healthy, verified") : null;
    }
}

/// <summary>Stops one instance; gated on the stop being proven: unit inactive, no process, port closed, deployed file still the signed one.</summary>
public sealed class StopStep : StepHandler
{
    public override StepKind Kind => StepKind.Stop;

    public override async Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var instance = context.Instance(((InstanceInputs)step.Inputs).Instance);
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var result = await remote.RunAsync(HostScripts.Stop([instance], context.Reach.WaitTimeout), new RunOptions(Sudo: true, Timeout: context.Reach.WaitTimeout + TimeSpan.FromSeconds(30)), cancellationToken).ConfigureAwait(false);
        return InstanceChecks.Waited(instance, result, "stopped");
    }

    public override async Task<StepResult> GateAsync(StepContext context, Step step, StepResult acted, CancellationToken cancellationToken)
    {
        var problems = await ProblemsAsync(context, step, cancellationToken).ConfigureAwait(false);
        return problems.Count == 0
            ? StepResult.Done("stopped; verified: unit inactive, no process, port closed, deployed file = signed package")
            : StepResult.Fail($"stop not verified: {string.Join("; ", problems)}");
    }

    public override async Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken) =>
        (await ProblemsAsync(context, step, cancellationToken).ConfigureAwait(false)).Count == 0 ? StepResult.Done("stopped") : null;

    private static async Task<IReadOnlyList<string>> ProblemsAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var instance = context.Instance(((InstanceInputs)step.Inputs).Instance);
        var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
        var status = (await InstanceChecks.ProbeAsync(remote, context.Meta, [instance], context.Reach, cancellationToken).ConfigureAwait(false))[0];
        return InstanceChecks.StopProblems(status);
    }
}
