// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Tug.Testing;

/// <summary>
/// TiUP's own templates (tests/compat/tiup-templates) rendered by tests/compat/tiuprender: Go's text/template on
/// TiUP's field names, and meta.yaml by yaml.v3. Built once per test run with Debian's Go toolchain; it shares no
/// code with Tug's renderer.
/// </summary>
public static class TiupRender
{
    private static readonly Lazy<Task<string>> Binary = new(BuildAsync);

    /// <summary>The directory holding TiUP's <c>embed/templates</c> tree (<c>scripts/…</c>, <c>systemd/…</c>, <c>config/…</c>).</summary>
    public static string Templates { get; } = Path.Combine(Repo.Root, "tests", "compat", "tiup-templates", "embed", "templates");

    /// <summary>The built <c>tiuprender</c> executable.</summary>
    public static Task<string> PathAsync() => Binary.Value;

    /// <summary>
    /// Renders <paramref name="template"/> (a path under <see cref="Templates"/>, such as
    /// <c>scripts/run_node_exporter.sh.tpl</c>, or <c>meta</c> for meta.yaml) with <paramref name="data"/>, whose
    /// keys are TiUP's Go field names (meta.yaml's keys for <c>meta</c>); returns the exact bytes.
    /// </summary>
    public static async Task<byte[]> RenderAsync(string template, JsonObject data, CancellationToken cancellationToken)
    {
        var binary = await PathAsync();
        var dataFile = Path.Combine(Path.GetTempPath(), $"tug-tiuprender-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(dataFile, data.ToJsonString(), cancellationToken);
        try
        {
            var info = new ProcessStartInfo(binary, [template == "meta" ? "meta" : Path.Combine(Templates, template), dataFile])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {binary}");
            using var stdout = new MemoryStream();
            var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout, cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            await copy;
            Assert.True(process.ExitCode == 0, $"tiuprender {template} failed (exit {process.ExitCode}): {await stderr}\ndata: {data.ToJsonString()}");
            return stdout.ToArray();
        }
        finally
        {
            File.Delete(dataFile);
        }
    }

    private static Task<string> BuildAsync() => GoOracle.BuildGoAsync("tiuprender", "TiUP's template renderer", "golang-go and golang-gopkg-yaml.v3-dev");
}
