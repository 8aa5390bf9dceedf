// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Planning;

namespace Tug.Core.Tests.Planners;

/// <summary>The unified diff <c>reload --dry-run</c> prints per file, host's file to rendered.</summary>
public sealed class UnifiedDiffTests
{
    private const string From = "h:/f (on the host)";
    private const string To = "/f (rendered)";

    [Fact]
    public void Should_Be_Empty_When_The_Texts_Are_Equal()
    {
        // Given
        const string text = "a\nb\n";

        // When
        var diff = UnifiedDiff.Compute(text, text, From, To);

        // Then
        Assert.Equal(string.Empty, diff);
    }

    [Fact]
    public void Should_Show_A_Changed_Line_As_Removed_Then_Added_With_Three_Lines_Of_Context()
    {
        // Given
        var before = string.Concat(Enumerable.Range(1, 10).Select(n => $"line {n}\n"));
        var after = before.Replace("line 5\n", "line five\n", StringComparison.Ordinal);

        // When
        var diff = UnifiedDiff.Compute(before, after, From, To);

        // Then
        Assert.Equal(
            "--- h:/f (on the host)\n+++ /f (rendered)\n@@ -2,7 +2,7 @@\n line 2\n line 3\n line 4\n-line 5\n+line five\n line 6\n line 7\n line 8\n",
            diff);
    }

    [Fact]
    public void Should_Diff_From_Dev_Null_When_The_File_Is_Missing_On_The_Host()
    {
        // Given
        const string after = "x\ny\n";

        // When
        var diff = UnifiedDiff.Compute(null, after, From, To);

        // Then
        Assert.Equal("--- /dev/null\n+++ /f (rendered)\n@@ -0,0 +1,2 @@\n+x\n+y\n", diff);
    }

    [Fact]
    public void Should_Join_Changes_Within_Twice_The_Context_Into_One_Hunk_And_Split_Far_Ones()
    {
        // Given
        var before = string.Concat(Enumerable.Range(1, 30).Select(n => $"{n}\n"));
        var near = before.Replace("\n3\n", "\nthree\n", StringComparison.Ordinal).Replace("\n8\n", "\neight\n", StringComparison.Ordinal);
        var far = before.Replace("\n3\n", "\nthree\n", StringComparison.Ordinal).Replace("\n25\n", "\ntwenty-five\n", StringComparison.Ordinal);

        // When
        var nearDiff = UnifiedDiff.Compute(before, near, From, To);
        var farDiff = UnifiedDiff.Compute(before, far, From, To);

        // Then
        Assert.Single(nearDiff.Split('\n'), l => l.StartsWith("@@", StringComparison.Ordinal));
        Assert.Contains("@@ -1,11 +1,11 @@", nearDiff, StringComparison.Ordinal);
        Assert.Equal(2, farDiff.Split('\n').Count(l => l.StartsWith("@@", StringComparison.Ordinal)));
        Assert.Contains("@@ -22,7 +22,7 @@", farDiff, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Show_Added_And_Removed_Lines_With_Their_Counts()
    {
        // Given
        const string before = "a\nb\nc\n";
        const string after = "a\nc\nd\ne\n";

        // When
        var diff = UnifiedDiff.Compute(before, after, From, To);

        // Then
        Assert.Equal("--- h:/f (on the host)\n+++ /f (rendered)\n@@ -1,3 +1,4 @@\n a\n-b\n c\n+d\n+e\n", diff);
    }
}
