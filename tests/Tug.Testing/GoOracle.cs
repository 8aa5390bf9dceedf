// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.ComponentModel;

namespace Tug.Testing;

/// <summary>
/// The independent Go implementation of TiUP's mirror format (tests/compat/tiupgo), built once per test run with
/// Debian's Go toolchain. It shares no code with Tug, and checks with Go's own rsa.VerifyPSS as TiUP does.
/// </summary>
public static class GoOracle
{
    private static readonly Lazy<Task<string>> Binary = new(BuildAsync);

    /// <summary>The built <c>tiupgo</c> executable.</summary>
    public static Task<string> PathAsync() => Binary.Value;

    /// <summary>Runs <c>tiupgo ARGS</c>.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string arguments) =>
        await Processes.RunAsync(await PathAsync(), arguments);

    private static Task<string> BuildAsync() => BuildGoAsync("tiupgo", "the compatibility oracle", "golang-go");

    /// <summary>
    /// Builds the Go program in <c>tests/compat/PROJECT</c> with Debian's toolchain, offline (<c>GOPROXY=off</c>), to a
    /// file of this test process; a missing toolchain or a failed build fails the test naming <paramref name="packages"/>.
    /// </summary>
    internal static async Task<string> BuildGoAsync(string project, string what, string packages)
    {
        var source = Path.Combine(Repo.Root, "tests", "compat", project);
        var output = Path.Combine(Path.GetTempPath(), $"tug-{project}-{Environment.ProcessId}");
        try
        {
            var (exit, log) = await Processes.RunAsync("go", $"build -o {output} .", source, new Dictionary<string, string>
            {
                ["GOFLAGS"] = "-mod=mod",
                ["GOPROXY"] = "off",
                ["GOCACHE"] = Path.Combine(Path.GetTempPath(), "tug-gocache"),
            });
            Assert.True(exit == 0, $"building {what} ({project}) failed; it needs Debian's {packages}:\n{log}");
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"The Go toolchain is needed for {what} ({e.Message}); install Debian's {packages} (`./test` does).");
        }

        return output;
    }
}
