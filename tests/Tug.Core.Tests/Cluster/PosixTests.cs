// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;

namespace Tug.Core.Tests.Cluster;

/// <summary>The renames rename and meta restore rely on: never replacing, and swapping two directories in one step.</summary>
public sealed class PosixTests
{
    [Fact]
    public void Should_Rename_A_Directory_But_Never_Over_An_Existing_One_Even_Empty()
    {
        // Given
        using var dir = new TempDirectory("a");
        File.WriteAllText(Path.Combine(dir.Path, "meta.yaml"), "a");
        var b = Path.Combine(dir.Root, "b");
        Directory.CreateDirectory(b);

        // When: the target exists (empty: plain rename(2) would replace it)
        var e = Assert.Throws<IOException>(() => Posix.RenameNoReplace(dir.Path, b));

        // Then: refused, both as they were; to a free name it moves
        Assert.Contains("exists already", e.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(dir.Path, "meta.yaml")));
        Directory.Delete(b);
        Posix.RenameNoReplace(dir.Path, b);
        Assert.Equal("a", File.ReadAllText(Path.Combine(b, "meta.yaml")));
        Directory.Move(b, dir.Path);
    }

    [Fact]
    public void Should_Swap_Two_Directories_Atomically_On_Linux()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "RENAME_EXCHANGE is Linux's");

        // Given
        using var dir = new TempDirectory("a");
        File.WriteAllText(Path.Combine(dir.Path, "x"), "old");
        var b = Path.Combine(dir.Root, "b");
        Directory.CreateDirectory(b);
        File.WriteAllText(Path.Combine(b, "x"), "new");

        // When
        var swapped = Posix.TryExchange(b, dir.Path);

        // Then: this machine's file system swaps (the restore's atomic path, not its fallback, is what runs here)
        Assert.True(swapped);
        Assert.Equal("new", File.ReadAllText(Path.Combine(dir.Path, "x")));
        Assert.Equal("old", File.ReadAllText(Path.Combine(b, "x")));
        Posix.SyncDirectory(dir.Root);
    }
}
