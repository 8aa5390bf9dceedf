// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;
using System.Text;
using Tug.Mirror.Crypto;
using Tug.Mirror.Manifests;

namespace Tug.Cli.Tests;

/// <summary>The eight TUF attacks, each refused through the CLI with a message naming the file and what to do.</summary>
public sealed class MirrorAttackTests
{
    private static void AssertRefused(Testing.CliResult result, int exitCode, string code, string file)
    {
        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.Contains($"error[{code}]", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(file, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("hint:", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Refuse_A_Tampered_Tarball()
    {
        // Given
        await using var s = await MirrorScenario.CreateAsync();
        var tarball = Path.Combine(s.Mirror, "hello-v1.1.0-linux-amd64.tar.gz");
        var bytes = await File.ReadAllBytesAsync(tarball, TestContext.Current.CancellationToken);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(tarball, bytes, TestContext.Current.CancellationToken);

        // When
        var verify = await s.Tug.RunAsync("mirror", "verify");
        var download = await s.Tug.RunAsync("mirror", "download", "hello:v1.1.0");

        // Then
        AssertRefused(verify, 1, "E2108", "hello-v1.1.0-linux-amd64.tar.gz");
        AssertRefused(download, 2, "E2108", "hello-v1.1.0-linux-amd64.tar.gz");
        Assert.False(File.Exists(Path.Combine(s.Tug.Home, "packages", "hello-v1.1.0-linux-amd64.tar.gz")));
    }

    [Fact]
    public async Task Should_Refuse_A_Tampered_Manifest()
    {
        await using var s = await MirrorScenario.CreateAsync();
        var manifest = Path.Combine(s.Mirror, "2.hello.json");
        var text = await File.ReadAllTextAsync(manifest, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(manifest, text.Replace("test component", "evil component", StringComparison.Ordinal), TestContext.Current.CancellationToken);

        var result = await s.Tug.RunAsync("list", "hello");

        AssertRefused(result, 2, "E2101", "2.hello.json");
        Assert.Contains("changed after it was signed", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Refuse_A_Signature_By_An_Unknown_Key()
    {
        // Given a component manifest re-signed by a key the index does not name for its owner
        await using var s = await MirrorScenario.CreateAsync();
        var manifestPath = Path.Combine(s.Mirror, "2.hello.json");
        var manifest = Manifest.ParseComponent(await File.ReadAllBytesAsync(manifestPath, TestContext.Current.CancellationToken), "2.hello.json");
        await File.WriteAllBytesAsync(manifestPath, Manifest.Sign(manifest.Signed, [KeyInfo.Generate()]), TestContext.Current.CancellationToken);

        // When
        var result = await s.Tug.RunAsync("list", "hello");

        // Then
        AssertRefused(result, 2, "E2102", "2.hello.json");
        Assert.Contains("0 valid signature(s)", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("not trusted", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Refuse_A_Root_With_Fewer_Signatures_Than_Its_Threshold()
    {
        // Given a new root (threshold 3) that carries only two of its three signatures
        await using var s = await MirrorScenario.CreateAsync(publish: false);
        await s.Tug.SucceedAsync("mirror", "renew", "root", "--days", "400");
        var path = Path.Combine(s.Mirror, "2.root.json");
        var root = Manifest.ParseRoot(await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken), "2.root.json");
        var envelope = Manifest.Envelope(root.Signatures.RemoveAt(0), root.Signed.ToJson());
        await File.WriteAllBytesAsync(path, envelope, TestContext.Current.CancellationToken);

        // When
        var result = await s.Tug.RunAsync("list");

        // Then
        AssertRefused(result, 2, "E2102", "2.root.json");
        Assert.Contains("2 valid signature(s)", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("needs 3", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Refuse_Metadata_Older_Than_What_This_Machine_Trusts()
    {
        // Given the client has seen the mirror after a publish
        await using var s = await MirrorScenario.CreateAsync();
        var oldTimestamp = await File.ReadAllBytesAsync(Path.Combine(s.Mirror, "timestamp.json"), TestContext.Current.CancellationToken);
        var oldSnapshot = await File.ReadAllBytesAsync(Path.Combine(s.Mirror, "snapshot.json"), TestContext.Current.CancellationToken);
        await s.PublishHelloAsync("v1.2.0");
        await s.Tug.SucceedAsync("list", "hello");

        // When the mirror serves the previous (validly signed) timestamp and snapshot again
        await File.WriteAllBytesAsync(Path.Combine(s.Mirror, "timestamp.json"), oldTimestamp, TestContext.Current.CancellationToken);
        await File.WriteAllBytesAsync(Path.Combine(s.Mirror, "snapshot.json"), oldSnapshot, TestContext.Current.CancellationToken);
        var list = await s.Tug.RunAsync("list", "hello");
        var verify = await s.Tug.RunAsync("mirror", "verify");

        // Then
        AssertRefused(list, 2, "E2105", "timestamp.json");
        Assert.Contains("lower than version", list.Stderr, StringComparison.Ordinal);
        AssertRefused(verify, 1, "E2105", "timestamp.json");
    }

    [Fact]
    public async Task Should_Refuse_Expired_Metadata()
    {
        await using var s = await MirrorScenario.CreateAsync();
        var later = TimeProvider.System.GetUtcNow().AddDays(40).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

        var result = await s.Tug.RunAsync("mirror", "verify", "--at", later);

        AssertRefused(result, 1, "E2104", "timestamp.json");
        Assert.Contains("tug mirror renew timestamp", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Refuse_A_Manifest_That_Disagrees_With_The_Snapshot()
    {
        // Given the validly signed version 1 of a manifest served where the snapshot names version 2
        await using var s = await MirrorScenario.CreateAsync();
        File.Copy(Path.Combine(s.Mirror, "1.hello.json"), Path.Combine(s.Mirror, "2.hello.json"), overwrite: true);

        var result = await s.Tug.RunAsync("list", "hello");

        AssertRefused(result, 2, "E2106", "2.hello.json");
        Assert.Contains("snapshot.json says version 2", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Refuse_Files_Longer_Than_Declared()
    {
        // Given a tarball and a snapshot that grew past the length their signed parents declare
        await using var s = await MirrorScenario.CreateAsync();
        await using (var tarball = File.Open(Path.Combine(s.Mirror, "hello-v1.1.0-linux-amd64.tar.gz"), FileMode.Append))
        {
            await tarball.WriteAsync(new byte[4 << 20], TestContext.Current.CancellationToken);
        }

        var download = await s.Tug.RunAsync("mirror", "download", "hello:v1.1.0");
        await File.AppendAllTextAsync(Path.Combine(s.Mirror, "snapshot.json"), new string(' ', 100_000), Encoding.ASCII, TestContext.Current.CancellationToken);
        var list = await s.Tug.RunAsync("list");

        AssertRefused(download, 2, "E2107", "hello-v1.1.0-linux-amd64.tar.gz");
        AssertRefused(list, 2, "E2107", "snapshot.json");
        Assert.Contains("endless-data", list.Stderr, StringComparison.Ordinal);
    }
}
