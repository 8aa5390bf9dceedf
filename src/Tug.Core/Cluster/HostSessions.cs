// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Concurrent;
using System.Collections.Immutable;
using Tug.Core.Remote;

namespace Tug.Core.Cluster;

/// <summary>Host-key pins kept in memory and written back into the cluster's metadata.</summary>
public sealed class PinStore(IEnumerable<KeyValuePair<string, string>> initial) : IHostKeyPins
{
    private readonly ConcurrentDictionary<string, string> _pins = new(initial, StringComparer.Ordinal);

    public string? Get(string endpointKey) => _pins.TryGetValue(endpointKey, out var value) ? value : null;

    public void Pin(string endpointKey, string fingerprint) => _pins[endpointKey] = fingerprint;

    public ImmutableSortedDictionary<string, string> Snapshot() => _pins.ToImmutableSortedDictionary(StringComparer.Ordinal);

    /// <summary>Keys pinned here for hosts <paramref name="meta"/> still has and whose key it does not know yet (a scale-in's removed hosts stay forgotten).</summary>
    public ImmutableSortedDictionary<string, string> LearnedFor(Topology.ClusterMeta meta) =>
        _pins.Where(p => !meta.Tug.HostKeys.ContainsKey(p.Key) && meta.Topology.ManageHosts.Any(h => p.Key.StartsWith(h + ":", StringComparison.Ordinal) || p.Key.StartsWith($"[{h}]:", StringComparison.Ordinal)))
            .ToImmutableSortedDictionary(StringComparer.Ordinal);
}

/// <summary>
/// One connection per host for the length of a command, opened in parallel (bounded by <c>-c</c>); a host that
/// cannot be reached is recorded with the reason and does not hold up the others.
/// </summary>
public sealed class HostSessions : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, IRemoteHost> _hosts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RemoteException> _failures = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, IRemoteHost> Hosts => _hosts;

    public IReadOnlyDictionary<string, RemoteException> Failures => _failures;

    /// <summary>Connects to every host (<c>host</c> → <c>ssh port</c>) as <paramref name="user"/>.</summary>
    public static async Task<HostSessions> OpenAsync(
        IEnumerable<(string Host, int Port)> hosts,
        string user,
        Credential credential,
        IHostKeyPins pins,
        Reach reach,
        IProgress<OperationEvent>? progress,
        CancellationToken cancellationToken)
    {
        var sessions = new HostSessions();
        var targets = hosts.Distinct().ToList();

        // Every host at once, whatever -c says: a connection is network round trips, not work on the host, and the
        // slowest handshake then bounds the whole instead of each wave of -c hosts adding its own.
        await Parallel.ForEachAsync(targets, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, targets.Count), CancellationToken = cancellationToken }, async (h, ct) =>
        {
            try
            {
                var remote = await reach.Connector.ConnectAsync(new RemoteEndpoint(h.Host, h.Port, user), credential, pins, reach.ConnectTimeout, ct).ConfigureAwait(false);
                sessions._hosts[h.Host] = remote;
            }
            catch (RemoteException e)
            {
                sessions._failures[h.Host] = e;
                progress?.Report(new OperationEvent(h.Host, null, "connect", $"{e.Code}: {e.Message}"));
            }
        }).ConfigureAwait(false);
        return sessions;
    }

    /// <summary>Runs <paramref name="work"/> on every connected host in parallel; exceptions become failed outcomes.</summary>
    public async Task<ImmutableArray<T>> ForEachAsync<T>(IEnumerable<string> hosts, int concurrency, Func<string, IRemoteHost, CancellationToken, Task<T>> work, Func<string, Exception, T> onError, CancellationToken cancellationToken)
    {
        var results = new ConcurrentBag<T>();
        await Parallel.ForEachAsync(hosts.Distinct().Where(_hosts.ContainsKey), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (host, ct) =>
        {
            try
            {
                results.Add(await work(host, _hosts[host], ct).ConfigureAwait(false));
            }
            catch (Exception e) when (e is RemoteException or ClusterException or IOException)
            {
                results.Add(onError(host, e));
            }
        }).ConfigureAwait(false);
        return [.. results];
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts.Values)
        {
            await host.DisposeAsync().ConfigureAwait(false);
        }

        _hosts.Clear();
    }
}
