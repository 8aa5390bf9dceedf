// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;
using System.Text;

namespace Tug.Core.Topology;

/// <summary>A unified diff of two texts, line by line (<c>diff -u</c>'s format, 3 lines of context).</summary>
public static class TextDiff
{
    /// <summary>Lines compared exactly (the common prefix and suffix aside); above this the middle is shown replaced whole.</summary>
    private const long MaxCells = 4_000_000;

    /// <summary>The unified diff of <paramref name="before"/> and <paramref name="after"/>; empty when they are equal.</summary>
    public static string Unified(string before, string after, string beforeLabel, string afterLabel, int context = 3)
    {
        var a = Lines(before);
        var b = Lines(after);
        var ops = Compare(a, b);
        if (ops.All(o => o.Kind == ' '))
        {
            return string.Empty;
        }

        var text = new StringBuilder();
        text.Append("--- ").Append(beforeLabel).Append('\n').Append("+++ ").Append(afterLabel).Append('\n');
        var changed = ops.Select((o, i) => (o, i)).Where(p => p.o.Kind != ' ').Select(p => p.i).ToList();
        var start = 0;
        while (start < changed.Count)
        {
            // A hunk: changes closer than 2 * context lines to each other share one.
            var end = start;
            while (end + 1 < changed.Count && changed[end + 1] - changed[end] <= 2 * context)
            {
                end++;
            }

            var from = Math.Max(0, changed[start] - context);
            var to = Math.Min(ops.Count - 1, changed[end] + context);
            var hunk = ops.GetRange(from, to - from + 1);
            var aStart = ops.Take(from).Count(o => o.Kind != '+');
            var bStart = ops.Take(from).Count(o => o.Kind != '-');
            var aCount = hunk.Count(o => o.Kind != '+');
            var bCount = hunk.Count(o => o.Kind != '-');
            text.Append(CultureInfo.InvariantCulture, $"@@ -{Range(aStart, aCount)} +{Range(bStart, bCount)} @@\n");
            foreach (var op in hunk)
            {
                text.Append(op.Kind).Append(op.Line).Append('\n');
            }

            start = end + 1;
        }

        return text.ToString();
    }

    private static string Range(int start, int count) => count == 0
        ? $"{start.ToString(CultureInfo.InvariantCulture)},0"
        : count == 1 ? (start + 1).ToString(CultureInfo.InvariantCulture) : $"{(start + 1).ToString(CultureInfo.InvariantCulture)},{count.ToString(CultureInfo.InvariantCulture)}";

    private static string[] Lines(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        return text.EndsWith('\n') ? lines[..^1] : lines;
    }

    private readonly record struct Op(char Kind, string Line);

    /// <summary>A shortest edit script: common prefix and suffix, and a longest common subsequence of the middle.</summary>
    private static List<Op> Compare(string[] a, string[] b)
    {
        var prefix = 0;
        while (prefix < a.Length && prefix < b.Length && a[prefix] == b[prefix])
        {
            prefix++;
        }

        var suffix = 0;
        while (suffix < a.Length - prefix && suffix < b.Length - prefix && a[a.Length - 1 - suffix] == b[b.Length - 1 - suffix])
        {
            suffix++;
        }

        var ops = new List<Op>(a.Length + b.Length);
        ops.AddRange(a[..prefix].Select(l => new Op(' ', l)));
        var midA = a[prefix..(a.Length - suffix)];
        var midB = b[prefix..(b.Length - suffix)];
        if ((long)midA.Length * midB.Length > MaxCells)
        {
            ops.AddRange(midA.Select(l => new Op('-', l)));
            ops.AddRange(midB.Select(l => new Op('+', l)));
        }
        else
        {
            ops.AddRange(Lcs(midA, midB));
        }

        ops.AddRange(a[(a.Length - suffix)..].Select(l => new Op(' ', l)));
        return ops;
    }

    private static IEnumerable<Op> Lcs(string[] a, string[] b)
    {
        // length[i, j]: the LCS of a[i..] and b[j..].
        var length = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                length[i, j] = a[i] == b[j] ? length[i + 1, j + 1] + 1 : Math.Max(length[i + 1, j], length[i, j + 1]);
            }
        }

        var (x, y) = (0, 0);
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                yield return new Op(' ', a[x++]);
                y++;
            }
            else if (y < b.Length && (x == a.Length || length[x, y + 1] >= length[x + 1, y]))
            {
                // Removals first within a change, as diff -u prints them.
                if (x < a.Length && length[x + 1, y] == length[x, y])
                {
                    yield return new Op('-', a[x++]);
                }
                else
                {
                    yield return new Op('+', b[y++]);
                }
            }
            else
            {
                yield return new Op('-', a[x++]);
            }
        }
    }
}
