// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Tug.Core.Cluster;
using Tug.Core.Execution;
using Tug.Core.Planning;

namespace Tug.Cli.Rendering;

/// <summary>
/// Renders the executor's typed progress on stderr: JSON lines with <c>--format json</c> (each event with its
/// <c>event</c> kind and the time it was seen); a live table (<see cref="LiveProgress"/>) when stderr is a terminal
/// that understands ANSI; plain lines otherwise (redirected, as in tests and CI). Events arrive from several hosts at
/// once; each line is written whole.
/// </summary>
public sealed class ProgressRenderer(IOContext io, TimeProvider time)
{
    private static readonly JsonSerializerOptions LineOptions = new(PlanJson.Options) { WriteIndented = false };
    private readonly Lock _gate = new();

    /// <summary>A sink for one command's progress; dispose it when the operation ends, before the report is written.</summary>
    public IProgressSink For(string format)
    {
        if (format != "json" && !io.ErrorRedirected)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(io.Error),
                Ansi = AnsiSupport.Detect,
                ColorSystem = ColorSystemSupport.Detect,
                Interactive = InteractionSupport.Yes,
            });
            if (console.Profile.Capabilities.Ansi)
            {
                return new LiveProgress(console, time);
            }
        }

        return new Sink(this, format == "json");
    }

    private void Write(ProgressEvent e, bool json)
    {
        var line = json ? JsonLine(e) : TextLine(e);
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            io.Error.WriteLine(line);
        }
    }

    private string JsonLine(ProgressEvent e)
    {
        using var document = JsonDocument.Parse(JsonSerializer.Serialize(e, LineOptions));
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("at", time.GetUtcNow().UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            foreach (var property in document.RootElement.EnumerateObject())
            {
                property.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string? TextLine(ProgressEvent e) => e switch
    {
        OperationEvent n => $"  [{n.Host}] {n.Step}{(n.Instance is null ? string.Empty : " " + n.Instance)}: {n.Message}",
        StepFinished f => $"  [{(f.Host.Length == 0 ? "control" : f.Host)}] {f.Step}: {f.Status.ToString().ToLowerInvariant()}{(f.AlreadyDone ? " (already done)" : string.Empty)}: {f.Message} ({f.Seconds.ToString("0.00", CultureInfo.InvariantCulture)} s)",
        WaveFinished w => $"  batch {w.Wave} done in {w.Seconds.ToString("0.00", CultureInfo.InvariantCulture)} s{(w.Failed > 0 ? $", {w.Failed} failed" : string.Empty)}",
        Warning w => $"warning: {w.Message}",
        OperationStarted s => $"operation {s.Id}: {(s.Resumed ? "resuming" : "running")} {s.Operation} of {s.Cluster} ({s.Steps} step(s))",
        OperationFinished f => $"operation {f.Id}: {OperationJournal.Name(f.Outcome)} in {f.Seconds.ToString("0.0", CultureInfo.InvariantCulture)} s",
        _ => null,
    };

    private sealed class Sink(ProgressRenderer renderer, bool json) : IProgressSink
    {
        public void Report(ProgressEvent value) => renderer.Write(value, json);

        public void Dispose()
        {
        }
    }
}
