// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Tug.Core.Cluster;

namespace Tug.Core.Planning;

/// <summary>
/// A plan as JSON: <c>--dry-run --format json</c> prints it and the journal stores it as <c>plan.json</c> beside
/// <c>journal.jsonl</c>, so <c>tug cluster replay</c> resumes the plan that ran, never a re-parsed command line.
/// </summary>
public static class PlanJson
{
    /// <summary>The file name of a stored plan inside its operation's directory.</summary>
    public const string FileName = "plan.json";

    /// <summary>The format version written and read.</summary>
    public const int Format = 1;

    /// <summary>The options every plan is written and read with (camelCase, kinds and states by name).</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new StepKindJsonConverter(), new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    /// <summary>The plan as JSON text.</summary>
    public static string Serialize(Plan plan) => JsonSerializer.Serialize(new Envelope(Format, plan), Options);

    /// <summary>Reads a plan written by <see cref="Serialize"/>.</summary>
    /// <exception cref="ClusterException">The text is not a plan of a format this version reads.</exception>
    public static Plan Deserialize(string json, string source)
    {
        try
        {
            var envelope = JsonSerializer.Deserialize<Envelope>(json, Options);
            if (envelope is not { Plan: { } plan } || envelope.Format != Format)
            {
                throw new ClusterException(ClusterException.BadInput, $"{source} is not a plan this version of tug reads (format {envelope?.Format}, expected {Format}).");
            }

            if (plan.Steps.IsDefault || plan.Steps.Any(s => s is null || s.Key is null || s.Inputs is null) || plan.Cluster is null || plan.Operation is null)
            {
                throw new ClusterException(ClusterException.StateBroken, $"{source} is not a readable plan: a step, its key or its inputs, the cluster or the operation is missing.",
                    "The stored plan was damaged; close the operation with --force on the next command, or run the command again.");
            }

            return plan;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            // System.Text.Json bounds depth (64) itself; anything it or the records' constructors refuse is a damaged file, not a bug.
            throw new ClusterException(ClusterException.StateBroken, $"{source} is not a readable plan: {e.Message}",
                "The stored plan was damaged; close the operation with --force on the next command, or run the command again.", e);
        }
    }

    /// <summary>Where an operation's plan is stored.</summary>
    public static string PathOf(string clusterDirectory, string operationId) =>
        Path.Combine(clusterDirectory, OperationJournal.OperationsDirectoryName, operationId, FileName);

    private sealed record Envelope(int Format, Plan? Plan);
}
