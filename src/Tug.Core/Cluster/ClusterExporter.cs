// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Text;
using Tug.Core.Planning;
using Tug.Core.Topology;

namespace Tug.Core.Cluster;

/// <summary>What <see cref="ClusterExporter.Export"/> wrote.</summary>
/// <param name="Directory">The TiUP cluster directory written.</param>
/// <param name="Files">Its files, relative to it.</param>
/// <param name="Versions">The versions written where TiUP keeps them (<c>component_versions.tidb</c>, <c>monitored.node_exporter_version</c>...), by that key.</param>
/// <param name="Warnings">What TiUP will not see or do as Tug does (sections TiUP does not know, Tug's layout).</param>
public sealed record ExportResult(string Directory, ImmutableArray<string> Files, ImmutableSortedDictionary<string, string> Versions, ImmutableArray<string> Warnings);

/// <summary>
/// <c>tug cluster export NAME DIR</c>: writes the cluster as a TiUP cluster directory, to be copied to
/// <c>$TIUP_HOME/storage/cluster/clusters/NAME</c>: <c>meta.yaml</c> as TiUP writes it (no Tug section, no Tug
/// comments) with Tug's version pins written where TiUP keeps versions (<c>component_versions.*</c>,
/// <c>monitored.node_exporter_version</c>, <c>monitored.blackbox_exporter_version</c>), so TiUP's next upgrade does
/// not move an agent back to whatever its mirror calls latest; <c>ssh/id_rsa</c> and <c>id_rsa.pub</c>; <c>tls/</c>
/// when the cluster has one. Nothing on the hosts changes, and nothing here: the cluster stays managed by Tug too.
/// </summary>
public sealed class ClusterExporter(ClusterStore store)
{
    /// <summary>Writes the TiUP cluster directory <paramref name="directory"/> (which must not exist, or be empty).</summary>
    /// <exception cref="ClusterException">The cluster does not exist or its meta is broken; the directory is not empty.</exception>
    public ExportResult Export(string name, string directory)
    {
        var meta = store.Load(name);
        var target = Path.GetFullPath(directory);
        if (File.Exists(target) || (System.IO.Directory.Exists(target) && System.IO.Directory.EnumerateFileSystemEntries(target).Any()))
        {
            throw new ClusterException(ClusterException.Exists, $"{directory} exists and is not an empty directory; nothing was written.",
                "Give a new directory (TiUP's place for it is $TIUP_HOME/storage/cluster/clusters/NAME on the TiUP control machine).");
        }

        var (topology, versions, unplaced) = WithPins(meta);
        var warnings = new List<string>();
        if (meta.Tug.Layout != PackageLayouts.TiUP)
        {
            warnings.Add("the cluster was deployed by Tug: its executables are at the packages' own paths (bin/<package entry>), not at the paths TiUP's run scripts execute; TiUP's start, stop and display work, but a TiUP reload or upgrade rewrites the run scripts for TiUP's paths and needs packages in TiUP's layout");
        }

        if (topology.Servers.Any(i => i.Role == Roles.Etcd))
        {
            warnings.Add($"{Roles.Etcd}_servers is Tug's own section: TiUP does not read it, so TiUP will not see or manage those instances");
        }

        foreach (var role in unplaced)
        {
            warnings.Add($"the pin of {role} ({meta.Tug.Versions[role]}) has no place in TiUP's meta.yaml; TiUP deploys {role} at the cluster version (tidb_version {meta.Version})");
        }

        var files = new List<string>();
        PrivateFiles.CreateDirectory(target);
        var tiup = ClusterMetaSerializer.Serialize(meta with { Topology = topology, Tug = TugState.Empty });
        PrivateFiles.WriteAllBytes(Path.Combine(target, "meta.yaml"), Encoding.UTF8.GetBytes(tiup));
        files.Add("meta.yaml");
        foreach (var sub in new[] { "ssh", "tls" })
        {
            var from = Path.Combine(store.Directory(name), sub);
            if (!System.IO.Directory.Exists(from))
            {
                continue;
            }

            foreach (var file in System.IO.Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var relative = Path.GetRelativePath(store.Directory(name), file).Replace(Path.DirectorySeparatorChar, '/');
                if (relative.Contains(".new", StringComparison.Ordinal) || relative.Contains(".old", StringComparison.Ordinal) || Path.GetFileName(relative).StartsWith('.'))
                {
                    continue; // a rotation's pending or retired key is not the cluster's key
                }

                var to = Path.Combine(target, relative);
                PrivateFiles.CreateDirectory(Path.GetDirectoryName(to)!);
                PrivateFiles.WriteAllBytes(to, File.ReadAllBytes(file));
                if (relative.EndsWith(".pub", StringComparison.Ordinal) || relative.EndsWith(".crt", StringComparison.Ordinal))
                {
                    File.SetUnixFileMode(to, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                }

                files.Add(relative);
            }
        }

        return new ExportResult(target, [.. files], versions, [.. warnings]);
    }

    /// <summary>The topology with Tug's pins where TiUP keeps versions, those versions by TiUP's key, and the roles whose pin has no such place.</summary>
    public static (Topology.Topology Topology, ImmutableSortedDictionary<string, string> Versions, ImmutableArray<string> Unplaced) WithPins(ClusterMeta meta)
    {
        var unplaced = ImmutableArray.CreateBuilder<string>();
        var topology = meta.Topology;
        var written = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        var componentVersions = topology.ComponentVersions;
        var monitored = topology.Monitored;
        foreach (var (role, version) in meta.Tug.Versions)
        {
            switch (role)
            {
                case Roles.NodeExporter:
                    monitored = monitored with { NodeExporterVersion = version };
                    written["monitored.node_exporter_version"] = version;
                    break;
                case Roles.BlackboxExporter:
                    monitored = monitored with { BlackboxExporterVersion = version };
                    written["monitored.blackbox_exporter_version"] = version;
                    break;
                default:
                    if (RoleDefinition.All.FirstOrDefault(r => r.Role == role)?.VersionKey is { } key)
                    {
                        componentVersions = componentVersions.SetItem(key, version);
                        written[$"component_versions.{key}"] = version;
                    }
                    else
                    {
                        unplaced.Add(role);
                    }

                    break;
            }
        }

        return (topology with { ComponentVersions = componentVersions, Monitored = monitored }, written.ToImmutable(), unplaced.ToImmutable());
    }
}
