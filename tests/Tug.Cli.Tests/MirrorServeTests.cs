// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Net;
using System.Net.Sockets;
using System.Text;
using Tug.Mirror.Server;

namespace Tug.Cli.Tests;

/// <summary>
/// <c>tug mirror serve</c> serves the mirror's own files only: the manifests at the names clients request and the
/// tarballs they name. Never a symbolic link, never <c>keys/</c>, never <c>..</c> however spelt, never a stray file.
/// </summary>
public sealed class MirrorServeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Should_Serve_Every_Manifest_And_Listed_Tarball()
    {
        // Given
        await using var s = await MirrorScenario.CreateAsync();
        await using var server = await MirrorServer.StartAsync(s.Mirror, "127.0.0.1:0", null, Ct);
        var names = new[] { "root.json", "timestamp.json", "snapshot.json", "1.index.json", "1.hello.json", "2.hello.json", "hello-v1.0.0-linux-amd64.tar.gz", "hello-v1.1.0-linux-amd64.tar.gz" };

        // When
        var codes = new List<(string, HttpStatusCode)>();
        using var http = new HttpClient();
        foreach (var name in names)
        {
            codes.Add((name, (await http.GetAsync(new Uri($"{server.Address}/{name}"), Ct)).StatusCode));
        }

        // Then
        Assert.All(codes, c => Assert.True(c.Item2 == HttpStatusCode.OK, $"{c.Item1}: {c.Item2}"));
    }

    [Theory]
    [InlineData("keys/")]
    [InlineData("keys")]
    [InlineData("stray.txt")]
    [InlineData("stray.json")]
    [InlineData("99.hello.json")]
    [InlineData("hello-v9.9.9-linux-amd64.tar.gz")]
    [InlineData(".lock")]
    [InlineData("")]
    public async Task Should_Not_Serve_What_The_Manifests_Do_Not_Name(string path)
    {
        // Given: keys/ and stray files of every kind present in the mirror directory
        await using var s = await MirrorScenario.CreateAsync();
        foreach (var stray in new[] { "stray.txt", "stray.json", "99.hello.json", "hello-v9.9.9-linux-amd64.tar.gz", ".lock" })
        {
            await File.WriteAllTextAsync(Path.Combine(s.Mirror, stray), "{\"signed\":{}}", Ct);
        }

        var keyFile = Directory.GetFiles(Path.Combine(s.Mirror, "keys"), "*.json", SearchOption.AllDirectories)[0];
        await using var server = await MirrorServer.StartAsync(s.Mirror, "127.0.0.1:0", null, Ct);

        // When
        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri($"{server.Address}/{path}"), Ct);
        var key = await http.GetAsync(new Uri($"{server.Address}/keys/{Path.GetRelativePath(Path.Combine(s.Mirror, "keys"), keyFile)}"), Ct);

        // Then
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, key.StatusCode);
    }

    [Fact]
    public async Task Should_Not_Serve_A_Listed_Name_That_Is_A_Symbolic_Link_Out_Of_The_Mirror()
    {
        // Given: a tarball the manifest names replaced by a link to a file outside the mirror
        await using var s = await MirrorScenario.CreateAsync();
        var secret = s.Path("secret.txt");
        await File.WriteAllTextAsync(secret, "secret", Ct);
        var tarball = Path.Combine(s.Mirror, "hello-v1.0.0-linux-amd64.tar.gz");
        File.Delete(tarball);
        File.CreateSymbolicLink(tarball, secret);
        await using var server = await MirrorServer.StartAsync(s.Mirror, "127.0.0.1:0", null, Ct);

        // When
        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri($"{server.Address}/hello-v1.0.0-linux-amd64.tar.gz"), Ct);

        // Then
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null(MirrorServer.Servable(s.Mirror, "hello-v1.0.0-linux-amd64.tar.gz"));
    }

    [Fact]
    public async Task Should_Not_Serve_A_Manifest_Name_That_Is_A_Symbolic_Link()
    {
        await using var s = await MirrorScenario.CreateAsync();
        var timestamp = Path.Combine(s.Mirror, "timestamp.json");
        File.Move(timestamp, s.Path("elsewhere.json"));
        File.CreateSymbolicLink(timestamp, s.Path("elsewhere.json"));

        Assert.Null(MirrorServer.Servable(s.Mirror, "timestamp.json"));
        Assert.NotNull(MirrorServer.Servable(s.Mirror, "snapshot.json"));
    }

    [Theory]
    [InlineData("/../secret.txt")]
    [InlineData("/%2e%2e/secret.txt")]
    [InlineData("/%2E%2E%2Fsecret.txt")]
    [InlineData("/..%2fsecret.txt")]
    [InlineData("/keys%2f")]
    [InlineData("/.%2e/mirror/root.json")]
    public async Task Should_Not_Serve_Anything_Above_The_Mirror_However_Spelt(string raw)
    {
        // Given: a file beside the mirror directory
        await using var s = await MirrorScenario.CreateAsync();
        await File.WriteAllTextAsync(s.Path("secret.txt"), "secret", Ct);
        await using var server = await MirrorServer.StartAsync(s.Mirror, "127.0.0.1:0", null, Ct);
        var uri = new Uri(server.Address);

        // When: the request line sent as is (HttpClient would normalise it)
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port, Ct);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {raw} HTTP/1.1\r\nHost: {uri.Authority}\r\nConnection: close\r\n\r\n"), Ct);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var response = await reader.ReadToEndAsync(Ct);

        // Then
        Assert.DoesNotContain("secret", response, StringComparison.Ordinal);
        Assert.DoesNotContain("200 OK", response, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../secret.txt")]
    [InlineData("..")]
    [InlineData("keys/x.json")]
    [InlineData("a/../root.json")]
    [InlineData("%2e%2e")]
    [InlineData("root.json/")]
    public async Task Should_Refuse_A_Path_That_Is_Not_One_Plain_Name(string path)
    {
        await using var s = await MirrorScenario.CreateAsync();

        Assert.Null(MirrorServer.Servable(s.Mirror, path));
        Assert.NotNull(MirrorServer.Servable(s.Mirror, "root.json"));
    }
}
