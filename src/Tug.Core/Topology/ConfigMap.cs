// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Tug.Core.Topology;

/// <summary>
/// A YAML mapping kept as written, in file order. Values are <see cref="string"/>, <see cref="long"/>,
/// <see cref="double"/>, <see cref="bool"/>, <c>null</c>, nested <see cref="ConfigMap"/>s or
/// <see cref="ImmutableArray{T}"/> of <see cref="object"/> (lists), typed as YAML 1.2 (yaml.v3) resolves plain scalars.
/// </summary>
[SuppressMessage("Naming", "CA1710:Identifiers should have correct suffix", Justification = "Named after the YAML mapping it mirrors; 'ConfigDictionary' would hide that.")]
public sealed class ConfigMap : IReadOnlyDictionary<string, object?>
{
    private readonly ImmutableArray<KeyValuePair<string, object?>> _entries;
    private readonly Dictionary<string, int> _index;

    /// <summary>Builds a map; a later entry with the same key replaces the earlier one in place.</summary>
    public ConfigMap(IEnumerable<KeyValuePair<string, object?>> entries)
    {
        var list = new List<KeyValuePair<string, object?>>();
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (_index.TryGetValue(entry.Key, out var at))
            {
                list[at] = entry;
            }
            else
            {
                _index[entry.Key] = list.Count;
                list.Add(entry);
            }
        }

        _entries = [.. list];
    }

    /// <summary>The empty map.</summary>
    public static ConfigMap Empty { get; } = new([]);

    /// <inheritdoc/>
    public int Count => _entries.Length;

    /// <inheritdoc/>
    public IEnumerable<string> Keys => _entries.Select(e => e.Key);

    /// <inheritdoc/>
    public IEnumerable<object?> Values => _entries.Select(e => e.Value);

    /// <inheritdoc/>
    public object? this[string key] => _entries[_index[key]].Value;

    /// <inheritdoc/>
    public bool ContainsKey(string key) => _index.ContainsKey(key);

    /// <inheritdoc/>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object? value)
    {
        if (_index.TryGetValue(key, out var at))
        {
            value = _entries[at].Value;
            return true;
        }

        value = null;
        return false;
    }

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_entries).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A copy with <paramref name="key"/> set (replaced in place, or appended).</summary>
    public ConfigMap With(string key, object? value) => new(_entries.Append(new(key, value)));

    /// <summary>A copy without <paramref name="key"/>.</summary>
    public ConfigMap Without(string key) => _index.ContainsKey(key) ? new(_entries.Where(e => e.Key != key)) : this;

    /// <summary>The value of <paramref name="key"/> as text (numbers and booleans rendered); null when absent or null.</summary>
    public string? GetString(string key) => TryGetValue(key, out var v) ? AsText(v) : null;

    /// <summary>The value of <paramref name="key"/> as a whole number; null when absent or not a number.</summary>
    public long? GetInt64(string key) => TryGetValue(key, out var v) && v is long n ? n : null;

    /// <summary>The value of <paramref name="key"/> as a boolean; false when absent.</summary>
    public bool GetBool(string key) => TryGetValue(key, out var v) && v is true;

    /// <summary>The value of <paramref name="key"/> as a nested map; empty when absent.</summary>
    public ConfigMap GetMap(string key) => TryGetValue(key, out var v) && v is ConfigMap m ? m : Empty;

    /// <summary>The value of <paramref name="key"/> as a list; empty when absent.</summary>
    public ImmutableArray<object?> GetList(string key) => TryGetValue(key, out var v) && v is ImmutableArray<object?> l ? l : [];

    /// <summary>The value of <paramref name="key"/> as a list of texts; empty when absent.</summary>
    public ImmutableArray<string> GetStrings(string key) => [.. GetList(key).Select(AsText).OfType<string>()];

    /// <summary>Renders a scalar value as text the way YAML would (invariant culture); null for null and collections.</summary>
    public static string? AsText(object? value) => value switch
    {
        null => null,
        string s => s,
        bool b => b ? "true" : "false",
        long n => n.ToString(CultureInfo.InvariantCulture),
        double d => Yaml.YamlScalars.FormatDouble(d),
        _ => null,
    };
}
