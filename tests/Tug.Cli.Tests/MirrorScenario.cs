// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Testing;

namespace Tug.Cli.Tests;

/// <summary>A mirror made through the CLI: init, set, genkey, grant, and two published versions of <c>hello</c>.</summary>
internal sealed class MirrorScenario : IAsyncDisposable
{
    private readonly TempDirectory _dir = new();

    private MirrorScenario() => Tug = new CliRunner(_dir.Path);

    public CliRunner Tug { get; }

    public string Mirror => _dir.Combine("mirror");

    public string Path(params string[] parts) => _dir.Combine(parts);

    public static async Task<MirrorScenario> CreateAsync(bool publish = true)
    {
        var s = new MirrorScenario();
        await TestMirror.InitAsync(s.Tug, s.Mirror);
        if (publish)
        {
            await s.PublishHelloAsync("v1.0.0");
            await s.PublishHelloAsync("v1.1.0");
        }

        return s;
    }

    public async Task<CliResult> PublishHelloAsync(string version)
    {
        var tarball = Packages.Write(Path($"hello-{version}.tar.gz"), $"hello-{version}.linux-amd64/hello", $"#!/bin/sh\necho hello {version}\n");
        return await Tug.SucceedAsync("mirror", "publish", "hello", version, tarball, $"hello-{version}.linux-amd64/hello", "--os", "linux", "--arch", "amd64", "--desc", "test component");
    }

    /// <summary>Every file of the mirror with its bytes, to prove a refused command changed nothing.</summary>
    public Dictionary<string, byte[]> Snapshot() =>
        Directory.GetFiles(Mirror, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith("/lock", StringComparison.Ordinal))
            .ToDictionary(f => f, File.ReadAllBytes);

    public ValueTask DisposeAsync()
    {
        _dir.Dispose();
        return ValueTask.CompletedTask;
    }
}
