// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Text;
using Tug.Core.Remote;

namespace Tug.Testing;

/// <summary>One script a <see cref="FakeRemoteHost"/> was asked to run.</summary>
public sealed record RecordedRun(string Script, RunOptions Options);

/// <summary>One upload a <see cref="FakeRemoteHost"/> received.</summary>
public sealed record RecordedUpload(string RemotePath, byte[] Content, string Mode, bool Sudo)
{
    /// <summary>The content as UTF-8 text.</summary>
    public string Text => Encoding.UTF8.GetString(Content);
}

/// <summary>One download a <see cref="FakeRemoteHost"/> served (or refused).</summary>
public sealed record RecordedDownload(string RemotePath, bool Sudo);

/// <summary>
/// An <see cref="IRemoteHost"/> that runs nothing: it records every script, upload and download, answers scripts from
/// rules (first match wins, then <see cref="Default"/>), keeps uploaded files in <see cref="Files"/> so downloads can
/// read them back, and can be <see cref="Cut"/> so every later call throws a <see cref="RemoteException"/>, as a host
/// whose connection broke would. Safe to use from several threads.
/// </summary>
public sealed class FakeRemoteHost(RemoteEndpoint endpoint, string hostKeyFingerprint) : IRemoteHost
{
    private readonly Lock _gate = new();
    private readonly List<(Func<string, bool> When, Func<string, CommandResult> Then)> _rules = [];
    private readonly List<RecordedRun> _runs = [];
    private readonly List<RecordedUpload> _uploads = [];
    private readonly List<RecordedDownload> _downloads = [];
    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private RemoteException? _cut;
    private int _disposals;

    public FakeRemoteHost(string host)
        : this(new RemoteEndpoint(host, 22, "tidb"), FakeRemoteConnector.FingerprintOf(host))
    {
    }

    public RemoteEndpoint Endpoint => endpoint;

    /// <summary>The host key it presents; change it to act as a reinstalled host (or someone in the middle).</summary>
    public string HostKeyFingerprint { get; set; } = hostKeyFingerprint;

    /// <summary>The answer to a script no rule matches: exit 0, no output.</summary>
    public CommandResult Default { get; set; } = new(0, string.Empty, string.Empty);

    /// <summary>Every script run so far, in order.</summary>
    public ImmutableArray<RecordedRun> Runs
    {
        get
        {
            lock (_gate)
            {
                return [.. _runs];
            }
        }
    }

    /// <summary>The text of every script run so far, in order.</summary>
    public ImmutableArray<string> Scripts => [.. Runs.Select(r => r.Script)];

    /// <summary>Every upload so far, in order.</summary>
    public ImmutableArray<RecordedUpload> Uploads
    {
        get
        {
            lock (_gate)
            {
                return [.. _uploads];
            }
        }
    }

    /// <summary>Every download so far, in order.</summary>
    public ImmutableArray<RecordedDownload> Downloads
    {
        get
        {
            lock (_gate)
            {
                return [.. _downloads];
            }
        }
    }

    /// <summary>The files on the host: what was uploaded, plus what a test put there; downloads read these.</summary>
    public ImmutableDictionary<string, byte[]> Files
    {
        get
        {
            lock (_gate)
            {
                return _files.ToImmutableDictionary(StringComparer.Ordinal);
            }
        }
    }

    /// <summary>How many times the connection was disposed.</summary>
    public int Disposals => Volatile.Read(ref _disposals);

    /// <summary>Answers scripts matching <paramref name="when"/> with what <paramref name="then"/> returns (or throws).</summary>
    public FakeRemoteHost On(Func<string, bool> when, Func<string, CommandResult> then)
    {
        lock (_gate)
        {
            _rules.Add((when, then));
        }

        return this;
    }

    /// <summary>Answers scripts matching <paramref name="when"/> with <paramref name="result"/>.</summary>
    public FakeRemoteHost On(Func<string, bool> when, CommandResult result) => On(when, _ => result);

    /// <summary>Answers scripts containing <paramref name="fragment"/> with <paramref name="result"/>.</summary>
    public FakeRemoteHost On(string fragment, CommandResult result) => On(s => s.Contains(fragment, StringComparison.Ordinal), result);

    /// <summary>Answers scripts containing <paramref name="fragment"/> with exit 0 and <paramref name="stdout"/>.</summary>
    public FakeRemoteHost OnPrint(string fragment, string stdout) => On(fragment, new CommandResult(0, stdout, string.Empty));

    /// <summary>Makes scripts matching <paramref name="when"/> throw <paramref name="error"/> (the connection broke mid-script).</summary>
    public FakeRemoteHost Throw(Func<string, bool> when, RemoteException? error = null) =>
        On(when, _ => throw error ?? Broken(endpoint.Host));

    /// <summary>Puts a file on the host.</summary>
    public FakeRemoteHost WithFile(string remotePath, string content)
    {
        lock (_gate)
        {
            _files[remotePath] = Encoding.UTF8.GetBytes(content);
        }

        return this;
    }

    /// <summary>Cuts the host: every later script, upload and download throws <paramref name="error"/>.</summary>
    public void Cut(RemoteException? error = null)
    {
        lock (_gate)
        {
            _cut = error ?? Broken(endpoint.Host);
        }
    }

    /// <summary>Restores a cut host.</summary>
    public void Mend()
    {
        lock (_gate)
        {
            _cut = null;
        }
    }

    public Task<CommandResult> RunAsync(string script, RunOptions options, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Func<string, CommandResult>? answer;
        lock (_gate)
        {
            ThrowIfCut();
            _runs.Add(new RecordedRun(script, options));
            answer = _rules.FirstOrDefault(r => r.When(script)).Then;
        }

        return Task.FromResult(answer is null ? Default : answer(script));
    }

    public async Task UploadAsync(Stream content, string remotePath, string mode, bool sudo, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            ThrowIfCut();
        }

        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _uploads.Add(new RecordedUpload(remotePath, buffer.ToArray(), mode, sudo));
            _files[remotePath] = buffer.ToArray();
        }
    }

    public async Task DownloadAsync(string remotePath, Stream destination, bool sudo, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        byte[]? content;
        lock (_gate)
        {
            ThrowIfCut();
            _downloads.Add(new RecordedDownload(remotePath, sudo));
            content = _files.GetValueOrDefault(remotePath);
        }

        if (content is null)
        {
            throw new RemoteException(RemoteException.TransferFailed, endpoint.Host, $"{remotePath} does not exist on {endpoint.Host}.");
        }

        await destination.WriteAsync(content, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        Interlocked.Increment(ref _disposals);
        return ValueTask.CompletedTask;
    }

    /// <summary>The error of a connection that broke.</summary>
    public static RemoteException Broken(string host) =>
        new(RemoteException.Unreachable, host, $"The connection to {host} was lost.");

    private void ThrowIfCut()
    {
        if (_cut is { } cut)
        {
            throw cut;
        }
    }
}
