// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace Tug.Core.Topology.Yaml;

/// <summary>
/// Writes a <see cref="ConfigMap"/> tree as yaml.v3 does with its default 4-space indent (go-yaml v3
/// <c>emitterc.go</c>): nested blocks indent to the next multiple of 4, a sequence item's mapping continues
/// after "- " (+2), empty collections are <c>{}</c>/<c>[]</c>, multi-line text is a literal block, and text that
/// would read back as another type is double-quoted.
/// </summary>
internal static class YamlWriter
{
    private const int BestIndent = 4;

    public static string Write(ConfigMap root)
    {
        var sb = new StringBuilder();
        if (root.Count == 0)
        {
            return "{}\n";
        }

        Map(sb, root, 0, inline: false);
        return sb.ToString();
    }

    private static int Next(int indent) => BestIndent * ((indent + BestIndent) / BestIndent);

    private static void Map(StringBuilder sb, ConfigMap map, int indent, bool inline)
    {
        var first = true;
        foreach (var (key, value) in map)
        {
            if (!(first && inline))
            {
                sb.Append(' ', indent);
            }

            first = false;
            sb.Append(Scalar(key)).Append(':');
            Value(sb, value, indent, inSequenceItem: false);
        }
    }

    private static void Sequence(StringBuilder sb, ImmutableArray<object?> items, int indent, bool inline)
    {
        var first = true;
        foreach (var item in items)
        {
            if (!(first && inline))
            {
                sb.Append(' ', indent);
            }

            first = false;
            sb.Append('-');
            Value(sb, item, indent, inSequenceItem: true);
        }
    }

    private static void Value(StringBuilder sb, object? value, int indent, bool inSequenceItem)
    {
        var child = inSequenceItem ? indent + 2 : Next(indent);
        switch (value)
        {
            case ConfigMap { Count: 0 }:
                sb.Append(" {}\n");
                break;
            case ConfigMap map when inSequenceItem:
                sb.Append(' ');
                Map(sb, map, child, inline: true);
                break;
            case ConfigMap map:
                sb.Append('\n');
                Map(sb, map, child, inline: false);
                break;
            case ImmutableArray<object?> { Length: 0 }:
                sb.Append(" []\n");
                break;
            case ImmutableArray<object?> list when inSequenceItem:
                sb.Append(' ');
                Sequence(sb, list, child, inline: true);
                break;
            case ImmutableArray<object?> list:
                sb.Append('\n');
                Sequence(sb, list, child, inline: false);
                break;
            case string text when text.Contains('\n', StringComparison.Ordinal) && !text.StartsWith(' ') && !text.Contains('\r', StringComparison.Ordinal):
                Literal(sb, text, child);
                break;
            default:
                sb.Append(' ').Append(Scalar(value)).Append('\n');
                break;
        }
    }

    private static void Literal(StringBuilder sb, string text, int indent)
    {
        var body = text.TrimEnd('\n');
        var trailing = text.Length - body.Length;
        sb.Append(trailing switch { 0 => " |-", 1 => " |", _ => " |+" }).Append('\n');
        foreach (var line in body.Split('\n'))
        {
            if (line.Length > 0)
            {
                sb.Append(' ', indent).Append(line);
            }

            sb.Append('\n');
        }

        for (var i = 1; i < trailing; i++)
        {
            sb.Append('\n');
        }
    }

    /// <summary>A scalar as yaml.v3 writes it: plain when it reads back as itself, else quoted.</summary>
    public static string Scalar(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        long n => n.ToString(CultureInfo.InvariantCulture),
        int n => n.ToString(CultureInfo.InvariantCulture),
        double d => YamlScalars.FormatDouble(d),
        string s => Text(s),
        _ => throw new ArgumentException($"cannot write {value.GetType().Name} as a YAML scalar", nameof(value)),
    };

    private static string Text(string s)
    {
        if (YamlScalars.NeedsQuotes(s) || s.Any(c => char.IsControl(c) || c == '\u2028' || c == '\u2029' || c == '\uFEFF'))
        {
            return DoubleQuoted(s);
        }

        return CanBePlain(s) ? s : "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    /// <summary>libyaml's block-context plain-scalar rules, conservatively.</summary>
    private static bool CanBePlain(string s)
    {
        if (s.Length == 0 || s[0] == ' ' || s[^1] == ' ')
        {
            return false;
        }

        var followedBySpace = s.Length == 1 || s[1] == ' ';
        if ("#,[]{}&*!|>'\"%@`".Contains(s[0], StringComparison.Ordinal) || (s[0] is '-' or '?' or ':' && followedBySpace))
        {
            return false;
        }

        return !s.Contains(": ", StringComparison.Ordinal) && !s.Contains(" #", StringComparison.Ordinal) && s[^1] != ':';
    }

    private static string DoubleQuoted(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                _ when char.IsControl(c) || c is '\u2028' or '\u2029' or '\uFEFF' => $"\\u{(int)c:X4}",
                _ => c.ToString(),
            });
        }

        return sb.Append('"').ToString();
    }
}
