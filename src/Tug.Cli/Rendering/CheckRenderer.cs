// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Spectre.Console;
using Spectre.Console.Rendering;
using Tug.Core.Inspection;

namespace Tug.Cli.Rendering;

/// <summary>The report of <c>tug cluster check</c>: a table (host, check, result, message) and what was changed, or the same as JSON.</summary>
public static class CheckRenderer
{
    /// <summary>The table, one row per finding, in the hosts' order.</summary>
    public static IRenderable Table(CheckReport report)
    {
        var table = new Table().AddColumns("Host", "Check", "Result", "Message");
        foreach (var f in report.Findings)
        {
            table.AddRow(Markup.Escape(f.Host), Markup.Escape(f.Check), Result(f.Verdict), Markup.Escape(f.Message));
        }

        return table;
    }

    /// <summary>The closing lines: what was changed per host, then the count of each verdict.</summary>
    public static IEnumerable<string> Summary(CheckReport report)
    {
        foreach (var change in report.Changes)
        {
            yield return $"changed on {change.Host}: {change.What}";
        }

        var fail = report.Findings.Count(f => f.Verdict == CheckVerdict.Fail);
        var warn = report.Findings.Count(f => f.Verdict == CheckVerdict.Warn);
        var pass = report.Findings.Count(f => f.Verdict == CheckVerdict.Pass);
        yield return $"{pass} pass, {warn} warn, {fail} fail{(report.Findings.Any(f => f.Verdict == CheckVerdict.Fail && f.Fix is not null) ? "; `--apply` fixes the failures marked fixable" : string.Empty)}";
    }

    /// <summary>The JSON document: every finding and every change.</summary>
    public static object Json(CheckReport report) => new
    {
        Ok = !report.Failed,
        Checks = report.Findings.Select(f => new { f.Host, Check = f.Check, Result = Word(f.Verdict), f.Message, Fixable = f.Fix is not null }),
        Changes = report.Changes.Select(c => new { c.Host, Change = c.What }),
    };

    private static string Result(CheckVerdict verdict) => verdict switch
    {
        CheckVerdict.Fail => "[red]fail[/]",
        CheckVerdict.Warn => "[yellow]warn[/]",
        _ => "[green]pass[/]",
    };

    private static string Word(CheckVerdict verdict) => verdict.ToString().ToLowerInvariant();
}
