// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Security.Cryptography;
using Tug.Mirror.Manifests;
using Tug.Mirror.Publishing;
using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>
/// Issue 11 item 3 on the testbed: a package with a device node, and one with a <c>../</c> member, are refused by
/// publish and, planted validly signed in the mirror (publish bypassed: the mirror's own keys sign the manifests),
/// are refused by the host before anything is unpacked; no device node appears on the host.
/// </summary>
public sealed class PlantedPackageTests(TestbedFixture testbed, PackagesFixture packages)
{
    [Theory]
    [InlineData("char-device", "v1.9.1")]
    [InlineData("dot-dot", "v1.9.2")]
    public async Task Should_Refuse_A_Planted_Package_On_The_Host(string badCase, string version)
    {
        using var dir = new TempDirectory();
        var tug = await packages.MirrorAsync(dir, ("node_exporter", "1.9.0"), ("blackbox_exporter", "0.23.0"), ("etcd", "3.4.23"));
        var tarball = BadPackages.Write(dir.Combine($"{badCase}.tar.gz"), badCase);

        // Publish refuses it
        var publish = await tug.RunAsync("mirror", "publish", "node_exporter", version, tarball, BadPackages.Entry, "--os", "linux", "--arch", "amd64");
        Assert.True(publish.ExitCode == 2, publish.ToString());
        Assert.Contains(BadPackages.Cases[badCase].Member, publish.Stderr, StringComparison.Ordinal);

        // Planted, validly signed
        var bytes = await File.ReadAllBytesAsync(tarball, TestContext.Current.CancellationToken);
        var hashes = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
        {
            ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes)),
            ["sha512"] = Convert.ToHexStringLower(SHA512.HashData(bytes)),
        });
        var mirror = await LocalMirror.OpenAsync(dir.Combine("mirror"), TimeProvider.System, TestContext.Current.CancellationToken);
        var ring = new KeyRing();
        ring.AddDirectory(Path.Combine(dir.Path, "home", "keys"));
        await mirror.AddVersionsAsync(
            [("node_exporter", "node_exporter", false, false, [("linux/amd64", version, new VersionItem(null, BadPackages.Entry, hashes, (ulong)bytes.Length, string.Empty, string.Empty, false), tarball)])],
            ring, "planted", TestContext.Current.CancellationToken);
        Assert.True((await tug.RunAsync("mirror", "verify")).ExitCode == 0);

        // Deploy with it: the host refuses it before unpacking
        var host = testbed.Inventory.Hosts[0];
        var topology = dir.Combine("topology.yaml");
        await File.WriteAllTextAsync(topology, $"""
            {TestTopology.Global}
            monitored:
              node_exporter_version: {version}
              blackbox_exporter_version: v0.23.0
            etcd_servers:
              - host: {host.Address}
            """, TestContext.Current.CancellationToken);
        var deploy = await tug.RunAsync("cluster", "deploy", "planted", "v3.4.23", topology, "-u", "root", "-i", testbed.Inventory.Key, "-y");
        try
        {
            Assert.NotEqual(0, deploy.ExitCode);
            Assert.Contains("refused on the host, nothing was unpacked", deploy.All, StringComparison.Ordinal);
            var (_, found) = await testbed.SshAsync(host.Name, "find / -xdev \\( -type c -name disk -o -name tug-escaped \\) 2>/dev/null; ls -d /tidb-deploy/node_exporter-9100/bin/pkg-v1 2>&1 || true");
            Assert.DoesNotContain("/disk", found, StringComparison.Ordinal);
            Assert.DoesNotContain("tug-escaped", found, StringComparison.Ordinal);
            Assert.Contains("No such file", found, StringComparison.Ordinal);
        }
        finally
        {
            await tug.RunAsync("cluster", "destroy", "planted", "-y", "--force");
        }
    }
}
