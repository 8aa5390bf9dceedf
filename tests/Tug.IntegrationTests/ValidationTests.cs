// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Diagnostics;
using System.Globalization;
using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>Issue 11, item 1, on the testbed: a topology with <c>deploy_dir: /usr</c> is refused before any host is contacted.</summary>
public sealed class ValidationTests(TestbedFixture testbed, PackagesFixture packages)
{
    [Fact]
    public async Task Should_Refuse_Deploy_Dir_Usr_Before_Any_Connection()
    {
        // Given real hosts, plus one address that swallows packets (TEST-NET-1): a connection attempt there would
        // hang for the whole --ssh-timeout (30 s)
        using var dir = new TempDirectory();
        var tug = await packages.MirrorAsync(dir, [("etcd", "3.4.23"), ("node_exporter", "1.1.2"), ("blackbox_exporter", "0.23.0")]);
        var h = testbed.Inventory.Hosts;
        var path = dir.Combine("topology.yaml");
        await File.WriteAllTextAsync(path, $"""
            {TestTopology.Global}
            etcd_servers:
              - host: 192.0.2.1
              - host: {h[0].Address}
                deploy_dir: /usr
              - host: {h[1].Address}
            """, TestContext.Current.CancellationToken);
        // Host clocks are this machine's clock (the hosts are containers), so the window is exact to the microsecond:
        // the test's own logins before (the mirror's setup) and after (reading the journals) stay outside it.
        var since = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

        // When deploy is run
        var clock = Stopwatch.StartNew();
        var result = await tug.RunAsync("cluster", "deploy", "v1", "v3.4.23", path, "-u", "root", "-i", testbed.Inventory.Key, "--ssh-timeout", "30", "-y");
        clock.Stop();
        var until = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

        // Then it is refused at the value, at once, with no cluster state, and no host saw a login in that window
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("topology.yaml:8:17: error[E1032]", result.Stderr, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}: a host was contacted");
        Assert.False(Directory.Exists(Path.Combine(tug.Home, "clusters", "v1")));
        foreach (var host in h.Take(2))
        {
            var log = await testbed.MustRunAsync(host.Name, string.Create(CultureInfo.InvariantCulture,
                $"journalctl --no-pager -o short-unix --since @{(long)since - 1} | grep -E 'Accepted|session opened' || true"));
            var during = log.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(line => double.TryParse(line.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var at) && at >= since && at <= until)
                .ToList();
            Assert.True(during.Count == 0, $"{host.Address} saw a login while deploy ran ({since:F3}..{until:F3}):\n{string.Join('\n', during)}");
        }
    }
}
