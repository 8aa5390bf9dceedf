// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;

namespace Tug.Mirror.Publishing;

/// <summary>
/// The files of one mirror change. Commit stages them in the mirror directory, flushes them, then renames them into
/// place under an exclusive lock: tarballs and versioned manifests first, <c>snapshot.json</c>, and <c>timestamp.json</c>
/// last, so a reader never sees a timestamp that points at files not yet there.
/// </summary>
internal sealed class Transaction
{
    private readonly List<(string Name, byte[]? Bytes, string? Source)> _files = [];

    public void Add(string name, byte[] bytes) => _files.Add((name, bytes, null));

    public void AddFile(string name, string sourcePath) => _files.Add((name, null, Path.GetFullPath(sourcePath)));

    /// <exception cref="MirrorException">Another writer changed the mirror since it was read, or the lock is held.</exception>
    public async Task<ImmutableArray<string>> CommitAsync(string directory, byte[] timestampAtOpen, CancellationToken cancellationToken)
    {
        var lockPath = Path.Combine(directory, "lock");
        FileStream? lockStream = null;
        for (var attempt = 0; lockStream is null; attempt++)
        {
            try
            {
                lockStream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 50)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new MirrorException(MirrorErrors.Conflict, $"Another process is writing to mirror {directory} (its lock file {lockPath} is held).", lockPath,
                    "Wait for it to finish and run the command again.", e);
            }
        }

        using (lockStream)
        {
            var current = await File.ReadAllBytesAsync(Path.Combine(directory, "timestamp.json"), cancellationToken).ConfigureAwait(false);
            if (!current.AsSpan().SequenceEqual(timestampAtOpen))
            {
                throw new MirrorException(MirrorErrors.Conflict, $"Mirror {directory} changed while this command ran; nothing was written.", "timestamp.json",
                    "Run the command again.");
            }

            var ordered = _files
                .OrderBy(f => f.Name == "timestamp.json" ? 2 : f.Name == "snapshot.json" ? 1 : 0)
                .ToList();
            foreach (var (name, _, _) in ordered.Where(f => f.Name.EndsWith(".json", StringComparison.Ordinal) && char.IsAsciiDigit(f.Name[0])))
            {
                if (File.Exists(Path.Combine(directory, name)))
                {
                    throw new MirrorException(MirrorErrors.Conflict, $"{name} already exists in {directory}; versioned manifests are never overwritten.", name,
                        "The mirror's snapshot is behind its files (an earlier write was interrupted); check it with `tug mirror verify`.");
                }
            }

            var staging = Path.Combine(directory, $".tug-staging-{Environment.ProcessId}-{Guid.NewGuid():N}");
            Directory.CreateDirectory(staging);
            try
            {
                foreach (var (name, bytes, source) in ordered)
                {
                    var staged = Path.Combine(staging, name);
                    var stream = new FileStream(staged, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                    await using (stream.ConfigureAwait(false))
                    {
                        if (bytes is not null)
                        {
                            await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                        }
                        else
                        {
                            var input = File.OpenRead(source!);
                            await using (input.ConfigureAwait(false))
                            {
                                await input.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
                            }
                        }

                        stream.Flush(flushToDisk: true);
                    }
                }

                // From here on the change is applied in order; cancellation no longer interrupts it.
                foreach (var (name, _, _) in ordered)
                {
                    File.Move(Path.Combine(staging, name), Path.Combine(directory, name), overwrite: true);
                }
            }
            finally
            {
                Directory.Delete(staging, recursive: true);
            }

            return [.. ordered.Select(f => f.Name)];
        }
    }
}
