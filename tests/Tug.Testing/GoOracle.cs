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

    private static async Task<string> BuildAsync()
    {
        var source = Path.Combine(Repo.Root, "tests", "compat", "tiupgo");
        var output = Path.Combine(Path.GetTempPath(), $"tug-tiupgo-{Environment.ProcessId}");
        try
        {
            var (exit, log) = await Processes.RunAsync("go", $"build -o {output} .", source, new Dictionary<string, string>
            {
                ["GOFLAGS"] = "-mod=mod",
                ["GOPROXY"] = "off",
                ["GOCACHE"] = Path.Combine(Path.GetTempPath(), "tug-gocache"),
            });
            Assert.True(exit == 0, $"building the Go oracle failed:\n{log}");
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"The Go toolchain is needed for the compatibility oracle ({e.Message}); install Debian's golang-go (`.ci/run` does).");
        }

        return output;
    }
}
