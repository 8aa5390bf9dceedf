// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Tug.Cli;

namespace Tug.Testing;

/// <summary>What one in-process run of <c>tug</c> printed and returned.</summary>
public sealed partial record CliResult(string Stdout, string Stderr, int ExitCode)
{
    /// <summary>Both streams, for assertions that do not care where a line went.</summary>
    public string All => Stdout + Stderr;

    /// <summary>The output with ANSI escape sequences removed.</summary>
    public CliResult WithoutAnsi() => this with { Stdout = Ansi().Replace(Stdout, string.Empty), Stderr = Ansi().Replace(Stderr, string.Empty) };

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";

    [GeneratedRegex("\u001b\\[[0-9;]*[A-Za-z]")]
    private static partial Regex Ansi();
}

/// <summary>Environment variables and working directory for a test run.</summary>
public sealed class FakeEnvironment(string currentDirectory) : IEnvironment
{
    public Dictionary<string, string?> Variables { get; } = new(StringComparer.Ordinal);

    public string CurrentDirectory => currentDirectory;

    public string? GetVariable(string name) => Variables.TryGetValue(name, out var value) ? value : null;
}

/// <summary>Runs the real <see cref="Program"/> in-process with a private TUG_HOME and working directory.</summary>
public sealed class CliRunner(string workDirectory)
{
    public FakeEnvironment Environment { get; } = new(workDirectory) { Variables = { ["TUG_HOME"] = Path.Combine(workDirectory, "home") } };

    public string WorkDirectory => workDirectory;

    public string Home => Environment.Variables["TUG_HOME"]!;

    /// <summary>What tug reads on standard input (answers to its questions, one a line); empty by default.</summary>
    public string Input { get; set; } = string.Empty;

    /// <summary>When set, the clock tug sees.</summary>
    public TimeProvider? Time { get; set; }

    /// <summary>Runs <c>tug ARGS</c>.</summary>
    public async Task<CliResult> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var io = new IOContext(stdout, stderr, new StringReader(Input), true, true);
        var program = new Program(io, services =>
        {
            services.AddSingleton<IEnvironment>(Environment);
            if (Time is not null)
            {
                services.AddSingleton(Time);
            }
        });
        var exit = await program.RunAsync(args, TestContext.Current.CancellationToken);
        return new CliResult(stdout.ToString(), stderr.ToString(), exit).WithoutAnsi();
    }

    /// <summary>Runs <c>tug ARGS</c> and fails the test unless it exits 0.</summary>
    public async Task<CliResult> SucceedAsync(params string[] args)
    {
        var result = await RunAsync(args);
        Assert.True(result.ExitCode == 0, $"tug {string.Join(' ', args)} failed:\n{result}");
        return result;
    }
}

/// <summary>A temporary directory deleted when the test ends.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tug-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone.
        }
    }
}

/// <summary>The steps every test mirror starts with.</summary>
public static class TestMirror
{
    /// <summary>Creates a mirror at <paramref name="directory"/>, makes it this runner's mirror, and grants a fresh key as owner <c>pingcap</c>.</summary>
    public static async Task InitAsync(CliRunner tug, string directory)
    {
        await tug.SucceedAsync("mirror", "init", directory);
        await tug.SucceedAsync("mirror", "set", directory);
        await tug.SucceedAsync("mirror", "genkey");
        await tug.SucceedAsync("mirror", "grant", "pingcap", "--name", "PingCAP");
    }
}
