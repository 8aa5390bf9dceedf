// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text;

namespace Tug.Core.Planning;

/// <summary>A line diff in the unified format (<c>diff -u</c>): what <c>reload --dry-run</c> shows per file.</summary>
public static class UnifiedDiff
{
    /// <summary>Lines beyond which the diff is not computed line by line (the files Tug renders are far smaller).</summary>
    public const int MaxLines = 20_000;

    /// <summary>
    /// The unified diff from <paramref name="before"/> (null: the file is missing) to <paramref name="after"/>, with
    /// <paramref name="context"/> lines of context; empty when they are equal.
    /// </summary>
    public static string Compute(string? before, string after, string fromLabel, string toLabel, int context = 3)
    {
        if (before == after)
        {
            return string.Empty;
        }

        var a = Lines(before ?? string.Empty);
        var b = Lines(after);
        var header = new StringBuilder().Append("--- ").Append(before is null ? "/dev/null" : fromLabel).Append('\n').Append("+++ ").Append(toLabel).Append('\n');
        if ((long)a.Length * b.Length > (long)MaxLines * MaxLines / 100)
        {
            return header.Append($"@@ -1,{a.Length} +1,{b.Length} @@ (too large to diff line by line)\n").ToString();
        }

        var ops = Edits(a, b);
        var s = header;
        var k = 0;
        while (k < ops.Count)
        {
            if (ops[k].Kind == ' ')
            {
                k++;
                continue;
            }

            // A hunk: from `context` lines before this change to `context` lines after the last change within reach.
            var start = Math.Max(0, k - context);
            var end = k;
            while (true)
            {
                while (end < ops.Count && ops[end].Kind != ' ')
                {
                    end++;
                }

                var next = end;
                while (next < ops.Count && ops[next].Kind == ' ')
                {
                    next++;
                }

                if (next < ops.Count && next - end <= 2 * context)
                {
                    end = next;
                    continue;
                }

                end = Math.Min(ops.Count, end + context);
                break;
            }

            var hunk = ops.GetRange(start, end - start);
            var aStart = hunk[0].A;
            var bStart = hunk[0].B;
            var aCount = hunk.Count(o => o.Kind != '+');
            var bCount = hunk.Count(o => o.Kind != '-');
            s.Append($"@@ -{Range(aStart, aCount)} +{Range(bStart, bCount)} @@\n");
            foreach (var op in hunk)
            {
                s.Append(op.Kind).Append(op.Text).Append('\n');
            }

            k = end;
        }

        if (before is not null && before.Length > 0 && !before.EndsWith('\n') && after.EndsWith('\n'))
        {
            s.Append("\\ No newline at end of the host's file\n");
        }

        return s.ToString();
    }

    private static string Range(int start, int count) => count == 0 ? $"{start},0" : count == 1 ? $"{start + 1}" : $"{start + 1},{count}";

    private static string[] Lines(string text)
    {
        if (text.Length == 0)
        {
            return [];
        }

        var lines = text.Split('\n');
        return text.EndsWith('\n') ? lines[..^1] : lines;
    }

    private readonly record struct Op(char Kind, string Text, int A, int B);

    /// <summary>The edit script from a longest common subsequence: ' ' kept, '-' removed, '+' added, with positions in a and b.</summary>
    private static List<Op> Edits(string[] a, string[] b)
    {
        var n = a.Length;
        var m = b.Length;
        var lcs = new int[n + 1, m + 1];
        for (var i = n - 1; i >= 0; i--)
        {
            for (var j = m - 1; j >= 0; j--)
            {
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }

        var ops = new List<Op>(n + m);
        int x = 0, y = 0;
        while (x < n || y < m)
        {
            if (x < n && y < m && a[x] == b[y])
            {
                ops.Add(new Op(' ', a[x], x, y));
                x++;
                y++;
            }
            else if (x < n && (y == m || lcs[x + 1, y] >= lcs[x, y + 1]))
            {
                ops.Add(new Op('-', a[x], x, y));
                x++;
            }
            else
            {
                ops.Add(new Op('+', b[y], x, y));
                y++;
            }
        }

        return ops;
    }
}
