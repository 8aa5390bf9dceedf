// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text;
using System.Text.RegularExpressions;
using Spectre.Console;
using Tug.Cli.Rendering;
using Tug.Core.Cluster;
using Tug.Core.Execution;

namespace Tug.Cli.Tests;

/// <summary>On a terminal, progress is a live table driven by the executor's events; the final state stays on screen.</summary>
public sealed partial class LiveProgressTests
{
    [Fact]
    public void Should_Leave_Every_Steps_Final_Status_On_The_Screen()
    {
        // Given a terminal (an ANSI console writing into a string) and a live display on it
        var terminal = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(terminal),
            Ansi = AnsiSupport.Yes,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.Yes,
        });
        console.Profile.Width = 160;
        console.Profile.Height = 40;

        // When a fixed sequence of events arrives: two hosts in one wave (one unreachable), then a step found already done
        using (var live = new LiveProgress(console, TimeProvider.System, TimeSpan.FromMilliseconds(5)))
        {
            live.Report(new OperationStarted("op-1", "restart", "c1", 3, Resumed: false));
            live.Report(new StepStarted("stop 10.0.0.1:2379", "10.0.0.1", 1));
            live.Report(new StepStarted("stop 10.0.0.2:2379", "10.0.0.2", 1));
            Thread.Sleep(30);
            live.Report(new OperationEvent("10.0.0.1", "10.0.0.1:2379", "stop", "waiting for the port to close"));
            live.Report(new StepFinished("stop 10.0.0.1:2379", "10.0.0.1", 1, OutcomeStatus.Ok, "stopped, port closed", 1.2, AlreadyDone: false, []));
            live.Report(new StepFinished("stop 10.0.0.2:2379", "10.0.0.2", 1, OutcomeStatus.Unreachable, "E3001: 10.0.0.2:22 did not answer", 5, AlreadyDone: false, []));
            live.Report(new WaveFinished(1, 5.1, 1));
            live.Report(new StepStarted("start 10.0.0.1:2379", "10.0.0.1", 2));
            live.Report(new StepFinished("start 10.0.0.1:2379", "10.0.0.1", 2, OutcomeStatus.Ok, "running", 0.5, AlreadyDone: true, []));
            live.Report(new Warning("a stale lock was taken over"));
            live.Report(new OperationFinished("op-1", JournalOutcome.Failed, 6.5, "failed on 1 of 3"));
        }

        // Then the screen, as a terminal would show it after the redraws, holds each step's final state
        var screen = Screen(terminal.ToString());
        Assert.Contains("running restart of c1: operation op-1, 3 step(s)", screen, StringComparison.Ordinal);
        Assert.Matches(@"10\.0\.0\.1 +stop 10\.0\.0\.1:2379 +ok +1\.2 s +stopped, port closed", screen);
        Assert.Matches(@"10\.0\.0\.2 +stop 10\.0\.0\.2:2379 +unreachable +5\.0 s +E3001: 10\.0\.0\.2:22 did not answer", screen);
        Assert.Matches(@"10\.0\.0\.1 +start 10\.0\.0\.1:2379 +ok \(already done\) +0\.5 s +running", screen);
        Assert.Contains("operation op-1: failed in 6.5 s: failed on 1 of 3", screen, StringComparison.Ordinal);
        Assert.Contains("warning: a stale lock was taken over", screen, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"running +[0-9]+\.[0-9] s", screen);

        // ... and it was drawn live: the display moved the cursor back up to redraw at least once
        Assert.Matches(@"\u001b\[[0-9]+A", terminal.ToString());
    }

    [Fact]
    public void Should_Keep_Plain_Progress_Lines_When_Stderr_Is_Redirected()
    {
        // Given stderr redirected (as in CI)
        var error = new StringWriter();
        var renderer = new ProgressRenderer(new IOContext(TextWriter.Null, error, TextReader.Null, true, true, ErrorRedirected: true), TimeProvider.System);

        // When a step finishes
        using (var sink = renderer.For("text"))
        {
            sink.Report(new StepFinished("switch 10.0.0.1:9100", "10.0.0.1", 1, OutcomeStatus.Ok, "running v1.9.0", 0.25, AlreadyDone: true, []));
        }

        // Then it is one plain line, as before
        Assert.Equal("  [10.0.0.1] switch 10.0.0.1:9100: ok (already done): running v1.9.0 (0.25 s)" + Environment.NewLine, error.ToString());
    }

    /// <summary>What a terminal shows after this output: lines, carriage return, cursor up, erase line; other control sequences ignored.</summary>
    private static string Screen(string output)
    {
        var lines = new List<StringBuilder> { new() };
        var row = 0;
        var column = 0;
        for (var i = 0; i < output.Length; i++)
        {
            var c = output[i];
            if (c == '\u001b')
            {
                var match = ControlSequence().Match(output, i);
                if (!match.Success)
                {
                    continue;
                }

                var n = match.Groups[1].Length > 0 ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 1;
                switch (match.Groups[2].Value)
                {
                    case "A":
                        row = Math.Max(0, row - n);
                        break;
                    case "K":
                        lines[row].Clear();
                        column = 0;
                        break;
                }

                i += match.Length - 1;
                continue;
            }

            switch (c)
            {
                case '\n':
                    row++;
                    column = 0;
                    while (lines.Count <= row)
                    {
                        lines.Add(new StringBuilder());
                    }

                    break;
                case '\r':
                    column = 0;
                    break;
                default:
                    var line = lines[row];
                    while (line.Length < column)
                    {
                        line.Append(' ');
                    }

                    if (column < line.Length)
                    {
                        line[column] = c;
                    }
                    else
                    {
                        line.Append(c);
                    }

                    column++;
                    break;
            }
        }

        return string.Join('\n', lines.Select(l => l.ToString().TrimEnd()));
    }

    [GeneratedRegex(@"\G\u001b\[\??([0-9]*)(?:;[0-9]*)*([A-Za-z])")]
    private static partial Regex ControlSequence();
}
