// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

namespace Tug.Core.Remote;

/// <summary>Where and as whom to connect: <c>host:port</c> and a login user.</summary>
public sealed record RemoteEndpoint(string Host, int Port, string User)
{
    /// <summary>The key host keys are pinned under: <c>host:port</c>.</summary>
    public string Key => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    public override string ToString() => $"{User}@{Key}";
}

/// <summary>A secret (password, passphrase) that never renders: <see cref="ToString"/> prints <c>[REDACTED]</c>.</summary>
public sealed class Secret(string value)
{
    /// <summary>The secret itself; only the SSH adapters call this.</summary>
    public string Reveal() => value;

    public override string ToString() => "[REDACTED]";
}

/// <summary>How to authenticate.</summary>
public abstract record Credential;

/// <summary>A private key file (OpenSSH or PEM), optionally with a passphrase.</summary>
public sealed record KeyFileCredential(string Path, Secret? Passphrase = null) : Credential;

/// <summary>A password.</summary>
public sealed record PasswordCredential(Secret Password) : Credential;

/// <summary>What a remote script printed and returned.</summary>
public sealed record CommandResult(int ExitCode, string Stdout, string Stderr)
{
    public bool Ok => ExitCode == 0;
}

/// <summary>Per-call options for a remote script.</summary>
/// <param name="Sudo">Run as root through <c>sudo -n</c> (no effect when the login user is root).</param>
/// <param name="Timeout">Give up after this long; the script is then reported as timed out.</param>
public sealed record RunOptions(bool Sudo = false, TimeSpan? Timeout = null);

/// <summary>The host keys a cluster has pinned, by <see cref="RemoteEndpoint.Key"/>; SHA256 fingerprints as ssh-keygen prints them.</summary>
public interface IHostKeyPins
{
    /// <summary>The pinned fingerprint, or null on first contact.</summary>
    string? Get(string endpointKey);

    /// <summary>Records the fingerprint seen on first contact.</summary>
    void Pin(string endpointKey, string fingerprint);
}

/// <summary>One open connection to a host, reused for every script and transfer of one command.</summary>
public interface IRemoteHost : IAsyncDisposable
{
    RemoteEndpoint Endpoint { get; }

    /// <summary>The host key fingerprint presented (and checked against the pin) at connect.</summary>
    string HostKeyFingerprint { get; }

    /// <summary>Runs a bash script (sent whole, over stdin) and returns its exit status and output.</summary>
    /// <exception cref="RemoteException">The connection broke or the timeout passed.</exception>
    Task<CommandResult> RunAsync(string script, RunOptions options, CancellationToken cancellationToken);

    /// <summary>Writes <paramref name="content"/> to <paramref name="remotePath"/> atomically (temp file + rename) with an octal mode.</summary>
    /// <exception cref="RemoteException">The transfer failed.</exception>
    Task UploadAsync(Stream content, string remotePath, string mode, bool sudo, CancellationToken cancellationToken);

    /// <summary>
    /// Forwards connections to <paramref name="remotePort"/> on the host's loopback over this connection to
    /// <paramref name="localPort"/> on this machine's loopback (<c>ssh -R</c>), until the returned handle is
    /// disposed or the connection closes. Null when the transport cannot forward.
    /// </summary>
    /// <exception cref="RemoteException">The host refused the forwarding (the port is taken, or sshd forbids it).</exception>
    Task<IAsyncDisposable?> ForwardAsync(int remotePort, int localPort, CancellationToken cancellationToken) => Task.FromResult<IAsyncDisposable?>(null);

    /// <summary>Copies a remote file into <paramref name="destination"/>.</summary>
    /// <exception cref="RemoteException">The file cannot be read or the transfer failed.</exception>
    Task DownloadAsync(string remotePath, Stream destination, bool sudo, CancellationToken cancellationToken);
}

/// <summary>Opens connections, checking host keys against the cluster's pins.</summary>
public interface IRemoteConnector
{
    /// <exception cref="RemoteException">Unreachable, authentication refused, host key changed, or timed out.</exception>
    Task<IRemoteHost> ConnectAsync(RemoteEndpoint endpoint, Credential credential, IHostKeyPins pins, TimeSpan connectTimeout, CancellationToken cancellationToken);
}

/// <summary>An expected failure reaching or using a host, with a stable code and what to do.</summary>
public sealed class RemoteException : TugException
{
    public RemoteException(string code, string host, string message, string? hint = null, Exception? inner = null)
        : base(code, message, hint, inner: inner)
    {
        Host = host;
    }

    public RemoteException()
        : this("E3000", string.Empty, "remote error")
    {
    }

    public RemoteException(string message)
        : this("E3000", string.Empty, message)
    {
    }

    public RemoteException(string message, Exception innerException)
        : this("E3000", string.Empty, message, inner: innerException)
    {
    }

    /// <summary>The host concerned (<c>host:port</c>), or empty when none is known.</summary>
    public string Host { get; }

    /// <summary>A failed operation: the host could not be reached or used.</summary>
    public override int ExitCode => ExitCodes.Failure;

    /// <inheritdoc/>
    protected override string? Where => Host.Length > 0 ? Host : null;

    public const string Unreachable = "E3001";
    public const string AuthenticationFailed = "E3002";
    public const string HostKeyChanged = "E3003";
    public const string TimedOut = "E3004";
    public const string TransferFailed = "E3005";

    /// <summary>The refusal for a host whose key differs from the pinned one.</summary>
    public static RemoteException KeyChanged(RemoteEndpoint endpoint, string pinned, string presented, string? acceptHint = null) =>
        new(HostKeyChanged, endpoint.Key,
            $"The host key of {endpoint.Key} changed: pinned {pinned}, presented {presented}. Nothing was run on it (a reinstalled host, or someone in the middle).",
            acceptHint ?? $"Check the new key on the host's console (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`); if it is right, accept it deliberately with `tug cluster accept-host-key CLUSTER {endpoint.Key}`.");
}
