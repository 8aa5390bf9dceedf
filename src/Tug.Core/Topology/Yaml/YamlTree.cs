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
    /// <param name="text">The YAML text.</param>
    /// <param name="file">The file named in errors.</param>
    /// <param name="limits">The bounds: <see cref="YamlLimits.Topology"/> by default, <see cref="YamlLimits.Meta"/> for meta.yaml.</param>
    /// <exception cref="TopologyException">
    /// Syntax error, duplicate key, non-scalar key, or a limit of <see cref="YamlLimits"/> passed (text too long, nesting too
    /// deep, aliases expanding to too much).
    /// </exception>
    public static YNode? Parse(string text, string file, YamlLimits? limits = null)
    {
        limits ??= YamlLimits.Topology;
        if (text.Length > limits.MaxBytes)
        {
            throw limits.TooLarge(file, text.Length);
        }

        Parser? parser = null;
        try
        {
            parser = new Parser(new StringReader(text));
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                return null;
            }

            parser.Consume<DocumentStart>();
            return new Reader(parser, file, limits).Read(1).Node;
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
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            // YamlDotNet's parser throws these (not a YamlException) on some malformed streams, e.g. a stray token after
            // the document ("The scanner should contain no more tokens") or a %TAG that is not a URI ("Global tags must
            // be valid URIs"): both found by the fuzz test.
            var at = parser?.Current?.Start;
            throw TopologyException.One(
                TopologyErrors.BadValue,
                new SourceLocation(file, at is { } m ? (int)m.Line : 0, at is { } c ? (int)c.Column : 0),
                $"YAML syntax error: {e.Message}",
                "Fix the YAML syntax near this position (a stray directive, '---' or token after the document is the usual cause).");
        }
    }

    private static string Describe(YamlException e)
    {
        // YamlDotNet prefixes messages with "(Line: 1, Col: 2, Idx: 3) - (...): "; the position is reported separately.
        var message = e.InnerException?.Message ?? e.Message;
        var at = message.LastIndexOf("): ", StringComparison.Ordinal);
        return at >= 0 ? message[(at + 3)..] : message;
    }

    /// <summary>
    /// Builds the tree from YamlDotNet's events with an explicit depth bound (YamlDotNet's parser is event-driven, but
    /// this reader recurses once per nesting level, so 20,000 nested <c>[</c> would overflow the stack) and a count of
    /// what aliases expand to: an alias shares its anchor's node here, but every later reader (the config maps, the
    /// rendered config files, meta.yaml) copies it, so a 500-byte "billion laughs" would expand to 10^9 nodes there.
    /// </summary>
    private sealed class Reader(IParser parser, string file, YamlLimits limits)
    {
        private readonly Dictionary<string, (YNode Node, Size Size)> _anchors = new(StringComparer.Ordinal);
        private long _aliasNodes;
        private long _aliasChars;

        public (YNode Node, Size Size) Read(int depth)
        {
            var start = parser.Current!.Start;
            switch (parser.Current)
            {
                case AnchorAlias alias:
                {
                    parser.MoveNext();
                    if (!_anchors.TryGetValue(alias.Value.Value, out var target))
                    {
                        throw new AnchorNotFoundException(alias.Start, alias.End, $"alias *{alias.Value.Value}");
                    }

                    // The alias's copy would be nested here: its own depth counts from this level.
                    if (depth - 1 + target.Size.Depth > limits.MaxDepth)
                    {
                        throw limits.TooDeep(new SourceLocation(file, L(start), C(start)));
                    }

                    _aliasNodes += target.Size.Nodes;
                    _aliasChars += target.Size.Chars;
                    if (_aliasNodes > limits.MaxAliasNodes || _aliasChars > limits.MaxAliasChars)
                    {
                        throw limits.TooManyAliases(new SourceLocation(file, L(start), C(start)), alias.Value.Value, _aliasNodes, _aliasChars);
                    }

                    return target;
                }

                case Scalar scalar:
                    parser.MoveNext();
                    return Remember(scalar.Anchor, new YScalar(scalar.Value, scalar.Style == ScalarStyle.Plain, L(start), C(start)), new Size(1, scalar.Value.Length, 0));

                case SequenceStart sequence:
                {
                    Enter(depth, start);
                    parser.MoveNext();
                    var items = ImmutableArray.CreateBuilder<YNode>();
                    var size = new Size(1, 0, 1);
                    while (!parser.TryConsume<SequenceEnd>(out _))
                    {
                        var item = Read(depth + 1);
                        items.Add(item.Node);
                        size = size.Add(item.Size);
                    }

                    return Remember(sequence.Anchor, new YSeq(items.ToImmutable(), L(start), C(start)), size);
                }

                case MappingStart mapping:
                {
                    Enter(depth, start);
                    parser.MoveNext();
                    var entries = ImmutableArray.CreateBuilder<YEntry>();
                    var seen = new Dictionary<string, YScalar>(StringComparer.Ordinal);
                    var size = new Size(1, 0, 1);
                    while (!parser.TryConsume<MappingEnd>(out _))
                    {
                        var keyAt = parser.Current!.Start;
                        var read = Read(depth + 1);
                        if (read.Node is not YScalar key)
                        {
                            throw TopologyException.One(
                                TopologyErrors.BadValue,
                                new SourceLocation(file, L(keyAt), C(keyAt)),
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
                        var value = Read(depth + 1);
                        entries.Add(new YEntry(key, value.Node));
                        size = size.Add(read.Size).Add(value.Size);
                    }

                    return Remember(mapping.Anchor, new YMap(entries.ToImmutable(), L(start), C(start)), size);
                }

                default:
                    throw new YamlException(start, parser.Current.End, $"unexpected YAML event {parser.Current.GetType().Name}");
            }
        }

        private void Enter(int depth, Mark start)
        {
            if (depth > limits.MaxDepth)
            {
                throw limits.TooDeep(new SourceLocation(file, L(start), C(start)));
            }
        }

        private (YNode Node, Size Size) Remember(AnchorName anchor, YNode node, Size size)
        {
            if (!anchor.IsEmpty)
            {
                _anchors[anchor.Value] = (node, size);
            }

            return (node, size);
        }

        private static int L(Mark mark) => (int)mark.Line;

        private static int C(Mark mark) => (int)mark.Column;
    }

    /// <summary>What a node expands to: nodes, characters of scalar text, and its own nesting depth (0 for a scalar).</summary>
    private readonly record struct Size(long Nodes, long Chars, int Depth)
    {
        // Relative depth: a scalar 0, a mapping or list 1 + its deepest child's.
        public Size Add(Size child) => new(Nodes + child.Nodes, Chars + child.Chars, Math.Max(Depth, child.Depth + 1));
    }
}
