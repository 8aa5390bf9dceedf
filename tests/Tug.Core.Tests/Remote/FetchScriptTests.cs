// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Tug.Core.Cluster;
using Tug.Core.Remote;

namespace Tug.Core.Tests.Remote;

/// <summary>
/// <c>fetch.sh</c> run by bash and curl on this machine against a real HTTP server (HttpListener on loopback): the
/// file is kept only when its sha256 is the signed one, and each failure has its own exit code (41 differs, 46
/// unreachable, 47 not served) so the delivery knows whether to try another way.
/// </summary>
public sealed class FetchScriptTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("tug-fetch-").FullName;
    private readonly HttpListener _listener = new();
    private readonly int _port = FreePort();
    private readonly byte[] _signed = RandomNumberGenerator.GetBytes(100_000);
    private byte[] _served;

    public FetchScriptTests()
    {
        _served = _signed;
        _listener.Prefixes.Add($"http://127.0.0.1:{_port}/");
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    public void Dispose()
    {
        _listener.Close();
        Directory.Delete(_root, recursive: true);
    }

    private string Target => Path.Combine(_root, "pkg.tar.gz");

    private ResolvedPackage Package(string name = "node_exporter-v1.5.0-linux-amd64.tar.gz") =>
        new("node_exporter", "v1.5.0", "linux/amd64", Target, "node_exporter", Convert.ToHexStringLower(SHA256.HashData(_signed)), new string('b', 64)) { MirrorPath = name };

    /// <summary>The script as the host would run it, its target path moved under this test's directory.</summary>
    private (int ExitCode, string Stdout, string Stderr) Fetch(ResolvedPackage package, string baseUrl, int port = 0, string? sshConnection = null)
    {
        var script = HostScripts.Fetch(package, baseUrl, port).Replace(HostScripts.PackageUploadPath(package), Target, StringComparison.Ordinal);
        return Shell.Bash((sshConnection is null ? "unset SSH_CONNECTION\n" : $"export SSH_CONNECTION='{sshConnection}'\n") + script);
    }

    [Fact]
    public void Should_Keep_A_File_Whose_Sha256_Is_The_Signed_One()
    {
        var (exit, _, stderr) = Fetch(Package(), $"http://127.0.0.1:{_port}");

        Assert.True(exit == 0, stderr);
        Assert.Equal(_signed, File.ReadAllBytes(Target));
        Assert.Empty(Directory.GetFiles(_root, "*.part-*"));
    }

    [Fact]
    public void Should_Refuse_And_Delete_A_Tampered_File_With_Exit_41()
    {
        // Given: the server serves other bytes under the package's name
        _served = [.. _signed];
        _served[500] ^= 0xff;

        // When
        var (exit, _, stderr) = Fetch(Package(), $"http://127.0.0.1:{_port}");

        // Then
        Assert.Equal(41, exit);
        Assert.Contains("the signed manifest's is", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Target));
        Assert.Empty(Directory.GetFiles(_root, "*.part-*"));
    }

    [Fact]
    public void Should_Say_46_When_The_Address_Cannot_Be_Reached_And_47_When_The_File_Is_Not_Served()
    {
        var unreachable = Fetch(Package(), $"http://127.0.0.1:{FreePort()}");
        var missing = Fetch(Package("no-such-package.tar.gz"), $"http://127.0.0.1:{_port}");

        Assert.Equal(46, unreachable.ExitCode);
        Assert.Equal(47, missing.ExitCode);
        Assert.False(File.Exists(Target));
    }

    [Fact]
    public void Should_Fetch_From_The_Address_The_Ssh_Connection_Comes_From_When_No_Base_Is_Given()
    {
        var (exit, _, stderr) = Fetch(Package(), string.Empty, _port, sshConnection: $"127.0.0.1 50000 127.0.0.1 22");

        Assert.True(exit == 0, stderr);
        Assert.Equal(_signed, File.ReadAllBytes(Target));
    }

    [Fact]
    public void Should_Not_Fetch_Again_A_File_Already_In_Place()
    {
        // Given: the file is there, and the server would now serve other bytes
        File.WriteAllBytes(Target, _signed);
        _served = [1, 2, 3];

        // When
        var (exit, _, stderr) = Fetch(Package(), $"http://127.0.0.1:{_port}");

        // Then
        Assert.True(exit == 0, stderr);
        Assert.Equal(_signed, File.ReadAllBytes(Target));
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            if (context.Request.Url?.AbsolutePath == "/node_exporter-v1.5.0-linux-amd64.tar.gz")
            {
                context.Response.ContentLength64 = _served.Length;
                await context.Response.OutputStream.WriteAsync(_served);
            }
            else
            {
                context.Response.StatusCode = 404;
            }

            context.Response.Close();
        }
    }
}
