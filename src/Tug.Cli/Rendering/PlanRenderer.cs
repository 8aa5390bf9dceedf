// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Text.Json;
using Tug.Core.Cluster;
using Tug.Core.Planning;

namespace Tug.Cli.Rendering;

/// <summary>Prints a plan step by step, per host, as text or JSON (the same JSON the journal stores as plan.json).</summary>
public static class PlanRenderer
{
    private static readonly JsonSerializerOptions LineOptions = new(PlanJson.Options) { WriteIndented = false };

    /// <summary>The plan as text lines, one per step in the order they run, with each step's recorded state when given.</summary>
    public static ImmutableArray<string> Text(Plan plan, IReadOnlyDictionary<string, StepState>? recorded = null)
    {
        var lines = ImmutableArray.CreateBuilder<string>();
        lines.Add($"Plan: {plan.Operation} {plan.Cluster}, {plan.Steps.Length} step(s) on {plan.Hosts.Length} host(s)");
        foreach (var step in plan.Steps)
        {
            var state = recorded?.TryGetValue(step.Key.ToString(), out var s) == true ? $"  [{OperationJournal.Name(s)} before]" : string.Empty;
            var gate = step.Gate == StepGate.None ? string.Empty : $"  (gate: {Gate(step.Gate)})";
            var host = step.Host.Length == 0 ? "control" : step.Host;
            lines.Add($"  batch {step.Wave}: {StepKinds.Name(step.Key.Kind),-12} {step.Key.Subject,-24} on {host,-16} {step.Summary}{gate}{state}");
        }

        foreach (var note in plan.Notes)
        {
            lines.Add($"  unchanged: {note}");
        }

        return lines.ToImmutable();
    }

    /// <summary>The plan as one JSON document: <c>{"dryRun": true, "plan": {...}}</c>.</summary>
    public static string Json(Plan plan, bool dryRun) =>
        $"{{\"dryRun\": {(dryRun ? "true" : "false")}, \"plan\": {JsonSerializer.Serialize(plan, PlanJson.Options)}}}";

    /// <summary>The plan as one JSON line for a progress stream: <c>{"event": "plan", "plan": {...}}</c>.</summary>
    public static string JsonLine(Plan plan) =>
        $"{{\"event\":\"plan\",\"plan\":{JsonSerializer.Serialize(plan, LineOptions)}}}";

    private static string Gate(StepGate gate) => gate switch
    {
        StepGate.Stopped => "proven stopped",
        StepGate.Healthy => "healthy and verified",
        StepGate.ClusterHealthy => "healthy, verified, cluster healthy",
        _ => "none",
    };
}
