// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text;

namespace Tug.Core.Tests.Infrastructure;

/// <summary>
/// A tiny stand-in for Verify: compares text with <c>Expectations/&lt;area&gt;/&lt;name&gt;.verified.txt</c>; on a
/// mismatch (or a missing file) writes <c>&lt;name&gt;.received.txt</c> beside it and fails with a line diff.
/// Accept a change by renaming the received file to verified.
/// </summary>
internal static class Snapshot
{
    public static void Verify(string area, string name, string actual)
    {
        var directory = Path.Combine(Repo.TestProject, "Expectations", area);
        var verified = Path.Combine(directory, name + ".verified.txt");
        var received = Path.Combine(directory, name + ".received.txt");
        if (File.Exists(verified) && File.ReadAllText(verified, Encoding.UTF8) == actual)
        {
            File.Delete(received);
            return;
        }

        Directory.CreateDirectory(directory);
        File.WriteAllText(received, actual, new UTF8Encoding(false));
        var expected = File.Exists(verified) ? File.ReadAllText(verified, Encoding.UTF8) : null;
        Assert.Fail(expected is null
            ? $"No snapshot {verified}; wrote {received}. Review it and rename it to .verified.txt."
            : $"Snapshot {verified} differs; wrote {received}.{Environment.NewLine}{Diff(expected, actual)}");
    }

    private static string Diff(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        var sb = new StringBuilder();
        var shown = 0;
        for (var i = 0; i < Math.Max(e.Length, a.Length) && shown < 20; i++)
        {
            var left = i < e.Length ? e[i] : "<missing>";
            var right = i < a.Length ? a[i] : "<missing>";
            if (left != right)
            {
                sb.AppendLine($"line {i + 1}:").AppendLine($"  - {left}").AppendLine($"  + {right}");
                shown++;
            }
        }

        return sb.ToString();
    }
}
