// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Remote;

namespace Tug.Core.Tests.Remote;

/// <summary>
/// clean.sh and unit-enable.sh run by bash on this machine in a temporary directory (<c>systemctl</c> replaced by a
/// stub keeping each unit's boot state in a file): what they delete, what they keep, what they report and refuse.
/// </summary>
public sealed class LifecycleScriptTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("tug-lifecycle-").FullName;

    public LifecycleScriptTests()
    {
        // systemctl enable|disable U...: writes ./boot/U; is-enabled U: prints it (disabled when none, not-found for "missing*").
        Directory.CreateDirectory(Stubs);
        Directory.CreateDirectory(Path.Combine(_root, "boot"));
        var boot = Path.Combine(_root, "boot");
        File.WriteAllText(Path.Combine(Stubs, "systemctl"), $$"""
            #!/bin/bash
            action=$1; shift
            case "$action" in
              enable | disable) for u in "$@"; do case "$u" in missing*) exit 1 ;; esac; echo "${action}d" > '{{boot}}'/"$u"; done ;;
              is-enabled) case "$1" in missing*) echo not-found; exit 1 ;; esac; cat '{{boot}}'/"$1" 2>/dev/null || { echo disabled; exit 1; } ;;
            esac
            """);
        File.SetUnixFileMode(Path.Combine(Stubs, "systemctl"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private string Stubs => Path.Combine(_root, "stubs");

    private string Dir(string name)
    {
        var path = Path.Combine(_root, name);
        Directory.CreateDirectory(path);
        return path;
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Should_Delete_Only_Matching_Entries_Keep_The_Directory_And_Report_Nothing_Left()
    {
        // Given: a data dir with files, a hidden file and a subdirectory; a log dir with logs and a file that is no log
        var data = Dir("it's $(id) data");
        File.WriteAllText(Path.Combine(data, "a"), "x");
        File.WriteAllText(Path.Combine(data, ".hidden"), "x");
        Directory.CreateDirectory(Path.Combine(data, "member", "wal"));
        var log = Dir("log");
        File.WriteAllText(Path.Combine(log, "etcd.log"), "x");
        File.WriteAllText(Path.Combine(log, "etcd_stderr.log"), "x");
        File.WriteAllText(Path.Combine(log, "keep.txt"), "x");
        var missing = Path.Combine(_root, "never-made");

        // When
        var result = Shell.Bash(HostScripts.Clean([(data, "*"), (log, "*.log"), (missing, "*")], remove: true), Stubs);

        // Then
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.True(Directory.Exists(data));
        Assert.Empty(Directory.EnumerateFileSystemEntries(data));
        Assert.Equal([Path.Combine(log, "keep.txt")], Directory.EnumerateFileSystemEntries(log));
        var lines = HostReply.Parse(result.Stdout).OfType<CleanLine>().ToList();
        Assert.Equal([(data, "*", (int?)0), (log, "*.log", 0), (missing, "*", null)], lines.Select(l => (l.Dir, l.Pattern, l.Left)));
    }

    [Fact]
    public void Should_Count_Without_Deleting_When_Asked_Only_To_Look()
    {
        var data = Dir("data");
        File.WriteAllText(Path.Combine(data, "a"), "x");
        File.WriteAllText(Path.Combine(data, ".b"), "x");

        var result = Shell.Bash(HostScripts.Clean([(data, "*")], remove: false), Stubs);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(2, Directory.EnumerateFileSystemEntries(data).Count());
        Assert.Equal(2, HostReply.Parse(result.Stdout).OfType<CleanLine>().Single().Left);
    }

    [Theory]
    [InlineData("relative/dir")]
    [InlineData("/")]
    [InlineData("//")]
    [InlineData("link")]
    public void Should_Refuse_A_Relative_Root_Or_Linked_Directory_And_Delete_Nothing(string bad)
    {
        // Given a directory that would be cleaned first, and a bad one after it
        var data = Dir("data");
        File.WriteAllText(Path.Combine(data, "a"), "x");
        var target = bad == "link" ? Path.Combine(_root, "link") : bad;
        if (bad == "link")
        {
            Directory.CreateSymbolicLink(target, data);
        }

        // When
        var result = Shell.Bash(HostScripts.Clean([(data, "*"), (target, "*")], remove: true), Stubs);

        // Then
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("refusing", result.Stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(data, "a")));
    }

    [Fact]
    public void Should_Disable_Then_Enable_Units_And_Report_What_Systemctl_Says()
    {
        // When
        var disabled = Shell.Bash(HostScripts.UnitEnable("disable", ["node_exporter-9100.service", "etcd-2379.service"]), Stubs);
        var read = Shell.Bash(HostScripts.UnitEnable("read", ["node_exporter-9100.service"]), Stubs);
        var enabled = Shell.Bash(HostScripts.UnitEnable("enable", ["node_exporter-9100.service"]), Stubs);

        // Then
        Assert.True(disabled.ExitCode == 0, disabled.Stderr);
        Assert.Equal([("node_exporter-9100.service", "disabled"), ("etcd-2379.service", "disabled")], HostReply.Parse(disabled.Stdout).OfType<EnabledLine>().Select(l => (l.Unit, l.State)));
        Assert.Equal("disabled", HostReply.Parse(read.Stdout).OfType<EnabledLine>().Single().State);
        Assert.Equal("enabled", HostReply.Parse(enabled.Stdout).OfType<EnabledLine>().Single().State);
        Assert.Equal("enabled\n", File.ReadAllText(Path.Combine(_root, "boot", "node_exporter-9100.service")));
    }

    [Fact]
    public void Should_Exit_1_And_Report_Not_Found_When_Systemctl_Refuses()
    {
        var result = Shell.Bash(HostScripts.UnitEnable("enable", ["missing-1.service"]), Stubs);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("not-found", HostReply.Parse(result.Stdout).OfType<EnabledLine>().Single().State);
    }
}
