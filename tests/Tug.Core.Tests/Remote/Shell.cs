// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Diagnostics;

namespace Tug.Core.Tests.Remote;

/// <summary>Runs bash and shellcheck on this machine for the script tests.</summary>
internal static class Shell
{
    /// <summary>Runs <paramref name="script"/> with bash (sent over stdin, as Tug sends it to a host), <paramref name="path"/> first on PATH.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Bash(string script, string? path = null) =>
        Run("bash", ["-s"], script, path);

    /// <summary>Runs a program with arguments and optional stdin; a missing program fails the test with the package to install.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string program, IEnumerable<string> arguments, string? stdin = null, string? path = null)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        if (path is not null)
        {
            info.Environment["PATH"] = path + ":" + Environment.GetEnvironmentVariable("PATH");
        }

        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"{program} is needed by this test and could not be started ({e.Message}); install Debian's {(program == "shellcheck" ? "shellcheck" : program)} (`./test` does).");
            throw;
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardInput.Write(stdin ?? string.Empty);
            process.StandardInput.Close();
            process.WaitForExit();
            return (process.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
