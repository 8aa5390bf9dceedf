// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Topology.Yaml;

namespace Tug.Core.Topology;

/// <summary>
/// A cluster's stored state, <c>clusters/&lt;name&gt;/meta.yaml</c>: TiUP's <c>ClusterMeta</c> (<c>user</c>,
/// <c>tidb_version</c>, <c>last_ops_ver</c>, <c>topology</c>) plus Tug's own top-level <c>tug:</c> section.
/// </summary>
public sealed record ClusterMeta
{
    /// <summary>The deploy user that runs and manages the cluster on the hosts (<c>user</c>).</summary>
    public required string User { get; init; }

    /// <summary>The cluster version, <c>v</c>-prefixed (<c>tidb_version</c>).</summary>
    public required string Version { get; init; }

    /// <summary>The version of the tool that last saved the file (<c>last_ops_ver</c>); opaque, may be empty.</summary>
    public string OpsVersion { get; init; } = string.Empty;

    /// <summary>The topology, defaults filled and instance dirs absolute.</summary>
    public required Topology Topology { get; init; }

    /// <summary>Tug's additions; empty for a cluster written by TiUP.</summary>
    public TugState Tug { get; init; } = TugState.Empty;
}

/// <summary>
/// Tug's section of meta.yaml (top-level key <c>tug:</c>, which TiUP ignores because it reads meta.yaml
/// non-strictly): pinned component versions, pinned SSH host keys, and what was verified deployed per instance.
/// </summary>
public sealed record TugState
{
    /// <summary>Nothing pinned, nothing deployed.</summary>
    public static TugState Empty { get; } = new();

    /// <summary>Pinned version per component (<c>node_exporter: v1.9.0</c>, <c>etcd: v3.5.17</c>): what scale-out deploys and only an explicit upgrade changes.</summary>
    public ImmutableSortedDictionary<string, string> Versions { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    /// <summary>SSH host-key fingerprints pinned on first contact, by <c>host:port</c> (<c>SHA256:...</c>).</summary>
    public ImmutableSortedDictionary<string, string> HostKeys { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    /// <summary>Verified deployment facts by instance ID (<c>host:port</c>).</summary>
    public ImmutableSortedDictionary<string, DeployedInstance> Instances { get; init; } = ImmutableSortedDictionary<string, DeployedInstance>.Empty;

    /// <summary>
    /// Where executables go on the hosts: empty for packages as they unpack (a cluster Tug deployed), <c>tiup</c> for
    /// TiUP's paths (a cluster imported from TiUP; see <see cref="Planning.PackageLayouts"/>).
    /// </summary>
    public string Layout { get; init; } = string.Empty;

    /// <summary>Whether nothing is recorded (the section is then not written).</summary>
    public bool IsEmpty => Versions.IsEmpty && HostKeys.IsEmpty && Instances.IsEmpty && Layout.Length == 0;
}

/// <summary>What runs on an instance, as last verified: package version, manifest entry, sha256 of the entry file, patched or not.</summary>
public sealed record DeployedInstance(string Version, string Entry, string Sha256, bool Patched)
{
    /// <summary>What ran before a patch, for <c>tug cluster patch --rollback</c>; null when the instance is not patched.</summary>
    public DeployedInstance? Previous { get; init; }

    /// <summary>
    /// Whether the build is one no signed package holds (<c>unknown</c>: found running when the cluster was imported,
    /// its sha256 matching no package of its version in the mirror); empty for a package's build.
    /// </summary>
    public string Build { get; init; } = string.Empty;

    /// <summary>The value of <see cref="Build"/> for a build no signed package matched.</summary>
    public const string UnknownBuild = "unknown";

    /// <summary>A label for this build: the version, with the patch's hash when patched (<c>v1.9.0-patch.0123abcd4567</c>).</summary>
    public string Label => Patched ? $"{Version}-patch.{Sha256[..Math.Min(12, Sha256.Length)]}" : Version;
}

/// <summary>Reads and writes meta.yaml in TiUP's shape (yaml.v3 style, 4-space indent).</summary>
public static class ClusterMetaSerializer
{
    /// <summary>Renders meta.yaml.</summary>
    public static string Serialize(ClusterMeta meta)
    {
        var entries = new List<KeyValuePair<string, object?>>
        {
            new("user", meta.User),
            new("tidb_version", meta.Version),
        };
        if (meta.OpsVersion.Length > 0)
        {
            entries.Add(new("last_ops_ver", meta.OpsVersion));
        }

        entries.Add(new("topology", TopologyWriter.ToMap(meta.Topology)));
        if (!meta.Tug.IsEmpty)
        {
            entries.Add(new("tug", Tug(meta.Tug)));
        }

        return YamlWriter.Write(new ConfigMap(entries));
    }

    /// <summary>
    /// Reads meta.yaml tolerantly, as TiUP does: unknown keys are ignored and the topology is not re-validated
    /// (it was validated before it was saved; a hand-edited file must still load so the cluster can be repaired).
    /// </summary>
    /// <exception cref="TopologyException">The YAML is malformed or a known key has a value of the wrong type.</exception>
    public static ClusterMeta Deserialize(string yaml, string fileName)
    {
        var errors = new List<TopologyDiagnostic>();
        var binder = new SchemaBinder(fileName, strict: false, errors);
        var root = YamlTree.Parse(yaml, fileName, YamlLimits.Meta);
        var bound = binder.BindStruct(root, MetaSchema, "meta", new SourceLocation(fileName, 1, 1));
        var tug = bound.Struct("tug");
        if (errors.Count > 0)
        {
            throw new TopologyException(errors);
        }

        var topologyNode = root is YMap map ? map.Entries.FirstOrDefault(e => e.Key.Value == "topology")?.Value : null;
        return RefuseUnsafeValues(bound, new ClusterMeta
        {
            User = bound.Text("user"),
            Version = bound.Text("tidb_version"),
            OpsVersion = bound.Text("last_ops_ver"),
            Topology = TopologyBuilder.FromNode(topologyNode, fileName, strict: false, validate: false),
            Tug = new TugState
            {
                Layout = tug.Text("layout"),
                Versions = Texts(tug.Map("versions")),
                HostKeys = Texts(tug.Map("host_keys")),
                Instances = tug.Map("instances")
                    .Where(e => e.Value is ConfigMap)
                    .ToImmutableSortedDictionary(e => e.Key, e => Deployed((ConfigMap)e.Value!), StringComparer.Ordinal),
            },
        });
    }

    /// <summary>
    /// The topology rules for what reaches the hosts (hosts, directories, shaped values, one line each), the deploy
    /// user and the versions, applied to a meta.yaml as to a topology file: a hand-edited meta cannot smuggle a
    /// value into a run script, a unit or a root script. TiUP's other rules (ports...) are not re-checked.
    /// </summary>
    /// <exception cref="TopologyException">A value that a topology file could not hold; every one is listed.</exception>
    private static ClusterMeta RefuseUnsafeValues(BoundStruct bound, ClusterMeta meta)
    {
        var errors = new List<TopologyDiagnostic>();
        if (!TopologyValidator.IsValidUser(meta.User))
        {
            errors.Add(new(TopologyErrors.BadUser, bound.At("user"), $"user \"{meta.User}\" is not a valid Linux user name",
                "Write the deploy user the cluster was deployed with (letters, digits, '_' and '-', starting with a letter or '_')."));
        }

        if (!Planning.PackageLayouts.IsKnown(meta.Tug.Layout))
        {
            errors.Add(new(TopologyErrors.BadShape, bound.At("tug"), $"tug.layout \"{meta.Tug.Layout}\" is not a layout this version of Tug knows (\"tiup\", or none)",
                "Write the layout the cluster was imported with, or upgrade Tug."));
        }

        var versions = meta.Tug.Versions.Select(v => ($"tug.versions.{v.Key}", v.Value, bound.At("tug"))).Prepend(("tidb_version", meta.Version, bound.At("tidb_version")));
        foreach (var (key, version, at) in versions)
        {
            if (version.Length > 0 && !TopologyValidator.IsValidVersion(version))
            {
                errors.Add(new(TopologyErrors.BadShape, at, $"{key} \"{version}\" is not a version such as v8.5.0",
                    "Write the version as one word of letters, digits, '.', '_', '+' and '-'."));
            }
        }

        errors.AddRange(TopologyValidator.Safety(meta.Topology));
        return errors.Count == 0 ? meta : throw new TopologyException(errors
            .OrderBy(e => e.Location.Line == 0 ? int.MaxValue : e.Location.Line)
            .ThenBy(e => e.Location.Column));
    }

    private static readonly StructSchema TugSchema = new("tug",
    [
        new("versions", FieldKind.TextMap), new("host_keys", FieldKind.TextMap), new("instances", FieldKind.Map), new("layout", FieldKind.Text),
    ]);

    private static readonly StructSchema MetaSchema = new("meta",
    [
        new("user", FieldKind.Text), new("tidb_version", FieldKind.Text), new("last_ops_ver", FieldKind.Text),
        new("topology", FieldKind.Any), new("tug", FieldKind.Struct, Nested: TugSchema),
    ]);

    private static ImmutableSortedDictionary<string, string> Texts(ConfigMap map) =>
        map.ToImmutableSortedDictionary(e => e.Key, e => ConfigMap.AsText(e.Value) ?? string.Empty, StringComparer.Ordinal);

    private static DeployedInstance Deployed(ConfigMap m) =>
        new(m.GetString("version") ?? string.Empty, m.GetString("entry") ?? string.Empty, m.GetString("sha256") ?? string.Empty, m.GetBool("patched"))
        {
            Build = m.GetString("build") ?? string.Empty,
            Previous = m.GetMap("previous") is { Count: > 0 } previous ? Deployed(previous) : null,
        };

    private static ConfigMap Deployed(DeployedInstance d)
    {
        var entries = new List<KeyValuePair<string, object?>> { new("version", d.Version), new("entry", d.Entry), new("sha256", d.Sha256), new("patched", d.Patched) };
        if (d.Build.Length > 0)
        {
            entries.Add(new("build", d.Build));
        }

        if (d.Previous is { } previous)
        {
            entries.Add(new("previous", Deployed(previous)));
        }

        return new ConfigMap(entries);
    }

    private static ConfigMap Tug(TugState tug)
    {
        var entries = new List<KeyValuePair<string, object?>>();
        if (tug.Layout.Length > 0)
        {
            entries.Add(new("layout", tug.Layout));
        }

        if (!tug.Versions.IsEmpty)
        {
            entries.Add(new("versions", new ConfigMap(tug.Versions.Select(v => new KeyValuePair<string, object?>(v.Key, v.Value)))));
        }

        if (!tug.HostKeys.IsEmpty)
        {
            entries.Add(new("host_keys", new ConfigMap(tug.HostKeys.Select(v => new KeyValuePair<string, object?>(v.Key, v.Value)))));
        }

        if (!tug.Instances.IsEmpty)
        {
            entries.Add(new("instances", new ConfigMap(tug.Instances.Select(i => new KeyValuePair<string, object?>(i.Key, Deployed(i.Value))))));
        }

        return new ConfigMap(entries);
    }
}
