// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using Tug.Core.Planning;

namespace Tug.Core.Execution;

/// <summary>Where in a step's life a failpoint can fire.</summary>
public enum FailpointSite
{
    /// <summary>The step is recorded planned; nothing has touched the host yet.</summary>
    BeforeAction,

    /// <summary>The action changed the host; the journal does not know yet.</summary>
    AfterAction,

    /// <summary>The step is recorded done.</summary>
    AfterRecord,

    /// <summary>Inside a step that writes files and then restarts: the files are written, the restart not yet done (checked by the handler).</summary>
    AfterWrite,
}

/// <summary>What a failpoint does when it fires.</summary>
public enum FailpointAction
{
    /// <summary>SIGKILL this process: no cleanup, no journal end, the lock released by the kernel.</summary>
    Kill,

    /// <summary>Throw, as an unexpected bug would.</summary>
    Error,
}

/// <summary>One armed failpoint: <c>switch:after-action=kill@2</c> fires at the second switch's after-action point.</summary>
public sealed record Failpoint(StepKind Kind, FailpointSite Site, FailpointAction Action, int Hit);

/// <summary>
/// Failpoints, as etcd's gofail and TiKV's fail-rs have them: named points in the executor where a test makes
/// <c>tug</c> die or fail, so crash consistency is proven at every point and not at one convenient one. Only the
/// environment variable <c>TUG_FAILPOINTS</c> arms them (<c>KIND:SITE=ACTION[@N]</c>, comma-separated, e.g.
/// <c>switch:after-action=kill</c>); unset, every check is a no-op.
/// </summary>
public sealed class Failpoints
{
    /// <summary>The environment variable that arms failpoints.</summary>
    public const string Variable = "TUG_FAILPOINTS";

    private readonly ImmutableArray<Failpoint> _armed;
    private readonly ConcurrentDictionary<(StepKind, FailpointSite), int> _hits = new();

    public Failpoints(ImmutableArray<Failpoint> armed) => _armed = armed;

    /// <summary>The failpoints armed, in the order given.</summary>
    public ImmutableArray<Failpoint> Armed => _armed;

    /// <summary>No failpoint armed.</summary>
    public static Failpoints None { get; } = new([]);

    /// <summary>The failpoints <c>TUG_FAILPOINTS</c> arms.</summary>
    /// <exception cref="ArgumentException">The variable is set but malformed (a test's mistake must not pass silently).</exception>
    public static Failpoints FromEnvironment() => Parse(Environment.GetEnvironmentVariable(Variable));

    /// <summary>Parses <c>KIND:SITE=ACTION[@N]</c>, comma-separated; null or empty arms nothing.</summary>
    /// <exception cref="ArgumentException">A malformed entry.</exception>
    public static Failpoints Parse(string? spec)
    {
        if (string.IsNullOrWhiteSpace(spec))
        {
            return None;
        }

        var armed = ImmutableArray.CreateBuilder<Failpoint>();
        foreach (var entry in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (colon < 1 || equals < colon + 2)
            {
                throw Malformed(entry);
            }

            var kind = StepKinds.Parse(entry[..colon]) ?? throw Malformed(entry);
            var site = entry[(colon + 1)..equals] switch
            {
                "before-action" => FailpointSite.BeforeAction,
                "after-action" => FailpointSite.AfterAction,
                "after-record" => FailpointSite.AfterRecord,
                "after-write" => FailpointSite.AfterWrite,
                _ => throw Malformed(entry),
            };
            var rest = entry[(equals + 1)..].Split('@');
            var action = rest[0] switch
            {
                "kill" => FailpointAction.Kill,
                "error" => FailpointAction.Error,
                _ => throw Malformed(entry),
            };
            var hit = 1;
            if (rest.Length > 2 || (rest.Length == 2 && (!int.TryParse(rest[1], NumberStyles.None, CultureInfo.InvariantCulture, out hit) || hit < 1)))
            {
                throw Malformed(entry);
            }

            armed.Add(new Failpoint(kind, site, action, hit));
        }

        return new Failpoints(armed.ToImmutable());
    }

    /// <summary>Fires the failpoint armed for this kind and site, if this is its hit.</summary>
    public void Check(StepKind kind, FailpointSite site)
    {
        if (_armed.IsEmpty)
        {
            return;
        }

        var hit = _hits.AddOrUpdate((kind, site), 1, (_, n) => n + 1);
        foreach (var point in _armed.Where(p => p.Kind == kind && p.Site == site && p.Hit == hit))
        {
            switch (point.Action)
            {
                case FailpointAction.Kill:
                    using (var self = Process.GetCurrentProcess())
                    {
                        self.Kill();
                    }

                    Thread.Sleep(Timeout.Infinite);
                    break;
                case FailpointAction.Error:
                    throw new InvalidOperationException($"failpoint {StepKinds.Name(kind)}:{site} fired (TUG_FAILPOINTS)");
            }
        }
    }

    private static ArgumentException Malformed(string entry) =>
        new($"{Variable}: '{entry}' is not KIND:SITE=ACTION[@N] (kinds: {string.Join(", ", StepKinds.All.Select(StepKinds.Name))}; sites: before-action, after-action, after-record, after-write; actions: kill, error).");
}
