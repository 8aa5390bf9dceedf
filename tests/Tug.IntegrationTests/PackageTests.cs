// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>Upstream-style tarballs built from Debian's archive run on the hosts and publish without repacking.</summary>
public sealed class PackageTests(TestbedFixture testbed, PackagesFixture packages)
{
    [Theory]
    [InlineData("1.1.2")]
    [InlineData("1.5.0")]
    [InlineData("1.9.0")]
    public async Task Should_Run_Each_Node_Exporter_Tarball_On_A_Host(string version)
    {
        var package = packages.Find("node_exporter", version);
        var host = testbed.Inventory.Hosts[0].Name;
        var remote = $"/tmp/ne-{version}";
        Assert.Equal(0, (await testbed.SshAsync(host, $"rm -rf {remote} && mkdir -p {remote}")).ExitCode);
        var (copied, log) = await testbed.CopyToAsync(host, package.File, $"{remote}/p.tar.gz");
        Assert.True(copied == 0, log);

        var (exit, output) = await testbed.SshAsync(host, $"cd {remote} && tar xzf p.tar.gz && ./{package.Entry} --version 2>&1");

        Assert.True(exit == 0, output);
        Assert.Contains($"version {version}", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Publish_The_Upstream_Node_Exporter_Tarball_As_Is_And_Refuse_A_Wrong_Entry()
    {
        // Given an operator's mirror and the upstream tarball with its top-level directory
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);
        var mirror = dir.Combine("mirror");
        await TestMirror.InitAsync(tug, mirror);
        var package = packages.Find("node_exporter", "1.9.0");
        Assert.Equal("node_exporter-1.9.0.linux-amd64/node_exporter", package.Entry);
        Assert.EndsWith("node_exporter-1.9.0.linux-amd64.tar.gz", package.File, StringComparison.Ordinal);

        // When
        var wrong = await tug.RunAsync("mirror", "publish", "node_exporter", "v1.9.0", package.File, "node_exporter/node_exporter", "--os", "linux", "--arch", "amd64");
        var published = await tug.RunAsync("mirror", "publish", "node_exporter", "v1.9.0", package.File, package.Entry, "--os", "linux", "--arch", "amd64");
        var verify = await tug.RunAsync("mirror", "verify");
        var oracle = await GoOracle.RunAsync($"check {mirror}");

        // Then
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("Did you mean 'node_exporter-1.9.0.linux-amd64/node_exporter'", wrong.Stderr, StringComparison.Ordinal);
        Assert.True(published.ExitCode == 0, published.ToString());
        Assert.True(verify.ExitCode == 0, verify.ToString());
        Assert.Contains("node_exporter-v1.9.0-linux-amd64.tar.gz", verify.Stdout, StringComparison.Ordinal);
        Assert.True(oracle.ExitCode == 0, oracle.Output);
    }
}
