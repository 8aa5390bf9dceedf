// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Diagnostics;
using Tug.Core.Remote;

namespace Tug.Core.Tests.Remote;

/// <summary>probe.sh run by bash against a real process (a copy of sleep), with systemctl and ss stubbed: the known-identity path.</summary>
public sealed class ProbeScriptTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("tug-probe-").FullName;
    private readonly Process _process;

    public ProbeScriptTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "stubs"));
        Directory.CreateDirectory(Path.Combine(_root, "bin"));
        File.Copy("/bin/sleep", Bin);
        File.SetUnixFileMode(Bin, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _process = Process.Start(Bin, "120");
        Stub("systemctl", $"if [ \"$1\" = show ]; then echo {_process.Id}; else echo active; fi\n");
        Stub("ss", "true\n");
    }

    private string Bin => Path.Combine(_root, "bin", "x");

    public void Dispose()
    {
        _process.Kill();
        _process.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public void Should_Skip_Hashing_Only_While_The_Identity_Is_The_Known_One()
    {
        // Given: a first probe, hashing.
        var first = Probe("-");
        Assert.True(first.Hashed);
        Assert.NotNull(first.Identity);

        // When / Then: the same identity skips; a touched file (mtime, ctime) or another boot id hashes again.
        var same = Probe(first.Identity);
        Assert.False(same.Hashed);
        Assert.Equal("=", same.ExecutableSha256);
        Assert.True(Probe("other-boot" + first.Identity[first.Identity.IndexOf(':', StringComparison.Ordinal)..]).Hashed);
        File.SetLastWriteTimeUtc(Bin, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var touched = Probe(first.Identity);
        Assert.True(touched.Hashed);
        Assert.NotEqual(first.Identity, touched.Identity);
    }

    [Fact]
    public void Should_Read_Every_Unit_And_Socket_Of_A_Host_Once_And_Ask_Alone_For_A_Unit_Not_Reported()
    {
        // Given: systemctl and ss that log their calls; one show for all units reports u (running, the process) and v
        // (inactive) but not w; ss lists port 1 listening on every address
        var calls = Path.Combine(_root, "calls");
        Stub("systemctl", $$"""
            echo "systemctl $*" >> {{calls}}
            if [ "$1 $2 $3" = "show -p Id" ]; then printf 'MainPID=%s\nId=u.service\nActiveState=active\n\nMainPID=0\nId=v.service\nActiveState=inactive\n' {{_process.Id}}
            elif [ "$1" = show ]; then echo 0; else echo failed; fi

            """);
        Stub("ss", $$"""
            echo "ss $*" >> {{calls}}
            if [ "$#" = 1 ]; then echo 'LISTEN 0      4096               *:1               *:*'; echo 'LISTEN 0 128 127.0.0.1:21 0.0.0.0:*'; fi

            """);
        var script = ScriptRenderer.Render("probe-host.sh", new() { { "units", new[] { "u.service", "v.service", "w.service" } } })
            + Render("i", "u.service", 1, "-", Bin) + Render("j", "v.service", 2, "-") + Render("k", "w.service", 1, "-");

        // When
        var (exit, stdout, stderr) = Shell.Bash(script, Path.Combine(_root, "stubs"));

        // Then: u and v from the one read (1 listens, 2 does not), w asked alone; one show and one ss for u and v
        Assert.True(exit == 0, stderr);
        var lines = HostReply.Parse(stdout).OfType<ProbeLine>().ToDictionary(p => p.Id);
        Assert.Equal(("active", _process.Id, true), (lines["i"].State, lines["i"].Pid, lines["i"].Listening));
        Assert.NotNull(lines["i"].Identity);
        Assert.Equal(("inactive", 0, false), (lines["j"].State, lines["j"].Pid, lines["j"].Listening));
        Assert.Equal(("failed", 0), (lines["k"].State, lines["k"].Pid));
        Assert.Equal(
            ["ss -ltnH", "systemctl show -p Id -p ActiveState -p MainPID -- u.service v.service w.service", "systemctl is-active w.service", "systemctl show -p MainPID --value w.service", "ss -ltnH sport = :1"],
            File.ReadAllLines(calls));
    }

    private static string Render(string id, string unit, int port, string known, string bin = "/nonexistent") => ScriptRenderer.Render("probe.sh", new()
    {
        { "id", id },
        { "unit", unit },
        { "port", port.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        { "bin", bin },
        { "known", known },
        { "version_args", new[] { "--version" } },
    });

    private ProbeLine Probe(string known)
    {
        var script = ScriptRenderer.Render("probe.sh", new()
        {
            { "id", "i" },
            { "unit", "u.service" },
            { "port", "1" },
            { "bin", Bin },
            { "known", known },
            { "version_args", new[] { "--version" } },
        });
        var (exit, stdout, stderr) = Shell.Bash(script, Path.Combine(_root, "stubs"));
        Assert.True(exit == 0, stderr);
        return Assert.Single(HostReply.Parse(stdout).OfType<ProbeLine>());
    }

    private void Stub(string name, string body)
    {
        var path = Path.Combine(_root, "stubs", name);
        File.WriteAllText(path, "#!/bin/bash\n" + body);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
