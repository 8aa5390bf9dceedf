// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Remote;

namespace Tug.Core.Tests.Remote;

/// <summary>
/// The templates whose logic carries Tug's guarantees, run by bash on this machine in a temporary directory with
/// <c>systemctl</c> and <c>ss</c> replaced by stubs (nothing on this machine is touched).
/// </summary>
public sealed class ScriptBehaviourTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("tug-behaviour-").FullName;

    public ScriptBehaviourTests()
    {
        // systemctl: records its calls; `is-active` prints the state in ./state. ss: "listens" on the ports in ./listening.
        Directory.CreateDirectory(Stubs);
        Stub("systemctl", $"echo \"$*\" >> '{_root}/systemctl.log'\nif [ \"$1\" = is-active ]; then s=$(cat '{_root}/state' 2>/dev/null || echo inactive); [ \"$2\" = --quiet ] || echo \"$s\"; [ \"$s\" = active ]; fi\n");
        Stub("ss", $"port=${{2##*:}}; grep -qx \"$port\" '{_root}/listening' 2>/dev/null && echo \"LISTEN 0 128 *:$port *:*\"; true\n");
    }

    private string Stubs => Path.Combine(_root, "stubs");

    private string Deploy => Path.Combine(_root, "it's $(id) deploy");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Should_Switch_Once_Then_Only_Restart_When_Run_Again()
    {
        // Given: bin holds the old build, the stage the new one.
        var bin = Path.Combine(Deploy, "bin");
        var stage = Path.Combine(bin, ".tug-stage-etcd-v2");
        Directory.CreateDirectory(Path.Combine(stage, "etcd-dir"));
        File.WriteAllText(Path.Combine(stage, "etcd-dir", "etcd"), "new");
        Directory.CreateDirectory(Path.Combine(bin, "etcd-dir"));
        File.WriteAllText(Path.Combine(bin, "etcd-dir", "etcd"), "old");
        var script = Switch(stage, bin);

        // When
        var first = Shell.Bash(script, Stubs);
        var again = Shell.Bash(script, Stubs);

        // Then
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Equal("new", File.ReadAllText(Path.Combine(bin, "etcd-dir", "etcd")));
        Assert.Equal("old", File.ReadAllText(Path.Combine(Deploy, "bin.old.v1", "etcd-dir", "etcd")));
        Assert.False(Directory.Exists(stage));
        Assert.Equal("etcd-dir\n", File.ReadAllText(Path.Combine(bin, ".tug-installed-etcd-v2")));
        Assert.Equal(["stop", "stopped"], HostReply.Parse(first.Stdout).OfType<TimeLine>().Select(t => t.Mark));
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal("new", File.ReadAllText(Path.Combine(bin, "etcd-dir", "etcd")));
        Assert.Equal("old", File.ReadAllText(Path.Combine(Deploy, "bin.old.v1", "etcd-dir", "etcd")));
    }

    [Fact]
    public void Should_Exit_44_When_Nothing_Is_Staged_Or_Installed()
    {
        // Given
        var bin = Path.Combine(Deploy, "bin");
        Directory.CreateDirectory(bin);

        // When
        var (exit, _, stderr) = Shell.Bash(Switch(Path.Combine(bin, ".tug-stage-etcd-v2"), bin), Stubs);

        // Then
        Assert.Equal(44, exit);
        Assert.Equal("nothing staged for 10.0.0.1:2379 and v2 not installed", stderr.Trim());
    }

    [Fact]
    public void Should_Put_The_Previous_Build_Back_On_Rollback()
    {
        // Given: a switch happened.
        var bin = Path.Combine(Deploy, "bin");
        var stage = Path.Combine(bin, ".tug-stage-etcd-v2");
        Directory.CreateDirectory(stage);
        File.WriteAllText(Path.Combine(stage, "etcd"), "new");
        File.WriteAllText(Path.Combine(stage, "etcdctl"), "added");
        File.WriteAllText(Path.Combine(bin, "etcd"), "old");
        Assert.Equal(0, Shell.Bash(Switch(stage, bin), Stubs).ExitCode);

        // When
        var (exit, _, stderr) = Shell.Bash(ScriptRenderer.Render("rollback.sh", new()
        {
            { "unit", "etcd-2379.service" },
            { "bin", bin },
            { "old", Path.Combine(Deploy, "bin.old.v1") },
            { "installed_list", Path.Combine(bin, ".tug-installed-etcd-v2") },
        }), Stubs);

        // Then
        Assert.True(exit == 0, stderr);
        Assert.Equal("old", File.ReadAllText(Path.Combine(bin, "etcd")));
        Assert.False(File.Exists(Path.Combine(bin, "etcdctl")));
        Assert.False(File.Exists(Path.Combine(bin, ".tug-installed-etcd-v2")));
    }

    [Theory]
    [InlineData(true, "2379", "active", "TUG|wait|10.0.0.1:2379|ok")]
    [InlineData(true, "", "failed", "TUG|wait|10.0.0.1:2379|fail|failed")]
    [InlineData(true, "", "activating", "TUG|wait|10.0.0.1:2379|fail|activating")]
    [InlineData(false, "", "inactive", "TUG|wait|10.0.0.1:2379|ok")]
    [InlineData(false, "2379", "active", "TUG|wait|10.0.0.1:2379|fail|active")]
    public void Should_Report_Each_Wait(bool listening, string listens, string state, string expected)
    {
        // Given: a 1 s timeout; a dead unit must not take it.
        File.WriteAllText(Path.Combine(_root, "listening"), listens + "\n");
        File.WriteAllText(Path.Combine(_root, "state"), state);
        var script = ScriptRenderer.Render("wait.sh", new()
        {
            { "timeout_seconds", listening && state != "active" ? 30 : 1 },
            { "listening", listening },
            { "ids", new[] { "10.0.0.1:2379" } },
            { "units", new[] { "etcd-2379.service" } },
            { "ports", new[] { 2379 } },
        });

        // When
        var started = System.Diagnostics.Stopwatch.StartNew();
        var (exit, stdout, stderr) = Shell.Bash(script, Stubs);

        // Then
        Assert.True(exit == 0, stderr);
        Assert.Equal(expected, stdout.Trim());
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), "a dead unit waited for the deadline");
    }

    [Fact]
    public void Should_Pass_The_Cluster_Check_With_The_Tool_Beside_The_Component()
    {
        // Given: a "etcdctl" that prints its environment variable and arguments.
        var ctl = Path.Combine(Deploy, "bin", "etcdctl");
        Directory.CreateDirectory(Path.GetDirectoryName(ctl)!);
        File.WriteAllText(ctl, "#!/bin/sh\necho \"api=$ETCDCTL_API args=$*\"\n");
        File.SetUnixFileMode(ctl, UnixFileMode.UserRead | UnixFileMode.UserExecute);

        // When
        var (exit, stdout, stderr) = Shell.Bash(ClusterCheck(ctl), Stubs);

        // Then
        Assert.True(exit == 0, stderr);
        Assert.Equal("api=3 args=--endpoints=http://a:2379,http://b:2379 endpoint health", stdout.Trim());
    }

    [Fact]
    public void Should_Fail_The_Cluster_Check_Naming_The_Missing_Tool()
    {
        // When: no tool beside the component, none on PATH (the stub directory and the system's only).
        var (exit, _, stderr) = Shell.Bash(ClusterCheck(Path.Combine(Deploy, "bin", "etcdctl"), fallback: "tug-no-such-etcdctl"), Stubs);

        // Then
        Assert.Equal(1, exit);
        Assert.Equal("no tug-no-such-etcdctl beside etcd to check the cluster", stderr.Trim());
    }

    private static string ClusterCheck(string executable, string fallback = "etcdctl") => ScriptRenderer.Render("cluster-check.sh", new()
    {
        { "attempts", 1 },
        { "executable", executable },
        { "fallback", fallback },
        { "component", "etcd" },
        { "environment", new[] { "ETCDCTL_API=3" } },
        { "arguments", new[] { "--endpoints=http://a:2379,http://b:2379", "endpoint", "health" } },
    });

    private string Switch(string stage, string bin) => ScriptRenderer.Render("switch.sh", new()
    {
        { "unit", "etcd-2379.service" },
        { "stage", stage },
        { "bin", bin },
        { "old", Path.Combine(Deploy, "bin.old.v1") },
        { "installed_list", Path.Combine(bin, ".tug-installed-etcd-v2") },
        { "id", "10.0.0.1:2379" },
        { "version", "v2" },
    });

    private void Stub(string name, string body)
    {
        var path = Path.Combine(Stubs, name);
        File.WriteAllText(path, "#!/bin/bash\n" + body);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
