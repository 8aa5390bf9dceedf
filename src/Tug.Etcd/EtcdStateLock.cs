// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.State;

namespace Tug.Etcd;

/// <summary>
/// A lock held in etcd: its key lives as long as its lease, which a background task renews every third of the TTL.
/// When renewal fails for a whole TTL, or etcd says the lease is gone (expired, or revoked by a break), the lock is
/// lost and <see cref="EnsureHeld"/> throws.
/// </summary>
internal sealed class EtcdStateLock : IStateLock
{
    private readonly EtcdStateStore _store;
    private readonly long _lease;
    private readonly TimeSpan _ttl;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _keepAlive;
    private readonly Lock _gate = new();
    private DateTimeOffset _renewedAt;
    private string? _lost;
    private bool _disposed;

    public EtcdStateLock(EtcdStateStore store, string name, StateLockHolder holder, long lease, TimeSpan ttl, DateTimeOffset grantedAt)
    {
        _store = store;
        Name = name;
        Holder = holder;
        _lease = lease;
        _ttl = ttl;
        _renewedAt = grantedAt;
        _keepAlive = Task.Run(() => KeepAliveAsync(_stop.Token));
    }

    public string Name { get; }

    public StateLockHolder Holder { get; }

    public StateLockHolder? Stale => null;

    public bool IsLost => Why() is not null;

    public void EnsureHeld()
    {
        if (Why() is { } why)
        {
            throw StateException.Lost(_store.Address, Name, why);
        }
    }

    /// <summary>Stops renewing the lease without releasing it, as a killed process does (for tests).</summary>
    internal async Task AbandonAsync()
    {
        _disposed = true;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _keepAlive.ConfigureAwait(false);
        _stop.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _keepAlive.ConfigureAwait(false);
        _stop.Dispose();

        // Revoking the lease deletes the lock key with it (and does nothing to a lock that was broken and retaken).
        await _store.RevokeQuietlyAsync(_lease).ConfigureAwait(false);
    }

    private string? Why()
    {
        lock (_gate)
        {
            if (_lost is not null)
            {
                return _lost;
            }

            // Once lost, lost: a command that was told so has stopped, even if a late renewal then succeeds.
            var silent = _store.Time.GetUtcNow() - _renewedAt;
            if (silent >= _ttl)
            {
                _lost = $"its lease ({_ttl.TotalSeconds:0} s) was not renewed for {silent.TotalSeconds:0.#} s, so etcd may have let it expire";
            }

            return _lost;
        }
    }

    private async Task KeepAliveAsync(CancellationToken cancellationToken)
    {
        var interval = _ttl / 3;
        try
        {
            while (true)
            {
                await Task.Delay(interval, _store.Time, cancellationToken).ConfigureAwait(false);
                var sentAt = _store.Time.GetUtcNow();
                try
                {
                    var ttl = await _store.KeepAliveOnceAsync(_lease, cancellationToken).ConfigureAwait(false);
                    lock (_gate)
                    {
                        if (_lost is not null)
                        {
                            return;
                        }

                        if (ttl <= 0)
                        {
                            _lost = "etcd says its lease is gone (it expired, or the lock was broken with `tug cluster unlock --force`)";
                            return;
                        }

                        _renewedAt = sentAt;
                    }
                }
                catch (StateException)
                {
                    // Keep trying: the lease outlives a short outage; Why() reports the lock lost once a TTL passes unrenewed.
                    interval = TimeSpan.FromMilliseconds(Math.Max(200, _ttl.TotalMilliseconds / 10));
                    continue;
                }

                interval = _ttl / 3;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
