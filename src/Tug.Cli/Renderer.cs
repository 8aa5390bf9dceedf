// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Rendering;
using Tug.Mirror;

namespace Tug.Cli;

/// <summary>Everything tug prints: results to stdout (tables or JSON), notes, progress and errors to stderr.</summary>
public sealed class Renderer(IOContext io, TugHome home, TimeProvider time)
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private readonly IAnsiConsole _out = CreateConsole(io.Out, io.OutputRedirected);

    /// <summary>Writes a result line to stdout.</summary>
    public void Line(string text) => io.Out.WriteLine(text);

    /// <summary>Writes a Spectre renderable (a table) to stdout.</summary>
    public void Show(IRenderable renderable) => _out.Write(renderable);

    /// <summary>Writes an object as indented JSON (snake_case) to stdout.</summary>
    public void Json<T>(T value) => io.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    /// <summary>A note for the operator on stderr.</summary>
    public void Note(string text) => io.Error.WriteLine(text);

    /// <summary>A warning on stderr.</summary>
    public void Warning(string text, string? hint = null)
    {
        io.Error.WriteLine($"warning: {text}");
        if (hint is not null)
        {
            io.Error.WriteLine($"  hint: {hint}");
        }
    }

    /// <summary>An error on stderr: <c>error[CODE]: sentence</c>, the file concerned, and what to do.</summary>
    public void Error(string code, string message, string? file, string? hint) => Lines(TugException.Lines(code, message, file, hint));

    /// <summary>An expected failure on stderr, as the error renders itself (a topology error lists every problem).</summary>
    public void Error(TugException e) => Lines(e.Render());

    /// <summary>Progress reports go to stderr, one line each.</summary>
    public IProgress<string> Progress() => new SyncProgress(line => io.Error.WriteLine($"  {line}"));

    /// <summary>Writes a bug's full trace to <c>$TUG_HOME/logs</c> and returns the path.</summary>
    public string WriteCrashLog(Exception e)
    {
        var directory = Path.Combine(home.Directory, "logs");
        try
        {
            PrivateFiles.CreateDirectory(directory);
            var path = Path.Combine(directory, $"crash-{time.GetUtcNow():yyyyMMddTHHmmssZ}-{Environment.ProcessId}.log");
            PrivateFiles.WriteAllBytes(path, Encoding.UTF8.GetBytes(e.ToString()));
            return path;
        }
        catch (Exception x) when (x is IOException or UnauthorizedAccessException)
        {
            return "(no log: " + directory + " is not writable)";
        }
    }

    private void Lines(IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            io.Error.WriteLine(line);
        }
    }

    private static IAnsiConsole CreateConsole(TextWriter writer, bool redirected)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = InteractionSupport.No,
        });
        if (redirected)
        {
            console.Profile.Width = 240;
        }

        return console;
    }

    private sealed class SyncProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
