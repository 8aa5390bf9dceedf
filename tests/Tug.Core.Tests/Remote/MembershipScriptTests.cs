// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Remote;

namespace Tug.Core.Tests.Remote;

/// <summary>
/// <c>membership.sh</c> run by bash on this machine against a stand-in etcdctl: etcd refuses a member change with
/// "unhealthy cluster" until every member has been connected for a few seconds (seen on CI right after a restore:
/// a scale-in's member-leave failed at once); the script waits that out, and stops at once on any other error.
/// </summary>
public sealed class MembershipScriptTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("tug-member-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>An etcdctl that lists one member and answers <c>member remove</c> from a queue of replies (one per call: "ok" or an error text).</summary>
    private string Ctl(params string[] replies)
    {
        File.WriteAllLines(Path.Combine(_root, "replies"), replies);
        var ctl = Path.Combine(_root, "etcdctl");
        File.WriteAllText(ctl, $$"""
            #!/usr/bin/env bash
            for a in "$@"; do case $a in member) shift; break ;; esac; shift; done
            case $1 in
              list) echo "8e9e05c52164694d, started, etcd-3, http://10.0.0.3:2380, http://10.0.0.3:2379, false" ;;
              remove|add)
                reply=$(head -1 '{{_root}}/replies'); sed -i 1d '{{_root}}/replies'; echo "$1" >> '{{_root}}/calls'
                if [ "$reply" = ok ]; then echo "Member removed"; else echo "$reply" >&2; exit 1; fi ;;
            esac
            """);
        File.SetUnixFileMode(ctl, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return ctl;
    }

    private static string Script(string ctl) => ScriptRenderer.Render("membership.sh", new()
    {
        { "ctl", ctl }, { "host", "10.0.0.1" }, { "endpoints", "http://10.0.0.1:2379" }, { "peer", "http://10.0.0.3:2380" }, { "action", "remove" }, { "name", "etcd-3" },
    });

    [Fact]
    public void Should_Wait_While_Etcd_Says_The_Cluster_Is_Unhealthy()
    {
        // Given: etcd refuses twice, then accepts
        var ctl = Ctl("Error: etcdserver: unhealthy cluster", "Error: etcdserver: unhealthy cluster", "ok");

        // When
        var (exit, stdout, stderr) = Shell.Bash(Script(ctl));

        // Then
        Assert.True(exit == 0, stderr);
        Assert.Contains("TUG|member|removed", stdout, StringComparison.Ordinal);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(_root, "calls")).Length);
    }

    [Fact]
    public void Should_Stop_At_Once_On_Any_Other_Error()
    {
        // Given
        var ctl = Ctl("Error: etcdserver: permission denied", "ok");

        // When
        var (exit, stdout, stderr) = Shell.Bash(Script(ctl));

        // Then: one call, its error passed on
        Assert.Equal(1, exit);
        Assert.DoesNotContain("TUG|member", stdout, StringComparison.Ordinal);
        Assert.Contains("permission denied", stderr, StringComparison.Ordinal);
        Assert.Single(File.ReadAllLines(Path.Combine(_root, "calls")));
    }
}
