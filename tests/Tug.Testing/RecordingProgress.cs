// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;

namespace Tug.Testing;

/// <summary>
/// An <see cref="IProgress{T}"/> that keeps every report, in the order reported, on the reporting thread
/// (<see cref="Progress{T}"/> posts to the thread pool, so its order cannot be asserted).
/// </summary>
public sealed class RecordingProgress<T> : IProgress<T>
{
    private readonly Lock _gate = new();
    private readonly List<T> _reports = [];

    /// <summary>Every report so far, in order.</summary>
    public ImmutableArray<T> Reports
    {
        get
        {
            lock (_gate)
            {
                return [.. _reports];
            }
        }
    }

    /// <summary>The reports of type <typeparamref name="TEvent"/>, in order.</summary>
    public ImmutableArray<TEvent> OfType<TEvent>()
        where TEvent : T => [.. Reports.OfType<TEvent>()];

    public void Report(T value)
    {
        lock (_gate)
        {
            _reports.Add(value);
        }
    }
}
