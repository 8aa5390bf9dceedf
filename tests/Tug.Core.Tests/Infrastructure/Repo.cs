// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

namespace Tug.Core.Tests.Infrastructure;

/// <summary>Paths to the repository, its test project and the shared TiUP fixtures.</summary>
internal static class Repo
{
    /// <summary>The repository root: the directory holding Tug.slnx, found by walking up from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>This test project's source directory (where Expectations/ lives).</summary>
    public static string TestProject => Path.Combine(Root, "tests", "Tug.Core.Tests");

    /// <summary><c>../shared/fixtures/tiup</c> beside the repository.</summary>
    public static string TiupFixtures
    {
        get
        {
            var path = Path.GetFullPath(Path.Combine(Root, "..", "shared", "fixtures", "tiup"));
            Assert.True(Directory.Exists(path), $"TiUP fixtures not found at {path}: the shared/ folder must sit beside the repository.");
            return path;
        }
    }

    /// <summary>A topology fixture by path relative to the TiUP fixtures root.</summary>
    public static string Fixture(params string[] parts) => Path.Combine([TiupFixtures, .. parts]);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Tug.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Tug.slnx not found above " + AppContext.BaseDirectory);
    }
}
