// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Concurrent;
using System.Security.Cryptography;
using Tug.Core.Cluster;
using Tug.Core.Remote;

namespace Tug.Core.Execution;

/// <summary>How packages reach the hosts (<c>--delivery</c>).</summary>
public enum DeliveryMode
{
    /// <summary>Pull over HTTP; where the host cannot reach the address, through a port forwarded over its SSH connection; else upload.</summary>
    Auto,

    /// <summary>Only pull over HTTP from the host mirror or this machine's package server.</summary>
    Pull,

    /// <summary>Only pull through a port forwarded over the SSH connection to this machine's package server.</summary>
    Forward,

    /// <summary>Only upload over the SSH connection (every byte from this machine, encrypted per host).</summary>
    Upload,
}

/// <summary>How one operation delivers packages.</summary>
/// <param name="Mode">Which ways may be tried, in the order pull, forward, upload.</param>
/// <param name="HostMirror">
/// The base address hosts pull from (<c>--host-mirror</c>, else the current mirror when it is an HTTP one); null:
/// this machine's package server, started for the operation's duration.
/// </param>
public sealed record DeliveryOptions(DeliveryMode Mode, string? HostMirror)
{
    /// <summary>Auto, from this machine's package server.</summary>
    public static DeliveryOptions Default { get; } = new(DeliveryMode.Auto, null);

    /// <summary>One line for the plan: which way the hosts get their bytes.</summary>
    public string Describe() => Mode switch
    {
        DeliveryMode.Upload => "packages: uploaded to each host over its SSH connection (--delivery upload)",
        DeliveryMode.Forward => "packages: each host pulls from this machine's package server through a port forwarded over its SSH connection (--delivery forward)",
        DeliveryMode.Pull => $"packages: each host pulls from {PullSource} and checks the sha256 (--delivery pull; no fallback)",
        _ => $"packages: each host pulls from {PullSource} and checks the sha256; where it cannot reach that, through a port forwarded over its SSH connection; else upload",
    };

    private string PullSource => HostMirror ?? "this machine's package server (started for the operation)";
}

/// <summary>This machine's HTTP server for an operation's verified packages; the hosts pull from it, directly or through a forwarded port.</summary>
public interface IPackageServer
{
    /// <summary>Starts serving on every address of this machine (a free port); files are added by name as they are needed.</summary>
    /// <exception cref="ClusterException">The server cannot start.</exception>
    Task<IServedPackages> StartAsync(CancellationToken cancellationToken);
}

/// <summary>A running package server.</summary>
public interface IServedPackages : IAsyncDisposable
{
    /// <summary>The port it listens on.</summary>
    int Port { get; }

    /// <summary>Serves <paramref name="file"/> (a verified package) as <c>/</c><paramref name="name"/>.</summary>
    void Add(string name, string file);
}

/// <summary>
/// Puts a package's tarball on a host at <see cref="HostScripts.PackageUploadPath"/>, its sha256 checked on the host
/// against the signed manifest before it is kept, by the first way <see cref="DeliveryOptions.Mode"/> allows that
/// works: the host pulls over HTTP; or pulls through a port forwarded over its SSH connection to this machine's
/// package server; or the file is uploaded over SSH. A pulled file whose hash differs is refused on the host and
/// fails the delivery (never retried another way: the source is wrong, not unreachable). One per operation.
/// </summary>
public sealed class PackageDelivery(DeliveryOptions options, IPackageServer? server, Reach reach) : IAsyncDisposable
{
    private const int Mismatch = 41;
    private const int Unreachable = 46;
    private const int NotServed = 47;

    private readonly SemaphoreSlim _starting = new(1, 1);
    private readonly ConcurrentDictionary<string, Lazy<Task<(int Port, IAsyncDisposable? Handle)>>> _forwards = new(StringComparer.Ordinal);
    private IServedPackages? _served;

    /// <summary>The options this operation delivers with.</summary>
    public DeliveryOptions Options => options;

    /// <summary>Delivers one package to a host and says how ("pulled from URL", "through a forwarded port", "uploaded").</summary>
    /// <exception cref="ClusterException">No way allowed worked, or a pulled file differs from the signed manifest.</exception>
    /// <exception cref="RemoteException">The connection to the host broke.</exception>
    public async Task<string> DeliverAsync(IRemoteHost remote, ResolvedPackage package, CancellationToken cancellationToken)
    {
        var name = Path.GetFileName(package.Path);
        if (package.MirrorPath.Length == 0 || options.Mode == DeliveryMode.Upload)
        {
            await UploadAsync(remote, package, cancellationToken).ConfigureAwait(false);
            return "uploaded over SSH";
        }

        var tried = new List<string>();
        if (options.Mode is DeliveryMode.Auto or DeliveryMode.Pull && (options.HostMirror is not null || server is not null))
        {
            var (baseUrl, port) = options.HostMirror is { } mirror ? (mirror, 0) : (string.Empty, await ServeAsync(package, cancellationToken).ConfigureAwait(false));
            var source = baseUrl.Length > 0 ? baseUrl : $"this machine's package server (port {port})";
            var pulled = await FetchAsync(remote, package, baseUrl, port, cancellationToken).ConfigureAwait(false);
            if (pulled is null)
            {
                return $"pulled from {source}, sha256 checked on the host";
            }

            tried.Add($"pull from {source}: {pulled}");
        }

        if (options.Mode is DeliveryMode.Auto or DeliveryMode.Forward && server is not null)
        {
            var why = await ForwardedFetchAsync(remote, package, cancellationToken).ConfigureAwait(false);
            if (why is null)
            {
                return "pulled through a port forwarded over SSH, sha256 checked on the host";
            }

            tried.Add($"forward: {why}");
        }

        if (options.Mode == DeliveryMode.Auto)
        {
            await UploadAsync(remote, package, cancellationToken).ConfigureAwait(false);
            return tried.Count == 0 ? "uploaded over SSH" : $"uploaded over SSH ({string.Join("; ", tried)})";
        }

        throw new ClusterException(ClusterException.BadInput,
            $"{remote.Endpoint.Key} could not get {name} by --delivery {options.Mode.ToString().ToLowerInvariant()}: {(tried.Count == 0 ? "this machine runs no package server" : string.Join("; ", tried))}.",
            "Give an address the hosts can reach with --host-mirror URL, or use --delivery auto (falls back to a forwarded port, then upload).");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var forward in _forwards.Values.Where(f => f.IsValueCreated))
        {
            try
            {
                if ((await forward.Value.ConfigureAwait(false)).Handle is { } handle)
                {
                    await handle.DisposeAsync().ConfigureAwait(false);
                }
            }
            catch (RemoteException)
            {
                // That forwarding never started.
            }
        }

        if (_served is not null)
        {
            await _served.DisposeAsync().ConfigureAwait(false);
        }

        _starting.Dispose();
    }

    /// <summary>Null when the file is in place; else why not. Throws on a hash that differs.</summary>
    private async Task<string?> FetchAsync(IRemoteHost remote, ResolvedPackage package, string baseUrl, int port, CancellationToken cancellationToken)
    {
        var result = await remote.RunAsync(HostScripts.Fetch(package, baseUrl, port), new RunOptions(Sudo: false, Timeout: reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
        return result.ExitCode switch
        {
            0 => null,
            Mismatch => throw new ClusterException(ClusterException.PackageMissing, $"{remote.Endpoint.Key}: {result.Stderr.Trim()}",
                $"The server the hosts pull from serves a file that is not the signed package: fix or replace it (or use --delivery upload, which sends this machine's verified copy)."),
            Unreachable or NotServed => result.Stderr.Trim(),
            _ => $"exit {result.ExitCode}: {result.Stderr.Trim()}",
        };
    }

    private async Task<string?> ForwardedFetchAsync(IRemoteHost remote, ResolvedPackage package, CancellationToken cancellationToken)
    {
        var local = await ServeAsync(package, cancellationToken).ConfigureAwait(false);
        (int Port, IAsyncDisposable? Handle) forward;
        try
        {
            forward = await _forwards.GetOrAdd(remote.Endpoint.Key, _ => new(() => OpenForwardAsync(remote, local, cancellationToken))).Value.ConfigureAwait(false);
        }
        catch (RemoteException e)
        {
            return e.Message;
        }

        return forward.Handle is null
            ? "the SSH transport in use cannot forward ports (the built-in one can)"
            : await FetchAsync(remote, package, $"http://127.0.0.1:{forward.Port}", 0, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Forwards a port of the host's loopback to the package server, trying a few random ports (one may be taken).</summary>
    private static async Task<(int Port, IAsyncDisposable? Handle)> OpenForwardAsync(IRemoteHost remote, int local, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = RandomNumberGenerator.GetInt32(20000, 60000);
            try
            {
                return (port, await remote.ForwardAsync(port, local, cancellationToken).ConfigureAwait(false));
            }
            catch (RemoteException) when (attempt < 4)
            {
                // Taken on the host: try another.
            }
        }
    }

    private async Task<int> ServeAsync(ResolvedPackage package, CancellationToken cancellationToken)
    {
        if (_served is null)
        {
            await _starting.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                _served ??= await server!.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _starting.Release();
            }
        }

        _served.Add(package.MirrorPath, package.Path);
        return _served.Port;
    }

    private static async Task UploadAsync(IRemoteHost remote, ResolvedPackage package, CancellationToken cancellationToken)
    {
        var stream = File.OpenRead(package.Path);
        await using (stream.ConfigureAwait(false))
        {
            await remote.UploadAsync(stream, HostScripts.PackageUploadPath(package), "0644", sudo: false, cancellationToken).ConfigureAwait(false);
        }
    }
}
