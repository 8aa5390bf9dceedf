// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Globalization;
using Tug.Core.Cluster;
using Tug.Core.Components;
using Tug.Core.Topology;

namespace Tug.Core.Planning;

/// <summary>Rules every planner shares: selection, batches, versions, role order, package references.</summary>
public static class PlanningRules
{
    /// <summary>The instances a <c>-R</c>/<c>-N</c> filter selects.</summary>
    /// <exception cref="ClusterException">Nothing matches.</exception>
    public static ImmutableArray<InstanceSpec> Select(ClusterMeta meta, InstanceFilter filter)
    {
        var selected = meta.Topology.Instances.Where(filter.Matches).ToImmutableArray();
        if (selected.IsEmpty)
        {
            throw new ClusterException(ClusterException.BadInput, "No instance matches the given -R/-N filters.",
                $"Roles here: {string.Join(", ", meta.Topology.Instances.Select(i => i.Role).Distinct())}; node IDs: `tug cluster display`.");
        }

        return selected;
    }

    /// <summary>A batch size from <c>--batch</c>: a count, or a percentage of <paramref name="count"/>.</summary>
    /// <exception cref="ClusterException">Neither a positive count nor a percentage.</exception>
    public static int BatchSize(string batch, int count)
    {
        if (batch.EndsWith('%') && int.TryParse(batch[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var percent) && percent is > 0 and <= 100)
        {
            return Math.Max(1, count * percent / 100);
        }

        if (int.TryParse(batch, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            return n;
        }

        throw new ClusterException(ClusterException.BadInput, $"--batch '{batch}' is neither a positive count nor a percentage like 25%.");
    }

    /// <summary><c>1.9.0</c> → <c>v1.9.0</c>.</summary>
    /// <summary>The longest health window a gate holds (<c>--health-window</c>): an hour.</summary>
    public const int MaxHealthWindow = 3600;

    /// <summary>Checks a <c>--health-window</c> value: whole seconds, 0 (none) to <see cref="MaxHealthWindow"/>.</summary>
    /// <exception cref="ClusterException">Negative or over an hour.</exception>
    public static void CheckHealthWindow(int seconds)
    {
        if (seconds is < 0 or > MaxHealthWindow)
        {
            throw new ClusterException(ClusterException.BadInput, $"--health-window {seconds} is not between 0 and {MaxHealthWindow} seconds.", "Give the seconds an instance must stay healthy after its first healthy check, e.g. --health-window 10 (0: no window).");
        }
    }

    /// <summary>A version as given on the command line or in a topology, with a missing leading <c>v</c> added.</summary>
    /// <exception cref="ClusterException">Not one token of letters, digits, '.', '_', '+' and '-'.</exception>
    public static string NormalizeVersion(string version)
    {
        if (!TopologyValidator.IsValidVersion(version))
        {
            var shown = version.ReplaceLineEndings("\\n");
            throw new ClusterException(ClusterException.BadInput, $"'{shown}' is not a version.",
                "Give a version such as v8.5.0 or 1.9.0: letters, digits, '.', '_', '+' and '-' only (`tug mirror list COMPONENT` shows what the mirror has).");
        }

        return char.IsAsciiDigit(version[0]) ? "v" + version : version;
    }

    /// <summary>Instances grouped by role, in start order (or stop order, the reverse).</summary>
    public static IEnumerable<IGrouping<string, InstanceSpec>> ByRole(IEnumerable<InstanceSpec> instances, bool stopping = false)
    {
        var groups = instances.GroupBy(i => i.Role);
        return stopping ? groups.OrderByDescending(g => ComponentSpecs.For(g.Key).StartOrder) : groups.OrderBy(g => ComponentSpecs.For(g.Key).StartOrder);
    }

    /// <summary>Whether the topology pins the role's version itself (<c>component_versions</c>, <c>monitored.*_version</c>).</summary>
    public static bool IndependentlyPinned(ClusterMeta meta, string role) => !string.IsNullOrEmpty(meta.Topology.PinnedVersion(role));

    /// <summary>The version a role gets at deploy: its pin in the topology, the cluster version when it follows the cluster, else latest (null).</summary>
    public static string? RequestedVersion(Topology.Topology topology, string role, string clusterVersion)
    {
        var pinned = topology.PinnedVersion(role);
        if (!string.IsNullOrEmpty(pinned))
        {
            return NormalizeVersion(pinned);
        }

        return ComponentSpecs.For(role).FollowsClusterVersion ? clusterVersion : null;
    }

    /// <summary>A role's pinned version moves only when every instance of the role was verified on the new one.</summary>
    public static ImmutableSortedDictionary<string, string> RoleVersions(ClusterMeta meta) =>
        meta.Topology.Instances.GroupBy(i => i.Role).ToImmutableSortedDictionary(
            g => g.Key,
            g => g.Select(i => meta.Tug.Instances.GetValueOrDefault(i.Id)?.Version).Distinct().ToList() is [{ } only]
                ? only
                : meta.Tug.Versions.GetValueOrDefault(g.Key) ?? "?",
            StringComparer.Ordinal);

    /// <summary>An instance's <c>os/arch</c> as packages name it.</summary>
    public static string Platform(InstanceSpec i) => $"{(i.Os.Length > 0 ? i.Os : "linux")}/{(i.Arch.Length > 0 ? i.Arch : "amd64")}";

    /// <summary>The reference a plan keeps of a resolved package.</summary>
    public static PackageRef Ref(ResolvedPackage p) => new(p.Component, p.Version, p.Platform, p.Entry, p.TarballSha256, p.EntrySha256);

    /// <summary>What the metadata records for an instance verified on a package.</summary>
    public static DeployedInstance Record(PackageRef package) => new(package.Version, package.Entry, package.EntrySha256, false);
}
