// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace Tug.Core.Remote;

/// <summary>One result line a host script printed: <c>TUG|&lt;kind&gt;|field|field...</c>.</summary>
public abstract record HostLine;

/// <summary>
/// <c>TUG|probe|&lt;id&gt;|&lt;state&gt;|&lt;pid&gt;|&lt;listen&gt;|&lt;exe_b64&gt;|&lt;exe sha256&gt;|&lt;file sha256&gt;|&lt;version_b64&gt;[|&lt;identity&gt;|&lt;hashed&gt;]</c>:
/// what the probe script (<c>probe.sh</c>) read for one instance.
/// </summary>
/// <param name="Id">The instance ID.</param>
/// <param name="State">The unit's state as <c>systemctl is-active</c> prints it (<c>active</c>, <c>failed</c>, <c>inactive</c>...).</param>
/// <param name="Pid">The unit's main PID; 0 when none.</param>
/// <param name="Listening">Whether the instance's port listens.</param>
/// <param name="Executable">The running process's executable path (<c>... (deleted)</c> when replaced); null without a process.</param>
/// <param name="ExecutableSha256">The running executable's sha256; null without a process.</param>
/// <param name="FileSha256">The deployed executable's sha256; null when the file is missing.</param>
/// <param name="VersionOutput">What the running executable printed for its version arguments; null without a process.</param>
/// <param name="Identity">The running executable's identity (boot, process start, device:inode:size:mtime:ctime of it and of the deployed file); null when unread.</param>
/// <param name="Hashed">False when the identity equalled the known one, so nothing was hashed or run (the hashes and version read "=").</param>
public sealed record ProbeLine(string Id, string State, int Pid, bool Listening, string? Executable, string? ExecutableSha256, string? FileSha256, string? VersionOutput, string? Identity = null, bool Hashed = true) : HostLine;

/// <summary><c>TUG|unit|&lt;id&gt;|&lt;state&gt;|&lt;pid&gt;|&lt;restarts&gt;</c>: a unit's state, main PID and restart counter (<see cref="HostScripts.UnitState"/>).</summary>
/// <param name="Id">The instance ID.</param>
/// <param name="State">As <c>systemctl is-active</c> prints it.</param>
/// <param name="Pid">The main PID; 0 when none.</param>
/// <param name="Restarts">systemd's <c>NRestarts</c>: how often it restarted the unit since it was last started by hand.</param>
public sealed record UnitLine(string Id, string State, int Pid, int Restarts) : HostLine;

/// <summary><c>TUG|proc|&lt;id&gt;|&lt;pid&gt;|&lt;seconds&gt;|&lt;rss KiB&gt;|&lt;memory max&gt;|&lt;cpu quota&gt;</c>: how an instance's process runs (<see cref="HostScripts.ProcessInfo"/>).</summary>
/// <param name="Id">The instance ID.</param>
/// <param name="Pid">The unit's main PID; 0 when none.</param>
/// <param name="Seconds">How long the process has run, by the host's clock; null without a process.</param>
/// <param name="RssKib">Its resident memory in KiB; null without a process.</param>
/// <param name="MemoryMax">The unit's <c>MemoryMax</c> (<c>infinity</c> when unlimited); null when unread.</param>
/// <param name="CpuQuota">The unit's <c>CPUQuotaPerSecUSec</c> (<c>infinity</c> when unlimited); null when unread.</param>
public sealed record ProcLine(string Id, int Pid, long? Seconds, long? RssKib, string? MemoryMax, string? CpuQuota) : HostLine;

/// <summary><c>TUG|wait|&lt;id&gt;|ok</c> or <c>TUG|wait|&lt;id&gt;|fail|&lt;state&gt;</c>: whether an instance's port reached the awaited state in time.</summary>
/// <param name="Id">The instance ID.</param>
/// <param name="Ok">Whether the port listens (or stopped listening) in time.</param>
/// <param name="State">On failure, the unit's state (<c>activating</c>/<c>failed</c> mean its process exited); empty when ok.</param>
public sealed record WaitLine(string Id, bool Ok, string State) : HostLine;

/// <summary><c>TUG|time|&lt;mark&gt;|&lt;nanoseconds&gt;</c>: the host's clock at a named point of a script.</summary>
public sealed record TimeLine(string Mark, long Nanoseconds) : HostLine;

/// <summary><c>TUG|file|&lt;path_b64&gt;|&lt;sha256&gt;</c>: a file's hash on the host; an empty hash when it cannot be read.</summary>
public sealed record FileLine(string Path, string Sha256) : HostLine;

/// <summary><c>TUG|platform|&lt;os&gt;|&lt;arch&gt;</c>: <c>uname -s</c> and <c>uname -m</c>.</summary>
public sealed record PlatformLine(string Os, string Arch) : HostLine;

/// <summary><c>TUG|member|&lt;change&gt;[|&lt;member id&gt;]</c>: what an etcd membership change did (<c>added</c>, <c>present</c>, <c>removed</c>, <c>absent</c>).</summary>
public sealed record MemberLine(string Change, string MemberId) : HostLine;

/// <summary><c>TUG|content|&lt;path_b64&gt;|&lt;content_b64 or -&gt;</c>: a file's whole content on the host; null when it is missing or unreadable.</summary>
public sealed record ContentLine(string Path, string? Content) : HostLine;

/// <summary><c>TUG|started|&lt;id&gt;|&lt;state&gt;|&lt;pid&gt;|&lt;ms or -&gt;</c>: a unit's state, main PID and when systemd started that process (ms since the epoch; null when none).</summary>
public sealed record StartedLine(string Id, string State, int Pid, long? StartedMs) : HostLine;

/// <summary><c>TUG|mtime|&lt;path_b64&gt;|&lt;ms or -&gt;</c>: a file's modification time on the host (ms since the epoch; null when it is missing).</summary>
public sealed record MtimeLine(string Path, long? Ms) : HostLine;
/// <summary><c>TUG|keys|&lt;path_b64&gt;|&lt;content_b64, = or -&gt;</c>: a user's authorized_keys as bytes (<see cref="HostScripts.AuthorizedKeysRead"/>); null when it is missing.</summary>
/// <param name="Path">The file's path on the host.</param>
/// <param name="Content">Its bytes, exactly; null when the file is missing.</param>
public sealed record AuthorizedKeysLine(string Path, byte[]? Content) : HostLine;

/// <summary><c>TUG|pf|&lt;fact&gt;|field...</c>: one fact the preflight script read (<see cref="HostScripts.Preflight"/>); the fields as printed, base64 where the script says so.</summary>
/// <param name="Fact">What the line is about: <c>os</c>, <c>socket</c>, <c>dir</c>, <c>sysctl</c>...</param>
/// <param name="Fields">The fields after the fact's name.</param>
public sealed record PreflightLine(string Fact, ImmutableArray<string> Fields) : HostLine;

/// <summary><c>TUG|enabled|&lt;unit&gt;|&lt;state&gt;</c>: a unit's boot state as <c>systemctl is-enabled</c> prints it (<c>enabled</c>, <c>disabled</c>, <c>not-found</c>...).</summary>
public sealed record EnabledLine(string Unit, string State) : HostLine;

/// <summary><c>TUG|clean|&lt;dir_b64&gt;|&lt;pattern_b64&gt;|&lt;left or -&gt;</c>: how many entries of a directory still match a clean's pattern; null when the directory is missing, -1 when the count is unreadable.</summary>
public sealed record CleanLine(string Dir, string Pattern, int? Left) : HostLine;

/// <summary>The one parser of what host scripts print: lines <c>TUG|&lt;kind&gt;|...</c>, anything else ignored.</summary>
public static class HostReply
{
    private const string Prefix = "TUG|";

    /// <summary>The result lines in <paramref name="stdout"/>, in order; other output and malformed or unknown result lines are skipped.</summary>
    public static ImmutableArray<HostLine> Parse(string stdout)
    {
        var lines = ImmutableArray.CreateBuilder<HostLine>();
        foreach (var raw in stdout.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith(Prefix, StringComparison.Ordinal) && ParseLine(line.Split('|')) is { } parsed)
            {
                lines.Add(parsed);
            }
        }

        return lines.ToImmutable();
    }

    /// <summary>Seconds between the last <see cref="TimeLine"/>s named <paramref name="from"/> and <paramref name="to"/>; 0 when either is missing or they are out of order.</summary>
    public static double Seconds(IEnumerable<HostLine> lines, string from, string to)
    {
        var marks = lines.OfType<TimeLine>().ToList();
        var a = marks.LastOrDefault(m => m.Mark == from)?.Nanoseconds;
        var b = marks.LastOrDefault(m => m.Mark == to)?.Nanoseconds;
        return a is { } start && b is { } end && end >= start ? (end - start) / 1e9 : 0;
    }

    private static HostLine? ParseLine(string[] f) => (f[1], f.Length) switch
    {
        ("probe", 10) => new ProbeLine(f[2], f[3], int.TryParse(f[4], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0, f[5] == "1",
            Dash(f[6]) is { } exe ? Decode(exe) : null, Dash(f[7]), Dash(f[8]), Dash(f[9]) is { } version ? Decode(version) : null),
        ("probe", 12) => new ProbeLine(f[2], f[3], int.TryParse(f[4], NumberStyles.None, CultureInfo.InvariantCulture, out var pid12) ? pid12 : 0, f[5] == "1",
            Dash(f[6]) is { } exe12 ? Decode(exe12) : null, Dash(f[7]), Dash(f[8]), Dash(f[9]) is { } version12 and not "=" ? Decode(version12) : Dash(f[9]), Dash(f[10]), f[11] != "0"),
        ("unit", 6) => new UnitLine(f[2], f[3], Int(f[4]), Int(f[5])),
        ("proc", 8) => new ProcLine(f[2], Int(f[3]), Long(f[4]), Long(f[5]), Dash(f[6]), Dash(f[7])),
        ("wait", 4) when f[3] == "ok" => new WaitLine(f[2], true, string.Empty),
        ("wait", 5) when f[3] == "fail" => new WaitLine(f[2], false, f[4]),
        ("time", 4) when long.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out var ns) => new TimeLine(f[2], ns),
        ("file", 4) when TryDecode(f[2], out var path) => new FileLine(path, f[3]),
        ("platform", 4) => new PlatformLine(f[2], f[3]),
        ("content", 4) when TryDecode(f[2], out var path) => new ContentLine(path, f[3] == "-" ? null : f[3] == "=" ? string.Empty : TryDecode(f[3], out var content) ? content : null),
        ("started", 6) => new StartedLine(f[2], f[3], Int(f[4]), Long(f[5])),
        ("mtime", 4) when TryDecode(f[2], out var path) => new MtimeLine(path, Long(f[3])),
        ("member", 3) => new MemberLine(f[2], string.Empty),
        ("member", 4) => new MemberLine(f[2], f[3]),
        ("enabled", 4) => new EnabledLine(f[2], f[3]),
        ("clean", 5) when TryDecode(f[2], out var dir) && TryDecode(f[3], out var pattern) => new CleanLine(dir, pattern, f[4] == "-" ? null : int.TryParse(f[4], NumberStyles.None, CultureInfo.InvariantCulture, out var left) ? left : -1),
        ("keys", 4) when TryDecode(f[2], out var path) && Bytes(f[3]) is var (ok, content) && ok => new AuthorizedKeysLine(path, content),
        ("pf", >= 3) => new PreflightLine(f[2], [.. f.Skip(3)]),
        _ => null,
    };

    private static (bool Ok, byte[]? Content) Bytes(string field)
    {
        if (field == "-")
        {
            return (true, null);
        }

        if (field == "=")
        {
            return (true, []);
        }

        try
        {
            return (true, Convert.FromBase64String(field));
        }
        catch (FormatException)
        {
            return (false, null);
        }
    }

    private static long? Long(string field) => long.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static int Int(string field) => int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;

    private static string? Dash(string field) => field == "-" ? null : field;

    private static string Decode(string b64) => TryDecode(b64, out var text) ? text : string.Empty;

    private static bool TryDecode(string b64, out string text)
    {
        try
        {
            text = Encoding.UTF8.GetString(Convert.FromBase64String(b64));
            return true;
        }
        catch (FormatException)
        {
            text = string.Empty;
            return false;
        }
    }
}
