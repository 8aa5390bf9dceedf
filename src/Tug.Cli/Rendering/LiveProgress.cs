// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;
using Tug.Core.Cluster;
using Tug.Core.Execution;

namespace Tug.Cli.Rendering;

/// <summary>One command's progress sink; disposing it ends any live display it holds, leaving its last state on screen.</summary>
public interface IProgressSink : IProgress<ProgressEvent>, IDisposable;

/// <summary>
/// The live display for a terminal: one row per step (host, step, running/ok/failed, elapsed seconds, the step's last
/// message) redrawn in place by Spectre.Console, with the operation in the title, notes and warnings under the table
/// and the outcome in the caption. Driven only by <see cref="ProgressEvent"/>s: events (from several hosts at once)
/// change the state under a lock; one background loop draws it. The final state stays on screen.
/// </summary>
internal sealed class LiveProgress : IProgressSink
{
    private const int NotesShown = 5;

    private readonly IAnsiConsole _console;
    private readonly TimeProvider _time;
    private readonly TimeSpan _refresh;
    private readonly Lock _gate = new();
    private readonly List<StepRow> _rows = [];
    private readonly Dictionary<string, StepRow> _byStep = new(StringComparer.Ordinal);
    private readonly List<string> _notes = [];
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string _title = "starting";
    private string? _caption;
    private Task? _display;

    public LiveProgress(IAnsiConsole console, TimeProvider time, TimeSpan? refresh = null)
    {
        _console = console;
        _time = time;
        _refresh = refresh ?? TimeSpan.FromMilliseconds(150);
    }

    public void Report(ProgressEvent value)
    {
        lock (_gate)
        {
            Apply(value);
            _display ??= Task.Run(RunAsync);
        }

        if (value is OperationFinished)
        {
            Stop();
        }
    }

    public void Dispose() => Stop();

    /// <summary>Ends the display after drawing the state once more; waits until it is on screen.</summary>
    private void Stop()
    {
        _finished.TrySetResult();
        Task? display;
        lock (_gate)
        {
            display = _display;
        }

        display?.GetAwaiter().GetResult();
    }

    private async Task RunAsync()
    {
        await _console.Live(Build()).AutoClear(false).Overflow(VerticalOverflow.Ellipsis).Cropping(VerticalOverflowCropping.Top).StartAsync(async context =>
        {
            while (!_finished.Task.IsCompleted)
            {
                context.UpdateTarget(Build());
                context.Refresh();
                await Task.WhenAny(_finished.Task, Task.Delay(_refresh, _time)).ConfigureAwait(false);
            }

            context.UpdateTarget(Build());
        }).ConfigureAwait(false);
    }

    /// <summary>The row of a step, added the first time the step is seen.</summary>
    private StepRow Row(string step, string host)
    {
        if (!_byStep.TryGetValue(step, out var row))
        {
            row = new StepRow(step, host.Length == 0 ? "control" : host);
            _byStep[step] = row;
            _rows.Add(row);
        }

        return row;
    }

    private void Apply(ProgressEvent e)
    {
        switch (e)
        {
            case OperationStarted s:
                _title = $"{(s.Resumed ? "resuming" : "running")} {s.Operation} of {s.Cluster}: operation {s.Id}, {s.Steps} step(s)";
                break;
            case StepStarted s:
                var row = Row(s.Step, s.Host);
                row.Started = _time.GetTimestamp();
                row.Status = null;
                break;
            case StepFinished f:
                var done = Row(f.Step, f.Host);
                done.Status = f.Status;
                done.AlreadyDone = f.AlreadyDone;
                done.Seconds = f.Seconds;
                done.Message = f.Message;
                break;
            case OperationEvent n:
                // A remark from inside a running step on that host belongs to its row; others are notes.
                if (_rows.LastOrDefault(r => r.Host == n.Host && r.Status is null) is { } running)
                {
                    running.Message = $"{n.Step}{(n.Instance is null ? string.Empty : " " + n.Instance)}: {n.Message}";
                }
                else
                {
                    _notes.Add($"[{n.Host}] {n.Step}{(n.Instance is null ? string.Empty : " " + n.Instance)}: {n.Message}");
                }

                break;
            case Warning w:
                _notes.Add($"warning: {w.Message}");
                break;
            case WaveFinished w:
                _caption = $"batch {w.Wave} done in {Seconds(w.Seconds)}{(w.Failed > 0 ? $", {w.Failed} failed" : string.Empty)}";
                break;
            case OperationFinished f:
                _caption = $"operation {f.Id}: {OperationJournal.Name(f.Outcome)} in {Seconds(f.Seconds)}: {f.Summary}";
                break;
        }
    }

    /// <summary>The state as a renderable. Rows that do not fit the terminal: the oldest finished-ok ones fold into one line.</summary>
    private Rows Build()
    {
        lock (_gate)
        {
            var table = new Table().Border(TableBorder.Simple).Expand()
                .Title(Markup.Escape(_title))
                .AddColumn(new TableColumn("Host").NoWrap()).AddColumn(new TableColumn("Step").NoWrap()).AddColumn(new TableColumn("Status").NoWrap())
                .AddColumn(new TableColumn("Time").NoWrap().RightAligned()).AddColumn("Message");
            var room = Math.Max(3, _console.Profile.Height - 8 - Math.Min(_notes.Count, NotesShown));
            var fold = Math.Max(0, _rows.Count - room);
            var folded = _rows.Where(r => r.Status == OutcomeStatus.Ok).Take(fold).ToHashSet();
            if (folded.Count > 0)
            {
                table.AddRow(new Markup(string.Empty), new Markup($"[grey]… {folded.Count} more[/]"), new Markup("[green]ok[/]"), new Markup(string.Empty), new Markup(string.Empty));
            }

            // The message gets what the other columns leave of one line, so each step stays one row high.
            var shown = _rows.Where(r => !folded.Contains(r)).ToList();
            var used = shown.Select(r => r.Host.Length).DefaultIfEmpty(4).Max() + shown.Select(r => r.Step.Length).DefaultIfEmpty(4).Max() + "ok (already done)".Length + "000.0 s".Length + 10;
            var messageWidth = Math.Max(20, _console.Profile.Width - used);
            foreach (var row in shown)
            {
                var seconds = row.Status is null ? _time.GetElapsedTime(row.Started).TotalSeconds : row.Seconds;
                table.AddRow(new Markup(Markup.Escape(row.Host)), new Markup(Markup.Escape(row.Step)), new Markup(Status(row)), new Markup(Seconds(seconds)),
                    new Markup(Markup.Escape(OneLine(row.Message, messageWidth))).Overflow(Overflow.Ellipsis));
            }

            if (_caption is not null)
            {
                table.Caption(Markup.Escape(_caption));
            }

            IRenderable[] parts = [table, .. _notes.TakeLast(NotesShown).Select(n => OneLine(n, Math.Max(20, _console.Profile.Width - 1)))
                .Select(n => new Markup(n.StartsWith("warning:", StringComparison.Ordinal) ? $"[yellow]{Markup.Escape(n)}[/]" : Markup.Escape(n)))];
            return new Rows(parts);
        }
    }

    private static string Status(StepRow row) => row.Status switch
    {
        null => "[yellow]running[/]",
        OutcomeStatus.Ok => row.AlreadyDone ? "[green]ok (already done)[/]" : "[green]ok[/]",
        OutcomeStatus.Skipped => "[grey]skipped[/]",
        var failed => $"[red]{failed.Value.ToString().ToLowerInvariant()}[/]",
    };

    private static string OneLine(string text, int width)
    {
        var line = string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return line.Length <= width ? line : string.Concat(line.AsSpan(0, width - 1), "…");
    }

    private static string Seconds(double seconds) => seconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";

    private sealed class StepRow(string step, string host)
    {
        public string Step { get; } = step;

        public string Host { get; } = host;

        public long Started { get; set; }

        public OutcomeStatus? Status { get; set; }

        public bool AlreadyDone { get; set; }

        public double Seconds { get; set; }

        public string Message { get; set; } = string.Empty;
    }
}
