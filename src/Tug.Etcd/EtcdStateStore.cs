// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Tug.Core.State;

namespace Tug.Etcd;

/// <summary>
/// The state store in etcd v3 (through dotnet-etcd): key <c>clusters/prod/meta.yaml</c> is the etcd key
/// <c>PREFIX/clusters/prod/meta.yaml</c>, its revision the key's mod revision, and every write one transaction that
/// compares the revision the writer read. A lock is the key <c>PREFIX/.locks/NAME</c>, created only if absent, holding
/// the holder's JSON and bound to a lease that a background task renews every third of its TTL.
/// </summary>
public sealed class EtcdStateStore : IStateStore
{
    /// <summary>How long any one call may take before the store is reported unavailable, unless told otherwise.</summary>
    public static readonly TimeSpan DefaultOperationTimeout = TimeSpan.FromSeconds(5);

    private const int PageSize = 500;

    private readonly EtcdClient _client;
    private readonly TimeProvider _time;
    private readonly string _root;

    private EtcdStateStore(EtcdClient client, StateUrl url, TimeProvider time, TimeSpan operationTimeout)
    {
        _client = client;
        _time = time;
        Url = url;
        OperationTimeout = operationTimeout;
        _root = url.Prefix + "/";
    }

    /// <summary>The store's URL.</summary>
    public StateUrl Url { get; }

    /// <summary>How long any one call may take.</summary>
    public TimeSpan OperationTimeout { get; }

    /// <inheritdoc/>
    public string Address => Url.ToString();

    /// <summary>
    /// A client for the etcd cluster <paramref name="url"/> names (no connection is made until the first call).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="url"/> is not an etcd URL.</exception>
    /// <exception cref="StateException"><see cref="StateException.BadUrl"/>: a TLS file cannot be read.</exception>
    public static EtcdStateStore Connect(StateUrl url, TimeProvider time, TimeSpan? operationTimeout = null)
    {
        if (url.Kind != StateKind.Etcd)
        {
            throw new ArgumentException($"'{url}' is not an etcd URL.", nameof(url));
        }

        var scheme = url.Tls is null ? "http" : "https";
        var endpoints = string.Join(',', url.Endpoints.Select(e => $"{scheme}://{e}"));
        EtcdClient client;
        if (url.Tls is { } tls)
        {
            var (ca, clientCertificate) = LoadTls(tls);
            var hosts = url.Endpoints.Select(e => e.Host).ToArray();
            client = new EtcdClient(endpoints, ssl => ConfigureTls(ssl, ca, clientCertificate, hosts), serverName: Authority(url.Endpoints[0].Host));
        }
        else
        {
            client = new EtcdClient(endpoints, serverName: Authority(url.Endpoints[0].Host));
        }

        if (url.User is { } user)
        {
            client.SetCredentials(user, url.Password!.Reveal());
        }

        return new EtcdStateStore(client, url, time, operationTimeout ?? DefaultOperationTimeout);
    }

    // The channel's address is static://AUTHORITY: an IPv6 address needs its brackets there.
    private static string Authority(string host) => host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;

    /// <inheritdoc/>
    public async Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        StateKey.Validate(key);
        var response = await CallAsync($"reading '{key}'", t => _client.GetAsync(new RangeRequest { Key = Bytes(key) }, cancellationToken: t), cancellationToken).ConfigureAwait(false);
        return response.Kvs.Count == 0 ? null : Entry(key, response.Kvs[0]);
    }

    /// <inheritdoc/>
    public async Task<StateRevision> PutAsync(string key, ReadOnlyMemory<byte> value, StateRevision expected, CancellationToken cancellationToken) =>
        (await CommitAsync([new StatePut(key, value, expected)], cancellationToken).ConfigureAwait(false))[0];

    /// <inheritdoc/>
    public Task DeleteAsync(string key, StateRevision expected, CancellationToken cancellationToken) =>
        CommitAsync([new StateDelete(key, expected)], cancellationToken);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<StateEntry>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        StateKey.ValidatePrefix(prefix);
        var from = Bytes(prefix);
        var end = RangeEnd(from);
        var entries = new List<StateEntry>();
        long revision = 0;
        while (true)
        {
            var request = new RangeRequest { Key = from, RangeEnd = end, Limit = PageSize, Revision = revision, SortOrder = RangeRequest.Types.SortOrder.Ascend, SortTarget = RangeRequest.Types.SortTarget.Key };
            var response = await CallAsync($"listing '{prefix}'", t => _client.GetAsync(request, cancellationToken: t), cancellationToken).ConfigureAwait(false);

            // Every page at the first page's revision, so the list is one snapshot.
            revision = response.Header.Revision;
            foreach (var kv in response.Kvs)
            {
                var key = kv.Key.ToStringUtf8()[_root.Length..];
                if (StateKey.IsValid(key))
                {
                    entries.Add(Entry(key, kv));
                }
            }

            if (!response.More || response.Kvs.Count == 0)
            {
                return entries;
            }

            from = ByteString.CopyFrom([.. response.Kvs[^1].Key.Span, 0]);
        }
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<StateRevision>> CommitAsync(IReadOnlyList<StateWrite> writes, CancellationToken cancellationToken)
    {
        StateLimits.CheckTransaction(writes, StateKey.Validate);
        var transaction = new TxnRequest();
        foreach (var write in writes)
        {
            var key = Bytes(write.Key);
            transaction.Compare.Add(write.Expected.IsAbsent
                ? new Compare { Key = key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 }
                : new Compare { Key = key, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = Number(write) });
            transaction.Success.Add(write is StatePut put
                ? new RequestOp { RequestPut = new PutRequest { Key = key, Value = ByteString.CopyFrom(put.Value.Span) } }
                : new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = key } });
            transaction.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = key, KeysOnly = true } });
        }

        var what = writes.Count == 1 ? $"writing '{writes[0].Key}'" : $"writing {writes.Count} keys";
        var response = await CallAsync(what, t => _client.TransactionAsync(transaction, cancellationToken: t), cancellationToken).ConfigureAwait(false);
        if (!response.Succeeded)
        {
            for (var i = 0; i < writes.Count; i++)
            {
                var kvs = response.Responses[i].ResponseRange.Kvs;
                var found = kvs.Count == 0 ? StateRevision.Absent : StateRevision.FromNumber(kvs[0].ModRevision);
                if (found != writes[i].Expected)
                {
                    throw StateException.RevisionConflict(Address, writes[i].Key, writes[i].Expected, found);
                }
            }

            // Changed and changed back between the transaction and its failure branch's read: still a lost race.
            throw StateException.RevisionConflict(Address, writes[0].Key, writes[0].Expected, StateRevision.FromNumber(response.Header.Revision));
        }

        var revision = StateRevision.FromNumber(response.Header.Revision);
        return [.. writes.Select(w => w is StatePut ? revision : StateRevision.Absent)];
    }

    /// <inheritdoc/>
    public async Task<IStateLock> AcquireLockAsync(string name, StateLockHolder holder, CancellationToken cancellationToken)
    {
        StateKey.Validate(name);
        var ttl = (long)Math.Ceiling(Url.LockTtl.TotalSeconds);
        var started = _time.GetUtcNow();
        var lease = await CallAsync("granting a lock lease", t => _client.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttl }, cancellationToken: t), cancellationToken).ConfigureAwait(false);
        var key = LockKey(name);
        var transaction = new TxnRequest();
        transaction.Compare.Add(new Compare { Key = key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
        transaction.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = ByteString.CopyFrom(holder.ToJson()), Lease = lease.ID } });
        transaction.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = key } });
        TxnResponse response;
        try
        {
            response = await CallAsync($"taking the lock '{name}'", t => _client.TransactionAsync(transaction, cancellationToken: t), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await RevokeQuietlyAsync(lease.ID).ConfigureAwait(false);
            throw;
        }

        if (!response.Succeeded)
        {
            await RevokeQuietlyAsync(lease.ID).ConfigureAwait(false);
            var kvs = response.Responses[0].ResponseRange.Kvs;
            var current = kvs.Count == 0 ? null : await HolderAsync(kvs[0], cancellationToken).ConfigureAwait(false);
            throw StateException.HeldBy(Address, name, current);
        }

        return new EtcdStateLock(this, name, holder with { ExpiresAt = started + TimeSpan.FromSeconds(lease.TTL) }, lease.ID, TimeSpan.FromSeconds(lease.TTL), started);
    }

    /// <inheritdoc/>
    public async Task<StateLockState?> ReadLockAsync(string name, CancellationToken cancellationToken)
    {
        StateKey.Validate(name);
        var response = await CallAsync($"reading the lock '{name}'", t => _client.GetAsync(new RangeRequest { Key = LockKey(name) }, cancellationToken: t), cancellationToken).ConfigureAwait(false);
        return response.Kvs.Count == 0 ? null : new StateLockState(await HolderAsync(response.Kvs[0], cancellationToken).ConfigureAwait(false), Live: true);
    }

    /// <inheritdoc/>
    public async Task<StateLockHolder?> BreakLockAsync(string name, CancellationToken cancellationToken)
    {
        StateKey.Validate(name);
        var key = LockKey(name);
        while (true)
        {
            var read = await CallAsync($"reading the lock '{name}'", t => _client.GetAsync(new RangeRequest { Key = key }, cancellationToken: t), cancellationToken).ConfigureAwait(false);
            if (read.Kvs.Count == 0)
            {
                return null;
            }

            var kv = read.Kvs[0];
            var holder = await HolderAsync(kv, cancellationToken).ConfigureAwait(false);
            var transaction = new TxnRequest();
            transaction.Compare.Add(new Compare { Key = key, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = kv.ModRevision });
            transaction.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = key } });
            var response = await CallAsync($"breaking the lock '{name}'", t => _client.TransactionAsync(transaction, cancellationToken: t), cancellationToken).ConfigureAwait(false);
            if (response.Succeeded)
            {
                // The holder's keep-alive then learns that its lease is gone.
                await RevokeQuietlyAsync(kv.Lease).ConfigureAwait(false);
                return holder ?? new StateLockHolder("", "(an unreadable holder record)", "", "", 0, default);
            }

            // The lock changed hands between the read and the delete: break whoever holds it now, and name them.
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    internal async Task<long> KeepAliveOnceAsync(long lease, CancellationToken cancellationToken) =>
        await CallAsync("renewing the lock lease", async t =>
        {
            using var call = _client.GetConnection().LeaseClient.LeaseKeepAlive(cancellationToken: t);
            await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = lease }, t).ConfigureAwait(false);
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            return await call.ResponseStream.MoveNext(t).ConfigureAwait(false) ? call.ResponseStream.Current.TTL : 0;
        }, cancellationToken).ConfigureAwait(false);

    internal async Task RevokeQuietlyAsync(long lease)
    {
        if (lease == 0)
        {
            return;
        }

        try
        {
            await CallAsync("revoking a lease", t => _client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, cancellationToken: t), CancellationToken.None).ConfigureAwait(false);
        }
        catch (StateException)
        {
            // The lease expires by itself within its TTL; a revoke is only a faster release.
        }
    }

    internal TimeProvider Time => _time;

    private async Task<T> CallAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(OperationTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            return await call(linked.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled or StatusCode.DeadlineExceeded or StatusCode.Unavailable } or HttpRequestException or IOException)
        {
            throw StateException.NotAnswering(Address, what, OperationTimeout, e is OperationCanceledException ? null : e);
        }
        catch (RpcException e) when (IsAuthFailure(e))
        {
            throw new StateException(StateException.BadUrl, $"The state store {Address} refused {what}: {e.Status.Detail}.",
                $"Check {StateUrl.UserVariable} and {StateUrl.PasswordVariable}, and that the etcd user has a role granting readwrite on the prefix '{Url.Prefix}/' (`etcdctl role grant-permission ROLE --prefix=true readwrite {Url.Prefix}/`).", e);
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
        {
            throw new StateException(StateException.Unavailable, $"The state store {Address} failed {what}: {e.Status.Detail} ({e.StatusCode}).",
                "Nothing was written if this was a write. Check etcd's log and `etcdctl endpoint status`, then run the command again.", e, exitCode: ExitCodes.Failure);
        }
    }

    /// <summary>etcd's refusals of a user: a wrong password or no user comes back as InvalidArgument with its own wording.</summary>
    private static bool IsAuthFailure(RpcException e) =>
        e.StatusCode is StatusCode.Unauthenticated or StatusCode.PermissionDenied
        || (e.StatusCode == StatusCode.InvalidArgument
            && (e.Status.Detail.Contains("authentication failed", StringComparison.Ordinal)
                || e.Status.Detail.Contains("user name is empty", StringComparison.Ordinal)
                || e.Status.Detail.Contains("invalid auth token", StringComparison.Ordinal)));

    private async Task<StateLockHolder?> HolderAsync(Mvccpb.KeyValue kv, CancellationToken cancellationToken)
    {
        var holder = StateLockHolder.FromJson(kv.Value.Span);
        if (holder is null || kv.Lease == 0)
        {
            return holder;
        }

        var lease = await CallAsync("reading a lock's lease", t => _client.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = kv.Lease }, cancellationToken: t), cancellationToken).ConfigureAwait(false);
        return lease.TTL > 0 ? holder with { ExpiresAt = _time.GetUtcNow() + TimeSpan.FromSeconds(lease.TTL) } : holder;
    }

    private static StateEntry Entry(string key, Mvccpb.KeyValue kv) => new(key, kv.Value.ToByteArray(), StateRevision.FromNumber(kv.ModRevision));

    private ByteString Bytes(string key) => ByteString.CopyFromUtf8(_root + key);

    private ByteString LockKey(string name) => ByteString.CopyFromUtf8($"{_root}.locks/{name}");

    /// <summary>The end of the range of every key starting with <paramref name="prefix"/>: the prefix with its last byte below 0xff incremented.</summary>
    private static ByteString RangeEnd(ByteString prefix)
    {
        var bytes = prefix.ToByteArray();
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            if (bytes[i] < 0xff)
            {
                bytes[i]++;
                return ByteString.CopyFrom(bytes.AsSpan(0, i + 1));
            }
        }

        return ByteString.CopyFrom(0);
    }

    private long Number(StateWrite write) =>
        long.TryParse(write.Expected.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var revision)
            ? revision
            : throw StateException.RevisionConflict(Address, write.Key, write.Expected, StateRevision.Absent);

    private static (X509Certificate2Collection? Ca, X509Certificate2? Client) LoadTls(StateTls tls)
    {
        try
        {
            X509Certificate2Collection? ca = null;
            if (tls.CaCertFile is { } caFile)
            {
                ca = [];
                ca.ImportFromPemFile(caFile);
            }

            var client = tls.CertFile is { } cert && tls.KeyFile is { } key ? X509Certificate2.CreateFromPemFile(cert, key) : null;
            return (ca, client);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new StateException(StateException.BadUrl, $"The TLS files for the state store cannot be read: {e.Message}",
                $"Point {StateUrl.CaCertVariable}, {StateUrl.CertVariable} and {StateUrl.KeyVariable} at readable PEM files (as etcdctl's --cacert, --cert, --key).", e);
        }
    }

    private static void ConfigureTls(SslClientAuthenticationOptions ssl, X509Certificate2Collection? ca, X509Certificate2? client, string[] hosts)
    {
        if (client is not null)
        {
            ssl.ClientCertificates = [client];
        }

        if (ca is null)
        {
            return;
        }

        // The servers' chain must end at the given CA (not the system's roots), and name one of the endpoints.
        ssl.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            if (certificate is null)
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            using var server = new X509Certificate2(certificate);
            return chain.Build(server) && hosts.Any(h => server.MatchesHostname(h));
        };
    }
}
