// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;
using Tug.Core.Execution;
using Tug.Core.Remote;
using Tug.Testing;

namespace Tug.Core.Tests.Execution;

/// <summary>
/// The order in which <see cref="PackageDelivery"/> tries the ways a package reaches a host, against a fake host whose
/// fetch script answers with the exit codes <c>fetch.sh</c> uses (41 hash differs, 46 unreachable, 47 not served).
/// The fetch script itself runs for real in <see cref="Remote.FetchScriptTests"/>; the whole path on the testbed.
/// </summary>
public sealed class PackageDeliveryTests : IDisposable
{
    private readonly string _file = Path.GetTempFileName();

    public void Dispose() => File.Delete(_file);

    private ResolvedPackage Package(string mirrorPath = "node_exporter-v1.5.0-linux-amd64.tar.gz") =>
        new("node_exporter", "v1.5.0", "linux/amd64", _file, "node_exporter", new string('a', 64), new string('b', 64)) { MirrorPath = mirrorPath };

    private static FakeRemoteHost Host(int fetchExit, string from = "") => new FakeRemoteHost("h1").On(
        s => s.Contains("fetch", StringComparison.Ordinal) && s.Contains(from, StringComparison.Ordinal),
        new CommandResult(fetchExit, string.Empty, $"fetch exit {fetchExit}"));

    private static Reach Reach => new(new FakeRemoteConnector(), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), 4);

    [Fact]
    public async Task Should_Pull_From_The_Host_Mirror_And_Upload_Nothing()
    {
        // Given
        var host = Host(0);
        await using var delivery = new PackageDelivery(new DeliveryOptions(DeliveryMode.Auto, "http://10.0.0.9:8080"), new FakeServer(), Reach);

        // When
        var how = await delivery.DeliverAsync(host, Package(), TestContext.Current.CancellationToken);

        // Then
        Assert.StartsWith("pulled from http://10.0.0.9:8080", how, StringComparison.Ordinal);
        Assert.Empty(host.Uploads);
        Assert.Contains("base='http://10.0.0.9:8080'", host.Scripts.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Fall_Back_To_Upload_When_Pull_Fails_To_Reach_And_The_Transport_Cannot_Forward()
    {
        // Given: the fake host cannot forward (the interface's default)
        var host = Host(46);
        await using var delivery = new PackageDelivery(new DeliveryOptions(DeliveryMode.Auto, "http://10.0.0.9:8080"), new FakeServer(), Reach);

        // When
        var how = await delivery.DeliverAsync(host, Package(), TestContext.Current.CancellationToken);

        // Then
        Assert.StartsWith("uploaded over SSH (pull from http://10.0.0.9:8080: fetch exit 46; forward: the SSH transport in use cannot forward", how, StringComparison.Ordinal);
        Assert.Equal(HostScripts.PackageUploadPath(Package()), host.Uploads.Single().RemotePath);
    }

    [Fact]
    public async Task Should_Refuse_A_Pulled_File_Whose_Hash_Differs_And_Never_Fall_Back()
    {
        // Given
        var host = Host(41);
        await using var delivery = new PackageDelivery(new DeliveryOptions(DeliveryMode.Auto, "http://10.0.0.9:8080"), new FakeServer(), Reach);

        // When
        var error = await Assert.ThrowsAsync<ClusterException>(() => delivery.DeliverAsync(host, Package(), TestContext.Current.CancellationToken));

        // Then
        Assert.Contains("fetch exit 41", error.Message, StringComparison.Ordinal);
        Assert.Empty(host.Uploads);
        Assert.Single(host.Scripts);
    }

    [Fact]
    public async Task Should_Fail_A_Forced_Pull_That_Cannot_Reach_Naming_The_Address()
    {
        // Given
        var host = Host(46);
        await using var delivery = new PackageDelivery(new DeliveryOptions(DeliveryMode.Pull, "http://10.0.0.9:8080"), new FakeServer(), Reach);

        // When
        var error = await Assert.ThrowsAsync<ClusterException>(() => delivery.DeliverAsync(host, Package(), TestContext.Current.CancellationToken));

        // Then
        Assert.Contains("--delivery pull", error.Message, StringComparison.Ordinal);
        Assert.Contains("http://10.0.0.9:8080", error.Message, StringComparison.Ordinal);
        Assert.Empty(host.Uploads);
    }

    [Fact]
    public async Task Should_Serve_From_This_Machine_When_No_Host_Mirror_Is_Given()
    {
        // Given
        var host = Host(0);
        var server = new FakeServer();
        await using var delivery = new PackageDelivery(DeliveryOptions.Default, server, Reach);

        // When
        var how = await delivery.DeliverAsync(host, Package(), TestContext.Current.CancellationToken);

        // Then: the host fetches from the port of the server, which serves the verified file under its mirror name
        Assert.StartsWith("pulled from this machine's package server (port 4711)", how, StringComparison.Ordinal);
        Assert.Contains("port='4711'", host.Scripts.Single(), StringComparison.Ordinal);
        Assert.Equal(_file, server.Files["node_exporter-v1.5.0-linux-amd64.tar.gz"]);
    }

    [Fact]
    public async Task Should_Upload_A_Package_No_Mirror_Holds_And_Every_Package_With_Delivery_Upload()
    {
        // Given
        var host = Host(0);
        await using var auto = new PackageDelivery(DeliveryOptions.Default, new FakeServer(), Reach);
        await using var upload = new PackageDelivery(new DeliveryOptions(DeliveryMode.Upload, "http://10.0.0.9:8080"), new FakeServer(), Reach);

        // When
        var patch = await auto.DeliverAsync(host, Package(mirrorPath: string.Empty), TestContext.Current.CancellationToken);
        var forced = await upload.DeliverAsync(host, Package(), TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("uploaded over SSH", patch);
        Assert.Equal("uploaded over SSH", forced);
        Assert.Empty(host.Scripts);
        Assert.Equal(2, host.Uploads.Length);
    }

    private sealed class FakeServer : IPackageServer, IServedPackages
    {
        public Dictionary<string, string> Files { get; } = new(StringComparer.Ordinal);

        public int Port => 4711;

        public Task<IServedPackages> StartAsync(CancellationToken cancellationToken) => Task.FromResult<IServedPackages>(this);

        public void Add(string name, string file) => Files[name] = file;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
