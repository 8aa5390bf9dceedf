// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Diagnostics;
using System.Text;

namespace Tug.Testing;

/// <summary>
/// The real <c>tug</c> executable run as its own process (with the runner's TUG_HOME), for what an in-process run
/// cannot show: a SIGKILL in the middle of an operation, or a second process holding a cluster's lock.
/// </summary>
public sealed class TugProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private TugProcess(Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Starts <c>tug ARGS</c> from the test's output directory, where the build copies the executable.</summary>
    public static TugProcess Start(CliRunner runner, params string[] args) => Start(runner, new Dictionary<string, string>(), args);

    /// <summary>Starts <c>tug ARGS</c> with extra environment variables (e.g. <c>TUG_FAILPOINTS</c>).</summary>
    public static TugProcess Start(CliRunner runner, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "tug"))
        {
            WorkingDirectory = runner.WorkDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["TUG_HOME"] = runner.Home;
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info };
        var tug = new TugProcess(process);
        process.OutputDataReceived += (_, e) => tug.Append(tug._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => tug.Append(tug._stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return tug;
    }

    /// <summary>SIGKILL: no handler runs, nothing is flushed, the lock's holder dies with it.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken);
    }

    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
    }

    private void Append(StringBuilder target, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (target)
        {
            target.AppendLine(line);
        }
    }

    /// <summary>Polls until <paramref name="condition"/> holds, failing the test after <paramref name="seconds"/>.</summary>
    public static async Task UntilAsync(Func<bool> condition, int seconds, string failure)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(seconds);
        while (!condition())
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, failure);
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
