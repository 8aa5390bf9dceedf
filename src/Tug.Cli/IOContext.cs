// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

namespace Tug.Cli;

/// <summary>
/// The process's standard streams. stdout carries results only; logs, progress and errors go to stderr. Progress is
/// drawn live only when <paramref name="ErrorRedirected"/> is false (stderr is a terminal).
/// </summary>
public sealed record IOContext(TextWriter Out, TextWriter Error, TextReader In, bool OutputRedirected, bool InputRedirected, bool ErrorRedirected = true)
{
    /// <summary>The real console.</summary>
    public static IOContext FromConsole() =>
        new(Console.Out, Console.Error, Console.In, Console.IsOutputRedirected, Console.IsInputRedirected, Console.IsErrorRedirected);

    /// <summary>
    /// Asks a yes/no question on stderr and reads the answer from stdin: true only for <c>y</c> or <c>yes</c>. No answer
    /// (stdin closed) is no; with <paramref name="hintYes"/> it then says that <c>-y</c> confirms non-interactively.
    /// </summary>
    public bool Ask(string question, bool hintYes = true)
    {
        Error.Write($"{question} [y/N] ");
        var answer = In.ReadLine();
        if (answer is null)
        {
            Error.WriteLine();
            if (hintYes)
            {
                Error.WriteLine("no answer on standard input; pass -y to confirm non-interactively");
            }

            return false;
        }

        return answer.Trim().Equals("y", StringComparison.OrdinalIgnoreCase) || answer.Trim().Equals("yes", StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>Environment variables and the current directory, behind a seam for tests.</summary>
public interface IEnvironment
{
    string? GetVariable(string name);

    string CurrentDirectory { get; }
}

/// <summary>The process environment.</summary>
public sealed class SystemEnvironment : IEnvironment
{
    public string? GetVariable(string name) => Environment.GetEnvironmentVariable(name);

    public string CurrentDirectory => Environment.CurrentDirectory;
}
