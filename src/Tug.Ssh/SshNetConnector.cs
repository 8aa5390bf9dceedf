// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Renci.SshNet;
using Renci.SshNet.Common;
using Tug.Core.Remote;

namespace Tug.Ssh;

/// <summary>Opens in-process SSH connections with SSH.NET, pinning host keys on first contact and refusing changed ones.</summary>
public sealed class SshNetConnector : IRemoteConnector
{
    // One command connects to many hosts with the same key: it is read and parsed once (a 4096-bit RSA key costs
    // milliseconds each time), then shared; signing with it is thread-safe.
    private readonly ConcurrentDictionary<KeyFileCredential, Lazy<PrivateKeyFile>> _keys = new(ReferenceEqualityComparer.Instance);

    public async Task<IRemoteHost> ConnectAsync(RemoteEndpoint endpoint, Credential credential, IHostKeyPins pins, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        var auth = credential switch
        {
            KeyFileCredential key => (AuthenticationMethod)new PrivateKeyAuthenticationMethod(endpoint.User, Key(key, endpoint)),
            PasswordCredential password => new PasswordAuthenticationMethod(endpoint.User, password.Password.Reveal()),
            _ => throw new ArgumentException($"unsupported credential {credential.GetType().Name}", nameof(credential)),
        };
        var info = new ConnectionInfo(endpoint.Host, endpoint.Port, endpoint.User, auth) { Timeout = connectTimeout };
        PreferFastKeyExchange(info);
        var client = new SshClient(info) { KeepAliveInterval = TimeSpan.FromSeconds(15) };
        string? presented = null;
        var pinned = pins.Get(endpoint.Key);
        client.HostKeyReceived += (_, e) =>
        {
            presented = "SHA256:" + e.FingerPrintSHA256.TrimEnd('=');
            e.CanTrust = pinned is null || pinned == presented;
        };

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(connectTimeout);
        try
        {
            await client.ConnectAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (SshConnectionException) when (presented is not null && pinned is not null && presented != pinned)
        {
            client.Dispose();
            throw RemoteException.KeyChanged(endpoint, pinned, presented);
        }
        catch (SshAuthenticationException e)
        {
            client.Dispose();
            throw new RemoteException(RemoteException.AuthenticationFailed, endpoint.Key, $"{endpoint} refused the login: {e.Message}",
                "Check the user (-u) and the key (-i) or password (-p); the key's public half must be in the user's authorized_keys.", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            client.Dispose();
            throw new RemoteException(RemoteException.Unreachable, endpoint.Key, $"{endpoint.Key} did not answer SSH within {connectTimeout.TotalSeconds:0.#} s.",
                "Check that the host is up and reachable from this machine (address, port, firewall), or raise --ssh-timeout.", e);
        }
        catch (Exception e) when (e is SocketException or SshException or SshOperationTimeoutException or ProxyException or IOException)
        {
            client.Dispose();
            throw new RemoteException(RemoteException.Unreachable, endpoint.Key, $"Cannot connect to {endpoint.Key}: {e.Message}",
                "Check that the host is up and reachable from this machine (address, port, firewall).", e);
        }
        catch
        {
            client.Dispose();
            throw;
        }

        if (pinned is null)
        {
            pins.Pin(endpoint.Key, presented!);
        }

        return new SshNetHost(endpoint, client, presented!);
    }

    /// <summary>
    /// SSH.NET blocks a thread-pool thread for the whole handshake (key exchange and login wait on handles), so
    /// connecting to every host at once needs as many threads as hosts; the pool's default (one a core, then about
    /// one more every half second) would leave most handshakes queued past their timeout.
    /// </summary>
    public SshNetConnector()
    {
        ThreadPool.GetMinThreads(out var workers, out var completion);
        if (workers < MinThreads)
        {
            ThreadPool.SetMinThreads(MinThreads, completion);
        }
    }

    private const int MinThreads = 256;

    /// <summary>
    /// Key exchange: ML-KEM hybrid first where the server has it (OpenSSH 9.9 and later; cheap), then
    /// curve25519-sha256, then the rest in SSH.NET's order. SSH.NET lists sntrup761x25519 second; it computes it in
    /// managed code (BouncyCastle): measured on the 2-core machine, `exec` on 32 hosts took 2.12 s with sntrup761
    /// first and 0.95 s with curve25519 (about 50 ms of CPU per handshake). sntrup761 stays offered, after curve25519.
    /// </summary>
    private static void PreferFastKeyExchange(ConnectionInfo info)
    {
        var kex = info.KeyExchangeAlgorithms;
        foreach (var name in new[] { "sntrup761x25519-sha512@openssh.com", "sntrup761x25519-sha512" })
        {
            if (kex.TryGetValue(name, out var factory) && kex.IndexOf("curve25519-sha256@libssh.org") >= 0)
            {
                kex.Remove(name);
                kex.Insert(kex.IndexOf("curve25519-sha256@libssh.org") + 1, name, factory);
            }
        }
    }

    private PrivateKeyFile Key(KeyFileCredential key, RemoteEndpoint endpoint)
    {
        var lazy = _keys.GetOrAdd(key, k => new Lazy<PrivateKeyFile>(() => LoadKey(k, endpoint)));
        try
        {
            return lazy.Value;
        }
        catch (RemoteException)
        {
            _keys.TryRemove(KeyValuePair.Create(key, lazy));
            throw;
        }
    }

    private static PrivateKeyFile LoadKey(KeyFileCredential key, RemoteEndpoint endpoint)
    {
        try
        {
            return key.Passphrase is null ? new PrivateKeyFile(key.Path) : new PrivateKeyFile(key.Path, key.Passphrase.Reveal());
        }
        catch (Exception e) when (e is SshException or IOException or InvalidOperationException or ArgumentException)
        {
            throw new RemoteException(RemoteException.AuthenticationFailed, endpoint.Key, $"Cannot read the private key {key.Path}: {e.Message}",
                "Pass a readable OpenSSH or PEM private key with -i (and its passphrase if it has one).", e);
        }
    }
}

/// <summary>One SSH.NET connection; every script and transfer of a command goes over it.</summary>
internal sealed class SshNetHost(RemoteEndpoint endpoint, SshClient client, string fingerprint) : IRemoteHost
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    public RemoteEndpoint Endpoint => endpoint;

    public string HostKeyFingerprint => fingerprint;

    public async Task<CommandResult> RunAsync(string script, RunOptions options, CancellationToken cancellationToken)
    {
        var body = Shell.Prelude + script;
        return await ExecuteAsync(Shell.Wrap("bash -s", options.Sudo, endpoint.User), Encoding.UTF8.GetBytes(body), null, options.Timeout ?? DefaultTimeout, cancellationToken).ConfigureAwait(false);
    }

    public async Task UploadAsync(Stream content, string remotePath, string mode, bool sudo, CancellationToken cancellationToken)
    {
        var command = Shell.Wrap($"bash -c {Shell.Quote(Shell.AtomicWrite(remotePath, mode))}", sudo, endpoint.User);
        var result = await ExecuteAsync(command, null, content, DefaultTimeout, cancellationToken).ConfigureAwait(false);
        if (!result.Ok)
        {
            throw new RemoteException(RemoteException.TransferFailed, endpoint.Key, $"Writing {remotePath} on {endpoint.Key} failed: {result.Stderr.Trim()}",
                "Check that the directory exists and the user may write there (or needs sudo).");
        }
    }

    public async Task DownloadAsync(string remotePath, Stream destination, bool sudo, CancellationToken cancellationToken)
    {
        using var command = client.CreateCommand(Shell.Wrap($"cat -- {Shell.Quote(remotePath)}", sudo, endpoint.User));
        try
        {
            await command.ExecuteAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SshException e)
        {
            throw new RemoteException(RemoteException.Unreachable, endpoint.Key, $"The connection to {endpoint.Key} broke while reading {remotePath}: {e.Message}", inner: e);
        }

        if (command.ExitStatus != 0)
        {
            throw new RemoteException(RemoteException.TransferFailed, endpoint.Key, $"Reading {remotePath} on {endpoint.Key} failed: {command.Error.Trim()}");
        }

        await command.OutputStream.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
    }

    public Task<IAsyncDisposable?> ForwardAsync(int remotePort, int localPort, CancellationToken cancellationToken)
    {
        var port = new ForwardedPortRemote(IPAddress.Loopback, (uint)remotePort, IPAddress.Loopback, (uint)localPort);
        try
        {
            client.AddForwardedPort(port);
            port.Start();
        }
        catch (Exception e) when (e is SshException or InvalidOperationException or ObjectDisposedException)
        {
            RemoveQuietly(port);
            throw new RemoteException(RemoteException.TransferFailed, endpoint.Key, $"{endpoint.Key} refused to forward its port {remotePort} to this machine: {e.Message}",
                "The port may be taken on the host, or its sshd forbids forwarding (AllowTcpForwarding); use --delivery upload.", e);
        }

        return Task.FromResult<IAsyncDisposable?>(new Forward(() => RemoveQuietly(port)));
    }

    public ValueTask DisposeAsync()
    {
        client.Dispose();
        return ValueTask.CompletedTask;
    }

    private void RemoveQuietly(ForwardedPortRemote port)
    {
        try
        {
            if (port.IsStarted)
            {
                port.Stop();
            }

            client.RemoveForwardedPort(port);
        }
        catch (Exception e) when (e is SshException or InvalidOperationException or ObjectDisposedException)
        {
            // The connection is gone; so is the forwarding.
        }

        port.Dispose();
    }

    private async Task<CommandResult> ExecuteAsync(string commandText, byte[]? input, Stream? inputStream, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var command = client.CreateCommand(commandText);
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        try
        {
            var running = command.ExecuteAsync(timer.Token);
            using (var stdin = command.CreateInputStream())
            {
                if (input is not null)
                {
                    await stdin.WriteAsync(input, timer.Token).ConfigureAwait(false);
                }
                else if (inputStream is not null)
                {
                    await inputStream.CopyToAsync(stdin, timer.Token).ConfigureAwait(false);
                }
            }

            await running.ConfigureAwait(false);
            return new CommandResult(command.ExitStatus ?? -1, command.Result, command.Error);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RemoteException(RemoteException.TimedOut, endpoint.Key, $"A step on {endpoint.Key} did not finish within {timeout.TotalSeconds:0} s.",
                "The host may be overloaded or hung; check it, or raise --wait-timeout.", e);
        }
        catch (Exception e) when (e is SshException or IOException or ObjectDisposedException)
        {
            throw new RemoteException(RemoteException.Unreachable, endpoint.Key, $"The connection to {endpoint.Key} broke: {e.Message}",
                "Check that the host is still up and reachable.", e);
        }
    }
}

/// <summary>A forwarded port, stopped when disposed.</summary>
internal sealed class Forward(Action stop) : IAsyncDisposable
{
    public ValueTask DisposeAsync()
    {
        stop();
        return ValueTask.CompletedTask;
    }
}
