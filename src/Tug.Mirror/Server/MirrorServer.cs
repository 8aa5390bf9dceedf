// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tug.Mirror.Server;

/// <summary>Serves a mirror directory read-only over HTTP, the way TiUP clients fetch it (<c>GET /name</c>): only its own files (see <see cref="Servable"/>).</summary>
public sealed partial class MirrorServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private MirrorServer(WebApplication app) => _app = app;

    /// <summary>The address the server listens on, e.g. <c>http://127.0.0.1:8080</c>.</summary>
    public string Address { get; private set; } = string.Empty;

    /// <summary>Starts serving <paramref name="directory"/> on <paramref name="listen"/> (<c>HOST:PORT</c>; port 0 picks a free one).</summary>
    /// <exception cref="MirrorException">The directory is not a mirror, or the address is bad or in use.</exception>
    public static async Task<MirrorServer> StartAsync(string directory, string listen, Action<string>? log, CancellationToken cancellationToken)
    {
        directory = Path.GetFullPath(directory).TrimEnd('/');
        if (!File.Exists(Path.Combine(directory, "root.json")))
        {
            throw new MirrorException(MirrorErrors.NotFound, $"{directory} has no root.json: it is not a mirror.", directory, "Create one with `tug mirror init DIR`.");
        }

        var colon = listen.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(listen[(colon + 1)..], out var port) || port is < 0 or > 65535)
        {
            throw new MirrorException(MirrorErrors.BadInput, $"--addr '{listen}' is not HOST:PORT (for example 127.0.0.1:8080).");
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://{listen[..colon]}:{port}");
        var app = builder.Build();
        app.MapMethods("/{**path}", ["GET", "HEAD"], async (HttpContext context, string? path) =>
        {
            if (Servable(directory, path ?? string.Empty) is not { } full)
            {
                log?.Invoke($"404 {context.Request.Path}");
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            context.Response.ContentType = full.EndsWith(".json", StringComparison.Ordinal) ? "application/json" : "application/octet-stream";
            context.Response.ContentLength = new FileInfo(full).Length;
            if (HttpMethods.IsGet(context.Request.Method))
            {
                await context.Response.SendFileAsync(full, context.RequestAborted).ConfigureAwait(false);
            }
        });

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new MirrorException(MirrorErrors.BadInput, $"Cannot listen on {listen}: {e.Message}", hint: "Choose another port with --addr.", inner: e);
        }

        var server = new MirrorServer(app);
        server.Address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return server;
    }

    /// <summary>Serves until <paramref name="cancellationToken"/> is cancelled.</summary>
    public static async Task WaitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C is the normal way to stop serving.
        }
    }

    /// <summary>
    /// The file to serve for a request path, or null: only the mirror's own files, each a single name at the top of
    /// the mirror (<c>root.json</c>, <c>timestamp.json</c>, <c>snapshot.json</c>, <c>N.NAME.json</c> for a manifest the
    /// snapshot lists, <c>N.root.json</c> included, up to its listed version, and the tarballs the latest listed component
    /// manifests name), a regular file that is not a symbolic link (checked with lstat; the mirror directory itself is
    /// the operator's choice). Never <c>keys/</c>, a dot file, <c>..</c> (or <c>%2e%2e</c>), or anything else in the directory.
    /// </summary>
    internal static string? Servable(string directory, string path)
    {
        directory = Path.GetFullPath(directory).TrimEnd('/');
        if (!SafeName().IsMatch(path) || !Names(directory).Contains(path))
        {
            return null;
        }

        var full = Path.Combine(directory, path);
        var info = new FileInfo(full);
        return info.Exists && info.LinkTarget is null && (info.Attributes & (FileAttributes.ReparsePoint | FileAttributes.Device)) == 0 ? full : null;
    }

    /// <summary>Every name the mirror's manifests account for: the fixed manifests, the versioned ones the snapshot lists (every version up to the listed one), and the tarballs named by the listed component manifests.</summary>
    private static HashSet<string> Names(string directory)
    {
        var names = new HashSet<string>(StringComparer.Ordinal) { "root.json", "timestamp.json", "snapshot.json" };
        var snapshot = ReadSigned(Path.Combine(directory, "snapshot.json"));
        if (snapshot?["meta"] is not JsonObject meta)
        {
            return names;
        }

        var listed = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var (key, value) in meta)
        {
            if (key.StartsWith('/') && key.EndsWith(".json", StringComparison.Ordinal) && !key[1..].Contains('/', StringComparison.Ordinal)
                && value?["version"] is JsonValue version && version.TryGetValue<ulong>(out var latest))
            {
                listed[key[1..^".json".Length]] = latest;
            }
        }

        foreach (var name in Directory.EnumerateFiles(directory, "*.json").Select(Path.GetFileName).OfType<string>())
        {
            var m = VersionedManifest().Match(name);
            if (!m.Success || !ulong.TryParse(m.Groups[1].Value, CultureInfo.InvariantCulture, out var v)
                || !listed.TryGetValue(m.Groups[2].Value, out var latest) || v > latest)
            {
                continue;
            }

            names.Add(name);
            if (v == latest && m.Groups[2].Value is not ("root" or "index") && ReadSigned(Path.Combine(directory, name))?["platforms"] is JsonObject platforms)
            {
                foreach (var item in platforms.Select(p => p.Value).OfType<JsonObject>().SelectMany(p => p.Select(i => i.Value)))
                {
                    if (item?["url"] is JsonValue url && url.TryGetValue<string>(out var tarball))
                    {
                        names.Add(tarball.TrimStart('/'));
                    }
                }
            }
        }

        return names;
    }

    private static JsonNode? ReadSigned(string path)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Exists && info.LinkTarget is null && info.Length < 64 * 1024 * 1024
                ? JsonNode.Parse(File.ReadAllBytes(path))?["signed"]
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._+-]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex SafeName();

    [GeneratedRegex(@"^([1-9][0-9]{0,18})\.([A-Za-z0-9][A-Za-z0-9._-]*)\.json\z", RegexOptions.CultureInvariant)]
    private static partial Regex VersionedManifest();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
