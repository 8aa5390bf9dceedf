// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Concurrent;
using Tug.Core.Cluster;
using Tug.Core.Planning;
using Tug.Core.Remote;

namespace Tug.Core.Execution;

/// <summary>
/// One connection per host and login for the length of an operation, opened in parallel up front and reused by
/// every step; a host that cannot be reached is remembered with the reason and fails only its own steps.
/// </summary>
internal sealed class SessionPool(
    Reach reach,
    IHostKeyPins pins,
    IProgress<ProgressEvent>? progress,
    string deployUser,
    Credential deployCredential,
    string? preparingUser,
    Credential? preparingCredential,
    Func<string, int> sshPort) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<(string Host, StepLogin Login), Lazy<Task<IRemoteHost>>> _open = new();

    /// <summary>Connects to every host as the given login, all in parallel; returns the hosts that failed.</summary>
    public async Task<IReadOnlyDictionary<string, RemoteException>> OpenAsync(IEnumerable<(string Host, StepLogin Login)> hosts, CancellationToken cancellationToken)
    {
        var failures = new ConcurrentDictionary<string, RemoteException>(StringComparer.Ordinal);
        var targets = hosts.Distinct().ToList();

        // Every host at once, whatever -c says (-c bounds the work on the hosts, not the handshakes).
        await Parallel.ForEachAsync(targets, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, targets.Count), CancellationToken = cancellationToken }, async (h, ct) =>
        {
            try
            {
                await GetAsync(h.Host, h.Login, ct).ConfigureAwait(false);
            }
            catch (RemoteException e)
            {
                failures[h.Host] = e;
            }
        }).ConfigureAwait(false);
        return failures;
    }

    /// <summary>The connection to a host as a login, opened on first use.</summary>
    /// <exception cref="RemoteException">The host cannot be reached (the same failure is returned on every later call).</exception>
    /// <exception cref="ClusterException">A step needs the preparing login and none was given.</exception>
    public Task<IRemoteHost> GetAsync(string host, StepLogin login, CancellationToken cancellationToken)
    {
        if (login == StepLogin.Preparing && (preparingUser is null || preparingCredential is null))
        {
            throw new ClusterException(ClusterException.BadInput, $"Preparing {host} needs the login that prepares hosts, and none was given.",
                "Give it with -u USER and -i KEY (or -p), as for deploy and scale-out.");
        }

        var key = (host, login);
        var lazy = _open.GetOrAdd(key, k => new Lazy<Task<IRemoteHost>>(() => ConnectAsync(k.Host, k.Login, cancellationToken)));
        return ForgetFailureAsync(key, lazy);
    }

    /// <summary>A failed connection is not kept: a later step tries again (after a deploy user is created, say).</summary>
    private async Task<IRemoteHost> ForgetFailureAsync((string, StepLogin) key, Lazy<Task<IRemoteHost>> lazy)
    {
        try
        {
            return await lazy.Value.ConfigureAwait(false);
        }
        catch (RemoteException)
        {
            _open.TryRemove(KeyValuePair.Create(key, lazy));
            throw;
        }
    }

    private async Task<IRemoteHost> ConnectAsync(string host, StepLogin login, CancellationToken cancellationToken)
    {
        var (user, credential) = login == StepLogin.Preparing ? (preparingUser!, preparingCredential!) : (deployUser, deployCredential);
        try
        {
            return await reach.Connector.ConnectAsync(new RemoteEndpoint(host, sshPort(host), user), credential, pins, reach.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (RemoteException e)
        {
            progress?.Report(new OperationEvent(host, null, "connect", $"{e.Code}: {e.Message}"));
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var lazy in _open.Values)
        {
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
            {
                await lazy.Value.Result.DisposeAsync().ConfigureAwait(false);
            }
        }

        _open.Clear();
    }
}
