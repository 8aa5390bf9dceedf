// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Text.Json;

namespace Tug.Testing;

/// <summary>One host of the testbed, as <c>testbed/.state/inventory.json</c> describes it.</summary>
public sealed record TestbedHost(string Name, string Address, int Port, string User, string Key, string HostKeyFingerprint);

/// <summary>The hosts of the testbed and how to reach them.</summary>
public sealed record TestbedInventory(ImmutableArray<TestbedHost> Hosts, string Key, string SshConfig)
{
    /// <summary>This machine's address on the hosts' bridge: the address the hosts reach the control machine at.</summary>
    public string Gateway { get; init; } = string.Empty;

    public TestbedHost this[string name] => Hosts.Single(h => h.Name == name);

    /// <summary>Reads the inventory file written by <c>testbed up</c>.</summary>
    public static TestbedInventory Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = document.RootElement;
        var hosts = root.GetProperty("hosts").EnumerateArray().Select(h => new TestbedHost(
            h.GetProperty("name").GetString()!,
            h.GetProperty("address").GetString()!,
            h.GetProperty("port").GetInt32(),
            h.GetProperty("user").GetString()!,
            h.GetProperty("key").GetString()!,
            h.GetProperty("hostKeyFingerprint").GetString()!)).ToImmutableArray();
        return new TestbedInventory(hosts, root.GetProperty("key").GetString()!, root.GetProperty("sshConfig").GetString()!)
        {
            Gateway = root.TryGetProperty("gateway", out var gateway) ? gateway.GetString() ?? string.Empty : string.Empty,
        };
    }
}

/// <summary>
/// Brings the testbed (real Debian hosts: systemd, sshd, own address) up once per test run, or attaches to one
/// already up with enough hosts. A testbed that cannot start fails the tests with the reason; it never skips them.
/// Size: <c>TUG_TESTBED_HOSTS</c> (default 3).
/// </summary>
public sealed class TestbedFixture : IAsyncLifetime
{
    private TestbedInventory? _inventory;

    public static string Script => Path.Combine(Repo.Root, "testbed", "testbed");

    public static string InventoryPath => Path.Combine(Repo.Root, "testbed", ".state", "inventory.json");

    public TestbedInventory Inventory => _inventory ?? throw new InvalidOperationException("testbed not started");

    public async ValueTask InitializeAsync()
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("TUG_TESTBED_HOSTS"), out var n) ? n : 3;
        var (exit, output) = await Processes.RunAsync(Script, $"up {count}", Repo.Root);
        if (exit != 0)
        {
            throw new InvalidOperationException($"`testbed/testbed up {count}` failed (exit {exit}); integration tests need it:\n{output}");
        }

        Reload();
    }

    /// <summary>Re-reads the inventory (after a rekey, say).</summary>
    public TestbedInventory Reload() => _inventory = TestbedInventory.Load(InventoryPath);

    /// <summary>Runs a command on a host with the system ssh client and the testbed's config.</summary>
    public Task<(int ExitCode, string Output)> SshAsync(string host, string command, int timeoutSeconds = 10) =>
        Processes.RunAsync("ssh", ["-F", Inventory.SshConfig, "-o", $"ConnectTimeout={timeoutSeconds}", host, command]);

    /// <summary>Runs a command on a host and fails the test unless it exits 0; returns its output.</summary>
    public async Task<string> MustRunAsync(string host, string command)
    {
        var (exit, output) = await SshAsync(host, command);
        Assert.True(exit == 0, $"{host}: {command}: {output}");
        return output;
    }

    /// <summary>The first line the running process of <paramref name="unit"/> prints for <c>--version</c>: what runs, read through <c>/proc/PID/exe</c>.</summary>
    public Task<string> RunningVersionAsync(string host, string unit = "node_exporter-9100") =>
        MustRunAsync(host, $"/proc/$(systemctl show -p MainPID --value {unit})/exe --version 2>&1 | head -1");

    /// <summary>Copies a local file to a host.</summary>
    public Task<(int ExitCode, string Output)> CopyToAsync(string host, string localPath, string remotePath) =>
        Processes.RunAsync("scp", ["-q", "-F", Inventory.SshConfig, localPath, $"{host}:{remotePath}"]);

    /// <summary>Runs <c>testbed/testbed ARGS</c>.</summary>
    public static Task<(int ExitCode, string Output)> TestbedAsync(string arguments) => Processes.RunAsync(Script, arguments, Repo.Root);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Upstream-style release tarballs built from Debian's archive by <c>testbed/testbed packages</c> (cached).</summary>
public sealed class PackagesFixture : IAsyncLifetime
{
    public string Directory { get; } = Path.Combine(Repo.Root, "testbed", ".state", "packages");

    public ImmutableArray<(string Component, string Version, string File, string Entry)> Packages { get; private set; } = [];

    public (string Component, string Version, string File, string Entry) Find(string component, string version) =>
        Packages.FirstOrDefault(p => p.Component == component && p.Version == version) is { File: not null } found
            ? found
            : throw new InvalidOperationException($"testbed packages has no {component} {version}; it has: {string.Join(", ", Packages.Select(p => $"{p.Component} {p.Version}"))}");

    /// <summary>A runner with its own mirror (fresh keys, owner granted) holding these packages, published as built.</summary>
    public async Task<CliRunner> MirrorAsync(TempDirectory dir, params (string Component, string Version)[] published)
    {
        var tug = new CliRunner(dir.Path);
        await TestMirror.InitAsync(tug, dir.Combine("mirror"));
        foreach (var (component, version) in published)
        {
            await PublishAsync(tug, component, version);
        }

        return tug;
    }

    /// <summary>Publishes one package, as built (upstream layout, its own entry), to the runner's mirror.</summary>
    public async Task PublishAsync(CliRunner tug, string component, string version)
    {
        var p = Find(component, version);
        await tug.SucceedAsync("mirror", "publish", component, "v" + version, p.File, p.Entry, "--os", "linux", "--arch", "amd64");
    }

    public async ValueTask InitializeAsync()
    {
        var (exit, output) = await TestbedFixture.TestbedAsync($"packages {Directory}");
        if (exit != 0)
        {
            throw new InvalidOperationException($"`testbed/testbed packages` failed (exit {exit}):\n{output}");
        }

        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Directory, "packages.json")));
        Packages = [.. document.RootElement.EnumerateArray().Select(p => (
            p.GetProperty("component").GetString()!,
            p.GetProperty("version").GetString()!,
            Path.Combine(Directory, p.GetProperty("file").GetString()!),
            p.GetProperty("entry").GetString()!))];
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Polls an HTTP JSON endpoint (Prometheus' API) until a condition holds, failing with the last state seen.</summary>
public static class HttpPoll
{
    /// <summary>GETs <paramref name="url"/> every 2 s, at most <paramref name="attempts"/> times, until <paramref name="check"/> says done.</summary>
    public static async Task UntilAsync(string url, Func<JsonElement, (bool Done, string State)> check, int attempts, string failure)
    {
        using var http = new HttpClient();
        var last = string.Empty;
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            using var json = JsonDocument.Parse(await http.GetStringAsync(new Uri(url), TestContext.Current.CancellationToken));
            (var done, last) = check(json.RootElement);
            if (done)
            {
                return;
            }

            await Task.Delay(2000, TestContext.Current.CancellationToken);
        }

        Assert.Fail($"{failure} after {attempts * 2} s:\n{last}");
    }
}

/// <summary>Topology pieces the integration tests share.</summary>
public static class TestTopology
{
    /// <summary>The <c>global</c> section every test cluster uses.</summary>
    public const string Global = "global:\n  user: tidb\n  deploy_dir: /tidb-deploy\n  data_dir: /tidb-data";

    /// <summary>etcd on every host with node_exporter v1.5.0 and blackbox_exporter v0.23.0: the rolling-upgrade tests' cluster.</summary>
    public static string EtcdWithAgents(IEnumerable<TestbedHost> hosts) => $"""
        {Global}
        monitored:
          node_exporter_version: v1.5.0
          blackbox_exporter_version: v0.23.0
        etcd_servers:
        {string.Join("\n", hosts.Select(h => $"  - host: {h.Address}"))}
        """;
}

/// <summary>The operation journals a test's <c>$TUG_HOME</c> holds for a cluster.</summary>
public static class TestJournals
{
    /// <summary>Every journal of <paramref name="cluster"/>, oldest first (operation IDs sort by time).</summary>
    public static List<string> All(string home, string cluster)
    {
        var root = Path.Combine(home, "clusters", cluster, "operations");
        return Directory.Exists(root) ? [.. Directory.GetFiles(root, "journal.jsonl", SearchOption.AllDirectories).Order(StringComparer.Ordinal)] : [];
    }

    /// <summary>The newest journal's text, read while a writer may hold it open; empty when there is none.</summary>
    public static string Newest(string home, string cluster)
    {
        var journals = All(home, cluster);
        if (journals.Count == 0)
        {
            return string.Empty;
        }

        using var stream = new FileStream(journals[^1], FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
