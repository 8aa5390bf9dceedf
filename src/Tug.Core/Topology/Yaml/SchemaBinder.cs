// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;

namespace Tug.Core.Topology.Yaml;

/// <summary>A value read for a field, and where it was written.</summary>
internal readonly record struct BoundValue(object? Value, SourceLocation At);

/// <summary>
/// A struct read from YAML against its <see cref="StructSchema"/> (the internal "DTO"): only the fields present in
/// the file, typed by kind (text, int, bool, raw map, nested <see cref="BoundStruct"/>...), each with its position.
/// </summary>
internal sealed class BoundStruct(StructSchema schema, SourceLocation start, IReadOnlyDictionary<string, BoundValue> values)
{
    public StructSchema Schema => schema;

    public SourceLocation Start => start;

    public IReadOnlyDictionary<string, BoundValue> Values => values;

    public static BoundStruct Empty(StructSchema schema, SourceLocation at) => new(schema, at, new Dictionary<string, BoundValue>());

    public bool Has(string key) => values.ContainsKey(key);

    public object? Get(string key) => values.TryGetValue(key, out var v) ? v.Value : null;

    public string Text(string key) => Get(key) as string ?? string.Empty;

    public int Int(string key) => Get(key) is long n ? (int)n : 0;

    public bool Bool(string key) => Get(key) is true;

    public ConfigMap Map(string key) => Get(key) as ConfigMap ?? ConfigMap.Empty;

    public BoundStruct Struct(string key) => Get(key) as BoundStruct ?? Empty(schema.Find(key)?.Nested ?? schema, start);

    /// <summary>Where a field's value is written, else where the struct starts.</summary>
    public SourceLocation At(string key) => values.TryGetValue(key, out var v) ? v.At : start;
}

/// <summary>
/// Reads <see cref="YNode"/>s into <see cref="BoundStruct"/>s the way yaml.v3 decodes into TiUP's Go structs:
/// strict (unknown keys refused, as <c>KnownFields(true)</c>) for topology files, tolerant for meta.yaml.
/// Problems are collected, not thrown, so a file reports all of them at once.
/// </summary>
internal sealed class SchemaBinder(string file, bool strict, List<TopologyDiagnostic> errors)
{
    public SourceLocation At(YNode node) => new(file, node.Line, node.Column);

    /// <summary>Binds a mapping (or null/empty) to a struct.</summary>
    public BoundStruct BindStruct(YNode? node, StructSchema schema, string path, SourceLocation fallback)
    {
        if (node is null || IsNull(node))
        {
            return BoundStruct.Empty(schema, node is null ? fallback : At(node));
        }

        if (node is not YMap map)
        {
            Error(TopologyErrors.BadValue, node, $"{path} must be a mapping (key: value lines), not {Describe(node)}", "Write the section as indented 'key: value' lines.");
            return BoundStruct.Empty(schema, At(node));
        }

        var values = new Dictionary<string, BoundValue>(StringComparer.Ordinal);
        foreach (var (key, value) in map.Entries)
        {
            var field = schema.Find(key.Value);
            if (field is null)
            {
                if (strict)
                {
                    UnknownKey(key, path, schema.Fields.Select(f => f.Key));
                }

                continue;
            }

            var bound = Convert(value, field, $"{path}.{key.Value}");
            if (bound is { } ok)
            {
                values[key.Value] = new BoundValue(ok.Value, At(value is YScalar { Value: "", Plain: true } ? key : value));
            }
        }

        return new BoundStruct(schema, At(node), values);
    }

    /// <summary>Reports an unknown key with the closest known one as a suggestion.</summary>
    public void UnknownKey(YScalar key, string path, IEnumerable<string> known)
    {
        var names = known.ToList();
        var closest = names.MinBy(n => Distance(n, key.Value));
        var suggestion = closest is not null && Distance(closest, key.Value) <= 2 ? $"Did you mean \"{closest}\"? " : string.Empty;
        Error(TopologyErrors.UnknownKey, key, $"unknown key \"{key.Value}\" in {path}",
            $"{suggestion}Remove the key or fix its spelling; {path} accepts: {string.Join(", ", names)}.");
    }

    /// <summary>Converts a raw node (no schema) to a config value: scalars typed, maps and lists nested.</summary>
    public static object? Raw(YNode node) => node switch
    {
        YScalar s => YamlScalars.Resolve(s),
        YMap m => new ConfigMap(m.Entries.Select(e => new KeyValuePair<string, object?>(e.Key.Value, Raw(e.Value)))),
        YSeq q => q.Items.Select(Raw).ToImmutableArray(),
        _ => null,
    };

    public void Error(string code, YNode node, string message, string hint) =>
        errors.Add(new TopologyDiagnostic(code, At(node), message, hint));

    private (object? Value, bool Ok)? Convert(YNode node, Field field, string path)
    {
        switch (field.Kind)
        {
            case FieldKind.Text:
                if (node is YScalar text)
                {
                    return (text.Plain && YamlScalars.ResolvePlain(text.Value) is null ? string.Empty : text.Value, true);
                }

                return Mismatch(node, path, "a text value", "Write a single value on the same line as the key.");

            case FieldKind.Int or FieldKind.Long or FieldKind.OptionalLong:
                if (node is YScalar { Plain: true } number)
                {
                    switch (YamlScalars.ResolvePlain(number.Value))
                    {
                        case null:
                            return (field.Kind == FieldKind.OptionalLong ? null : 0L, true);
                        case long n when field.Kind != FieldKind.Int || n is >= int.MinValue and <= int.MaxValue:
                            return (n, true);
                        case double d when d == Math.Floor(d) && Math.Abs(d) < int.MaxValue:
                            return ((long)d, true);
                    }
                }

                return Mismatch(node, path, "a whole number", "Write digits only, without quotes (for example 2379).");

            case FieldKind.Bool:
                if (node is YScalar { Plain: true } flag)
                {
                    var resolved = YamlScalars.ResolvePlain(flag.Value);
                    if (resolved is bool or null)
                    {
                        return (resolved is true, true);
                    }

                    if (YamlScalars.OldBool(flag.Value) is { } old)
                    {
                        return (old, true);
                    }
                }

                return Mismatch(node, path, "true or false", "Write true or false, without quotes.");

            case FieldKind.Map or FieldKind.Any:
                if (field.Kind == FieldKind.Any)
                {
                    return (Raw(node), true);
                }

                if (IsNull(node))
                {
                    return (ConfigMap.Empty, true);
                }

                return node is YMap ? (Raw(node), true) : Mismatch(node, path, "a mapping", "Write indented 'key: value' lines under the key.");

            case FieldKind.TextMap:
                if (IsNull(node))
                {
                    return (ConfigMap.Empty, true);
                }

                if (node is YMap textMap && textMap.Entries.All(e => e.Value is YScalar))
                {
                    return (new ConfigMap(textMap.Entries.Select(e => new KeyValuePair<string, object?>(e.Key.Value, ((YScalar)e.Value).Value))), true);
                }

                return Mismatch(node, path, "a mapping of text values", "Write indented 'key: value' lines with single values.");

            case FieldKind.TextList:
                if (IsNull(node))
                {
                    return (ImmutableArray<object?>.Empty, true);
                }

                if (node is YSeq textList && textList.Items.All(i => i is YScalar))
                {
                    return (textList.Items.Select(i => (object?)((YScalar)i).Value).ToImmutableArray(), true);
                }

                return Mismatch(node, path, "a list of text values", "Write '- value' lines under the key.");

            case FieldKind.MapList:
                if (IsNull(node))
                {
                    return (ImmutableArray<object?>.Empty, true);
                }

                if (node is YSeq mapList && mapList.Items.All(i => i is YMap))
                {
                    return (Raw(node), true);
                }

                return Mismatch(node, path, "a list of mappings", "Write '- key: value' items under the key.");

            case FieldKind.Struct:
                if (IsNull(node) || node is YMap)
                {
                    return (BindStruct(node, field.Nested!, path, At(node)), true);
                }

                return Mismatch(node, path, "a mapping", "Write indented 'key: value' lines under the key.");

            case FieldKind.StructList:
                if (IsNull(node))
                {
                    return (ImmutableArray<BoundStruct>.Empty, true);
                }

                if (node is YSeq structs)
                {
                    return (structs.Items.Select((item, i) => BindStruct(item, field.Nested!, $"{path}[{i}]", At(item))).ToImmutableArray(), true);
                }

                return Mismatch(node, path, "a list of mappings", "Write '- key: value' items under the key.");

            default:
                throw new InvalidOperationException($"unhandled field kind {field.Kind}");
        }
    }

    private (object? Value, bool Ok)? Mismatch(YNode node, string path, string expected, string hint)
    {
        Error(TopologyErrors.BadValue, node, $"{path} must be {expected}, not {Describe(node)}", hint);
        return null;
    }

    public static bool IsNull(YNode node) => node is YScalar { Plain: true } s && YamlScalars.ResolvePlain(s.Value) is null;

    public static string Describe(YNode node) => node switch
    {
        YScalar { Plain: false } s => $"the quoted text \"{s.Value}\"",
        YScalar s => $"\"{s.Value}\"",
        YMap => "a mapping",
        YSeq => "a list",
        _ => "this value",
    };

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
        }

        return d[a.Length, b.Length];
    }
}
