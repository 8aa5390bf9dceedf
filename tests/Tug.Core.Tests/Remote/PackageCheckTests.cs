// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.IO.Compression;
using Tug.Core.Remote;
using Tug.Testing;

namespace Tug.Core.Tests.Remote;

/// <summary>
/// The package rules, twice: <see cref="PackageMembers"/> (publish, patch, clone, merge) and the host's
/// <c>package-check.sh</c> run by bash and GNU tar on this machine, each refusing every bad member and naming it, and
/// each accepting a good package that uses every allowed kind of member.
/// </summary>
public sealed class PackageCheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tug-package-check-").FullName;

    public static TheoryData<string> Cases() => [.. BadPackages.Cases.Keys.Order(StringComparer.Ordinal)];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Should_Name_The_Bad_Member_In_Process(string name)
    {
        // Given
        var path = BadPackages.Write(Path.Combine(_dir, name + ".tar.gz"), name);

        // When
        var bad = Find(path);

        // Then
        Assert.NotNull(bad);
        Assert.StartsWith(BadPackages.Cases[name].Member, bad.Member, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Should_Refuse_The_Bad_Member_On_The_Host_Before_Unpacking(string name)
    {
        // Given
        var path = BadPackages.Write(Path.Combine(_dir, name + ".tar.gz"), name);

        // When
        var (exit, stdout, stderr) = Shell.Bash(Check(path));

        // Then
        Assert.True(exit == 45, $"exit {exit}: {stderr}");
        Assert.Contains($"member '{BadPackages.Cases[name].Member}", stderr, StringComparison.Ordinal);
        Assert.Contains("refused on the host, nothing was unpacked", stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, stdout);
    }

    [Fact]
    public void Should_Accept_Good_Packages_Both_Ways()
    {
        // Given: the plain package, and one using every allowed member kind (./, links inside, a hard link, spaces)
        var plain = BadPackages.Write(Path.Combine(_dir, "plain.tar.gz"), null);
        var links = BadPackages.WriteGoodWithLinks(Path.Combine(_dir, "links.tar.gz"));

        // When
        var results = new[] { plain, links }.Select(p => (Path: p, InProcess: Find(p), Host: Shell.Bash(Check(p)))).ToList();

        // Then
        Assert.All(results, r =>
        {
            Assert.Null(r.InProcess);
            Assert.True(r.Host.ExitCode == 0, $"{r.Path}: exit {r.Host.ExitCode}: {r.Host.Stderr}");
        });
    }

    [Fact]
    public void Should_Refuse_A_File_That_Is_Not_A_Tarball_On_The_Host()
    {
        var path = Path.Combine(_dir, "junk.tar.gz");
        File.WriteAllText(path, "not a tarball");

        var (exit, _, stderr) = Shell.Bash(Check(path));

        Assert.Equal(45, exit);
        Assert.Contains("cannot be listed", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Unpack_The_Checked_Copy_Into_The_Directory_And_Leave_None_When_Refused()
    {
        // Given: a good package and a bad one, each with an empty staging directory (as stage.sh leaves it)
        var good = BadPackages.WriteGoodWithLinks(Path.Combine(_dir, "links.tar.gz"));
        var bad = BadPackages.Write(Path.Combine(_dir, "bad.tar.gz"), BadPackages.Cases.Keys.Order(StringComparer.Ordinal).First());
        var (goodInto, badInto) = (Directory.CreateDirectory(Path.Combine(_dir, "good-stage")).FullName, Directory.CreateDirectory(Path.Combine(_dir, "bad-stage")).FullName);
        var temporaries = Directory.GetFiles("/tmp", "tug-package-*").Length;

        // When
        var accepted = Shell.Bash(Check(good, goodInto, Environment.UserName));
        var refused = Shell.Bash(Check(bad, badInto, Environment.UserName));

        // Then: the good one is unpacked there, the bad one left no directory, neither a temporary copy
        Assert.True(accepted.ExitCode == 0, accepted.Stderr);
        Assert.Equal("#!/bin/sh\necho 'pkg, version 1'\n", File.ReadAllText(Path.Combine(goodInto, "pkg-v1", "pkg")));
        Assert.True(File.Exists(Path.Combine(goodInto, "pkg-v1", "a name with spaces.txt")));
        Assert.Equal(45, refused.ExitCode);
        Assert.False(Directory.Exists(badInto), "a refused package left its staging directory");
        Assert.Equal(temporaries, Directory.GetFiles("/tmp", "tug-package-*").Length);
    }

    private static BadMember? Find(string path)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        return PackageMembers.FindBad(gzip);
    }

    private static string Check(string path, string into = "", string owner = "") =>
        ScriptRenderer.Render("package-check.sh", new() { { "tarball", path }, { "package", "pkg v1 (linux/amd64)" }, { "into", into }, { "owner", owner } });
}
