// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tug.Mirror.Server;

/// <summary>
/// Serves an operation's verified packages over HTTP (<c>GET /NAME</c>, the name a mirror gives the tarball) on every
/// address of this machine, for as long as the operation runs: only the files added, nothing else. The hosts pull
/// from it and check each file's sha256 against the signed manifest before they keep it.
/// </summary>
public sealed class PackageServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, string> _files;

    private PackageServer(WebApplication app, ConcurrentDictionary<string, string> files, int port)
    {
        _app = app;
        _files = files;
        Port = port;
    }

    /// <summary>The port it listens on (on every address, IPv4 and IPv6).</summary>
    public int Port { get; }

    /// <summary>Starts on a free port of every address.</summary>
    /// <exception cref="MirrorException">The server cannot listen.</exception>
    public static async Task<PackageServer> StartAsync(CancellationToken cancellationToken)
    {
        var files = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://[::]:0");
        var app = builder.Build();
        app.MapMethods("/{**path}", ["GET", "HEAD"], async (HttpContext context, string? path) =>
        {
            if (path is null || !files.TryGetValue(path, out var full) || !File.Exists(full))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            context.Response.ContentType = "application/octet-stream";
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
            throw new MirrorException(MirrorErrors.BadInput, $"Cannot start the package server: {e.Message}", hint: "Use --delivery upload.", inner: e);
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new PackageServer(app, files, new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal)).Port);
    }

    /// <summary>Serves <paramref name="file"/> as <c>/</c><paramref name="name"/>.</summary>
    public void Add(string name, string file) => _files[name.TrimStart('/')] = file;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
