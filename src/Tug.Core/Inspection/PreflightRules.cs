// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Tug.Core.Remote;
using Tug.Core.Topology;

namespace Tug.Core.Inspection;

/// <summary>How one check came out: TiUP's pass, warn and fail.</summary>
public enum CheckVerdict
{
    /// <summary>Nothing to do.</summary>
    Pass,

    /// <summary>Worth knowing; does not fail the check.</summary>
    Warn,

    /// <summary>Fix it before deploying (<c>check</c> exits 1).</summary>
    Fail,
}

/// <summary>What <c>check --apply</c> can change persistently for a failed check.</summary>
public abstract record CheckFix;

/// <summary>A kernel parameter, set now and in <c>/etc/sysctl.d</c>.</summary>
public sealed record SysctlFix(string Name, string Value, string Previous) : CheckFix;

/// <summary>A limit of the deploy user, in <c>/etc/security/limits.d</c>.</summary>
public sealed record LimitFix(string User, string Type, string Item, int Value) : CheckFix;

/// <summary>Transparent huge pages off now and at every boot, by a oneshot unit.</summary>
public sealed record ThpFix : CheckFix;

/// <summary>One row of <c>tug cluster check</c>: host, check (TiUP's name where TiUP has one), verdict, message.</summary>
public sealed record CheckFinding(string Host, string Check, CheckVerdict Verdict, string Message)
{
    /// <summary>What <c>--apply</c> would change for it; null when nothing (or nothing on this host).</summary>
    public CheckFix? Fix { get; init; }

    /// <summary>Whether this finding is about ports or directories (the part deploy and scale-out run first).</summary>
    public bool IsConflict => Check is PreflightRules.PortCheck or PreflightRules.DirCheck or PreflightRules.ClusterPortCheck or PreflightRules.ClusterDirCheck;
}

/// <summary>A port an instance planned on a host needs.</summary>
/// <param name="Port">The port number.</param>
/// <param name="Owner">Who needs it, e.g. <c>etcd 10.0.0.1:2379 (peer_port)</c>.</param>
public sealed record PlannedPort(int Port, string Owner);

/// <summary>A directory an instance planned on a host needs.</summary>
/// <param name="Path">The absolute path.</param>
/// <param name="Owner">Who needs it, e.g. <c>etcd 10.0.0.1:2379 (data_dir)</c>.</param>
public sealed record PlannedDir(string Path, string Owner);

/// <summary>What is planned on one host, and what of it already belongs to the cluster being checked.</summary>
/// <param name="Host">The host (its management address).</param>
/// <param name="User">The deploy user (whose limits are checked).</param>
/// <param name="Ports">Every port of every instance planned there, the monitoring agents' included.</param>
/// <param name="Dirs">Every deploy, data and log directory planned there.</param>
/// <param name="OwnUnits">The units of the checked cluster's own instances there: the ports they hold are no conflict.</param>
/// <param name="OwnDirs">Their directories: these are expected to hold files.</param>
public sealed record HostPlan(string Host, string User, ImmutableArray<PlannedPort> Ports, ImmutableArray<PlannedDir> Dirs, ImmutableHashSet<string> OwnUnits, ImmutableHashSet<string> OwnDirs)
{
    /// <summary>What <paramref name="instances"/> need on <paramref name="host"/>; <paramref name="own"/> are the cluster's deployed instances there.</summary>
    public static HostPlan For(string host, string user, IEnumerable<InstanceSpec> instances, IEnumerable<InstanceSpec> own)
    {
        var onHost = instances.Where(i => i.ManageHost == host).ToList();
        var ports = onHost.SelectMany(i => i.Ports.Select(p => new PlannedPort(p.Number, $"{i.Role} {i.Id} ({p.Name})"))).DistinctBy(p => p.Port).OrderBy(p => p.Port);
        var dirs = onHost.SelectMany(i => i.DataDirs.Select(d => new PlannedDir(d, $"{i.Role} {i.Id} (data_dir)"))
                .Prepend(new PlannedDir(i.DeployDir, $"{i.Role} {i.Id} (deploy_dir)"))
                .Append(new PlannedDir(i.LogDir, $"{i.Role} {i.Id} (log_dir)")))
            .Where(d => d.Path.Length > 0)
            .DistinctBy(d => d.Path);
        var ownHere = own.Where(i => i.ManageHost == host).ToList();
        return new HostPlan(host, user, [.. ports], [.. dirs], ownHere.Select(i => i.UnitName).ToImmutableHashSet(StringComparer.Ordinal),
            ownHere.SelectMany(i => i.DataDirs.Prepend(i.DeployDir).Append(i.LogDir)).ToImmutableHashSet(StringComparer.Ordinal));
    }
}

/// <summary>A listening TCP socket on a host, with the process holding it (as <c>ss -ltnp</c> names it).</summary>
public sealed record ListeningSocket(string Address, int Port, int Pid, string Process, string Unit);

/// <summary>A directory as the host has it.</summary>
/// <param name="Path">The path.</param>
/// <param name="State"><c>missing</c>, <c>empty</c>, <c>nonempty</c> or <c>notdir</c>.</param>
/// <param name="Owner">Its owner's name; <c>-</c> when missing.</param>
/// <param name="FreeKib">Free KiB on the filesystem that holds it (or would); -1 unknown.</param>
/// <param name="Mount">That filesystem's mount point.</param>
public sealed record DirFact(string Path, string State, string Owner, long FreeKib, string Mount);

/// <summary>A kernel parameter: its value (null when this kernel has none) and whether root may write it here.</summary>
public sealed record SysctlFact(string Name, string? Value, bool Writable);

/// <summary>A systemd service the checks look at.</summary>
public sealed record ServiceFact(string Name, bool Known, string Active);

/// <summary>Everything the preflight script read on one host.</summary>
public sealed record HostFacts
{
    public string OsId { get; init; } = string.Empty;

    public string OsVersion { get; init; } = string.Empty;

    public string OsName { get; init; } = string.Empty;

    /// <summary><c>systemd-detect-virt --container</c>: <c>none</c> on a machine of its own.</summary>
    public string Container { get; init; } = "none";

    public ImmutableArray<ListeningSocket> Sockets { get; init; } = [];

    public ImmutableArray<DirFact> Dirs { get; init; } = [];

    public ImmutableArray<SysctlFact> Sysctls { get; init; } = [];

    /// <summary>Non-comment lines of limits.conf and limits.d/*.conf, in the order PAM reads them.</summary>
    public ImmutableArray<string> Limits { get; init; } = [];

    /// <summary>The content of <c>/sys/kernel/mm/transparent_hugepage/enabled</c>; null when there is none.</summary>
    public string? Thp { get; init; }

    public bool ThpWritable { get; init; }

    public long SwapKib { get; init; }

    public ImmutableArray<ServiceFact> Services { get; init; } = [];

    /// <summary><c>timedatectl</c>'s NTPSynchronized (<c>yes</c>/<c>no</c>), or <c>-</c>.</summary>
    public string NtpSynchronized { get; init; } = "-";

    /// <summary>The records of earlier <c>check --apply</c> runs on this host.</summary>
    public ImmutableArray<string> Applied { get; init; } = [];

    public bool UserExists { get; init; }

    public bool InContainer => Container is not ("none" or "");
}

/// <summary>
/// TiUP's preflight checks (<c>pkg/cluster/operation/check.go</c>) judged from what the preflight script read, plus
/// the conflicts with the other clusters this control machine manages. Pure functions: the service
/// <see cref="Preflight"/> reads the hosts, these decide.
/// </summary>
public static partial class PreflightRules
{
    public const string PortCheck = "listening-port";
    public const string DirCheck = "exist";
    public const string ClusterPortCheck = "port-conflict";
    public const string ClusterDirCheck = "dir-conflict";
    public const string DiskCheck = "disk";
    public const string SysctlCheck = "sysctl";
    public const string LimitsCheck = "limits";
    public const string ThpCheck = "thp";
    public const string SwapCheck = "swap";
    public const string NtpCheck = "ntp";
    public const string FirewallCheck = "firewall";
    public const string OsCheck = "os-version";
    public const string SshCheck = "ssh";

    /// <summary>Below this a data filesystem fails the disk check.</summary>
    public const long MinFreeKib = 1L << 20;

    /// <summary>Below this it warns.</summary>
    public const long LowFreeKib = 10L << 20;

    /// <summary>Reads the script's <c>TUG|pf|...</c> lines; unknown or malformed ones are skipped.</summary>
    public static HostFacts Parse(IEnumerable<HostLine> lines)
    {
        var pf = lines.OfType<PreflightLine>().ToList();
        var units = pf.Where(l => l.Fact == "proc" && l.Fields.Length == 2).GroupBy(l => Long(l.Fields[0])).ToDictionary(g => (int)g.Key, g => g.Last().Fields[1]);
        var facts = new HostFacts();
        var sockets = ImmutableArray.CreateBuilder<ListeningSocket>();
        var dirs = ImmutableArray.CreateBuilder<DirFact>();
        var sysctls = ImmutableArray.CreateBuilder<SysctlFact>();
        var limits = ImmutableArray.CreateBuilder<string>();
        var services = ImmutableArray.CreateBuilder<ServiceFact>();
        var applied = ImmutableArray.CreateBuilder<string>();
        foreach (var line in pf)
        {
            var f = line.Fields;
            switch (line.Fact, f.Length)
            {
                case ("os", 3):
                    facts = facts with { OsId = Dash(Decode(f[0])), OsVersion = Dash(Decode(f[1])), OsName = Dash(Decode(f[2])) };
                    break;
                case ("virt", 1):
                    facts = facts with { Container = f[0] };
                    break;
                case ("socket", 1) when ParseSocket(Decode(f[0])) is { } socket:
                    sockets.Add(socket with { Unit = units.GetValueOrDefault(socket.Pid) is { } u && u != "-" ? u : string.Empty });
                    break;
                case ("dir", 5):
                    dirs.Add(new DirFact(Decode(f[0]), f[1], f[2], f[3] == "-" ? -1 : Long(f[3]), Decode(f[4])));
                    break;
                case ("sysctl", 3):
                    sysctls.Add(new SysctlFact(f[0], f[1] == "-" ? null : f[1].Trim(), f[2] == "1"));
                    break;
                case ("limit", 2):
                    limits.Add(Decode(f[0]));
                    break;
                case ("thp", 2):
                    facts = facts with { Thp = f[0] == "-" ? null : Decode(f[0]).Trim(), ThpWritable = f[1] == "1" };
                    break;
                case ("swap", 1):
                    facts = facts with { SwapKib = Long(f[0]) };
                    break;
                case ("service", 3):
                    services.Add(new ServiceFact(f[0], f[1] == "1", f[2]));
                    break;
                case ("ntp", 1):
                    facts = facts with { NtpSynchronized = f[0] };
                    break;
                case ("applied", 1):
                    applied.Add(Decode(f[0]));
                    break;
                case ("user", 1):
                    facts = facts with { UserExists = f[0] == "1" };
                    break;
            }
        }

        return facts with
        {
            Sockets = sockets.ToImmutable(), Dirs = dirs.ToImmutable(), Sysctls = sysctls.ToImmutable(), Limits = limits.ToImmutable(),
            Services = services.ToImmutable(), Applied = applied.ToImmutable(),
        };
    }

    /// <summary>One <c>ss -Hltnp</c> line (<c>LISTEN 0 128 0.0.0.0:9100 0.0.0.0:* users:(("python3",pid=12,fd=3))</c>); null when it is not one.</summary>
    public static ListeningSocket? ParseSocket(string line)
    {
        var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 5 || fields[0] != "LISTEN")
        {
            return null;
        }

        var local = fields[3];
        var colon = local.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(local[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            return null;
        }

        var user = SsUser().Match(line);
        return new ListeningSocket(local[..colon], port, user.Success ? (int)Long(user.Groups[2].Value) : 0, user.Success ? user.Groups[1].Value : string.Empty, string.Empty);
    }

    /// <summary>The port and directory part: what deploy and scale-out refuse on before any step.</summary>
    public static ImmutableArray<CheckFinding> Conflicts(HostPlan plan, HostFacts facts)
    {
        var findings = ImmutableArray.CreateBuilder<CheckFinding>();
        var free = new List<int>();
        foreach (var port in plan.Ports)
        {
            var holders = facts.Sockets.Where(s => s.Port == port.Port).ToList();
            if (holders.Count == 0)
            {
                free.Add(port.Port);
                continue;
            }

            var holder = holders.FirstOrDefault(h => h.Process.Length > 0) ?? holders[0];
            if (holder.Unit.Length > 0 && plan.OwnUnits.Contains(holder.Unit))
            {
                findings.Add(new(plan.Host, PortCheck, CheckVerdict.Pass, $"port {port.Port} is held by this cluster's {holder.Unit}"));
                continue;
            }

            findings.Add(new(plan.Host, PortCheck, CheckVerdict.Fail, $"port {port.Port}, needed by {port.Owner}, is in use by {Describe(holder)}"));
        }

        if (free.Count > 0)
        {
            findings.Add(new(plan.Host, PortCheck, CheckVerdict.Pass, $"port{(free.Count == 1 ? string.Empty : "s")} {string.Join(", ", free)} free"));
        }

        var ok = 0;
        foreach (var dir in plan.Dirs)
        {
            var fact = facts.Dirs.FirstOrDefault(d => d.Path == dir.Path);
            switch (fact?.State)
            {
                case "nonempty" when !plan.OwnDirs.Contains(dir.Path):
                    findings.Add(new(plan.Host, DirCheck, CheckVerdict.Fail, $"{dir.Path}, the {dir.Owner}, exists and is not empty (owner {fact.Owner})"));
                    break;
                case "notdir":
                    findings.Add(new(plan.Host, DirCheck, CheckVerdict.Fail, $"{dir.Path}, the {dir.Owner}, exists and is not a directory"));
                    break;
                default:
                    ok++;
                    break;
            }
        }

        if (ok > 0)
        {
            findings.Add(new(plan.Host, DirCheck, CheckVerdict.Pass, $"{ok} director{(ok == 1 ? "y" : "ies")} free to use"));
        }

        return findings.ToImmutable();
    }

    /// <summary>Every check of one host: the conflicts, then disk, OS, kernel parameters, limits, THP, swap, time sync, firewall.</summary>
    public static ImmutableArray<CheckFinding> Judge(HostPlan plan, HostFacts facts)
    {
        var host = plan.Host;
        var findings = ImmutableArray.CreateBuilder<CheckFinding>();
        findings.AddRange(Conflicts(plan, facts));
        findings.AddRange(Disk(plan, facts));
        findings.Add(Os(host, facts));
        findings.AddRange(Sysctls(host, facts));
        findings.AddRange(Limits(host, plan.User, facts));
        findings.Add(Thp(host, facts));
        findings.Add(facts.SwapKib <= 0
            ? new(host, SwapCheck, CheckVerdict.Pass, "swap is off")
            : facts.InContainer
                ? new(host, SwapCheck, CheckVerdict.Warn, $"swap is on ({facts.SwapKib} KiB); cannot be changed on this host ({facts.Container} container: swap is the machine's)")
                : new(host, SwapCheck, CheckVerdict.Fail, $"swap is on ({facts.SwapKib} KiB); turn it off (swapoff -a, and remove it from /etc/fstab); --apply does not"));
        findings.Add(TimeSync(host, facts));
        findings.Add(Firewall(host, facts));
        return findings.ToImmutable();
    }

    /// <summary>
    /// Ports and directories <paramref name="planned"/> shares with the other clusters this control machine manages
    /// (TiUP's CheckClusterPortConflict / CheckClusterDirConflict): the same host and port, or the same host and a
    /// directory equal to, inside or around another's.
    /// </summary>
    public static ImmutableArray<CheckFinding> ClusterConflicts(string? self, IEnumerable<InstanceSpec> planned, IEnumerable<(string Name, IReadOnlyList<InstanceSpec> Instances)> others)
    {
        var findings = ImmutableArray.CreateBuilder<CheckFinding>();
        var mine = planned.ToList();
        foreach (var (name, instances) in others.Where(o => o.Name != self))
        {
            foreach (var theirs in instances)
            {
                foreach (var i in mine.Where(i => i.ManageHost == theirs.ManageHost))
                {
                    foreach (var port in i.Ports.Where(p => theirs.Ports.Any(t => t.Number == p.Number)))
                    {
                        findings.Add(new(i.ManageHost, ClusterPortCheck, CheckVerdict.Fail,
                            $"port {port.Number}, needed by {i.Role} {i.Id} ({port.Name}), is used by cluster '{name}' ({theirs.Role} {theirs.Id})"));
                    }

                    foreach (var dir in Dirs(i))
                    {
                        if (Dirs(theirs).FirstOrDefault(t => Overlap(dir, t)) is { } other)
                        {
                            findings.Add(new(i.ManageHost, ClusterDirCheck, CheckVerdict.Fail,
                                $"{dir}, a directory of {i.Role} {i.Id}, overlaps {other} of cluster '{name}' ({theirs.Role} {theirs.Id})"));
                        }
                    }
                }
            }
        }

        return [.. findings.DistinctBy(f => (f.Host, f.Message))];
    }

    /// <summary>Whether two absolute directories are the same or one holds the other.</summary>
    public static bool Overlap(string a, string b)
    {
        var x = a.TrimEnd('/') + "/";
        var y = b.TrimEnd('/') + "/";
        return x.StartsWith(y, StringComparison.Ordinal) || y.StartsWith(x, StringComparison.Ordinal);
    }

    /// <summary>The effective soft or hard limit of <paramref name="item"/> for <paramref name="user"/> from limits.conf lines: a line for the user beats <c>*</c>; a later line beats an earlier one; null when none is set.</summary>
    public static long? EffectiveLimit(IEnumerable<string> lines, string user, string type, string item)
    {
        long? forUser = null;
        long? forAll = null;
        foreach (var line in lines)
        {
            var f = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 4 || f[2] != item || (f[1] != type && f[1] != "-"))
            {
                continue;
            }

            long? value = f[3] is "unlimited" or "infinity" ? long.MaxValue : long.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
            if (value is null)
            {
                continue;
            }

            if (f[0] == user)
            {
                forUser = value;
            }
            else if (f[0] == "*")
            {
                forAll = value;
            }
        }

        return forUser ?? forAll;
    }

    private static IEnumerable<CheckFinding> Disk(HostPlan plan, HostFacts facts)
    {
        foreach (var mount in facts.Dirs.Where(d => plan.Dirs.Any(p => p.Path == d.Path) && d.FreeKib >= 0).GroupBy(d => d.Mount))
        {
            var free = mount.First().FreeKib;
            var gib = (free / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);
            var what = $"{gib} GiB free on {mount.Key} (holds {string.Join(", ", mount.Select(d => d.Path).Take(3))}{(mount.Count() > 3 ? ", ..." : string.Empty)})";
            yield return free < MinFreeKib ? new(plan.Host, DiskCheck, CheckVerdict.Fail, what + "; needs at least 1 GiB")
                : free < LowFreeKib ? new(plan.Host, DiskCheck, CheckVerdict.Warn, what + "; less than 10 GiB")
                : new(plan.Host, DiskCheck, CheckVerdict.Pass, what);
        }
    }

    private static CheckFinding Os(string host, HostFacts facts)
    {
        var name = facts.OsName.Length > 0 ? facts.OsName : $"{facts.OsId} {facts.OsVersion}";
        var (verdict, note) = facts.OsId switch
        {
            "debian" => AtLeast(facts.OsVersion, "10") ? (CheckVerdict.Warn, "Debian support is not fully tested, as TiUP says") : (CheckVerdict.Fail, "not supported: use Debian 10 or later"),
            "ubuntu" => AtLeast(facts.OsVersion, "20.04") ? (CheckVerdict.Warn, "Ubuntu support is not fully tested, as TiUP says") : (CheckVerdict.Fail, "not supported: use Ubuntu 20.04 or later"),
            "centos" => AtLeast(facts.OsVersion, "9") ? (CheckVerdict.Pass, string.Empty) : (CheckVerdict.Fail, "not supported: use CentOS Stream 9 or later"),
            "rhel" or "redhat" or "ol" => AtLeast(facts.OsVersion, "8.4") && !AtLeast(facts.OsVersion, "10") ? (CheckVerdict.Pass, string.Empty) : (CheckVerdict.Fail, "not supported: use 8.4 or later 8.x, or 9.x"),
            "rocky" => AtLeast(facts.OsVersion, "9.1") ? (CheckVerdict.Pass, string.Empty) : (CheckVerdict.Fail, "not supported: use 9.1 or later"),
            "amzn" => facts.OsVersion == "2023" || (AtLeast(facts.OsVersion, "2") && !AtLeast(facts.OsVersion, "3")) ? (CheckVerdict.Pass, string.Empty) : (CheckVerdict.Fail, "not supported: use Amazon Linux 2 or 2023"),
            "kylin" => AtLeast(facts.OsVersion.TrimStart('V'), "10") ? (CheckVerdict.Pass, string.Empty) : (CheckVerdict.Fail, "not supported: use V10 or later"),
            "openEuler" => (CheckVerdict.Pass, string.Empty),
            _ => (CheckVerdict.Fail, $"OS vendor '{facts.OsId}' is not supported"),
        };
        return new(host, OsCheck, verdict, $"OS is {name}" + (note.Length > 0 ? $" ({note})" : string.Empty));
    }

    private static bool AtLeast(string version, string min)
    {
        var a = version.Split('.');
        var b = min.Split('.');
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var x = i < a.Length && int.TryParse(a[i], NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : 0;
            var y = i < b.Length && int.TryParse(b[i], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
            if (x != y)
            {
                return x > y;
            }
        }

        return true;
    }

    /// <summary>TiUP's kernel parameters: name, whether the value is good, the value to set.</summary>
    private static readonly ImmutableArray<(string Name, Func<long, bool> Good, string Want, string Rule)> KernelRules =
    [
        ("fs.file-max", v => v >= 1000000, "1000000", "should be at least 1000000"),
        ("net.core.somaxconn", v => v >= 32768, "32768", "should be 32768 or greater"),
        ("net.ipv4.tcp_tw_recycle", v => v == 0, "0", "should be 0"),
        ("net.ipv4.tcp_syncookies", v => v == 0, "0", "should be 0"),
        ("vm.overcommit_memory", v => v is 0 or 1, "1", "should be 0 or 1"),
        ("vm.swappiness", v => v == 0, "0", "should be 0"),
    ];

    private static IEnumerable<CheckFinding> Sysctls(string host, HostFacts facts)
    {
        foreach (var rule in KernelRules)
        {
            var fact = facts.Sysctls.FirstOrDefault(s => s.Name == rule.Name);
            if (fact?.Value is not { } text)
            {
                yield return new(host, SysctlCheck, CheckVerdict.Pass, $"{rule.Name} is not in this kernel");
                continue;
            }

            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) || rule.Good(value))
            {
                yield return new(host, SysctlCheck, CheckVerdict.Pass, $"{rule.Name} = {text}");
                continue;
            }

            yield return fact.Writable
                ? new(host, SysctlCheck, CheckVerdict.Fail, $"{rule.Name} = {text}, {rule.Rule}") { Fix = new SysctlFix(rule.Name, rule.Want, text) }
                : new(host, SysctlCheck, CheckVerdict.Warn, $"{rule.Name} = {text}, {rule.Rule}; cannot be changed on this host ({Kernelwide(facts)})");
        }
    }

    private static string Kernelwide(HostFacts facts) =>
        facts.InContainer ? $"read-only here: a kernel-wide setting of the machine this {facts.Container} container runs on" : "read-only for root here";

    private static IEnumerable<CheckFinding> Limits(string host, string user, HostFacts facts)
    {
        foreach (var (type, item, min) in new[] { ("soft", "nofile", 1000000), ("hard", "nofile", 1000000), ("soft", "stack", 10240) })
        {
            var value = EffectiveLimit(facts.Limits, user, type, item);
            yield return value >= min
                ? new(host, LimitsCheck, CheckVerdict.Pass, $"{type} {item} of '{user}' is {(value == long.MaxValue ? "unlimited" : value)}")
                : new(host, LimitsCheck, CheckVerdict.Fail, $"{type} limit of '{item}' for user '{user}' is {(value is null ? "not set" : $"{value}, too low")} (wants {min})") { Fix = new LimitFix(user, type, item, min) };
        }
    }

    private static CheckFinding Thp(string host, HostFacts facts)
    {
        if (facts.Thp is not { } thp)
        {
            return new(host, ThpCheck, CheckVerdict.Pass, "THP is not in this kernel");
        }

        if (thp.Contains("[never]", StringComparison.Ordinal))
        {
            return new(host, ThpCheck, CheckVerdict.Pass, "THP is disabled");
        }

        return facts.ThpWritable
            ? new(host, ThpCheck, CheckVerdict.Fail, $"THP is enabled ({thp}); disable it for best performance") { Fix = new ThpFix() }
            : new(host, ThpCheck, CheckVerdict.Warn, $"THP is enabled ({thp}); cannot be changed on this host ({Kernelwide(facts)})");
    }

    private static CheckFinding TimeSync(string host, HostFacts facts)
    {
        var running = facts.Services.Where(s => s.Name is "chronyd" or "chrony" or "ntp" or "ntpd" or "systemd-timesyncd" && s.Active == "active").Select(s => s.Name).ToList();
        if (running.Count == 0)
        {
            return facts.InContainer
                ? new(host, NtpCheck, CheckVerdict.Warn, $"no time-sync service runs (chrony, ntp, systemd-timesyncd); this {facts.Container} container keeps the machine's clock: sync it there")
                : new(host, NtpCheck, CheckVerdict.Fail, "no time-sync service runs (chrony, ntp, systemd-timesyncd); install and start one");
        }

        return facts.NtpSynchronized == "no"
            ? new(host, NtpCheck, CheckVerdict.Fail, $"{string.Join(", ", running)} runs but the clock is not synchronized")
            : new(host, NtpCheck, CheckVerdict.Pass, $"{string.Join(", ", running)} runs{(facts.NtpSynchronized == "yes" ? ", clock synchronized" : string.Empty)}");
    }

    private static CheckFinding Firewall(string host, HostFacts facts)
    {
        var running = facts.Services.Where(s => s.Name is "firewalld" or "ufw" && s.Active == "active").Select(s => s.Name).ToList();
        return running.Count == 0
            ? new(host, FirewallCheck, CheckVerdict.Pass, "no firewall service runs (firewalld, ufw)")
            : new(host, FirewallCheck, CheckVerdict.Fail, $"{string.Join(", ", running)} runs; stop it or open every cluster port (--apply does not change firewalls)");
    }

    private static string Describe(ListeningSocket s) =>
        s.Process.Length == 0 ? $"a process Tug cannot see (listening on {s.Address}:{s.Port})"
            : $"{s.Process} (pid {s.Pid}{(s.Unit.Length > 0 ? $", unit {s.Unit}" : string.Empty)})";

    private static IEnumerable<string> Dirs(InstanceSpec i) => i.DataDirs.Prepend(i.DeployDir).Append(i.LogDir).Where(d => d.Length > 0);

    private static long Long(string s) => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;

    private static string Dash(string s) => s == "-" ? string.Empty : s;

    private static string Decode(string b64)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(b64));
        }
        catch (FormatException)
        {
            return string.Empty;
        }
    }

    [GeneratedRegex("""\("([^"]*)",pid=([0-9]+)""", RegexOptions.CultureInvariant)]
    private static partial Regex SsUser();
}
