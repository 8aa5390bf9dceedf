// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Globalization;
using Tug.Core.Topology.Yaml;

namespace Tug.Core.Topology;

/// <summary>What happened to one field between two topologies.</summary>
public enum FieldChangeKind
{
    /// <summary>The value changed.</summary>
    Changed,

    /// <summary>An instance was added.</summary>
    Added,

    /// <summary>An instance was removed.</summary>
    Removed,
}

/// <summary>
/// One difference between a cluster's topology and an edited one: the field's path (<c>monitoring_servers[0].port</c>),
/// old and new value as YAML would show them, and whether TiUP's <c>edit-config</c> lets it change.
/// </summary>
public sealed record FieldChange(string Path, FieldChangeKind Kind, string From, string To, bool Editable)
{
    /// <summary>The path as segments: keys (string) and list indexes (int), for locating it in the edited file.</summary>
    public ImmutableArray<object> Segments { get; init; } = [];

    /// <summary>The host of the instance the field belongs to, when it belongs to one.</summary>
    public string? Host { get; init; }

    /// <summary>One line: <c>monitoring_servers[0].port (host 10.0.0.1) changed from '9090' to '9091'</c>.</summary>
    public string Describe()
    {
        var where = Host is null ? Path : $"{Path} (host {Host})";
        return Kind switch
        {
            FieldChangeKind.Added => $"{where} added",
            FieldChangeKind.Removed => $"{where} removed",
            _ => $"{where} changed from '{From}' to '{To}'",
        };
    }
}

/// <summary>Error codes of <c>edit-config</c>'s topology checks.</summary>
public static class TopologyEditErrors
{
    /// <summary>A field that TiUP's <c>edit-config</c> does not let change (host, ports, dirs, user, versions, instances...).</summary>
    public const string ImmutableField = "E1040";
}

/// <summary>
/// <c>tug cluster edit-config</c>'s topology half: the topology as the user edits it (meta.yaml's <c>topology</c>,
/// in TiUP's shape), the edited text read back strictly and validated as deploy reads a file, and TiUP's rule of what
/// may change (<c>utils.ValidateSpecDiff</c> over the <c>validate:</c> tags): an update of an editable field, anything
/// under an ignored one (config maps, <c>server_configs</c>), a TiFlash <c>data_dir</c> that only gains paths.
/// Instances are matched by position within their section, as TiUP's differ does; one added or removed is refused.
/// </summary>
public static class TopologyEdit
{
    /// <summary>The topology as YAML, as meta.yaml holds it and as <c>show-config</c> prints it.</summary>
    public static string Render(Topology topology) => YamlWriter.Write(TopologyWriter.ToMap(topology));

    /// <summary>The topology as a map (for JSON output): TiUP's field names and order.</summary>
    public static ConfigMap ToMap(Topology topology) => TopologyWriter.ToMap(topology);

    /// <summary>Parses edited topology text strictly and validates it, as <c>deploy</c> reads a topology file.</summary>
    /// <exception cref="TopologyException">Unknown keys, bad values, failed rules; each with file:line:column.</exception>
    public static Topology Parse(string yaml, string fileName) => TopologyLoader.Parse(yaml, fileName);

    /// <summary>Reads a topology file's text, bounded as deploy reads it.</summary>
    /// <exception cref="TopologyException">The file cannot be read or is too large.</exception>
    public static string Read(string path)
    {
        try
        {
            return TopologyLoader.ReadBounded(path, YamlLimits.Topology);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw TopologyException.One(TopologyErrors.ReadFailed, new SourceLocation(path, 0, 0),
                $"cannot read topology file \"{path}\": {e.Message}",
                "Check that the file exists and is readable; `tug cluster show-config NAME` prints the cluster's topology.");
        }
    }

    /// <summary>Every difference between <paramref name="before"/> and <paramref name="after"/>, in TiUP's field order.</summary>
    public static ImmutableArray<FieldChange> Changes(Topology before, Topology after)
    {
        var a = TopologyWriter.ToMap(before);
        var b = TopologyWriter.ToMap(after);
        var changes = new List<FieldChange>();
        Walk(changes, "topology", TopSchema, a, b, [], host: null, ignored: false);
        foreach (var role in RoleDefinition.All)
        {
            Instances(changes, role, a.GetList(role.Section), b.GetList(role.Section));
        }

        return [.. changes];
    }

    /// <summary>Refuses an edit that changes a field TiUP does not let change; every such field is listed, located in the edited text.</summary>
    /// <exception cref="TopologyException">E1040 per refused field (path, old and new value), at its place in <paramref name="editedYaml"/>.</exception>
    public static void RefuseImmutable(Topology before, Topology after, string editedYaml, string fileName)
    {
        var refused = Changes(before, after).Where(c => !c.Editable).ToList();
        if (refused.Count == 0)
        {
            return;
        }

        YNode? root;
        try
        {
            root = YamlTree.Parse(editedYaml, fileName);
        }
        catch (TopologyException)
        {
            root = null;
        }

        throw new TopologyException(refused.Select(c => new TopologyDiagnostic(TopologyEditErrors.ImmutableField, Locate(root, c.Segments, fileName),
            $"{c.Describe()}: edit-config may not change this field", Hint(c))));
    }

    private static string Hint(FieldChange change) => change switch
    {
        { Kind: FieldChangeKind.Added } => "Add instances with `tug cluster scale-out NAME FILE`; put the section back as it was.",
        { Kind: FieldChangeKind.Removed } => "Remove instances with `tug cluster scale-in NAME -N host:port`; put the section back as it was.",
        _ when change.Path.StartsWith("component_versions.", StringComparison.Ordinal) || change.Path.EndsWith("_exporter_version", StringComparison.Ordinal) =>
            "Versions change with `tug cluster upgrade` (as in TiUP); put the old value back.",
        _ => "TiUP lets edit-config change only settings such as config, server_configs, resource_control, numa_node, ssh_port and the monitoring options; put the old value back.",
    };

    private static SourceLocation Locate(YNode? root, ImmutableArray<object> segments, string fileName)
    {
        var at = new SourceLocation(fileName, root?.Line ?? 1, root?.Column ?? 1);
        var node = root;
        foreach (var segment in segments)
        {
            switch (segment, node)
            {
                case (string key, YMap map) when map.Entries.FirstOrDefault(e => e.Key.Value == key) is { } entry:
                    at = new SourceLocation(fileName, entry.Key.Line, entry.Key.Column);
                    node = entry.Value;
                    break;
                case (int index, YSeq seq) when index < seq.Items.Length:
                    node = seq.Items[index];
                    at = new SourceLocation(fileName, node.Line, node.Column);
                    break;
                default:
                    return at;
            }
        }

        return at;
    }

    /// <summary>The root struct: the sections before the instance lists (which <see cref="Instances"/> compares).</summary>
    private static readonly StructSchema TopSchema = new("topology",
    [
        new("global", FieldKind.Struct, Nested: Schemas.Global),
        new("monitored", FieldKind.Struct, Nested: Schemas.Monitored),
        new("component_versions", FieldKind.Struct, Nested: Schemas.ComponentVersions),
        new("component_sources", FieldKind.Struct, Nested: Schemas.ComponentSources),
        new("server_configs", FieldKind.Struct, Nested: Schemas.ServerConfigs),
    ]);

    private static void Instances(List<FieldChange> changes, RoleDefinition role, ImmutableArray<object?> before, ImmutableArray<object?> after)
    {
        // TiUP's differ first sets aside the items found unchanged anywhere in the other list, then compares the rest by index.
        var unmatchedBefore = Enumerable.Range(0, before.Length).ToList();
        var unmatchedAfter = new List<int>();
        for (var j = 0; j < after.Length; j++)
        {
            var same = unmatchedBefore.FindIndex(i => Same(before[i], after[j]));
            if (same >= 0)
            {
                unmatchedBefore.RemoveAt(same);
            }
            else
            {
                unmatchedAfter.Add(j);
            }
        }

        var paired = Math.Min(unmatchedBefore.Count, unmatchedAfter.Count);
        for (var k = 0; k < paired; k++)
        {
            var (i, j) = (unmatchedBefore[k], unmatchedAfter[k]);
            var old = before[i] as ConfigMap ?? ConfigMap.Empty;
            Walk(changes, role.Section, role.Schema, old, after[j] as ConfigMap ?? ConfigMap.Empty, [role.Section, j], old.GetString("host"), ignored: false);
        }

        foreach (var i in unmatchedBefore.Skip(paired))
        {
            changes.Add(new FieldChange($"{role.Section}[{i}]", FieldChangeKind.Removed, Show(before[i]), string.Empty, false)
            {
                Segments = [role.Section], Host = (before[i] as ConfigMap)?.GetString("host"),
            });
        }

        foreach (var j in unmatchedAfter.Skip(paired))
        {
            changes.Add(new FieldChange($"{role.Section}[{j}]", FieldChangeKind.Added, string.Empty, Show(after[j]), false)
            {
                Segments = [role.Section, j], Host = (after[j] as ConfigMap)?.GetString("host"),
            });
        }
    }

    private static void Walk(List<FieldChange> changes, string structName, StructSchema schema, ConfigMap? before, ConfigMap? after, ImmutableArray<object> at, string? host, bool ignored)
    {
        foreach (var field in schema.Fields)
        {
            var rule = EditRules.Of(structName, field.Key);
            var skip = ignored || rule == EditRule.Ignore;
            var a = before?.GetValueOrDefault(field.Key);
            var b = after?.GetValueOrDefault(field.Key);
            ImmutableArray<object> path = [.. at, field.Key];
            if (field.Kind == FieldKind.Struct && field.Nested is { } nested)
            {
                Walk(changes, nested.Name, nested, a as ConfigMap, b as ConfigMap, path, host, skip);
                continue;
            }

            if (Same(a, b))
            {
                continue;
            }

            var editable = skip || rule == EditRule.Editable || (rule == EditRule.Expandable && Expands(a, b));
            changes.Add(new FieldChange(PathText(path), FieldChangeKind.Changed, Show(a), Show(b), editable) { Segments = path, Host = host });
        }
    }

    /// <summary>TiUP's <c>validateExpandable</c>: same first path, and every old path still there.</summary>
    private static bool Expands(object? before, object? after)
    {
        if (before is not string from || after is not string to)
        {
            return false;
        }

        static List<string> Paths(string s) => [.. s.Split(',').Select(p => p.Trim().TrimEnd('/'))];
        var (a, b) = (Paths(from), Paths(to));
        return a[0] == b[0] && a.All(b.Contains);
    }

    private static string PathText(ImmutableArray<object> path)
    {
        var text = new System.Text.StringBuilder();
        foreach (var segment in path)
        {
            if (segment is int index)
            {
                text.Append(CultureInfo.InvariantCulture, $"[{index}]");
            }
            else
            {
                text.Append(text.Length == 0 ? string.Empty : ".").Append(segment);
            }
        }

        return text.ToString();
    }

    /// <summary>Whether two decoded values are the same, a missing value being the zero one (as yaml.v3's omitempty writes it).</summary>
    private static bool Same(object? a, object? b) => (a, b) switch
    {
        _ when TopologyWriter.IsZero(a) && TopologyWriter.IsZero(b) => true,
        (ConfigMap x, ConfigMap y) => x.Count == y.Count && x.All(e => y.TryGetValue(e.Key, out var v) && Same(e.Value, v)),
        (ImmutableArray<object?> x, ImmutableArray<object?> y) => x.Length == y.Length && x.Zip(y).All(p => Same(p.First, p.Second)),
        (string x, string y) => x == y,
        (long x, long y) => x == y,
        (double x, double y) => x.Equals(y),
        (bool x, bool y) => x == y,
        _ => false,
    };

    /// <summary>A value as one short line: scalars as YAML writes them, maps and lists in flow style.</summary>
    private static string Show(object? value) => value switch
    {
        null => string.Empty,
        ConfigMap m => "{" + string.Join(", ", m.Select(e => $"{e.Key}: {Show(e.Value)}")) + "}",
        ImmutableArray<object?> l => "[" + string.Join(", ", l.Select(Show)) + "]",
        _ => ConfigMap.AsText(value) ?? value.ToString() ?? string.Empty,
    };
}
