// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Remote;
using Tug.Core.Topology;
using Tug.Ssh;
using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>
/// Issue 11 item 2 on a real host: every operational script Tug sends, rendered for instances whose every string field
/// holds a quote, a double quote, <c>;</c>, <c>$(touch /tmp/x)</c>, a backtick and a newline (the validator bypassed),
/// runs as root on a testbed host, and <c>/tmp/x</c> never appears. The instances' units are masked at runtime first
/// (a mask in /run wins over the unit the install script writes to /etc), so the TiUP-identical run scripts, which rely
/// on validation rather than quoting, never run. A naive script built by string concatenation is the control: it does
/// create the marker, so the check can fail.
/// </summary>
public sealed class HostileScriptTests(TestbedFixture testbed)
{
    private const string Root = "/opt/tug-hostile";

    private sealed class Pins : IHostKeyPins
    {
        public string? Get(string endpointKey) => null;

        public void Pin(string endpointKey, string fingerprint)
        {
        }
    }

    [Fact]
    public async Task Should_Run_Every_Operational_Script_With_Hostile_Values_As_Root_And_Execute_None_Of_Them()
    {
        // Given
        var cancel = TestContext.Current.CancellationToken;
        var hosts = testbed.Inventory.Hosts;
        var yaml = $"""
            global:
              user: tidb
              deploy_dir: {Root}/deploy
              data_dir: {Root}/data
            monitored:
              node_exporter_port: 19100
              blackbox_exporter_port: 19115
            etcd_servers:
              - host: {hosts[0].Address}
                client_port: 23790
                peer_port: 23800
              - host: {hosts[1].Address}
                client_port: 23790
                peer_port: 23800
            """;
        var topology = TopologyLoader.Parse(yaml, "hostile.yaml");
        topology = topology.ManageHosts.Aggregate(topology, (t, h) => t.WithPlatform(h, "Linux", "x86_64"));
        // Twice: every field hostile (the user too, so the scripts stop where they need it), then with a real user
        // ("nobody") so that they go on to create and write the hostile paths.
        var runs = new[] { ("hostile user", HostileScripts.For(topology, hosts[0].Address, Root, TimeSpan.FromSeconds(3))),
            ("user nobody", HostileScripts.For(topology, hosts[0].Address, Root, TimeSpan.FromSeconds(3), "nobody")) };
        var units = topology.Instances.Where(i => i.ManageHost == hosts[0].Address).Select(i => i.UnitName).ToList();
        var host = hosts[0];
        await using var remote = await new SshNetConnector().ConnectAsync(new RemoteEndpoint(host.Address, host.Port, host.User),
            new KeyFileCredential(host.Key), new Pins(), TimeSpan.FromSeconds(10), cancel);
        async Task<CommandResult> Root_(string script) => await remote.RunAsync(script, new RunOptions(Sudo: true, Timeout: TimeSpan.FromSeconds(60)), cancel);
        var setup = await Root_($"rm -f {Hostile.Marker}; systemctl mask --runtime {string.Join(' ', units)}");
        Assert.True(setup.ExitCode == 0, setup.Stderr);

        var outcomes = new List<string>();
        var made = "not checked";
        try
        {
            // When
            foreach (var (run, scripts) in runs)
            {
                foreach (var (name, script) in scripts)
                {
                    var result = await Root_(script);
                    var marker = await Root_($"test -e {Hostile.Marker} && echo present || echo absent");
                    outcomes.Add($"{run}, {name}: exit {result.ExitCode}, marker {marker.Stdout.Trim()}");
                    if (run == "user nobody" && name == "refresh")
                    {
                        // The scripts do run on the host with the hostile bytes: the refresh script writes into the hostile directory.
                        var dir = await Root_($"test -d {ShellQuote(Hostile.Dir(Root, "etcd-23790"))} && echo made || echo missing");
                        made = dir.Stdout.Trim();
                    }
                }
            }

            // Then
            Assert.All(runs, r => Assert.Equal(30, r.Item2.Count));
            Assert.All(outcomes, o => Assert.EndsWith("marker absent", o, StringComparison.Ordinal));
            Assert.Equal("made", made);

            // The control: the same fragment spliced into a script between double quotes, as string-built scripts do,
            // is live shell, and the check sees it.
            var naive = await Root_("echo \"" + Hostile.Fragment + "\"");
            var control = await Root_($"test -e {Hostile.Marker} && echo present || echo absent");
            Assert.True(control.Stdout.Trim() == "present", $"the naive script did not create the marker (exit {naive.ExitCode}): the check cannot fail");
        }
        finally
        {
            // (/nonexistent is nobody's home, which env-init made to hold the hostile key; destroy took the key out.)
            await Root_($"rm -rf {Root} {Hostile.Marker} /nonexistent; systemctl unmask --runtime {string.Join(' ', units)}; systemctl daemon-reload; " +
                string.Join(' ', units.Select(u => $"rm -f /etc/systemd/system/{u};")) + " systemctl daemon-reload");
            TestContext.Current.TestOutputHelper?.WriteLine(string.Join('\n', outcomes));
        }
    }

    private static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
