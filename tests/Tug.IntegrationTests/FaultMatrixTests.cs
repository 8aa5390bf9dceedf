// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>
/// The fault matrix: one fault during a 3-host rolling upgrade of node_exporter, for each fault the testbed can make
/// (a slow link, the control process killed, a link cut during staging, a host losing power mid-switch and booting
/// again with its files, a disk filling during staging, a build that crash-loops after its first healthy check).
/// For each: the upgrade stops or continues as the README documents, no host that is up is without a running agent
/// longer than the health timeout (read from each host's own journal), replay finishes it, and verify exits 0,
/// checked on the hosts (the running executable's version through /proc/PID/exe).
/// </summary>
public sealed class FaultMatrixTests(TestbedFixture testbed, PackagesFixture packages)
{
    private const string Cluster = "faults";
    private const string Unit = "node_exporter-9100";
    private const string MonitorDir = "/tidb-deploy/monitor-9100";

    /// <summary>The wait timeout every command here runs with; the switch gate's health timeout is min(it, 60 s).</summary>
    private const int HealthTimeout = 20;

    private static readonly string Wait = HealthTimeout.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The host's root as its init sees it (its own mounts included), read on this machine through /proc.</summary>
    private static string HostRoot(TestbedHost h)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(TestbedFixture.InventoryPath));
        var nspawn = document.RootElement.GetProperty("hosts").EnumerateArray().Single(x => x.GetProperty("name").GetString() == h.Name).GetProperty("pid").GetInt32();
        var init = Directory.GetDirectories($"/proc/{nspawn}/task")
            .SelectMany(t => File.ReadAllText(Path.Combine(t, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Single(c => File.ReadAllLines($"/proc/{c}/status").Any(l => l.StartsWith("NSpid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries)[^1] == "1"));
        return $"/proc/{init}/root";
    }

    private static string Upper(TestbedHost h) => Path.Combine(Repo.Root, "testbed", ".state", "hosts", h.Name, "upper");

    [Fact]
    public async Task Should_Converge_After_Every_Fault_Of_The_Matrix()
    {
        using var dir = new TempDirectory();
        var hosts = testbed.Inventory.Hosts.Take(3).ToList();
        var (h2, h3) = (hosts[1], hosts[2]);

        // h2 loses power in one case: it must boot again with its files, so it runs on a persistent upper directory
        // (a crash, then `up --persist`, boots it persistent). h3's deploy directory is a 300 MB filesystem, filled in
        // the disk case.
        await MustTestbedAsync($"fault {h2.Name} crash");
        await MustTestbedAsync($"up {testbed.Inventory.Hosts.Length} --persist");
        Assert.True(Directory.Exists(Upper(h2)), "h2 has no persistent upper directory");
        await MustTestbedAsync($"disk {h3.Name} {MonitorDir} 300m");

        var tug = await packages.MirrorAsync(dir, ("node_exporter", "1.5.0"), ("node_exporter", "1.9.0"), ("blackbox_exporter", "0.23.0"), ("etcd", "3.4.23"));
        var topology = dir.Combine("topology.yaml");
        await File.WriteAllTextAsync(topology, TestTopology.EtcdWithAgents(hosts), TestContext.Current.CancellationToken);
        var failures = new List<string>();
        var timings = new List<string>();
        try
        {
            var deploy = await tug.RunAsync("cluster", "deploy", Cluster, "v3.4.23", topology, "-u", "root", "-i", testbed.Inventory.Key, "-y");
            Assert.True(deploy.ExitCode == 0, deploy.ToString());
            Assert.Contains("tmpfs", await testbed.MustRunAsync(h3.Name, $"findmnt -n -o FSTYPE --target {MonitorDir}"), StringComparison.Ordinal);

            foreach (var (name, run) in new (string, Func<CliRunner, List<TestbedHost>, Task<string?>>)[]
            {
                ("c. a 300 ms link for the whole upgrade", SlowLinkAsync),
                ("f. the control process killed mid-switch", KilledAsync),
                ("b. a link cut during staging", CutDuringStagingAsync),
                ("a. a host losing power mid-switch", PowerLossMidSwitchAsync),
                ("d. a disk filling during staging", DiskFullAsync),
                ("e. a build that crash-loops after its first healthy check", CrashLoopAsync),
            })
            {
                var started = TimeProvider.System.GetTimestamp();
                string? failure;
                try
                {
                    failure = await run(tug, hosts);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failure = e.ToString();
                }

                timings.Add($"{name}: {(failure is null ? "ok" : "FAILED")} in {TimeProvider.System.GetElapsedTime(started).TotalSeconds:0.0} s");
                if (failure is not null)
                {
                    failures.Add($"{name}: {failure}");

                    // Leave the hosts as the next case expects them: every link up, every host running, the
                    // interrupted or failed operation finished, so one failure does not make the next case fail.
                    await HealAllAsync(hosts);
                    await tug.RunAsync("cluster", "replay", Cluster, "--wait-timeout", Wait);
                }
            }
        }
        finally
        {
            await HealAllAsync(hosts);
            await tug.RunAsync("cluster", "destroy", Cluster, "-y", "--force");
            await TestbedFixture.TestbedAsync($"disk {h3.Name} {MonitorDir} off");
            foreach (var line in timings)
            {
                TestContext.Current.TestOutputHelper?.WriteLine(line);
            }
        }

        Assert.True(timings.Count == 6, string.Join("\n", timings));
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    /// <summary>c. Every round trip with h2 300 ms longer for the whole upgrade: it simply succeeds.</summary>
    private async Task<string?> SlowLinkAsync(CliRunner tug, List<TestbedHost> hosts)
    {
        var since = await ClockAsync();
        await MustTestbedAsync($"fault {hosts[1].Name} delay 300");
        CliResult upgrade;
        try
        {
            upgrade = await tug.RunAsync("cluster", "upgrade", Cluster, "--node-exporter-version", "v1.9.0", "-y", "--wait-timeout", Wait);
        }
        finally
        {
            await MustTestbedAsync($"fault {hosts[1].Name} heal");
        }

        if (upgrade.ExitCode != 0)
        {
            return $"the upgrade over a 300 ms link did not succeed: {upgrade}";
        }

        return await ConvergedAsync(tug, hosts, "1.9.0", since, hosts);
    }

    /// <summary>f. SIGKILL of tug right after the second switch acted (failpoint): replay finishes it.</summary>
    private async Task<string?> KilledAsync(CliRunner tug, List<TestbedHost> hosts)
    {
        var since = await ClockAsync();
        using var upgrade = TugProcess.Start(tug, new Dictionary<string, string> { ["TUG_FAILPOINTS"] = "switch:after-action=kill@2" },
            "cluster", "upgrade", Cluster, "--node-exporter-version", "v1.5.0", "-y", "--wait-timeout", Wait);
        var exit = await upgrade.WaitAsync(TimeSpan.FromMinutes(3));
        if (exit is not (137 or -1 or 9))
        {
            return $"the upgrade was not killed (exit {exit}):\n{upgrade.Stdout}\n{upgrade.Stderr}";
        }

        return await ReplayedAsync(tug, hosts, "1.5.0", since, hosts);
    }

    /// <summary>
    /// b. h2's link cut while its package is being uploaded (h2 slowed to 300 ms so the upload lasts; the upload seen
    /// starting in h2's upper directory on this machine, not through the network), healed 15 s later. Documented: the
    /// stage fails and the upgrade stops before any switch, or, if the link came back before SSH gave up, it goes on.
    /// Either way nothing is switched while the link is down, and replay finishes it.
    /// </summary>
    private async Task<string?> CutDuringStagingAsync(CliRunner tug, List<TestbedHost> hosts)
    {
        var h2 = hosts[1];
        var since = await ClockAsync();
        var pids = await PidsAsync(hosts);
        await testbed.MustRunAsync(h2.Name, "rm -f /tmp/tug-pkg-*");
        await MustTestbedAsync($"fault {h2.Name} delay 300");
        using var upgrade = TugProcess.Start(tug, "cluster", "upgrade", Cluster, "--node-exporter-version", "v1.9.0", "-y", "--wait-timeout", Wait);
        // nspawn gives each host a tmpfs on /tmp: read it through the host's init (/proc/PID/root), on this machine.
        var tmp = Path.Combine(HostRoot(testbed.Reload()[h2.Name]), "tmp");
        await TugProcess.UntilAsync(() => upgrade.HasExited || (Directory.Exists(tmp) && Directory.GetFiles(tmp, "tug-pkg-*").Length > 0), 120,
            "the upload to h2 never started");
        if (upgrade.HasExited)
        {
            return $"the upgrade ended before h2's upload could be cut: {upgrade.Stdout}\n{upgrade.Stderr}";
        }

        await MustTestbedAsync($"fault {h2.Name} cut");
        var uploaded = new FileInfo(Directory.GetFiles(tmp, "tug-pkg-*")[0]).Length;
        var stagedBeforeCut = TestJournals.Newest(tug.Home, Cluster).Contains($"\"step\":\"stage {h2.Address}\",\"state\":\"done\"", StringComparison.Ordinal);
        await Task.Delay(TimeSpan.FromSeconds(15), TestContext.Current.CancellationToken);
        var switchedWhileCut = await SwitchedAsync(hosts.Where(h => h != h2), pids);
        await MustTestbedAsync($"fault {h2.Name} heal");
        var exit = await upgrade.WaitAsync(TimeSpan.FromMinutes(3));
        TestContext.Current.TestOutputHelper?.WriteLine($"b: cut with {uploaded} of {new FileInfo(packages.Find("node_exporter", "1.9.0").File).Length} bytes uploaded to h2; upgrade exit {exit}");
        if (stagedBeforeCut)
        {
            await tug.RunAsync("cluster", "replay", Cluster, "--wait-timeout", Wait);
            return "the cut came after h2's stage was done: the case did not cut during staging";
        }

        if (switchedWhileCut is not null)
        {
            return $"an instance was switched while h2 was cut during staging: {switchedWhileCut}";
        }

        if (exit == 0)
        {
            // It went on once the link was back: the upgrade itself converged.
            return await ConvergedAsync(tug, hosts, "1.9.0", since, hosts);
        }

        if (exit != 1 || !upgrade.Stdout.Contains(h2.Address, StringComparison.Ordinal))
        {
            return $"the upgrade did not fail naming h2 (exit {exit}):\n{upgrade.Stdout}\n{upgrade.Stderr}";
        }

        if (await SwitchedAsync(hosts, pids) is { } switched)
        {
            return $"the stage on h2 failed but an instance was switched anyway: {switched}";
        }

        return await ReplayedAsync(tug, hosts, "1.9.0", since, hosts);
    }

    /// <summary>
    /// a. h2 loses power while its switch runs: the staged build seen moved into bin on h2's disk (its persistent
    /// upper directory, read on this machine), then every process of h2 SIGKILLed. Documented: the switch fails
    /// (host unreachable) and the upgrade stops there; h3 is not touched. h2 boots again (`testbed up`) with its
    /// files, and replay finishes the upgrade.
    /// </summary>
    private async Task<string?> PowerLossMidSwitchAsync(CliRunner tug, List<TestbedHost> hosts)
    {
        var (h2, h3) = (hosts[1], hosts[2]);
        var since = await ClockAsync();
        var h3Pid = await PidAsync(h3);
        var journalsBefore = TestJournals.All(tug.Home, Cluster).Count;
        var staged = Path.Combine(Upper(h2), MonitorDir.TrimStart('/'), "bin", ".tug-stage-node_exporter-v1.5.0");
        using var upgrade = TugProcess.Start(tug, "cluster", "upgrade", Cluster, "--node-exporter-version", "v1.5.0", "-y", "--wait-timeout", Wait);
        await TugProcess.UntilAsync(() => upgrade.HasExited || (TestJournals.All(tug.Home, Cluster).Count > journalsBefore && TestJournals.Newest(tug.Home, Cluster).Contains($"\"step\":\"switch {h2.Address}:9100\",\"state\":\"planned\"", StringComparison.Ordinal) && !Directory.Exists(staged)), 120,
            "h2's switch never moved the staged build into bin");
        if (upgrade.HasExited)
        {
            return $"the upgrade ended before h2's switch: {upgrade.Stdout}\n{upgrade.Stderr}";
        }

        await MustTestbedAsync($"fault {h2.Name} crash");
        var exit = await upgrade.WaitAsync(TimeSpan.FromMinutes(3));
        if (exit != 1 || !upgrade.Stdout.Contains(h2.Address, StringComparison.Ordinal))
        {
            return $"the upgrade did not stop at h2's switch (exit {exit}):\n{upgrade.Stdout}\n{upgrade.Stderr}";
        }

        if (await PidAsync(h3) != h3Pid || !(await testbed.RunningVersionAsync(h3.Name)).Contains("version 1.9.0", StringComparison.Ordinal))
        {
            return "h3 was touched although the upgrade stopped at h2";
        }

        // Power back: h2 boots with its files (its journal starts again with this boot).
        await MustTestbedAsync($"up {testbed.Inventory.Hosts.Length}");
        var booted = await ClockAsync();
        var state = await testbed.SshAsync(h2.Name, $"systemctl is-enabled {Unit}; ls {MonitorDir}/bin");
        if (state.ExitCode != 0)
        {
            return $"h2 booted again without its deployed files: {state.Output}";
        }

        return await ReplayedAsync(tug, hosts, "1.5.0", since, [hosts[0], h3], (h2, booted));
    }

    /// <summary>
    /// d. h3's deploy directory (a 300 MB filesystem) filled to 4 MB free before the upgrade: staging there fails for
    /// lack of space, refused cleanly: the upgrade stops before any switch, h3 still runs its build, verified. After
    /// the filler is removed, replay finishes it.
    /// </summary>
    private async Task<string?> DiskFullAsync(CliRunner tug, List<TestbedHost> hosts)
    {
        var h3 = hosts[2];
        var since = await ClockAsync();
        var pids = await PidsAsync(hosts);
        var free = await testbed.MustRunAsync(h3.Name, $"avail=$(df --output=avail -B1 {MonitorDir} | tail -n 1); head -c $((avail - 4*1024*1024)) /dev/zero > {MonitorDir}/filler; df --output=avail -B1 {MonitorDir} | tail -n 1");
        CliResult upgrade;
        string full;
        try
        {
            upgrade = await tug.RunAsync("cluster", "upgrade", Cluster, "--node-exporter-version", "v1.9.0", "-y", "--wait-timeout", Wait);
            full = free.Trim();
        }
        catch
        {
            await testbed.SshAsync(h3.Name, $"rm -f {MonitorDir}/filler");
            throw;
        }

        if (upgrade.ExitCode != 1 || !upgrade.Stderr.Contains($"stage {h3.Address}: failed: staging failed: tar:", StringComparison.Ordinal))
        {
            await testbed.SshAsync(h3.Name, $"rm -f {MonitorDir}/filler");
            return $"the upgrade did not fail on h3's full disk, naming it (exit {upgrade.ExitCode}): {upgrade}";
        }

        if (long.Parse(full, System.Globalization.CultureInfo.InvariantCulture) > 8 * 1024 * 1024)
        {
            await testbed.SshAsync(h3.Name, $"rm -f {MonitorDir}/filler");
            return $"h3's deploy filesystem had {full} bytes free before the upgrade, more than the 4 MB meant: the test did not fill it";
        }

        var switched = await SwitchedAsync(hosts, pids);
        var verify = await tug.RunAsync("cluster", "verify", Cluster);
        await testbed.MustRunAsync(h3.Name, $"rm -f {MonitorDir}/filler");
        if (switched is not null)
        {
            return $"the stage on h3 failed but an instance was switched: {switched}";
        }

        if (verify.ExitCode != 0)
        {
            return $"the running builds are not intact after the refused stage: {verify}";
        }

        return await ReplayedAsync(tug, hosts, "1.9.0", since, hosts);
    }

    /// <summary>
    /// e. A validly published v1.9.1 that serves /metrics and reports its version, then exits after 5 s (systemd
    /// restarts it 15 s later, TiUP's RestartSec). With --health-window 10 its first switch fails the window and is
    /// rolled back; the upgrade stops there, the cluster stays on v1.9.0, verified. (Replay would try the same build
    /// again and fail the same way: the fix is a new build, so no replay here.)
    /// </summary>
    private async Task<string?> CrashLoopAsync(CliRunner tug, List<TestbedHost> hosts)
    {
        var since = await ClockAsync();
        var entry = "node_exporter-1.9.1.linux-amd64/node_exporter";
        var tarball = await CrashLoopPackageAsync(tug.WorkDirectory, entry);
        await tug.SucceedAsync("mirror", "publish", "node_exporter", "v1.9.1", tarball, entry, "--os", "linux", "--arch", "amd64");
        var pids = await PidsAsync(hosts);
        var upgrade = await tug.RunAsync("cluster", "upgrade", Cluster, "--node-exporter-version", "v1.9.1", "--health-window", "10", "-y", "--wait-timeout", Wait);
        if (upgrade.ExitCode != 1
            || !upgrade.All.Contains("did not stay healthy in its 10 s health window", StringComparison.Ordinal)
            || !upgrade.All.Contains("rolled back to v1.9.0, healthy and verified", StringComparison.Ordinal))
        {
            return $"the crash-looping build was not failed by its health window and rolled back: {upgrade}";
        }

        if (await SwitchedAsync(hosts.Skip(1), pids) is { } switched)
        {
            return $"the upgrade went on after the first host failed its window: {switched}";
        }

        return await ConvergedAsync(tug, hosts, "1.9.0", since, hosts);
    }

    /// <summary>Replay, then <see cref="ConvergedAsync"/>.</summary>
    private async Task<string?> ReplayedAsync(CliRunner tug, List<TestbedHost> hosts, string version, long since, IEnumerable<TestbedHost> upThroughout, (TestbedHost Host, long Since)? rebooted = null)
    {
        var replay = await tug.RunAsync("cluster", "replay", Cluster, "--wait-timeout", Wait);
        return replay.ExitCode != 0 ? $"replay did not finish it: {replay}" : await ConvergedAsync(tug, hosts, version, since, upThroughout, rebooted);
    }

    /// <summary>
    /// Every host runs <paramref name="version"/> (its running executable asked through /proc/PID/exe), verify exits
    /// 0, and no host was without a running agent longer than the health timeout (from its journal).
    /// </summary>
    private async Task<string?> ConvergedAsync(CliRunner tug, List<TestbedHost> hosts, string version, long since, IEnumerable<TestbedHost> upThroughout, (TestbedHost Host, long Since)? rebooted = null)
    {
        foreach (var h in hosts)
        {
            var running = await testbed.RunningVersionAsync(h.Name);
            if (!running.Contains($"version {version}", StringComparison.Ordinal))
            {
                return $"{h.Name} runs {running.Trim()}, not {version}";
            }
        }

        var verify = await tug.RunAsync("cluster", "verify", Cluster);
        if (verify.ExitCode != 0)
        {
            return $"verify: {verify}";
        }

        var checks = upThroughout.Select(h => (h, since)).ToList();
        if (rebooted is { } r)
        {
            checks.Add(r);
        }

        foreach (var (h, from) in checks)
        {
            var (gap, detail) = await LongestAgentGapAsync(h, from);
            TestContext.Current.TestOutputHelper?.WriteLine($"{h.Name}: longest time without a running {Unit}: {gap:0.0} s ({detail})");
            if (gap > HealthTimeout)
            {
                return $"{h.Name} was without a running {Unit} for {gap:0.0} s (health timeout {HealthTimeout} s): {detail}";
            }
        }

        return null;
    }

    /// <summary>
    /// The longest time since <paramref name="sinceMicros"/> (the host's realtime clock) during which the agent's
    /// unit was not running, read from the host's journal: from a stop job done or a main-process exit to the next
    /// start (or restart) job done, or to now.
    /// </summary>
    private async Task<(double Seconds, string Detail)> LongestAgentGapAsync(TestbedHost host, long sinceMicros)
    {
        var output = await testbed.MustRunAsync(host.Name, $"journalctl -u {Unit} -o json --no-pager --since @{sinceMicros / 1_000_000}; date +%s%6N");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var now = long.Parse(lines[^1].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        long? downAt = null;
        var (longest, detail, events) = (0.0, "never stopped", 0);
        foreach (var line in lines[..^1])
        {
            using var json = JsonDocument.Parse(line);
            var e = json.RootElement;
            string? Field(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            var at = long.Parse(Field("__REALTIME_TIMESTAMP")!, System.Globalization.CultureInfo.InvariantCulture);
            var (job, result) = (Field("JOB_TYPE"), Field("JOB_RESULT"));
            if (at < sinceMicros)
            {
                continue;
            }

            if (downAt is null && ((job == "stop" && result == "done") || Field("EXIT_CODE") is not null))
            {
                downAt = at;
                events++;
            }
            else if (downAt is { } down && job is "start" or "restart" && result == "done")
            {
                var gap = (at - down) / 1e6;
                if (gap > longest)
                {
                    (longest, detail) = (gap, $"down {gap:0.00} s from {DateTimeOffset.FromUnixTimeMilliseconds(down / 1000):HH:mm:ss.fff}");
                }

                downAt = null;
            }
        }

        if (downAt is { } open && (now - open) / 1e6 > longest)
        {
            (longest, detail) = ((now - open) / 1e6, "still down");
        }

        return (longest, $"{detail}; {events} stop(s)");
    }

    /// <summary>
    /// A node_exporter stand-in built here (Go, static): answers <c>--version</c> as node_exporter 1.9.1, serves
    /// /metrics on its listen address, and exits 5 s after it started.
    /// </summary>
    private static async Task<string> CrashLoopPackageAsync(string work, string entry)
    {
        var src = Path.Combine(work, "crashloop");
        Directory.CreateDirectory(src);
        await File.WriteAllTextAsync(Path.Combine(src, "main.go"), """
            package main

            import (
            	"fmt"
            	"net/http"
            	"os"
            	"strings"
            	"time"
            )

            func main() {
            	addr := ":9100"
            	for _, a := range os.Args[1:] {
            		if a == "--version" {
            			fmt.Println("node_exporter, version 1.9.1 (branch: crash-loop test build)")
            			return
            		}
            		if strings.HasPrefix(a, "--web.listen-address=") {
            			addr = strings.Trim(strings.TrimPrefix(a, "--web.listen-address="), "\"")
            		}
            	}
            	http.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
            		fmt.Fprintln(w, "node_exporter_build_info{version=\"1.9.1\"} 1")
            	})
            	go func() { time.Sleep(5 * time.Second); os.Exit(1) }()
            	if err := http.ListenAndServe(addr, nil); err != nil {
            		fmt.Fprintln(os.Stderr, err)
            		os.Exit(2)
            	}
            }
            """, TestContext.Current.CancellationToken);
        var binary = Path.Combine(src, "node_exporter");
        var (exit, output) = await Processes.RunAsync("go", ["build", "-o", binary, "main.go"], src, new Dictionary<string, string>
        {
            ["CGO_ENABLED"] = "0",
            ["GO111MODULE"] = "off",
            ["GOCACHE"] = Path.Combine(Path.GetTempPath(), "tug-go-cache"),
            ["HOME"] = src,
        });
        Assert.True(exit == 0, $"go build: {output}");
        var tarball = Path.Combine(work, "node_exporter-1.9.1.linux-amd64.tar.gz");
        await using (var file = File.Create(tarball))
        await using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, entry[..(entry.IndexOf('/', StringComparison.Ordinal) + 1)]) { Mode = (UnixFileMode)0b111_101_101 }, TestContext.Current.CancellationToken);
            await using var data = File.OpenRead(binary);
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, entry) { Mode = (UnixFileMode)0b111_101_101, DataStream = data }, TestContext.Current.CancellationToken);
        }

        return tarball;
    }

    /// <summary>The first host whose agent's PID changed since <paramref name="pids"/>, or null.</summary>
    private async Task<string?> SwitchedAsync(IEnumerable<TestbedHost> hosts, Dictionary<string, string> pids)
    {
        foreach (var h in hosts)
        {
            var (exit, pid) = await testbed.SshAsync(h.Name, $"systemctl show -p MainPID --value {Unit}");
            if (exit == 0 && pid.Trim() != pids[h.Name])
            {
                return $"{h.Name}: PID {pids[h.Name]} -> {pid.Trim()}";
            }
        }

        return null;
    }

    private async Task<Dictionary<string, string>> PidsAsync(IEnumerable<TestbedHost> hosts)
    {
        var pids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var h in hosts)
        {
            pids[h.Name] = await PidAsync(h);
        }

        return pids;
    }

    private async Task<string> PidAsync(TestbedHost h) => (await testbed.MustRunAsync(h.Name, $"systemctl show -p MainPID --value {Unit}")).Trim();

    /// <summary>The hosts' clock (they share this machine's kernel), in microseconds since the epoch.</summary>
    private static Task<long> ClockAsync() => Task.FromResult(TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() * 1000);

    private async Task HealAllAsync(List<TestbedHost> hosts)
    {
        foreach (var h in hosts)
        {
            await TestbedFixture.TestbedAsync($"fault {h.Name} heal");
        }

        await TestbedFixture.TestbedAsync($"up {testbed.Inventory.Hosts.Length}");
    }

    private static async Task MustTestbedAsync(string arguments)
    {
        var (exit, output) = await TestbedFixture.TestbedAsync(arguments);
        Assert.True(exit == 0, $"testbed {arguments}: {output}");
    }


}
