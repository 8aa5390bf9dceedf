// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tug.Core.Tests.State;

/// <summary>
/// A real single-member etcd (Debian's <c>etcd-server</c>) on free loopback ports with a throwaway data directory,
/// started for the tests and killed (its directory deleted) on dispose.
/// </summary>
public sealed class EtcdServer : IAsyncLifetime
{
    private const string Binary = "/usr/bin/etcd";
    private readonly StringBuilder _log = new();
    private Process? _process;
    private string? _dataDirectory;
    private int _peerPort;
    private readonly string[] _tlsArguments = [];

    /// <summary>A plain-HTTP etcd.</summary>
    public EtcdServer()
    {
    }

    private EtcdServer(string[] tlsArguments)
    {
        _tlsArguments = tlsArguments;
    }

    /// <summary>An etcd serving its clients over TLS with <paramref name="certFile"/>, requiring client certificates signed by <paramref name="clientCaFile"/>.</summary>
    public static EtcdServer WithTls(string certFile, string keyFile, string clientCaFile) =>
        new(["--cert-file", certFile, "--key-file", keyFile, "--client-cert-auth", "--trusted-ca-file", clientCaFile]);

    /// <summary>The client port.</summary>
    public int Port { get; private set; }

    /// <summary>An etcd:// URL with a prefix no other test uses.</summary>
    public string NewUrl() => $"etcd://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/tests/{Guid.NewGuid():N}";

    public async ValueTask InitializeAsync()
    {
        Assert.True(File.Exists(Binary), $"{Binary} is missing: install it with `apt-get install -y --no-install-recommends etcd-server` (./test does).");
        _dataDirectory = Directory.CreateTempSubdirectory("tug-etcd-").FullName;
        Port = FreePort();
        _peerPort = FreePort();
        await StartAsync().ConfigureAwait(false);
    }

    /// <summary>Starts etcd again after <see cref="Kill"/>, on the same ports and data directory.</summary>
    public async Task RestartAsync()
    {
        Kill();
        _process?.Dispose();
        await StartAsync().ConfigureAwait(false);
    }

    private async Task StartAsync()
    {
        var peer = _peerPort;
        var client = $"{(_tlsArguments.Length > 0 ? "https" : "http")}://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";
        var peerUrl = $"http://127.0.0.1:{peer.ToString(CultureInfo.InvariantCulture)}";
        var start = new ProcessStartInfo(Binary,
            ["--name", "tug-test", "--data-dir", _dataDirectory!, "--listen-client-urls", client, "--advertise-client-urls", client,
             "--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl, "--initial-cluster", $"tug-test={peerUrl}", .. _tlsArguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (_process.HasExited)
            {
                Assert.Fail($"etcd exited ({_process.ExitCode}):\n{Log}");
            }

            if (_tlsArguments.Length > 0)
            {
                // Its /health needs a client certificate too; etcd says when it serves.
                if (Log.Contains("serving client requests on", StringComparison.Ordinal))
                {
                    return;
                }

                await Task.Delay(50).ConfigureAwait(false);
                continue;
            }

            try
            {
                var health = await http.GetStringAsync(new Uri($"{client}/health")).ConfigureAwait(false);
                if (health.Contains("true", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(50).ConfigureAwait(false);
        }

        Assert.Fail($"etcd did not become healthy within 20 s:\n{Log}");
    }

    /// <summary>What etcd printed.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Kills etcd (SIGKILL) and waits for it to exit.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit();
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        if (_dataDirectory is not null && Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }

        return ValueTask.CompletedTask;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
