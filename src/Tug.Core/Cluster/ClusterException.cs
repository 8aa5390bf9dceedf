// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

namespace Tug.Core.Cluster;

/// <summary>An expected failure of a cluster operation, with a stable code and what to do.</summary>
public sealed class ClusterException : TugException
{
    public ClusterException(string code, string message, string? hint = null, Exception? inner = null)
        : base(code, message, hint, inner: inner)
    {
    }

    public ClusterException()
        : this("E4000", "cluster error")
    {
    }

    public ClusterException(string message)
        : this("E4000", message)
    {
    }

    public ClusterException(string message, Exception innerException)
        : this("E4000", message, inner: innerException)
    {
    }

    /// <summary>Refused: nothing was changed (bad input, a locked or interrupted cluster, a broken audit log).</summary>
    public override int ExitCode => ExitCodes.BadInput;

    public const string NotFound = "E4001";
    public const string Exists = "E4002";
    public const string BadInput = "E4003";
    public const string Aborted = "E4004";
    public const string PackageMissing = "E4005";
    public const string Locked = "E4006";
    public const string Interrupted = "E4007";
    public const string AuditBroken = "E4008";

    /// <summary>A cluster's meta.yaml that cannot be read, does not parse, or holds no instance: never read as an empty cluster.</summary>
    public const string MetaBroken = "E4020";

    /// <summary>A cluster to import cannot be managed (a host unreachable, the key refused); nothing was written.</summary>
    public const string ImportBlocked = "E4050";

    /// <summary>A state file of Tug's (a journal, a stored plan, lock.json, the audit head) that cannot be read or is corrupt.</summary>
    public const string StateBroken = "E4021";

    /// <summary>Deploy or scale-out refused by its preflight: a port or directory is taken on a host or by another cluster.</summary>
    public const string PreflightConflict = "E4040";

    /// <summary>The preflight refusal of deploy and scale-out, naming every conflict (host: port and its holder, or directory).</summary>
    public static ClusterException Conflicts(IReadOnlyList<string> conflicts) =>
        new(PreflightConflict, $"The preflight found {conflicts.Count} conflict(s); nothing was changed on any host:\n  {string.Join("\n  ", conflicts)}",
            "Stop what holds the port or move the instance (another port, another directory), then run the command again; `tug cluster check` shows every check.");

    /// <summary>The refusal for a cluster this control machine has no meta.yaml for.</summary>
    public static ClusterException ClusterNotFound(string name) =>
        new(NotFound, $"Cluster '{name}' does not exist on this control machine.",
            "See the clusters with `tug cluster list`; deploy one with `tug cluster deploy NAME VERSION TOPOLOGY`.");

    /// <summary>The refusal for a patch PACKAGE path that names no file.</summary>
    public static ClusterException PatchFileMissing(string path) =>
        new(BadInput, $"Patch file {path} does not exist.", "Give a tarball holding the executable, or the executable itself.");
}
