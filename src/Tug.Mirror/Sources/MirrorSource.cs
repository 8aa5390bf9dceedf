// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Net;

namespace Tug.Mirror.Sources;

/// <summary>Where a mirror's files come from: a local directory or an HTTP server.</summary>
public interface IMirrorSource
{
    /// <summary>The address as the operator wrote it (absolute directory path or URL).</summary>
    string Address { get; }

    /// <summary>The directory of a local mirror; null for HTTP.</summary>
    string? LocalDirectory { get; }

    /// <summary>Reads a file of at most <paramref name="maxLength"/> bytes; null when it does not exist.</summary>
    /// <exception cref="MirrorException">The file is longer than allowed (endless data) or cannot be read.</exception>
    Task<byte[]?> TryReadAsync(string name, long maxLength, CancellationToken cancellationToken);

    /// <summary>Copies a file of at most <paramref name="maxLength"/> bytes into <paramref name="destination"/>.</summary>
    /// <exception cref="MirrorException">The file is missing, longer than allowed, or cannot be read.</exception>
    Task CopyToAsync(string name, long maxLength, Stream destination, CancellationToken cancellationToken);
}

/// <summary>Opens mirror sources by address.</summary>
public static class MirrorSource
{
    /// <summary>Whether an address is an HTTP(S) URL rather than a directory.</summary>
    public static bool IsHttp(string address) =>
        address.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || address.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>Normalizes an address: URLs as given without a trailing slash, directories made absolute.</summary>
    public static string Normalize(string address) =>
        IsHttp(address) ? address.TrimEnd('/') : Path.GetFullPath(address).TrimEnd('/') is { Length: > 0 } p ? p : "/";

    /// <summary>Opens a source for an address.</summary>
    public static IMirrorSource Open(string address, HttpClient http) =>
        IsHttp(address) ? new HttpMirrorSource(Normalize(address), http) : new LocalMirrorSource(Normalize(address));

    internal static MirrorException TooLong(string name, long maxLength, string declaredBy) =>
        new(MirrorErrors.TooLong,
            $"{name} is longer than the {maxLength} bytes {declaredBy}: refusing to read more (endless-data attack or a damaged mirror).",
            name, "Do not use this mirror until the file is restored from its source.");

    internal static async Task CopyLimitedAsync(Stream source, Stream destination, string name, long maxLength, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += read;
            if (total > maxLength)
            {
                throw TooLong(name, maxLength, "allowed");
            }

            await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>A mirror in a local directory.</summary>
public sealed class LocalMirrorSource(string directory) : IMirrorSource
{
    public string Address => directory;

    public string? LocalDirectory => directory;

    public async Task<byte[]?> TryReadAsync(string name, long maxLength, CancellationToken cancellationToken)
    {
        var path = Resolve(name);
        if (!File.Exists(path))
        {
            return null;
        }

        using var stream = new MemoryStream();
        await CopyToAsync(name, maxLength, stream, cancellationToken).ConfigureAwait(false);
        return stream.ToArray();
    }

    public async Task CopyToAsync(string name, long maxLength, Stream destination, CancellationToken cancellationToken)
    {
        var path = Resolve(name);
        FileStream file;
        try
        {
            file = File.OpenRead(path);
        }
        catch (FileNotFoundException e)
        {
            throw new MirrorException(MirrorErrors.NotFound, $"{name} is missing from mirror {directory}.", name,
                "The mirror is incomplete; copy it again from its source.", e);
        }
        catch (IOException e)
        {
            throw new MirrorException(MirrorErrors.NotFound, $"{name} cannot be read from mirror {directory}: {e.Message}", name, inner: e);
        }

        await using (file.ConfigureAwait(false))
        {
            if (file.Length > maxLength)
            {
                throw MirrorSource.TooLong(name, maxLength, "allowed");
            }

            await MirrorSource.CopyLimitedAsync(file, destination, name, maxLength, cancellationToken).ConfigureAwait(false);
        }
    }

    private string Resolve(string name)
    {
        var relative = name.TrimStart('/');
        var full = Path.GetFullPath(Path.Combine(directory, relative));
        if (!full.StartsWith(directory.TrimEnd('/') + "/", StringComparison.Ordinal))
        {
            throw new MirrorException(MirrorErrors.BadInput, $"'{name}' points outside the mirror directory.", name,
                "A manifest names a file outside the mirror; the mirror is not trustworthy.");
        }

        return full;
    }
}

/// <summary>A mirror served over HTTP, fetched as TiUP's client does (<c>base + "/" + name</c>).</summary>
public sealed class HttpMirrorSource(string baseUrl, HttpClient http) : IMirrorSource
{
    public string Address => baseUrl;

    public string? LocalDirectory => null;

    public async Task<byte[]?> TryReadAsync(string name, long maxLength, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream();
        try
        {
            await CopyToAsync(name, maxLength, stream, cancellationToken).ConfigureAwait(false);
        }
        catch (MirrorException e) when (e.Code == MirrorErrors.NotFound)
        {
            return null;
        }

        return stream.ToArray();
    }

    public async Task CopyToAsync(string name, long maxLength, Stream destination, CancellationToken cancellationToken)
    {
        var url = baseUrl + "/" + name.TrimStart('/');
        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new MirrorException(MirrorErrors.Network, $"Cannot reach mirror {baseUrl} for {name}: {e.Message}", name,
                "Check the address (`tug mirror show`) and that the server is running; for an air-gapped site use a local mirror directory.", e);
        }

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                throw new MirrorException(MirrorErrors.NotFound, $"{name} is missing from mirror {baseUrl} (HTTP 404).", name,
                    "The mirror is incomplete or the address is wrong.");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new MirrorException(MirrorErrors.Network, $"Mirror {baseUrl} answered HTTP {(int)response.StatusCode} for {name}.", name,
                    "Try again later or check the server's log.");
            }

            if (response.Content.Headers.ContentLength is { } declared && declared > maxLength)
            {
                throw MirrorSource.TooLong(name, maxLength, "allowed");
            }

            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                await MirrorSource.CopyLimitedAsync(body, destination, name, maxLength, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
