// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Tug.Core.Remote;

namespace Tug.Testing;

/// <summary>One connection a <see cref="FakeRemoteConnector"/> was asked to open.</summary>
/// <param name="Endpoint">Where and as whom.</param>
/// <param name="Credential">How it authenticated.</param>
/// <param name="Refused">The error it was refused with, or null when it connected.</param>
public sealed record RecordedConnection(RemoteEndpoint Endpoint, Credential Credential, RemoteException? Refused);

/// <summary>
/// An <see cref="IRemoteConnector"/> over <see cref="FakeRemoteHost"/>s, one per host name (every login to a host gets
/// the same fake, so its records hold everything done there). It checks host keys as a real connector does: the key a
/// host presents is pinned on first contact and a different one is refused with
/// <see cref="RemoteException.KeyChanged"/>; <see cref="Refuse"/> makes a host unreachable.
/// </summary>
public sealed class FakeRemoteConnector : IRemoteConnector
{
    private readonly ConcurrentDictionary<string, FakeRemoteHost> _hosts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RemoteException> _refused = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RecordedConnection> _connections = new();

    /// <summary>Every connection asked for, in order.</summary>
    public ImmutableArray<RecordedConnection> Connections => [.. _connections];

    /// <summary>The hosts connected to or configured so far.</summary>
    public IReadOnlyDictionary<string, FakeRemoteHost> Hosts => _hosts;

    /// <summary>The fake for <paramref name="host"/> (created on first use, so a test can script it before it connects).</summary>
    public FakeRemoteHost Host(string host) => _hosts.GetOrAdd(host, h => new FakeRemoteHost(new RemoteEndpoint(h, 22, "tidb"), FingerprintOf(h)));

    /// <summary>Refuses every connection to <paramref name="host"/> (unreachable by default).</summary>
    public FakeRemoteConnector Refuse(string host, RemoteException? error = null)
    {
        _refused[host] = error ?? new RemoteException(RemoteException.Unreachable, host, $"Cannot reach {host}:22: connection refused.");
        return this;
    }

    /// <summary>Lets <paramref name="host"/> be reached again.</summary>
    public FakeRemoteConnector Admit(string host)
    {
        _refused.TryRemove(host, out _);
        return this;
    }

    /// <summary>Makes <paramref name="host"/> present another host key from now on (a reinstalled host, or someone in the middle).</summary>
    public FakeRemoteConnector PresentKey(string host, string fingerprint)
    {
        Host(host).HostKeyFingerprint = fingerprint;
        return this;
    }

    /// <summary>The fingerprint a host presents unless told otherwise: stable per host name.</summary>
    public static string FingerprintOf(string host) =>
        "SHA256:" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes("fake host key " + host))).TrimEnd('=');

    public Task<IRemoteHost> ConnectAsync(RemoteEndpoint endpoint, Credential credential, IHostKeyPins pins, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_refused.TryGetValue(endpoint.Host, out var refused))
        {
            _connections.Enqueue(new RecordedConnection(endpoint, credential, refused));
            throw refused;
        }

        var host = Host(endpoint.Host);
        var presented = host.HostKeyFingerprint;
        if (pins.Get(endpoint.Key) is { } pinned && pinned != presented)
        {
            var changed = RemoteException.KeyChanged(endpoint, pinned, presented);
            _connections.Enqueue(new RecordedConnection(endpoint, credential, changed));
            throw changed;
        }

        pins.Pin(endpoint.Key, presented);
        _connections.Enqueue(new RecordedConnection(endpoint, credential, null));
        return Task.FromResult<IRemoteHost>(host);
    }
}
