// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Diagnostics;
using System.Net.Sockets;
using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>
/// Every way a package reaches a host, on the testbed, each proven by what the hosts then run: pulled from the
/// package server the operation starts on this machine (deploy), pulled from a static HTTP copy of the mirror given
/// with <c>--host-mirror</c> (Python's http.server), through a port forwarded over SSH, uploaded, and the fallback
/// from pull to forward when the hosts cannot reach the address. A tampered tarball served as the host mirror is
/// refused on the host: the upgrade stops naming it and nothing switched.
/// </summary>
public sealed class DeliveryTests(TestbedFixture testbed, PackagesFixture packages)
{
    private const string NodeExporter = "node_exporter-9100";

    [Fact]
    public async Task Should_Deliver_By_Every_Path_And_Refuse_A_Tampered_Pull()
    {
        using var dir = new TempDirectory();
        var tug = await packages.MirrorAsync(dir, ("node_exporter", "1.1.2"), ("node_exporter", "1.5.0"), ("node_exporter", "1.9.0"), ("blackbox_exporter", "0.23.0"), ("alertmanager", "0.25.0"));
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
        var gateway = testbed.Inventory.Gateway;
        Assert.False(string.IsNullOrEmpty(gateway), "the testbed inventory names no gateway");

        // A static HTTP copy of the mirror, and one whose node_exporter 1.9.0 tarball is tampered with
        var tampered = dir.Combine("tampered");
        Directory.CreateDirectory(tampered);
        const string ne190 = "node_exporter-v1.9.0-linux-amd64.tar.gz";
        var bytes = await File.ReadAllBytesAsync(dir.Combine("mirror", ne190), TestContext.Current.CancellationToken);
        bytes[bytes.Length / 2] ^= 0x5a;
        await File.WriteAllBytesAsync(Path.Combine(tampered, ne190), bytes, TestContext.Current.CancellationToken);
        using var mirror = await StaticServer.StartAsync(dir.Combine("mirror"), gateway);
        using var bad = await StaticServer.StartAsync(tampered, gateway);

        var deploy = await tug.RunAsync("cluster", "deploy", "ship", "v0.25.0", topology, "-u", "root", "-i", testbed.Inventory.Key, "-y");
        try
        {
            // Deploy: the hosts pulled from the package server this command ran
            Assert.True(deploy.ExitCode == 0, deploy.ToString());
            Assert.Contains("packages: each host pulls from this machine's package server", deploy.Stderr, StringComparison.Ordinal);
            Assert.Contains("pulled from this machine's package server", deploy.All, StringComparison.Ordinal);
            Assert.DoesNotContain("uploaded over SSH", deploy.All, StringComparison.Ordinal);
            await AssertRunsAsync(hosts, "1.1.2");

            // --host-mirror: pulled from the static copy
            await ForgetDeliveredAsync(hosts);
            var pulled = await tug.RunAsync("cluster", "upgrade", "ship", "--node-exporter-version", "v1.5.0", "-y", "--host-mirror", mirror.Url);
            Assert.True(pulled.ExitCode == 0, pulled.ToString());
            Assert.Contains($"pulled from {mirror.Url}", pulled.All, StringComparison.Ordinal);
            Assert.Equal(2, mirror.Requests(ne: "node_exporter-v1.5.0-linux-amd64.tar.gz"));
            await AssertRunsAsync(hosts, "1.5.0");

            // A tampered tarball: refused on the host, the upgrade stops naming it, nothing switched
            await ForgetDeliveredAsync(hosts);
            var pids = await PidsAsync(hosts);
            var refused = await tug.RunAsync("cluster", "upgrade", "ship", "--node-exporter-version", "v1.9.0", "-y", "--host-mirror", bad.Url);
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("node_exporter v1.9.0 (linux/amd64)", refused.All, StringComparison.Ordinal);
            Assert.Contains("refused on the host, nothing was unpacked", refused.All, StringComparison.Ordinal);
            Assert.Equal(pids, await PidsAsync(hosts));
            await AssertRunsAsync(hosts, "1.5.0");
            foreach (var h in hosts)
            {
                var left = await testbed.SshAsync(h.Name, $"ls /tmp/tug-pkg-* /tidb-deploy/node_exporter-9100/bin/.tug-stage-node_exporter-v1.9.0 2>/dev/null | grep -c . || true");
                Assert.Equal("0", left.Output.Trim());
            }

            var verify = await tug.RunAsync("cluster", "verify", "ship");
            Assert.True(verify.ExitCode == 0, verify.ToString());

            // --delivery forward: through a port forwarded over each host's SSH connection
            await ForgetDeliveredAsync(hosts);
            var forwarded = await tug.RunAsync("cluster", "upgrade", "ship", "--node-exporter-version", "v1.9.0", "-y", "--delivery", "forward");
            Assert.True(forwarded.ExitCode == 0, forwarded.ToString());
            Assert.Contains("pulled through a port forwarded over SSH", forwarded.All, StringComparison.Ordinal);
            await AssertRunsAsync(hosts, "1.9.0");

            // --delivery upload
            await ForgetDeliveredAsync(hosts);
            var uploaded = await tug.RunAsync("cluster", "upgrade", "ship", "--node-exporter-version", "v1.5.0", "-y", "--delivery", "upload");
            Assert.True(uploaded.ExitCode == 0, uploaded.ToString());
            Assert.Contains("uploaded over SSH", uploaded.All, StringComparison.Ordinal);
            Assert.DoesNotContain("pulled", uploaded.All, StringComparison.Ordinal);
            await AssertRunsAsync(hosts, "1.5.0");

            // A host mirror the hosts cannot reach (their own loopback, nothing listening): auto falls back to forward
            await ForgetDeliveredAsync(hosts);
            var fallback = await tug.RunAsync("cluster", "upgrade", "ship", "--node-exporter-version", "v1.9.0", "-y", "--host-mirror", "http://127.0.0.1:1");
            Assert.True(fallback.ExitCode == 0, fallback.ToString());
            Assert.Contains("pulled through a port forwarded over SSH", fallback.All, StringComparison.Ordinal);
            Assert.DoesNotContain("uploaded over SSH", fallback.All, StringComparison.Ordinal);
            await AssertRunsAsync(hosts, "1.9.0");

            // ... and --delivery pull there fails, naming the address, with nothing switched
            await ForgetDeliveredAsync(hosts);
            pids = await PidsAsync(hosts);
            var strict = await tug.RunAsync("cluster", "upgrade", "ship", "--node-exporter-version", "v1.5.0", "-y", "--host-mirror", "http://127.0.0.1:1", "--delivery", "pull");
            Assert.Equal(1, strict.ExitCode);
            Assert.Contains("--delivery pull", strict.All, StringComparison.Ordinal);
            Assert.Equal(pids, await PidsAsync(hosts));
            verify = await tug.RunAsync("cluster", "verify", "ship");
            Assert.True(verify.ExitCode == 0, verify.ToString());
        }
        finally
        {
            await tug.RunAsync("cluster", "destroy", "ship", "-y", "--force");
        }
    }

    private async Task AssertRunsAsync(IEnumerable<TestbedHost> hosts, string version)
    {
        foreach (var h in hosts)
        {
            var running = await testbed.MustRunAsync(h.Name, $"/proc/$(systemctl show -p MainPID --value {NodeExporter})/exe --version 2>&1 | head -1");
            Assert.Contains($"version {version}", running, StringComparison.Ordinal);
        }
    }

    private async Task<List<string>> PidsAsync(IEnumerable<TestbedHost> hosts)
    {
        var pids = new List<string>();
        foreach (var h in hosts)
        {
            pids.Add(await testbed.MustRunAsync(h.Name, $"systemctl show -p MainPID --value {NodeExporter}"));
        }

        return pids;
    }

    /// <summary>Removes delivered tarballs from the hosts, so the next operation must deliver again.</summary>
    private async Task ForgetDeliveredAsync(IEnumerable<TestbedHost> hosts)
    {
        foreach (var h in hosts)
        {
            await testbed.MustRunAsync(h.Name, "rm -f /tmp/tug-pkg-*; echo ok");
        }
    }

    /// <summary>Python's http.server on the gateway address: a static copy of a directory, as any web server would serve it; it logs each request.</summary>
    private sealed class StaticServer : IDisposable
    {
        private readonly Process _process;
        private readonly List<string> _log = [];

        private StaticServer(Process process, string url)
        {
            _process = process;
            Url = url;
            process.ErrorDataReceived += (_, e) =>
            {
                lock (_log)
                {
                    if (e.Data is { } line)
                    {
                        _log.Add(line);
                    }
                }
            };
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
        }

        public string Url { get; }

        public int Requests(string ne)
        {
            lock (_log)
            {
                return _log.Count(l => l.Contains($"GET /{ne} ", StringComparison.Ordinal) && l.Contains(" 200 ", StringComparison.Ordinal));
            }
        }

        public static async Task<StaticServer> StartAsync(string directory, string address)
        {
            using var probe = new TcpListener(System.Net.IPAddress.Parse(address), 0);
            probe.Start();
            var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var info = new ProcessStartInfo("python3", ["-u", "-m", "http.server", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", address, "--directory", directory])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            var server = new StaticServer(Process.Start(info)!, $"http://{address}:{port}");
            for (var i = 0; i < 100; i++)
            {
                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync(address, port);
                    return server;
                }
                catch (SocketException)
                {
                    await Task.Delay(100);
                }
            }

            server.Dispose();
            throw new InvalidOperationException($"python3 -m http.server did not listen on {address}:{port}");
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }

            _process.Dispose();
        }
    }
}
