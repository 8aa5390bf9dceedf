// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text;
using System.Text.Json;
using Tug.Core.Topology;
using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>
/// TiUP's cluster runbook (<c>Runbooks/tiup-cluster.txt</c>: check, deploy, list, start, display, check --cluster,
/// edit-config, reload, scale-out, scale-in, prune, upgrade, patch, stop, start, disable, enable, meta backup,
/// rotatessh, audit, audit ID, replay, exec, destroy), every line as TiUP's documentation writes it, run with
/// <c>tiup</c> replaced by <c>tug</c> and no flag changed; only the doc's host addresses, versions, file names, cluster
/// names and example audit ID are substituted, by the file's own directives. Confirmations are answered "y" on
/// standard input, the deploy key is <c>~/.ssh/id_rsa</c> of the test's HOME, as an operator's would be. After the
/// key steps the hosts are checked (over the testbed's own ssh), not Tug's output. A line whose verb
/// <c>tug cluster --help</c> does not list fails the test. The run's lines and results go to <c>runbook-report.txt</c> beside the test assembly.
/// </summary>
public sealed class RunbookTests(TestbedFixture testbed, PackagesFixture packages)
{
    private const string Cluster = "prod-cluster";

    private static readonly (string Component, string Version)[] Published =
        [("node_exporter", "1.5.0"), ("blackbox_exporter", "0.23.0"), ("prometheus", "2.53.3"), ("alertmanager", "0.25.0"), ("etcd", "3.4.23"), ("etcd", "3.5.16")];

    private static readonly string[] UnitPatterns = ["etcd-*", "node_exporter-*", "blackbox_exporter-*", "prometheus-*", "alertmanager-*"];

    [Fact]
    public async Task Should_Run_TiUPs_Cluster_Runbook_With_Tiup_Replaced_By_Tug()
    {
        // Given: the runbook, the verbs this tug has, a mirror, the operator's files and key
        var runbook = Runbook.Load(Path.Combine(AppContext.BaseDirectory, "Runbooks", "tiup-cluster.txt"));
        using var dir = new TempDirectory();
        var tug = await packages.MirrorAsync(dir, Published);
        var verbs = await VerbsAsync(tug);
        var hosts = testbed.Inventory.Hosts.Take(3).ToDictionary(h => h.Name);
        var (h1, h2, h3) = (hosts["h1"], hosts["h2"], hosts["h3"]);
        var home = dir.Combine("operator");
        Directory.CreateDirectory(Path.Combine(home, ".ssh"));
        File.Copy(testbed.Inventory.Key, Path.Combine(home, ".ssh", "id_rsa"));
        tug.Environment.Variables["HOME"] = home;
        tug.Input = string.Concat(Enumerable.Repeat("y\n", 8));
        await File.WriteAllTextAsync(dir.Combine("topology.yaml"), $"""
            {TestTopology.Global}
            monitored:
              node_exporter_version: v1.5.0
              blackbox_exporter_version: v0.23.0
            component_versions:
              prometheus: v2.53.3
              alertmanager: v0.25.0
            etcd_servers:
              - host: {h1.Address}
              - host: {h2.Address}
              - host: {h3.Address}
            monitoring_servers:
              - host: {h1.Address}
            alertmanager_servers:
              - host: {h2.Address}
                web_port: 4000
                cluster_port: 4001
            """, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(dir.Combine("scale.yaml"), $"""
            etcd_servers:
              - host: {h3.Address}
                client_port: 20160
                peer_port: 20161
            """, TestContext.Current.CancellationToken);
        File.Copy(packages.Find("alertmanager", "0.28.1").File, dir.Combine("hotfix.tar.gz"));
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["h1"] = h1.Address, ["h2"] = h2.Address, ["h3"] = h3.Address,
            ["topology.yaml"] = dir.Combine("topology.yaml"), ["scale.yaml"] = dir.Combine("scale.yaml"),
            ["testbed-key"] = testbed.Inventory.Key, ["hotfix.tar.gz"] = dir.Combine("hotfix.tar.gz"),
        };

        var report = new StringBuilder();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in runbook.Entries)
            {
                if (entry.Step is { } step)
                {
                    await StepAsync(tug, step, values, report);
                    continue;
                }

                var args = runbook.Substitute(entry.Tokens, values);
                Assert.True(args.Length >= 3 && args[0] == "tiup" && args[1] == "cluster", $"line {entry.Line}: not a `tiup cluster` command: {entry.Text}");
                var verb = args[2];
                Assert.True(verbs.Contains(verb), $"line {entry.Line}: {entry.Text}: `tug cluster --help` lists no `{verb}`; a runbook line that cannot run fails the runbook.");

                if (verb == "rotatessh")
                {
                    values["old-key"] = (await File.ReadAllTextAsync(Path.Combine(tug.Home, "clusters", Cluster, "ssh", "id_rsa.pub"), TestContext.Current.CancellationToken)).Split(' ')[1];
                }

                // When: the line runs, `tiup` replaced by `tug`
                var result = await tug.RunAsync(args[1..]);
                var occurrence = seen[verb] = seen.GetValueOrDefault(verb) + 1;
                report.AppendLine($"exit {result.ExitCode}  {entry.Text}   [{entry.Source}]");
                Evidence($"line {entry.Line}: tug {string.Join(' ', args[1..])}", result.ToString());

                // Then: it succeeds (check reports failed checks with exit 1), and the hosts show its effect
                var allowed = verb == "check" ? new[] { 0, 1 } : [0];
                Assert.True(allowed.Contains(result.ExitCode), $"line {entry.Line}: {entry.Text}\n(as run: tug {string.Join(' ', args[1..])})\n{result}");
                await CheckHostsAsync(tug, verb, occurrence, args, values, h1, h2, h3);
            }
        }
        finally
        {
            await tug.RunAsync("cluster", "destroy", Cluster, "-y", "--force");
            var text = $"tiup-cluster runbook on {TimeProvider.System.GetUtcNow():u}: {runbook.Entries.Count(e => e.Step is null)} lines\n{report}";
            await File.WriteAllTextAsync(Path.Combine(AppContext.BaseDirectory, "runbook-report.txt"), text, CancellationToken.None);
            TestContext.Current.TestOutputHelper?.WriteLine(text);
        }

    }

    /// <summary>What the operator does between two commands: an edit in $EDITOR, an interrupted operation.</summary>
    private async Task StepAsync(CliRunner tug, string[] step, Dictionary<string, string> values, StringBuilder report)
    {
        switch (step)
        {
            case ["edit", var role, var key, var value]:
            {
                // The editor writes the topology the operator means: show-config's text with one field changed.
                var shown = await tug.SucceedAsync("cluster", "show-config", Cluster);
                var topology = TopologyEdit.Parse(shown.Stdout, "show-config");
                var edited = topology with { Instances = [.. topology.Instances.Select(i => i.Role != role ? i : i with { Extras = i.Extras.Without(key).With(key, value) })] };
                var file = Path.Combine(tug.WorkDirectory, "edited.yaml");
                await File.WriteAllTextAsync(file, TopologyEdit.Render(edited), TestContext.Current.CancellationToken);
                tug.Environment.Variables["EDITOR"] = $"cp {file}";
                report.AppendLine($"(operator) EDITOR changes {role} {key} to {value}");
                break;
            }

            case ["interrupt", var verb, var failpoint]:
            {
                using var killed = TugProcess.Start(tug, new Dictionary<string, string> { ["TUG_FAILPOINTS"] = failpoint }, "cluster", verb, Cluster, "-y");
                var exit = await killed.WaitAsync(TimeSpan.FromMinutes(5));
                Assert.True(exit != 0, $"`tug cluster {verb}` with {failpoint} was not interrupted:\n{killed.Stdout}\n{killed.Stderr}");
                var journal = TestJournals.All(tug.Home, Cluster)[^1];
                values["interrupted-operation"] = Path.GetFileName(Path.GetDirectoryName(journal)!);
                report.AppendLine($"(operator) `tug cluster {verb} {Cluster} -y` killed by {failpoint} (exit {exit}): operation {values["interrupted-operation"]}");
                break;
            }

            default:
                Assert.Fail($"unknown runbook step: {string.Join(' ', step)}");
                break;
        }
    }

    /// <summary>After the key steps, the hosts (not Tug's output) must show the effect.</summary>
    private async Task CheckHostsAsync(CliRunner tug, string verb, int occurrence, string[] args, Dictionary<string, string> values, TestbedHost h1, TestbedHost h2, TestbedHost h3)
    {
        var expected = new Dictionary<string, string[]>
        {
            [h1.Name] = ["etcd-2379", "node_exporter-9100", "blackbox_exporter-9115", "prometheus-9090"],
            [h2.Name] = ["etcd-2379", "node_exporter-9100", "blackbox_exporter-9115", "alertmanager-4000"],
            [h3.Name] = ["etcd-2379", "node_exporter-9100", "blackbox_exporter-9115"],
        };
        switch (verb)
        {
            case "check" when occurrence == 1:
                // A check before deploy changes nothing: no unit of the cluster on any host.
                foreach (var h in new[] { h1, h2, h3 })
                {
                    Assert.Empty(await UnitsAsync(h));
                }

                break;

            case "deploy":
            case "start":
            case "replay":
                foreach (var (name, units) in expected)
                {
                    Assert.Equal(units.Order(StringComparer.Ordinal), await UnitsAsync(testbed.Inventory[name]));
                    await AllActiveAsync(testbed.Inventory[name], units);
                }

                if (verb == "start" && occurrence == 2)
                {
                    await DisplayFlagsAsync(tug, h1, h2);
                }

                break;

            case "stop":
                foreach (var (name, units) in expected)
                {
                    foreach (var unit in units)
                    {
                        var (_, state) = await testbed.SshAsync(name, $"systemctl is-active {unit}");
                        Assert.True(state.Trim() is "inactive" or "failed", $"{name} {unit} is {state.Trim()} after stop");
                    }
                }

                break;

            case "reload":
                Assert.Contains("--storage.tsdb.retention.time=\"31d\"", await testbed.MustRunAsync(h1.Name, "cat /tidb-deploy/prometheus-9090/scripts/run_prometheus.sh"), StringComparison.Ordinal);
                Assert.Contains("--storage.tsdb.retention.time=31d", await testbed.MustRunAsync(h1.Name, "tr '\\0' ' ' < /proc/$(systemctl show -p MainPID --value prometheus-9090)/cmdline"), StringComparison.Ordinal);
                break;

            case "scale-out":
                Assert.Equal("active", (await testbed.SshAsync(h3.Name, "systemctl is-active etcd-20160")).Output.Trim());
                Assert.Equal(4, await EtcdMembersAsync(h1));
                break;

            case "scale-in":
                Assert.DoesNotContain("etcd-20160", await UnitsAsync(h3));
                Assert.Equal(3, await EtcdMembersAsync(h1));
                break;

            case "upgrade":
                foreach (var h in new[] { h1, h2, h3 })
                {
                    Assert.Contains("3.5.16", await testbed.RunningVersionAsync(h.Name, "etcd-2379"), StringComparison.Ordinal);
                }

                Assert.Contains("2.53.3", await testbed.RunningVersionAsync(h1.Name, "prometheus-9090"), StringComparison.Ordinal);
                break;

            case "patch":
                Assert.Contains("0.28.1", await testbed.RunningVersionAsync(h2.Name, "alertmanager-4000"), StringComparison.Ordinal);
                break;

            case "disable":
            case "enable":
                foreach (var (name, units) in expected)
                {
                    foreach (var unit in units)
                    {
                        var (_, state) = await testbed.SshAsync(name, $"systemctl is-enabled {unit}");
                        Assert.True(state.Trim() == (verb == "enable" ? "enabled" : "disabled"), $"{name} {unit} is {state.Trim()} after {verb}");
                    }
                }

                break;

            case "meta":
                Assert.Contains(Directory.GetFiles(tug.WorkDirectory, "*.tar.gz"), f => Path.GetFileName(f) != "hotfix.tar.gz");
                break;

            case "rotatessh":
                // Lines of other clusters deployed as tidb on these hosts stay; this cluster's old key is gone, its new one there once.
                var current = (await File.ReadAllTextAsync(Path.Combine(tug.Home, "clusters", Cluster, "ssh", "id_rsa.pub"))).Split(' ')[1];
                Assert.NotEqual(values["old-key"], current);
                foreach (var h in new[] { h1, h2, h3 })
                {
                    var keys = await testbed.MustRunAsync(h.Name, "cat /home/tidb/.ssh/authorized_keys");
                    Assert.Equal(1, keys.Split('\n').Count(l => l.Contains(current, StringComparison.Ordinal)));
                    Assert.DoesNotContain(values["old-key"], keys, StringComparison.Ordinal);
                }

                Assert.Equal(0, (await tug.RunAsync("cluster", "exec", Cluster, "--command", "true")).ExitCode);
                break;

            case "destroy":
                foreach (var h in new[] { h1, h2, h3 })
                {
                    Assert.Empty(await UnitsAsync(h));
                    Assert.Equal("gone", (await testbed.MustRunAsync(h.Name, "test -e /tidb-deploy/etcd-2379 && echo there || echo gone")).Trim());
                }

                break;

            default:
                _ = args;
                _ = values;
                break;
        }
    }

    /// <summary>
    /// display's TiUP flags read on the hosts, right after a start: --uptime's seconds are the process's own run time
    /// (ps etimes on the host), --process its resident memory, --versions the version each instance is deployed at.
    /// </summary>
    private async Task DisplayFlagsAsync(CliRunner tug, TestbedHost h1, TestbedHost h2)
    {
        var display = await tug.RunAsync("cluster", "display", Cluster, "--uptime", "--process", "--versions", "--status-timeout", "10", "--format", "json");
        Assert.True(display.ExitCode == 0, display.ToString());
        using var json = JsonDocument.Parse(display.Stdout);
        var instances = json.RootElement.GetProperty("instances").EnumerateArray().ToDictionary(i => i.GetProperty("id").GetString()!);
        foreach (var (host, unit, id) in new[] { (h1, "prometheus-9090", $"{h1.Address}:9090"), (h2, "alertmanager-4000", $"{h2.Address}:4000"), (h1, "etcd-2379", $"{h1.Address}:2379") })
        {
            var onHost = (await testbed.MustRunAsync(host.Name, $"p=$(systemctl show -p MainPID --value {unit}); ps -o etimes= -p $p; awk '/^VmRSS:/ {{print $2}}' /proc/$p/status")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var seconds = instances[id].GetProperty("uptime_seconds").GetInt64();
            Assert.InRange(seconds, long.Parse(onHost[0], System.Globalization.CultureInfo.InvariantCulture) - 10, long.Parse(onHost[0], System.Globalization.CultureInfo.InvariantCulture));
            Assert.NotEqual("-", instances[id].GetProperty("since").GetString());
            var rss = long.Parse(onHost[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            Assert.InRange(instances[id].GetProperty("memory_bytes").GetInt64(), rss / 2, rss * 2);
        }

        Assert.Equal("v3.5.16", instances[$"{h1.Address}:2379"].GetProperty("deployed_version").GetString());
        Assert.True(instances[$"{h2.Address}:4000"].GetProperty("patched").GetBoolean(), instances[$"{h2.Address}:4000"].ToString());
        var text = await tug.RunAsync("cluster", "display", Cluster, "--uptime", "--versions");
        Assert.True(text.ExitCode == 0, text.ToString());
        Evidence("display --uptime --versions", text.Stdout);
    }

    private async Task<List<string>> UnitsAsync(TestbedHost host)
    {
        var output = await testbed.MustRunAsync(host.Name,
            $"systemctl list-unit-files --type=service --no-legend --plain {string.Join(' ', UnitPatterns.Select(p => $"'{p}'"))} | awk '{{print $1}}'");
        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => u.EndsWith(".service", StringComparison.Ordinal) ? u[..^8] : u).Order(StringComparer.Ordinal)];
    }

    private async Task AllActiveAsync(TestbedHost host, IEnumerable<string> units)
    {
        foreach (var unit in units)
        {
            var (_, state) = await testbed.SshAsync(host.Name, $"systemctl is-active {unit}");
            Assert.True(state.Trim() == "active", $"{host.Name} {unit} is {state.Trim()}");
        }
    }

    private async Task<int> EtcdMembersAsync(TestbedHost host)
    {
        var members = await testbed.MustRunAsync(host.Name, "ETCDCTL_API=3 $(ls /tidb-deploy/etcd-2379/bin/*/etcdctl | head -1) --endpoints=http://127.0.0.1:2379 member list");
        return members.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.Contains(", started,", StringComparison.Ordinal));
    }

    /// <summary>The verbs `tug cluster --help` lists.</summary>
    private static async Task<HashSet<string>> VerbsAsync(CliRunner tug)
    {
        var help = await tug.RunAsync("cluster", "--help");
        Assert.True(help.ExitCode == 0, help.ToString());
        var lines = help.Stdout.Split('\n');
        var start = Array.FindIndex(lines, l => l.StartsWith("Commands:", StringComparison.Ordinal));
        Assert.True(start >= 0, help.Stdout);
        return [.. lines.Skip(start + 1).TakeWhile(l => l.Length == 0 || l.StartsWith(' ')).Where(l => l.Trim().Length > 0 && l.StartsWith("  ", StringComparison.Ordinal) && !l.StartsWith("   ", StringComparison.Ordinal))
            .Select(l => l.Trim().Split(' ', 2)[0])];
    }

    private static void Evidence(string what, string text)
    {
        if (Environment.GetEnvironmentVariable("TUG_TEST_EVIDENCE") is { Length: > 0 } path)
        {
            File.AppendAllText(path, $"===== {what}\n{text}\n");
        }
    }
}

/// <summary>
/// A runbook file: commands (tokenized as a shell would: quotes, no expansion), each with the comment before it
/// (its source), <c>#!</c> steps, and <c>#= KIND DOC TEST</c> substitutions.
/// </summary>
internal sealed record Runbook(IReadOnlyList<RunbookEntry> Entries, IReadOnlyList<(string Kind, string Doc, string Test)> Substitutions)
{
    private static readonly string[] Kinds = ["host", "version", "file", "name", "id"];

    public static Runbook Load(string path)
    {
        var entries = new List<RunbookEntry>();
        var substitutions = new List<(string, string, string)>();
        var source = string.Empty;
        var n = 0;
        foreach (var raw in File.ReadAllLines(path))
        {
            n++;
            var line = raw.Trim();
            if (line.StartsWith("#=", StringComparison.Ordinal))
            {
                var parts = line[2..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                Assert.True(parts.Length == 3 && Kinds.Contains(parts[0]), $"{path}:{n}: a substitution is '#= KIND DOC-VALUE TEST-VALUE' with KIND one of {string.Join('/', Kinds)}");
                substitutions.Add((parts[0], parts[1], parts[2]));
            }
            else if (line.StartsWith("#!", StringComparison.Ordinal))
            {
                entries.Add(new RunbookEntry(n, line, source, [], line[2..].Split(' ', StringSplitOptions.RemoveEmptyEntries)));
            }
            else if (line.StartsWith('#'))
            {
                source = line.TrimStart('#', ' ');
            }
            else if (line.Length > 0)
            {
                Assert.True(source.Length > 0, $"{path}:{n}: a command needs a comment before it naming its doc section");
                entries.Add(new RunbookEntry(n, line, source, Tokenize(line), null));
                source = string.Empty;
            }
        }

        return new Runbook(entries, substitutions);
    }

    /// <summary>
    /// The doc's values replaced by the test's: hosts and versions wherever they occur in a token (172.16.5.140:20160),
    /// file names, cluster names and IDs only as whole tokens (or a flag's <c>=value</c>).
    /// </summary>
    public string[] Substitute(IReadOnlyList<string> tokens, IReadOnlyDictionary<string, string> values) =>
        [.. tokens.Select(token =>
        {
            foreach (var (kind, doc, test) in Substitutions.OrderByDescending(s => s.Doc.Length))
            {
                var matches = kind is "host" or "version" ? token.Contains(doc, StringComparison.Ordinal) : token == doc;
                if (!matches)
                {
                    continue;
                }

                var value = values.TryGetValue(test, out var v) ? v : kind is "version" or "name" ? test : throw new InvalidOperationException($"no test value yet for '{test}' (substituting {doc})");
                token = kind is "host" or "version" ? token.Replace(doc, value, StringComparison.Ordinal) : value;
            }

            return token;
        })];

    private static List<string> Tokenize(string line)
    {
        var tokens = new List<string>();
        var current = new StringBuilder();
        var any = false;
        char? quote = null;
        foreach (var c in line)
        {
            if (quote is { } q)
            {
                if (c == q)
                {
                    quote = null;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c is '\'' or '"')
            {
                quote = c;
                any = true;
            }
            else if (c == ' ')
            {
                if (any || current.Length > 0)
                {
                    tokens.Add(current.ToString());
                    current.Clear();
                    any = false;
                }
            }
            else
            {
                current.Append(c);
            }
        }

        Assert.True(quote is null, $"unbalanced quote in: {line}");
        if (any || current.Length > 0)
        {
            tokens.Add(current.ToString());
        }

        return tokens;
    }
}

/// <summary>One line of a runbook: a command (tokens) or a step the test performs (<see cref="Step"/>).</summary>
internal sealed record RunbookEntry(int Line, string Text, string Source, IReadOnlyList<string> Tokens, string[]? Step);
