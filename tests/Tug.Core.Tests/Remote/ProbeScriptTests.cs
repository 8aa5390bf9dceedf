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
