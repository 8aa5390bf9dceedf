// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;

namespace Tug.Core.Topology;

/// <summary>A place in a topology or meta file: 1-based line and column; 0 when the place is unknown.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    /// <summary>Renders <c>file:line:column</c>, or just the file when the place is unknown.</summary>
    public override string ToString() => Line > 0 ? $"{File}:{Line}:{Column}" : File;
}

/// <summary>One problem found in a topology file: where, which rule (stable code), what is wrong and what to do.</summary>
public sealed record TopologyDiagnostic(string Code, SourceLocation Location, string Message, string Hint)
{
    /// <summary>One line, compiler style: <c>topology.yaml:12:5: error[E1007]: message</c>.</summary>
    public override string ToString() => $"{Location}: error[{Code}]: {Message}";

    /// <summary>The error line followed by an indented hint line.</summary>
    public string Render() => $"{this}{Environment.NewLine}  hint: {Hint}";
}

/// <summary>An invalid topology (or cluster meta) file; carries every problem found, not only the first.</summary>
public sealed class TopologyException : TugException
{
    private const string GenericHint = "Check the topology file.";

    /// <summary>An exception carrying the given problems (at least one).</summary>
    public TopologyException(IEnumerable<TopologyDiagnostic> diagnostics)
        : this(ImmutableArray.CreateRange(diagnostics))
    {
    }

    /// <summary>A generic "invalid topology" error; prefer the diagnostics constructor.</summary>
    public TopologyException()
        : this(ImmutableArray.Create(new TopologyDiagnostic(TopologyErrors.BadValue, default, "invalid topology", GenericHint)))
    {
    }

    /// <summary>A topology error without a position.</summary>
    public TopologyException(string message)
        : this(ImmutableArray.Create(new TopologyDiagnostic(TopologyErrors.BadValue, default, message, GenericHint)))
    {
    }

    /// <summary>A topology error without a position, caused by <paramref name="innerException"/>.</summary>
    public TopologyException(string message, Exception innerException)
        : base(TopologyErrors.BadValue, message, GenericHint, inner: innerException)
    {
        Diagnostics = [new TopologyDiagnostic(TopologyErrors.BadValue, default, message, GenericHint)];
    }

    private TopologyException(ImmutableArray<TopologyDiagnostic> diagnostics)
        : base(First(diagnostics).Code, string.Join(Environment.NewLine, diagnostics.Select(d => d.Render())), First(diagnostics).Hint, First(diagnostics).Location.File)
    {
        Diagnostics = diagnostics;
    }

    /// <summary>Every problem found, in file order where the order is known.</summary>
    public ImmutableArray<TopologyDiagnostic> Diagnostics { get; }

    /// <summary>The 1-based line of the first problem (0 when unknown).</summary>
    public int Line => Diagnostics[0].Location.Line;

    /// <summary>The 1-based column of the first problem (0 when unknown).</summary>
    public int Column => Diagnostics[0].Location.Column;

    /// <summary>Refused: bad input, nothing was changed.</summary>
    public override int ExitCode => ExitCodes.BadInput;

    /// <summary>Every problem, compiler style, each followed by its hint.</summary>
    public override IEnumerable<string> Render() => Diagnostics.Select(d => d.Render());

    internal static TopologyException One(string code, SourceLocation location, string message, string hint) =>
        new(ImmutableArray.Create(new TopologyDiagnostic(code, location, message, hint)));

    private static TopologyDiagnostic First(ImmutableArray<TopologyDiagnostic> diagnostics) =>
        diagnostics.IsDefaultOrEmpty
            ? throw new ArgumentException("A topology exception needs at least one diagnostic.", nameof(diagnostics))
            : diagnostics[0];
}

/// <summary>Stable error codes of the topology layer (E1xxx). Each names one rule.</summary>
public static class TopologyErrors
{
    /// <summary>A key that TiUP's schema does not know (TiUP decodes with <c>KnownFields(true)</c>).</summary>
    public const string UnknownKey = "E1001";

    /// <summary>YAML syntax error, or a value of the wrong type (text where a number belongs...).</summary>
    public const string BadValue = "E1002";

    /// <summary>The same key twice in one mapping.</summary>
    public const string DuplicateKey = "E1003";

    /// <summary>The file cannot be read.</summary>
    public const string ReadFailed = "E1004";

    /// <summary>An instance without a host.</summary>
    public const string MissingHost = "E1005";

    /// <summary>A port outside [1, 65535].</summary>
    public const string PortOutOfRange = "E1006";

    /// <summary>Two ports on one host are the same.</summary>
    public const string PortConflict = "E1007";

    /// <summary>Two instances on one host share a deploy or data directory.</summary>
    public const string DirectoryConflict = "E1008";

    /// <summary><c>global.user</c> is not a valid Linux user name.</summary>
    public const string BadUser = "E1009";

    /// <summary><c>global.group</c> is not a valid Linux group name.</summary>
    public const string BadGroup = "E1010";

    /// <summary>Two PD (or tso, scheduling, router, resource-manager, etcd) members with one name.</summary>
    public const string DuplicateName = "E1011";

    /// <summary>Instances on one host disagree about <c>ignore_exporter</c>.</summary>
    public const string ExporterMismatch = "E1012";

    /// <summary>A path that must be absolute is relative.</summary>
    public const string RelativePath = "E1013";

    /// <summary>Instances on one host disagree about <c>os</c>/<c>arch</c>.</summary>
    public const string PlatformMismatch = "E1014";

    /// <summary>A component that cannot run with <c>enable_tls: true</c>.</summary>
    public const string TlsUnsupported = "E1015";

    /// <summary>TiSpark master/worker rules.</summary>
    public const string TiSpark = "E1016";

    /// <summary>TiFlash storage configuration rules.</summary>
    public const string TiFlashStorage = "E1017";

    /// <summary>A cluster name outside <c>^[a-zA-Z0-9\-_\.]+$</c>.</summary>
    public const string BadClusterName = "E1018";

    /// <summary>A value outside its allowed set (<c>systemd_mode</c>, <c>ssh_type</c>).</summary>
    public const string BadEnumValue = "E1019";

    /// <summary>A topology or meta file larger than its limit (<see cref="YamlLimits.MaxBytes"/>).</summary>
    public const string TooLarge = "E1080";

    /// <summary>YAML nested deeper than its limit (<see cref="YamlLimits.MaxDepth"/>).</summary>
    public const string TooDeep = "E1081";

    /// <summary>YAML aliases that expand past their limit (<see cref="YamlLimits.MaxAliasNodes"/>, "billion laughs").</summary>
    public const string TooManyAliases = "E1082";

    /// <summary>A host (or manage_host, listen_host) that is neither an IP address nor a DNS name.</summary>
    public const string BadHost = "E1030";

    /// <summary>A directory that, after TiUP's expansion, is not an absolute normalised path of safe characters.</summary>
    public const string BadDirectory = "E1031";

    /// <summary>A directory that is a system directory or inside one (<c>/usr</c>, <c>/etc/x</c>...).</summary>
    public const string ForbiddenDirectory = "E1032";

    /// <summary>A directory inside (or equal to) another instance's directory on the same machine.</summary>
    public const string NestedDirectory = "E1033";

    /// <summary>A value rendered into a run script or unit that is not of its documented shape, or not one line.</summary>
    public const string BadShape = "E1034";

    /// <summary>A topology without any instance.</summary>
    public const string NoInstances = "E1035";
}
