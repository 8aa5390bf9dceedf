// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Testing;

namespace Tug.Cli.Tests;

/// <summary>
/// <c>tug mirror publish</c> looks at every member of a package: a device node, a FIFO, a setuid or setgid file, a
/// <c>..</c> or absolute path, a link pointing out of the package or a member beneath one is refused, exit 2, the
/// member named, the mirror unchanged.
/// </summary>
public sealed class PackageSafetyTests
{
    public static TheoryData<string> Cases() => [.. BadPackages.Cases.Keys.Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Should_Refuse_To_Publish_A_Package_With_A_Bad_Member(string name)
    {
        // Given
        await using var s = await MirrorScenario.CreateAsync();
        var tarball = BadPackages.Write(s.Path($"{name}.tar.gz"), name);
        var before = s.Snapshot();

        // When
        var result = await s.Tug.RunAsync("mirror", "publish", "pkg", "v1.0.0", tarball, BadPackages.Entry, "--os", "linux", "--arch", "amd64");

        // Then
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("error[E2301]", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"member '{BadPackages.Cases[name].Member}", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing was published", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before.Keys.Order(), s.Snapshot().Keys.Order());
        Assert.All(s.Snapshot(), f => Assert.Equal(before[f.Key], f.Value));
    }

    [Fact]
    public async Task Should_Publish_A_Package_Whose_Links_Stay_Inside()
    {
        await using var s = await MirrorScenario.CreateAsync();
        var tarball = BadPackages.WriteGoodWithLinks(s.Path("links.tar.gz"));

        var result = await s.Tug.RunAsync("mirror", "publish", "pkg", "v1.0.0", tarball, BadPackages.Entry, "--os", "linux", "--arch", "amd64");
        var verify = await s.Tug.RunAsync("mirror", "verify");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(verify.ExitCode == 0, verify.ToString());
    }
}
