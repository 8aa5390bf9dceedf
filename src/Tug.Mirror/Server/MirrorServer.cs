// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tug.Mirror.Server;

/// <summary>Serves a mirror directory read-only over HTTP, the way TiUP clients fetch it (<c>GET /name</c>).</summary>
public sealed class MirrorServer : IAsyncDisposable
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
            var full = Path.GetFullPath(Path.Combine(directory, path ?? string.Empty));
            if (!full.StartsWith(directory + "/", StringComparison.Ordinal) || !File.Exists(full)
                || Path.GetRelativePath(directory, full).Split('/').Any(p => p.StartsWith('.') || p == "keys"))
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

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
