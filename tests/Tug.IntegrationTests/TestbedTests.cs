// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>The testbed behaves like real servers: sshd, systemd, its own network, faults on demand.</summary>
public sealed class TestbedTests(TestbedFixture testbed)
{
    [Fact]
    public async Task Should_Answer_Ssh_On_Every_Host_With_Distinct_Host_Keys_And_A_Running_Systemd()
    {
        var hosts = testbed.Inventory.Hosts;
        Assert.True(hosts.Length >= 3, $"expected at least 3 hosts, got {hosts.Length}");
        Assert.Equal(hosts.Length, hosts.Select(h => h.HostKeyFingerprint).Distinct().Count());
        foreach (var host in hosts)
        {
            var (exit, output) = await testbed.SshAsync(host.Name, "hostname; systemctl is-system-running || true");
            Assert.True(exit == 0, $"{host.Name}: {output}");
            Assert.Matches("running|degraded", output);
        }

        // Each host has its own filesystem: a file on one is not on another.
        await testbed.SshAsync(hosts[0].Name, "mkdir -p /srv/tug-isolation && touch /srv/tug-isolation/only-here");
        var (other, _) = await testbed.SshAsync(hosts[1].Name, "test -e /srv/tug-isolation/only-here");
        Assert.NotEqual(0, other);
    }

    [Fact]
    public async Task Should_Restart_A_Restart_Always_Unit_After_Kill_9()
    {
        // Given
        var host = testbed.Inventory.Hosts[0].Name;
        await testbed.SshAsync(host, "systemctl stop tug-probe.service 2>/dev/null; systemctl reset-failed tug-probe.service 2>/dev/null; true");
        var (started, log) = await testbed.SshAsync(host, "systemd-run --unit=tug-probe -p Restart=always -p RestartSec=200ms sleep 1000");
        Assert.True(started == 0, log);
        var before = (await testbed.SshAsync(host, "systemctl show -p MainPID --value tug-probe")).Output.Trim();

        // When
        await testbed.SshAsync(host, $"kill -9 {before}");
        var after = before;
        for (var i = 0; i < 50 && (after == before || after == "0"); i++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            after = (await testbed.SshAsync(host, "systemctl show -p MainPID --value tug-probe")).Output.Trim();
        }

        // Then
        Assert.NotEqual("0", before);
        Assert.NotEqual(before, after);
        Assert.NotEqual("0", after);
        Assert.Equal("active", (await testbed.SshAsync(host, "systemctl is-active tug-probe")).Output.Trim());
        await testbed.SshAsync(host, "systemctl stop tug-probe");
    }

    [Fact]
    public async Task Should_Make_A_Cut_Host_Unreachable_Until_Healed()
    {
        var host = testbed.Inventory.Hosts[^1].Name;
        try
        {
            var (cut, log) = await TestbedFixture.TestbedAsync($"fault {host} cut");
            Assert.True(cut == 0, log);
            var (unreachable, _) = await testbed.SshAsync(host, "true", timeoutSeconds: 2);
            Assert.NotEqual(0, unreachable);
        }
        finally
        {
            var (heal, log) = await TestbedFixture.TestbedAsync($"fault {host} heal");
            Assert.True(heal == 0, log);
        }

        var (back, output) = await testbed.SshAsync(host, "true");
        Assert.True(back == 0, output);
    }

    [Fact]
    public async Task Should_Present_A_New_Fingerprint_After_Rekey()
    {
        // Given
        var host = testbed.Inventory.Hosts[^1];
        var before = await ScanAsync(host.Address);
        Assert.Equal(host.HostKeyFingerprint, before);

        // When
        var (exit, log) = await TestbedFixture.TestbedAsync($"rekey {host.Name}");
        Assert.True(exit == 0, log);

        // Then the host presents a new key, and the inventory says so
        var after = await ScanAsync(host.Address);
        Assert.NotEqual(before, after);
        Assert.Equal(after, testbed.Reload()[host.Name].HostKeyFingerprint);
        Assert.Equal(0, (await testbed.SshAsync(host.Name, "true")).ExitCode);
    }

    private static async Task<string> ScanAsync(string address)
    {
        var (_, keys) = await Processes.RunAsync("ssh-keyscan", $"-t ed25519 -T 5 {address}");
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, keys, TestContext.Current.CancellationToken);
        var (_, fingerprint) = await Processes.RunAsync("ssh-keygen", $"-l -E sha256 -f {file}");
        File.Delete(file);
        return fingerprint.Split(' ', StringSplitOptions.RemoveEmptyEntries).First(p => p.StartsWith("SHA256:", StringComparison.Ordinal));
    }
}
