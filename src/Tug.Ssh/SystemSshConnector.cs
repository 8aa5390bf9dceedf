// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Diagnostics;
using System.Text;
using Tug.Core.Remote;

namespace Tug.Ssh;

/// <summary>
/// Uses the system <c>ssh</c> client (<c>--ssh system</c>), so <c>~/.ssh/config</c> applies (ProxyJump, ports, keys).
/// One master connection per host (ControlMaster) carries every script and transfer of a command. Host keys are
/// checked against the cluster's pins through a known_hosts file written for this connection only.
/// </summary>
public sealed class SystemSshConnector : IRemoteConnector
{
    public async Task<IRemoteHost> ConnectAsync(RemoteEndpoint endpoint, Credential credential, IHostKeyPins pins, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        if (credential is PasswordCredential)
        {
            throw new RemoteException(RemoteException.AuthenticationFailed, endpoint.Key, "--ssh system supports key authentication only.",
                "Use a key (-i), or the built-in client (--ssh builtin) for passwords.");
        }

        var work = Directory.CreateTempSubdirectory("tug-ssh-").FullName;
        var knownHosts = Path.Combine(work, "known_hosts");
        var pinned = pins.Get(endpoint.Key);
        var presented = await ScanAsync(endpoint, connectTimeout, cancellationToken).ConfigureAwait(false);
        if (presented.Count == 0)
        {
            Directory.Delete(work, true);
            throw new RemoteException(RemoteException.Unreachable, endpoint.Key, $"{endpoint.Key} did not answer SSH within {connectTimeout.TotalSeconds:0.#} s.",
                "Check that the host is up and reachable from this machine.");
        }

        var match = pinned is null ? presented[0] : presented.FirstOrDefault(p => p.Fingerprint == pinned);
        if (match is null)
        {
            Directory.Delete(work, true);
            throw RemoteException.KeyChanged(endpoint, pinned!, presented[0].Fingerprint);
        }

        PrivateFiles.WriteAllBytes(knownHosts, System.Text.Encoding.UTF8.GetBytes(match.Line + "\n"));
        var host = new SystemSshHost(endpoint, credential as KeyFileCredential, work, knownHosts, match.Fingerprint, connectTimeout);
        var check = await host.RunAsync("true", new RunOptions(Timeout: connectTimeout + TimeSpan.FromSeconds(5)), cancellationToken).ConfigureAwait(false);
        if (!check.Ok)
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw new RemoteException(check.Stderr.Contains("Permission denied", StringComparison.Ordinal) ? RemoteException.AuthenticationFailed : RemoteException.Unreachable,
                endpoint.Key, $"ssh to {endpoint} failed: {check.Stderr.Trim()}", "Check the user, the key and ~/.ssh/config for this host.");
        }

        if (pinned is null)
        {
            pins.Pin(endpoint.Key, match.Fingerprint);
        }

        return host;
    }

    private sealed record ScannedKey(string Line, string Fingerprint);

    private static async Task<List<ScannedKey>> ScanAsync(RemoteEndpoint endpoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var scan = await SystemSshHost.RunProcessAsync("ssh-keyscan", ["-T", ((int)Math.Ceiling(timeout.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture), "-p", endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--", endpoint.Host], null, timeout + TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        var keys = new List<ScannedKey>();
        foreach (var line in scan.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith('#')))
        {
            var fingerprint = await SystemSshHost.RunProcessAsync("ssh-keygen", ["-l", "-E", "sha256", "-f", "-"], Encoding.UTF8.GetBytes(line + "\n"), timeout, cancellationToken).ConfigureAwait(false);
            var fp = fingerprint.Stdout.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(p => p.StartsWith("SHA256:", StringComparison.Ordinal));
            if (fp is not null)
            {
                // Prefer ed25519, as the built-in client negotiates it first.
                keys.Insert(line.Contains("ssh-ed25519", StringComparison.Ordinal) ? 0 : keys.Count, new ScannedKey(line, fp));
            }
        }

        return keys;
    }
}

/// <summary>A host reached through the system ssh client over one ControlMaster connection.</summary>
internal sealed class SystemSshHost(RemoteEndpoint endpoint, KeyFileCredential? key, string work, string knownHosts, string fingerprint, TimeSpan connectTimeout) : IRemoteHost
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);

    public RemoteEndpoint Endpoint => endpoint;

    public string HostKeyFingerprint => fingerprint;

    public Task<CommandResult> RunAsync(string script, RunOptions options, CancellationToken cancellationToken) =>
        SshAsync(Shell.Wrap("bash -s", options.Sudo, endpoint.User), Encoding.UTF8.GetBytes(Shell.Prelude + script), options.Timeout ?? DefaultTimeout, cancellationToken);

    public async Task UploadAsync(Stream content, string remotePath, string mode, bool sudo, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        var result = await SshAsync(Shell.Wrap($"bash -c {Shell.Quote(Shell.AtomicWrite(remotePath, mode))}", sudo, endpoint.User), buffer.ToArray(), DefaultTimeout, cancellationToken).ConfigureAwait(false);
        if (!result.Ok)
        {
            throw new RemoteException(RemoteException.TransferFailed, endpoint.Key, $"Writing {remotePath} on {endpoint.Key} failed: {result.Stderr.Trim()}");
        }
    }

    public async Task DownloadAsync(string remotePath, Stream destination, bool sudo, CancellationToken cancellationToken)
    {
        var result = await SshAsync(Shell.Wrap($"base64 -w0 -- {Shell.Quote(remotePath)}", sudo, endpoint.User), [], DefaultTimeout, cancellationToken).ConfigureAwait(false);
        if (!result.Ok)
        {
            throw new RemoteException(RemoteException.TransferFailed, endpoint.Key, $"Reading {remotePath} on {endpoint.Key} failed: {result.Stderr.Trim()}");
        }

        await destination.WriteAsync(Convert.FromBase64String(result.Stdout.Trim()), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await RunProcessAsync("ssh", [.. Options(), "-O", "exit", "--", Target], null, TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
        try
        {
            Directory.Delete(work, recursive: true);
        }
        catch (IOException)
        {
            // The control socket may linger a moment; the temp directory is harmless.
        }
    }

    private string Target => $"{endpoint.User}@{endpoint.Host}";

    private List<string> Options()
    {
        var options = new List<string>
        {
            "-p", endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-o", "BatchMode=yes",
            "-o", $"ConnectTimeout={(int)Math.Ceiling(connectTimeout.TotalSeconds)}",
            "-o", "StrictHostKeyChecking=yes",
            "-o", $"UserKnownHostsFile={knownHosts}",
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "HostKeyAlias=" + endpoint.Host,
            "-o", "ControlMaster=auto",
            "-o", $"ControlPath={Path.Combine(work, "cm")}",
            "-o", "ControlPersist=120",
            "-o", "LogLevel=ERROR",
        };
        if (key is not null)
        {
            options.AddRange(["-i", key.Path, "-o", "IdentitiesOnly=yes"]);
        }

        return options;
    }

    private async Task<CommandResult> SshAsync(string command, byte[] input, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var result = await RunProcessAsync("ssh", [.. Options(), "--", Target, command], input, timeout, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode == 255 && result.Stderr.Contains("REMOTE HOST IDENTIFICATION HAS CHANGED", StringComparison.Ordinal))
        {
            throw new RemoteException(RemoteException.HostKeyChanged, endpoint.Key, $"The host key of {endpoint.Key} changed during the command.");
        }

        if (result.ExitCode == 255 && result.Stdout.Length == 0)
        {
            throw new RemoteException(RemoteException.Unreachable, endpoint.Key, $"ssh to {endpoint.Key} failed: {result.Stderr.Trim()}",
                "Check that the host is still up and reachable.");
        }

        return result;
    }

    internal static async Task<CommandResult> RunProcessAsync(string file, IEnumerable<string> arguments, byte[]? input, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(timer.Token);
        var stderr = process.StandardError.ReadToEndAsync(timer.Token);
        try
        {
            if (input is { Length: > 0 })
            {
                await process.StandardInput.BaseStream.WriteAsync(input, timer.Token).ConfigureAwait(false);
            }

            process.StandardInput.Close();
            await process.WaitForExitAsync(timer.Token).ConfigureAwait(false);
            return new CommandResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new RemoteException(RemoteException.TimedOut, string.Empty, $"{file} did not finish within {timeout.TotalSeconds:0} s.", inner: e);
        }
    }
}
