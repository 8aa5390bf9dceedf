// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text;
using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>
/// <c>tug cluster rotatessh</c> on the testbed (issue 13 item 3), checked on the hosts, not in Tug's output: after a
/// rotation every host's <c>~tidb/.ssh/authorized_keys</c> (read as root) holds the new key and, on the host where
/// someone else's key was added, that line byte for byte; a real login with the old key is refused on every host and
/// one with the new key accepted. Then tug is SIGKILLed at every failpoint site of every step kind of the plan, each
/// time followed by <c>replay</c>: right after the kill the key this machine holds logs in on every host, and after
/// the replay the same end state holds and <c>display</c> works. Last, a host cut off during the rotation: exit 1,
/// the host named, nothing switched, the old key still logging in everywhere; after <c>heal</c>, replay finishes.
/// </summary>
public sealed class RotateSshTests(TestbedFixture testbed, PackagesFixture packages)
{
    private const string Cluster = "rotatessh";

    private static readonly string[] Kinds = ["ssh-keygen", "ssh-authorize", "ssh-switch", "ssh-retire", "ssh-cleanup"];

    private static readonly string[] Sites = ["before-action", "after-action", "after-record"];

    [Fact]
    public async Task Should_Leave_Only_The_New_Key_And_Unrelated_Lines_On_Every_Host_Through_Crashes_And_A_Cut_Host()
    {
        var cancel = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var tug = await packages.MirrorAsync(dir, ("node_exporter", "1.5.0"), ("blackbox_exporter", "0.23.0"), ("etcd", "3.4.23"));
        var hosts = testbed.Inventory.Hosts.Take(3).ToList();
        var topology = dir.Combine("topology.yaml");
        await File.WriteAllTextAsync(topology, TestTopology.EtcdWithAgents(hosts), cancel);
        var keyFile = Path.Combine(tug.Home, "clusters", Cluster, "ssh", "id_rsa");
        var failures = new List<string>();
        try
        {
            var deploy = await tug.RunAsync("cluster", "deploy", Cluster, "v3.4.23", topology, "-u", "root", "-i", testbed.Inventory.Key, "-y");
            Assert.True(deploy.ExitCode == 0, deploy.ToString());

            // Given: what each host's authorized_keys holds besides this cluster's key (other test classes' clusters
            // deployed as tidb on these hosts before; their lines are someone else's, and must stay as they are)
            var deployBlob = (await File.ReadAllTextAsync(keyFile + ".pub", cancel)).Split(' ')[1];
            var prior = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var h in hosts)
            {
                var lines = (await ReadKeysAsync(h)).Split('\n').SkipLast(1).Where(l => !l.Contains(deployBlob, StringComparison.Ordinal));
                prior[h.Name] = string.Concat(lines.Select(l => l + "\n"));
            }

            // Given: someone else's key (with options) and a comment in h1's authorized_keys, and the deploy key kept aside
            var alice = dir.Combine("alice");
            Assert.Equal(0, (await Processes.RunAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", string.Empty, "-C", "alice@laptop", "-f", alice])).ExitCode);
            var unrelated = "# alice's key, added by hand\n" + $"from=\"{testbed.Inventory.Hosts[0].Address.Split('.')[0]}.*\",no-pty {(await File.ReadAllTextAsync(alice + ".pub", cancel)).Trim()}\n";
            await testbed.MustRunAsync(hosts[0].Name, $"printf '%s' {Quote(unrelated)} >> /home/tidb/.ssh/authorized_keys");
            var deployKey = dir.Combine("deploy_id_rsa");
            File.Copy(keyFile, deployKey);
            File.SetUnixFileMode(deployKey, UnixFileMode.UserRead | UnixFileMode.UserWrite);

            // When
            var rotate = await tug.RunAsync("cluster", "rotatessh", Cluster, "-y");

            // Then
            Assert.True(rotate.ExitCode == 0, rotate.ToString());
            Assert.Empty(await EndStateProblemsAsync(hosts, prior, keyFile, unrelated, [deployKey], alice));
            Assert.Equal(["id_rsa", "id_rsa.pub"], Directory.GetFiles(Path.GetDirectoryName(keyFile)!).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            var display = await tug.RunAsync("cluster", "display", Cluster);
            Assert.True(display.ExitCode == 0, display.ToString());

            // Then the failpoint matrix: every site of every step kind of the plan, a SIGKILL there, then replay
            var cases = 0;
            foreach (var kind in Kinds)
            {
                foreach (var site in Sites)
                {
                    cases++;
                    var before = dir.Combine($"key-before-{cases}");
                    File.Copy(keyFile, before);
                    File.SetUnixFileMode(before, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                    var failpoint = $"{kind}:{site}=kill";
                    using (var killed = TugProcess.Start(tug, new Dictionary<string, string> { ["TUG_FAILPOINTS"] = failpoint }, "cluster", "rotatessh", Cluster, "-y"))
                    {
                        var exit = await killed.WaitAsync(TimeSpan.FromMinutes(3));
                        if (exit is not (137 or -1 or 9))
                        {
                            failures.Add($"{failpoint}: rotatessh was not killed (exit {exit}):\n{killed.Stdout}\n{killed.Stderr}");
                            continue;
                        }
                    }

                    // Right after the crash, the key this machine holds logs in on every host.
                    foreach (var h in hosts)
                    {
                        if (await LoginAsync(h, keyFile) is { } refused)
                        {
                            failures.Add($"{failpoint}: after the kill, the local key does not log in on {h.Name}: {refused}");
                        }
                    }

                    var replay = await tug.RunAsync("cluster", "replay", Cluster);
                    if (replay.ExitCode != 0)
                    {
                        failures.Add($"{failpoint}: replay failed: {replay}");
                        continue;
                    }

                    failures.AddRange((await EndStateProblemsAsync(hosts, prior, keyFile, unrelated, [deployKey, before], alice)).Select(p => $"{failpoint}: {p}"));
                    var shown = await tug.RunAsync("cluster", "display", Cluster);
                    if (shown.ExitCode != 0)
                    {
                        failures.Add($"{failpoint}: display after the replay: {shown}");
                    }
                }
            }

            Assert.Equal(15, cases);

            // Then a host cut off the network: the rotation fails there before the switch, and nothing switches
            var beforeCut = File.ReadAllBytes(keyFile);
            var oldKey = dir.Combine("key-before-cut");
            File.WriteAllBytes(oldKey, beforeCut);
            File.SetUnixFileMode(oldKey, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            await TestbedFixture.TestbedAsync($"fault {hosts[2].Name} cut");
            var cut = (await tug.RunAsync("cluster", "rotatessh", Cluster, "-y", "--ssh-timeout", "2")).WithoutAnsi();
            await TestbedFixture.TestbedAsync($"fault {hosts[2].Name} heal");
            Assert.True(cut.ExitCode == 1, cut.ToString());
            Assert.Contains($"{hosts[2].Address} (Unreachable)", cut.Stdout, StringComparison.Ordinal);
            Assert.Contains("nothing switched", cut.Stderr, StringComparison.Ordinal);
            Assert.Equal(beforeCut, File.ReadAllBytes(keyFile));
            foreach (var h in hosts)
            {
                Assert.Null(await LoginAsync(h, keyFile));
            }

            // After heal, replay finishes it with the same new key
            var pending = await File.ReadAllTextAsync(keyFile + ".new.pub", cancel);
            var finish = await tug.RunAsync("cluster", "replay", Cluster);
            Assert.True(finish.ExitCode == 0, finish.ToString());
            Assert.Equal(pending, await File.ReadAllTextAsync(keyFile + ".pub", cancel));
            Assert.Empty(await EndStateProblemsAsync(hosts, prior, keyFile, unrelated, [deployKey, oldKey], alice));
        }
        finally
        {
            await TestbedFixture.TestbedAsync($"fault {hosts[2].Name} heal");
            await tug.RunAsync("cluster", "destroy", Cluster, "-y", "--force");
        }

        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    /// <summary>
    /// What is wrong with the hosts after a rotation: each authorized_keys (read as root) must be exactly the lines it
    /// held besides the cluster's key, the unrelated lines (on the first host) and the cluster's current key; the current key logs in everywhere, every retired one
    /// is refused everywhere, and alice's key still logs in on the first host.
    /// </summary>
    private async Task<List<string>> EndStateProblemsAsync(List<TestbedHost> hosts, Dictionary<string, string> prior, string keyFile, string unrelated, IReadOnlyList<string> retired, string alice)
    {
        var problems = new List<string>();
        var current = (await File.ReadAllTextAsync(keyFile + ".pub")).Trim();
        foreach (var h in hosts)
        {
            var content = await ReadKeysAsync(h);
            var expected = prior[h.Name] + (h == hosts[0] ? unrelated : string.Empty) + current + "\n";
            if (content != expected)
            {
                problems.Add($"{h.Name}: authorized_keys is\n{content}\nnot\n{expected}");
            }

            if (await LoginAsync(h, keyFile) is { } refused)
            {
                problems.Add($"{h.Name}: the cluster's key does not log in: {refused}");
            }

            foreach (var old in retired)
            {
                if (await LoginAsync(h, old) is null)
                {
                    problems.Add($"{h.Name}: the retired key {Path.GetFileName(old)} still logs in");
                }
            }
        }

        if (await LoginAsync(hosts[0], alice) is { } aliceRefused)
        {
            problems.Add($"{hosts[0].Name}: alice's key no longer logs in: {aliceRefused}");
        }

        return problems;
    }

    /// <summary>The bytes of tidb's authorized_keys on <paramref name="host"/>, read as root.</summary>
    private async Task<string> ReadKeysAsync(TestbedHost host)
    {
        var b64 = (await testbed.MustRunAsync(host.Name, "base64 -w0 /home/tidb/.ssh/authorized_keys")).Trim();
        return Encoding.Latin1.GetString(Convert.FromBase64String(b64));
    }

    /// <summary>A real login as tidb with this key only (no agent, no other identity); null when it ran <c>true</c>, else what ssh said.</summary>
    private static async Task<string?> LoginAsync(TestbedHost host, string key)
    {
        var (exit, output) = await Processes.RunAsync("ssh", ["-F", "/dev/null", "-i", key, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-p", host.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            $"tidb@{host.Address}", "true"]);
        return exit == 0 ? null : $"exit {exit}: {output.Trim()}";
    }

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
