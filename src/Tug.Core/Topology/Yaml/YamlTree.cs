// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Tug.Core.Topology.Yaml;

/// <summary>A node of a parsed YAML document with the 1-based position where it starts.</summary>
internal abstract record YNode(int Line, int Column);

/// <summary>A scalar; <see cref="Plain"/> is false for quoted and block scalars (always text).</summary>
internal sealed record YScalar(string Value, bool Plain, int Line, int Column) : YNode(Line, Column);

/// <summary>A mapping, entries in file order, keys unique.</summary>
internal sealed record YMap(ImmutableArray<YEntry> Entries, int Line, int Column) : YNode(Line, Column);

/// <summary>One key and its value.</summary>
internal sealed record YEntry(YScalar Key, YNode Value);

/// <summary>A sequence.</summary>
internal sealed record YSeq(ImmutableArray<YNode> Items, int Line, int Column) : YNode(Line, Column);

/// <summary>
/// The one place where topology and meta YAML text is parsed (YamlDotNet's event parser), into a small tree
/// that keeps every node's position. Duplicate keys are refused here, with both positions.
/// </summary>
internal static class YamlTree
{
    /// <summary>Parses the first document; null when the text holds no document (empty file).</summary>
    /// <exception cref="TopologyException">Syntax error, duplicate key or non-scalar key.</exception>
    public static YNode? Parse(string text, string file)
    {
        try
        {
            var parser = new Parser(new StringReader(text));
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                return null;
            }

            parser.Consume<DocumentStart>();
            return new Reader(parser, file).Read();
        }
        catch (YamlException e) when (e is not AnchorNotFoundException)
        {
            throw TopologyException.One(
                TopologyErrors.BadValue,
                new SourceLocation(file, (int)e.Start.Line, (int)e.Start.Column),
                $"YAML syntax error: {Describe(e)}",
                "Fix the YAML syntax at this position (indentation, a missing ':' or an unclosed quote are the usual causes).");
        }
        catch (AnchorNotFoundException e)
        {
            throw TopologyException.One(
                TopologyErrors.BadValue,
                new SourceLocation(file, (int)e.Start.Line, (int)e.Start.Column),
                $"YAML alias refers to an anchor that is not defined: {Describe(e)}",
                "Define the anchor (&name) before using the alias (*name).");
        }
    }

    private static string Describe(YamlException e)
    {
        // YamlDotNet prefixes messages with "(Line: 1, Col: 2, Idx: 3) - (...): "; the position is reported separately.
        var message = e.InnerException?.Message ?? e.Message;
        var at = message.LastIndexOf("): ", StringComparison.Ordinal);
        return at >= 0 ? message[(at + 3)..] : message;
    }

    private sealed class Reader(IParser parser, string file)
    {
        private readonly Dictionary<string, YNode> _anchors = new(StringComparer.Ordinal);

        public YNode Read()
        {
            var start = parser.Current!.Start;
            switch (parser.Current)
            {
                case AnchorAlias alias:
                    parser.MoveNext();
                    return _anchors.TryGetValue(alias.Value.Value, out var target)
                        ? target
                        : throw new AnchorNotFoundException(alias.Start, alias.End, $"alias *{alias.Value.Value}");

                case Scalar scalar:
                    parser.MoveNext();
                    return Remember(scalar.Anchor, new YScalar(scalar.Value, scalar.Style == ScalarStyle.Plain, L(start), C(start)));

                case SequenceStart sequence:
                {
                    parser.MoveNext();
                    var items = ImmutableArray.CreateBuilder<YNode>();
                    while (!parser.TryConsume<SequenceEnd>(out _))
                    {
                        items.Add(Read());
                    }

                    return Remember(sequence.Anchor, new YSeq(items.ToImmutable(), L(start), C(start)));
                }

                case MappingStart mapping:
                {
                    parser.MoveNext();
                    var entries = ImmutableArray.CreateBuilder<YEntry>();
                    var seen = new Dictionary<string, YScalar>(StringComparer.Ordinal);
                    while (!parser.TryConsume<MappingEnd>(out _))
                    {
                        if (Read() is not YScalar key)
                        {
                            throw TopologyException.One(
                                TopologyErrors.BadValue,
                                new SourceLocation(file, L(parser.Current!.Start), C(parser.Current!.Start)),
                                "a mapping key must be a plain value, not a list or a mapping",
                                "Write keys as simple names (host:, port:, ...).");
                        }

                        if (seen.TryGetValue(key.Value, out var first))
                        {
                            throw TopologyException.One(
                                TopologyErrors.DuplicateKey,
                                new SourceLocation(file, key.Line, key.Column),
                                $"duplicate key \"{key.Value}\" (first defined at line {first.Line}, column {first.Column})",
                                "Remove one of the two entries; YAML keeps only one of them and TiUP refuses the file.");
                        }

                        seen[key.Value] = key;
                        entries.Add(new YEntry(key, Read()));
                    }

                    return Remember(mapping.Anchor, new YMap(entries.ToImmutable(), L(start), C(start)));
                }

                default:
                    throw new YamlException(start, parser.Current.End, $"unexpected YAML event {parser.Current.GetType().Name}");
            }
        }

        private YNode Remember(AnchorName anchor, YNode node)
        {
            if (!anchor.IsEmpty)
            {
                _anchors[anchor.Value] = node;
            }

            return node;
        }

        private static int L(Mark mark) => (int)mark.Line;

        private static int C(Mark mark) => (int)mark.Column;
    }
}
