// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;
using Tug.Core.Planning;

namespace Tug.Core.Execution.Steps;

/// <summary>
/// Renames the cluster on the control machine: <c>clusters/OLD</c> becomes <c>clusters/NEW</c> in one
/// <c>renameat2(RENAME_NOREPLACE)</c>, so a crash leaves exactly one of the two names, and a <c>NEW</c> created
/// meanwhile is never replaced. The directory carries meta.yaml, the cluster's key, and this operation's own journal,
/// plan and lock (held open, so still held): the operation goes on under the new name, and a replay finds it there.
/// </summary>
public sealed class RenameStep : StepHandler
{
    public override StepKind Kind => StepKind.Rename;

    public override Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var (from, to) = Names(context);
        var target = context.Store.Directory(to);
        if (Directory.Exists(target))
        {
            return Task.FromResult(StepResult.Fail($"cluster '{to}' exists already ({target}); cluster '{from}' keeps its name"));
        }

        Posix.RenameNoReplace(context.Store.Directory(from), target);
        Posix.SyncDirectory(Path.GetDirectoryName(target)!);
        context.State.Renamed(to);
        return Task.FromResult(StepResult.Done($"cluster '{from}' is now '{to}' on this control machine"));
    }

    /// <summary>Done when the operation already lives under the new name (its journal moved with the directory) and the old name is gone.</summary>
    public override Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var (from, to) = Names(context);
        var done = context.State.Name == to && !Directory.Exists(context.Store.Directory(from)) && context.Store.Exists(to);
        return Task.FromResult(done ? StepResult.Done($"cluster '{from}' was renamed to '{to}'") : null);
    }

    private static (string From, string To) Names(StepContext context) =>
        (context.Plan.RenamedFrom ?? throw new ClusterException(ClusterException.BadInput, $"The {context.Plan.Operation} plan has a rename step but no old name."), context.Plan.Cluster);
}
