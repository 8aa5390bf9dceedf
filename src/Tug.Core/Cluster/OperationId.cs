// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Tug.Core.Cluster;

/// <summary>
/// Names one run of a mutating command: 11 characters of <c>[0-9A-Za-z]</c> (TiUP's look like <c>fD8kUi4vSTW</c>),
/// safe in file names, ordinally sortable by creation time, and unique.
/// </summary>
/// <remarks>
/// The first 8 characters are the UTC creation time in milliseconds since the Unix epoch in base 62 (enough until
/// the year 8900); the last 3 are random. For one clock (<see cref="TimeProvider"/> instance) in one process the time
/// part never repeats or goes backwards (a call in the same millisecond as the previous one takes the next
/// millisecond), so IDs from quick successive calls differ and sort in call order; across processes the random part
/// separates IDs of the same millisecond.
/// </remarks>
public static class OperationId
{
    /// <summary>The length of every ID.</summary>
    public const int Length = TimeLength + RandomLength;

    private const int TimeLength = 8;
    private const int RandomLength = 3;

    // Digits, then upper case, then lower case: ASCII order, so ordinal string order is time order.
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    // The last time part handed out, per clock: tests run many fake clocks in one process, each at its own time.
    private static readonly ConditionalWeakTable<TimeProvider, StrongBox<long>> LastMilliseconds = new();

    /// <summary>A new ID for an operation starting now.</summary>
    public static string New(TimeProvider time)
    {
        var now = Math.Max(0, time.GetUtcNow().ToUnixTimeMilliseconds());
        var last = LastMilliseconds.GetValue(time, static _ => new StrongBox<long>(-1));
        long stamp;
        lock (last)
        {
            stamp = Math.Max(now, last.Value + 1);
            last.Value = stamp;
        }

        return string.Create(Length, stamp, static (chars, value) =>
        {
            for (var i = TimeLength - 1; i >= 0; i--)
            {
                chars[i] = Alphabet[(int)(value % Alphabet.Length)];
                value /= Alphabet.Length;
            }

            for (var i = TimeLength; i < Length; i++)
            {
                chars[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
            }
        });
    }

    /// <summary>
    /// Whether a string can name an operation's directory: 1 to 64 ASCII letters, digits, <c>-</c> or <c>_</c>
    /// (IDs from <see cref="New"/> always can; this keeps a user-supplied ID from escaping the operations directory).
    /// </summary>
    public static bool IsValid(string? id) =>
        id is { Length: > 0 and <= 64 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>The creation time encoded in an ID from <see cref="New"/>, or null when it is not one.</summary>
    public static DateTimeOffset? TimeOf(string id)
    {
        if (id.Length != Length || !IsValid(id))
        {
            return null;
        }

        long value = 0;
        for (var i = 0; i < TimeLength; i++)
        {
            var digit = Alphabet.IndexOf(id[i], StringComparison.Ordinal);
            if (digit < 0)
            {
                return null;
            }

            value = (value * Alphabet.Length) + digit;
        }

        return value <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds() ? DateTimeOffset.FromUnixTimeMilliseconds(value) : null;
    }
}
