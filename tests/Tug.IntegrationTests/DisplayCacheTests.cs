// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.Json;
using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>
/// <c>display</c> hashes a running executable again only when its identity (boot, process start, device, inode, size,
/// mtime and ctime of the running and the deployed file) changed since it was last verified; <c>verify</c> always
/// hashes. Proven on the hosts: a <c>sha256sum</c> wrapper placed first on root's PATH logs every call the scripts make.
/// </summary>
public sealed class DisplayCacheTests(TestbedFixture testbed, PackagesFixture packages)
{
    private const string Calls = "/tmp/tug-sha256sum-calls";

    // Logs each call, then runs the real sha256sum: the witness changes nothing the scripts see.
    private const string Witness = $"""
        printf '%s\n' '#!/bin/sh' 'echo "$*" >> {Calls}' 'exec /usr/bin/sha256sum "$@"' > /usr/local/bin/sha256sum && chmod 755 /usr/local/bin/sha256sum && rm -f {Calls}
        """;

    [Fact]
    public async Task Should_Hash_Again_Only_What_Changed_While_Verify_Always_Hashes()
    {
        using var dir = new TempDirectory();
        var tug = await packages.MirrorAsync(dir, ("node_exporter", "1.1.2"), ("blackbox_exporter", "0.23.0"), ("alertmanager", "0.25.0"));
        var hosts = testbed.Inventory.Hosts.Take(2).ToList();
        var topology = dir.Combine("topology.yaml");
        await File.WriteAllTextAsync(topology, $"""
            {TestTopology.Global}
            monitored:
              node_exporter_version: v1.1.2
              blackbox_exporter_version: v0.23.0
            component_versions:
              alertmanager: v0.25.0
            alertmanager_servers:
            {string.Join("\n", hosts.Select(h => $"  - host: {h.Address}"))}
            """, TestContext.Current.CancellationToken);

        var deploy = await tug.RunAsync("cluster", "deploy", "cache", "v0.25.0", topology, "-u", "root", "-i", testbed.Inventory.Key, "-y");
        try
        {
            Assert.True(deploy.ExitCode == 0, deploy.ToString());
            foreach (var h in hosts)
            {
                await testbed.MustRunAsync(h.Name, Witness);
            }

            // The first display hashes every running executable
            var first = Instances(await DisplayAsync(tug));
            Assert.Equal(6, first.Count);
            Assert.All(first, i => Assert.Equal("hash", VerifiedBy(i)));
            Assert.True(await HashCallsAsync(hosts) >= 12, "the first display hashed nothing on the hosts");

            // The second hashes none: every identity is the one verified, and it says since when
            await ResetCallsAsync(hosts);
            var second = Instances(await DisplayAsync(tug));
            Assert.All(second, i => Assert.Equal("identity", VerifiedBy(i)));
            Assert.All(second, i => Assert.Equal(first.Single(f => Id(f) == Id(i)).GetProperty("verified_at").GetDateTimeOffset(), i.GetProperty("verified_at").GetDateTimeOffset()));
            Assert.Equal(0, await HashCallsAsync(hosts));
            var text = await tug.RunAsync("cluster", "display", "cache");
            Assert.True(text.ExitCode == 0, text.ToString());
            Assert.Contains(", unchanged since", text.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("hashed now", text.Stdout, StringComparison.Ordinal);

            // verify hashes everything again, whatever display remembered
            await ResetCallsAsync(hosts);
            var verify = await tug.RunAsync("cluster", "verify", "cache");
            Assert.True(verify.ExitCode == 0, verify.ToString());
            Assert.True(await HashCallsAsync(hosts) >= 12, "verify trusted what display remembered instead of hashing");

            // One deployed executable is replaced under its running process (a copy with a byte appended renamed over it;
            // the running file itself cannot be written): display hashes it again and reports the mismatch, the other
            // five still read as unchanged
            var target = first.Single(i => i.GetProperty("role").GetString() == "node_exporter" && i.GetProperty("host").GetString() == hosts[0].Address);
            await testbed.MustRunAsync(hosts[0].Name, "f=$(readlink -f /proc/$(systemctl show -p MainPID --value node_exporter-9100)/exe) && cp -p \"$f\" \"$f.new\" && printf x >> \"$f.new\" && mv \"$f.new\" \"$f\"");
            await ResetCallsAsync(hosts);
            var third = Instances(await DisplayAsync(tug));
            var changed = third.Single(i => Id(i) == Id(target));
            Assert.False(changed.GetProperty("verified").GetBoolean(), changed.ToString());
            Assert.Equal(JsonValueKind.Null, changed.GetProperty("verified_by").ValueKind);
            Assert.All(third.Where(i => Id(i) != Id(target)), i => Assert.Equal("identity", VerifiedBy(i)));
            Assert.True(await HashCallsAsync(hosts) >= 1, "display did not hash the changed executable");

            // ... and again on the next display: a mismatch is never remembered as verified
            Assert.False(Instances(await DisplayAsync(tug)).Single(i => Id(i) == Id(target)).GetProperty("verified").GetBoolean());
            var refused = await tug.RunAsync("cluster", "verify", "cache");
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains(Id(target), refused.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var h in hosts)
            {
                await testbed.SshAsync(h.Name, $"rm -f /usr/local/bin/sha256sum {Calls}");
            }

            await tug.RunAsync("cluster", "destroy", "cache", "-y", "--force");
        }
    }

    private static async Task<CliResult> DisplayAsync(CliRunner tug)
    {
        var display = await tug.RunAsync("cluster", "display", "cache", "--format", "json");
        Assert.True(display.ExitCode == 0, display.ToString());
        return display;
    }

    private static List<JsonElement> Instances(CliResult display)
    {
        using var json = JsonDocument.Parse(display.Stdout);
        return [.. json.RootElement.GetProperty("instances").EnumerateArray().Select(e => e.Clone())];
    }

    private static string Id(JsonElement instance) => instance.GetProperty("id").GetString()!;

    private static string? VerifiedBy(JsonElement instance) => instance.GetProperty("verified_by").GetString();

    private async Task ResetCallsAsync(IEnumerable<TestbedHost> hosts)
    {
        foreach (var h in hosts)
        {
            await testbed.MustRunAsync(h.Name, $"rm -f {Calls}");
        }
    }

    private async Task<int> HashCallsAsync(IEnumerable<TestbedHost> hosts)
    {
        var total = 0;
        foreach (var h in hosts)
        {
            total += int.Parse((await testbed.MustRunAsync(h.Name, $"cat {Calls} 2>/dev/null | wc -l")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }

        return total;
    }
}
