// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Components;
using Tug.Core.Topology;

namespace Tug.Core.Planning;

/// <summary>
/// Where a package's files go in an instance's <c>bin/</c>. A cluster Tug deployed runs each package as it unpacks
/// (<c>bin/node_exporter-1.9.0.linux-amd64/node_exporter</c>: the tarball's layout is the runtime layout, as in
/// TiUP's own install step). A cluster TiUP deployed and Tug imported keeps TiUP's paths
/// (<c>bin/node_exporter/node_exporter</c>, <c>bin/alertmanager/alertmanager</c>, the paths TiUP's run scripts
/// execute), so TiUP can manage it again: any package, in any upstream layout, is moved into those paths on the host
/// after its hashes are checked (<c>relayout.sh</c>), the field report's manual unpack-rename-repack done by the tool.
/// </summary>
public static class PackageLayouts
{
    /// <summary>Packages run as they unpack (the default; meta.yaml records no layout).</summary>
    public const string Tug = "";

    /// <summary>Executables at the paths TiUP's run scripts execute (<see cref="ComponentSpec.DefaultEntry"/>).</summary>
    public const string TiUP = "tiup";

    /// <summary>Whether <paramref name="layout"/> is one this version knows.</summary>
    public static bool IsKnown(string layout) => layout is Tug or TiUP;

    /// <summary>
    /// <paramref name="package"/> as <paramref name="instance"/> installs it in a cluster of <paramref name="layout"/>:
    /// as it is in Tug's layout, for a patch (a patch replaces the executable where it runs), and where the package's
    /// entry already is TiUP's path; otherwise with <see cref="PackageRef.Entry"/> TiUP's path and
    /// <see cref="PackageRef.Unpacked"/> the package's own entry.
    /// </summary>
    public static PackageRef Install(PackageRef package, string layout, InstanceSpec instance)
    {
        if (layout != TiUP || package.Patch || package.Unpacked.Length > 0)
        {
            return package;
        }

        var target = TiUPEntry(instance);
        return target is null || target == package.Entry ? package : package with { Entry = target, Unpacked = package.Entry };
    }

    /// <summary>
    /// The path TiUP's run script executes for the instance, relative to <c>bin/</c>, when Tug can move a package
    /// there: one directory and a file (<c>node_exporter/node_exporter</c>) or a file (<c>pd-server</c>); null for
    /// Grafana (<c>bin/grafana-server</c> is a path inside a package whose whole tree TiUP keeps as it is).
    /// </summary>
    public static string? TiUPEntry(InstanceSpec instance)
    {
        var entry = ComponentSpecs.For(instance).DefaultEntry;
        var parts = entry.Split('/');
        return parts.Length switch
        {
            1 => entry,
            2 when parts[0] != "bin" => entry,
            _ => null,
        };
    }
}
