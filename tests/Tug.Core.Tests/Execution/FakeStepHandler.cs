// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Concurrent;
using System.Collections.Immutable;
using Tug.Core.Execution;
using Tug.Core.Planning;
using Tug.Core.Remote;
using Tug.Testing;

namespace Tug.Core.Tests.Execution;

/// <summary>One handler call, as <see cref="CallLog"/> records it.</summary>
/// <param name="Host">The step's host.</param>
/// <param name="Step">The step's key.</param>
/// <param name="Wave">The step's wave.</param>
/// <param name="What"><c>act</c>, <c>acted</c> (the action returned), <c>gate</c>, <c>rollback</c> or <c>probe</c>.</param>
internal sealed record Call(string Host, string Step, int Wave, string What);

/// <summary>Every handler call of one fixture, in the order they happened across threads.</summary>
internal sealed class CallLog
{
    private readonly ConcurrentQueue<Call> _calls = new();

    public ImmutableArray<Call> Calls => [.. _calls];

    public void Add(Step step, string what) => _calls.Enqueue(new Call(step.Host, step.Key.ToString(), step.Wave, what));
}

/// <summary>
/// A step handler for any kind that acts on a <see cref="FakeHostState"/>: the action runs <c>act KEY</c> on the
/// step's host and then sets the key there; the probe finds the step done when the key is set. It counts and logs
/// every call; tests make it fail an action or a gate, roll back with a given result, or run a hook inside the action.
/// </summary>
internal sealed class FakeStepHandler(StepKind kind, FakeHostState hosts, CallLog log, bool reprobeWhenDone = false) : StepHandler
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);

    public override StepKind Kind => kind;

    public override bool ReprobeWhenDone => reprobeWhenDone;

    /// <summary>Steps (by key) whose action fails.</summary>
    public ConcurrentDictionary<string, bool> FailActionOf { get; } = new(StringComparer.Ordinal);

    /// <summary>Steps (by key) whose gate fails.</summary>
    public ConcurrentDictionary<string, bool> FailGateOf { get; } = new(StringComparer.Ordinal);

    /// <summary>What a rollback returns; null returns the failure as it is (the default handler behaviour).</summary>
    public Func<Step, StepResult, StepResult>? Rollback { get; set; }

    /// <summary>Runs inside the action, before it touches the host.</summary>
    public Func<Step, CancellationToken, Task>? BeforeAct { get; set; }

    /// <summary>How many times <paramref name="what"/> (act, gate, rollback, probe) was called for <paramref name="step"/>.</summary>
    public int Count(string what, Step step) => _calls.GetValueOrDefault($"{what} {step.Key}");

    /// <summary>How many times <paramref name="what"/> was called for any step.</summary>
    public int Count(string what) => _calls.Where(c => c.Key.StartsWith(what + " ", StringComparison.Ordinal)).Sum(c => c.Value);

    public static string EffectOf(Step step) => step.Key.ToString();

    public override async Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        Called("act", step);
        if (BeforeAct is { } hook)
        {
            await hook(step, cancellationToken);
        }

        var remote = await context.HostAsync(step, cancellationToken);
        var ran = await remote.RunAsync($"act {step.Key}", new RunOptions(Sudo: true), cancellationToken);
        log.Add(step, "acted");
        if (!ran.Ok || FailActionOf.ContainsKey(step.Key.ToString()))
        {
            return StepResult.Fail($"{step.Key} failed: exit {ran.ExitCode}");
        }

        hosts.Set(step.Host, EffectOf(step), context.OperationId);
        return StepResult.Done($"{step.Key} acted");
    }

    public override Task<StepResult> GateAsync(StepContext context, Step step, StepResult acted, CancellationToken cancellationToken)
    {
        Called("gate", step);
        return Task.FromResult(FailGateOf.ContainsKey(step.Key.ToString()) ? StepResult.Fail($"{step.Key} gate failed") : acted);
    }

    public override Task<StepResult> RollbackAsync(StepContext context, Step step, StepResult failed, CancellationToken cancellationToken)
    {
        Called("rollback", step);
        return Task.FromResult(Rollback is { } rollback ? rollback(step, failed) : failed);
    }

    public override Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        Called("probe", step);
        return Task.FromResult(hosts.Has(step.Host, EffectOf(step)) ? StepResult.Done($"{step.Key} present") : null);
    }

    private void Called(string what, Step step)
    {
        _calls.AddOrUpdate($"{what} {step.Key}", 1, (_, n) => n + 1);
        log.Add(step, what);
    }
}
