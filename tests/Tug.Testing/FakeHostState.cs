// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;

namespace Tug.Testing;

/// <summary>One change a fake made to a <see cref="FakeHostState"/>; <paramref name="Value"/> is null for a removal.</summary>
public sealed record HostChange(string Host, string Key, string? Value);

/// <summary>
/// What is on each host, in memory: keys (<c>unit node_exporter-9100</c>, <c>file /opt/x</c>) with values, which fake
/// step handlers write when they act and read when they probe, so a resumed plan finds the effects of an earlier run.
/// Every change is recorded in order. Safe to use from several threads.
/// </summary>
public sealed class FakeHostState
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Dictionary<string, string>> _hosts = new(StringComparer.Ordinal);
    private readonly List<HostChange> _changes = [];

    /// <summary>Every change so far, in order.</summary>
    public ImmutableArray<HostChange> Changes
    {
        get
        {
            lock (_gate)
            {
                return [.. _changes];
            }
        }
    }

    /// <summary>Sets <paramref name="key"/> on <paramref name="host"/>.</summary>
    public void Set(string host, string key, string value)
    {
        lock (_gate)
        {
            if (!_hosts.TryGetValue(host, out var keys))
            {
                _hosts[host] = keys = new Dictionary<string, string>(StringComparer.Ordinal);
            }

            keys[key] = value;
            _changes.Add(new HostChange(host, key, value));
        }
    }

    /// <summary>Removes <paramref name="key"/> from <paramref name="host"/>; whether it was there.</summary>
    public bool Remove(string host, string key)
    {
        lock (_gate)
        {
            if (_hosts.TryGetValue(host, out var keys) && keys.Remove(key))
            {
                _changes.Add(new HostChange(host, key, null));
                return true;
            }

            return false;
        }
    }

    /// <summary>The value of <paramref name="key"/> on <paramref name="host"/>, or null.</summary>
    public string? Get(string host, string key)
    {
        lock (_gate)
        {
            return _hosts.TryGetValue(host, out var keys) && keys.TryGetValue(key, out var value) ? value : null;
        }
    }

    /// <summary>Whether <paramref name="key"/> is on <paramref name="host"/>.</summary>
    public bool Has(string host, string key) => Get(host, key) is not null;

    /// <summary>Everything on <paramref name="host"/>, sorted by key.</summary>
    public ImmutableSortedDictionary<string, string> Of(string host)
    {
        lock (_gate)
        {
            return _hosts.TryGetValue(host, out var keys) ? keys.ToImmutableSortedDictionary(StringComparer.Ordinal) : ImmutableSortedDictionary<string, string>.Empty;
        }
    }
}
