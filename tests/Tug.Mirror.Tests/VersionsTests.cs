// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

namespace Tug.Mirror.Tests;

public sealed class VersionsTests
{
    [Theory]
    [InlineData("v1.9.0", "v1.10.0", -1)]
    [InlineData("v1.9.0-rc.1", "v1.9.0", -1)]
    [InlineData("v2.0.0", "v1.99.99", 1)]
    [InlineData("v1.0.0-alpha.2", "v1.0.0-alpha.10", -1)]
    [InlineData("v1.0.0", "v1.0.0", 0)]
    public void Should_Order_By_Semver_Precedence(string a, string b, int expected) =>
        Assert.Equal(expected, Math.Sign(Versions.Compare(a, b)));

    [Theory]
    [InlineData("1.9.0", "v1.9.0")]
    [InlineData("v1.9.0", "v1.9.0")]
    [InlineData("nightly", "nightly")]
    public void Should_Add_The_V_Prefix(string input, string expected) => Assert.Equal(expected, Versions.Normalize(input));
}
