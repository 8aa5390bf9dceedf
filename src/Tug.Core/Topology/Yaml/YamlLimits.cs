// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;

namespace Tug.Core.Topology;

/// <summary>
/// The bounds every topology and meta.yaml read is held to, so that no file can exhaust memory or the stack: the file's
/// size, the nesting depth of mappings and lists, and what aliases (<c>*name</c>) expand to when copied (YAML's
/// "billion laughs"). Each is refused with its own code, the file and, where known, the line and column.
/// </summary>
/// <param name="What">The kind of file, for messages ("topology file", "meta.yaml").</param>
/// <param name="MaxBytes">The largest file accepted, in bytes (characters for text already read).</param>
/// <param name="MaxDepth">The deepest nesting of mappings and lists (the document's root mapping is depth 1).</param>
/// <param name="MaxAliasNodes">How many nodes all aliases together may expand to.</param>
/// <param name="MaxAliasChars">How many characters of scalar text all aliases together may expand to.</param>
public sealed record YamlLimits(string What, long MaxBytes, int MaxDepth, long MaxAliasNodes, long MaxAliasChars)
{
    /// <summary>Topology files: 4 MiB, depth 64, aliases expanding to at most 10,000 nodes and 1 MiB of text.</summary>
    public static YamlLimits Topology { get; } = new("topology file", 4 * 1024 * 1024, 64, 10_000, 1024 * 1024);

    /// <summary>
    /// meta.yaml: it holds a topology one level down (under <c>topology:</c>), with every alias already expanded by the
    /// writer and Tug's own state beside it, so its bounds are one level deeper and 16 MiB.
    /// </summary>
    public static YamlLimits Meta { get; } = new("meta.yaml", 16 * 1024 * 1024, 65, 10_000, 1024 * 1024);

    internal TopologyException TooLarge(string file, long size) => TopologyException.One(
        TopologyErrors.TooLarge, new SourceLocation(file, 0, 0),
        $"{What} \"{file}\" is {N(size)} bytes, more than the limit of {N(MaxBytes)} bytes",
        $"A {What} is a few kilobytes; check that this is the right file. Nothing was changed.");

    internal TopologyException TooDeep(SourceLocation at) => TopologyException.One(
        TopologyErrors.TooDeep, at,
        $"YAML nesting is deeper than the limit of {N(MaxDepth)} levels of mappings and lists",
        "Flatten the structure here (an unclosed '[' or '{' repeated is the usual cause). Nothing was changed.");

    internal TopologyException TooManyAliases(SourceLocation at, string alias, long nodes, long chars) => TopologyException.One(
        TopologyErrors.TooManyAliases, at,
        $"YAML aliases expand to too much at *{alias}: {N(nodes)} nodes and {N(chars)} characters so far, more than the limit of {N(MaxAliasNodes)} nodes or {N(MaxAliasChars)} characters",
        "Write the values out instead of repeating anchors (&name / *name) inside each other. Nothing was changed.");

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
