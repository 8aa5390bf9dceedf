// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Cluster;
using Tug.Core.Execution.Steps;
using Tug.Core.Planning;

namespace Tug.Core.Execution;

/// <summary>Registers the planners, the executor and one handler per step kind.</summary>
public static class ExecutionServices
{
    /// <summary>Adds the planners, the executor, the step handlers and the failpoints <c>TUG_FAILPOINTS</c> arms.</summary>
    public static IServiceCollection AddTugExecution(this IServiceCollection services)
    {
        services.AddSingleton(_ => Failpoints.FromEnvironment());
        services.AddSingleton<InstanceChecks>();
        services.AddSingleton<StepHandler, InitHostStep>();
        services.AddSingleton<StepHandler, InstallStep>();
        services.AddSingleton<StepHandler, SaveMetaStep>();
        services.AddSingleton<StepHandler, ClusterVersionStep>();
        services.AddSingleton<StepHandler, StageStep>();
        services.AddSingleton<StepHandler, SwitchStep>();
        services.AddSingleton<StepHandler, RestoreStep>();
        services.AddSingleton<StepHandler, StartStep>();
        services.AddSingleton<StepHandler, StopStep>();
        services.AddSingleton<StepHandler>(_ => new MemberStep(StepKind.MemberJoin));
        services.AddSingleton<StepHandler>(_ => new MemberStep(StepKind.MemberLeave));
        services.AddSingleton<StepHandler>(_ => new RemoveStep(StepKind.Remove));
        services.AddSingleton<StepHandler>(_ => new RemoveStep(StepKind.DestroyHost));
        services.AddSingleton<StepHandler, RefreshStep>();
        services.AddSingleton<StepHandler, ForgetStep>();
        services.AddSingleton<StepHandler, ReloadStep>();
        services.AddSingleton<StepHandler>(_ => new UnitEnableStep(StepKind.Enable));
        services.AddSingleton<StepHandler>(_ => new UnitEnableStep(StepKind.Disable));
        services.AddSingleton<StepHandler, CleanStep>();
        services.AddSingleton<StepHandler, RenameStep>();
        services.AddSingleton<StepHandler, SshKeygenStep>();
        services.AddSingleton<StepHandler, SshAuthorizeStep>();
        services.AddSingleton<StepHandler, SshSwitchStep>();
        services.AddSingleton<StepHandler, SshRetireStep>();
        services.AddSingleton<StepHandler, SshCleanupStep>();
        services.AddSingleton<Executor>();
        services.AddSingleton<UpgradePlanner>();
        services.AddSingleton<PatchPlanner>();
        services.AddSingleton<ServicePlanner>();
        services.AddSingleton<TopologyPlanner>();
        services.AddSingleton<ReloadPlanner>();
        services.AddSingleton<ConfigPlanner>();
        services.AddSingleton<LifecyclePlanner>();
        services.AddSingleton<RenamePlanner>();
        services.AddSingleton(sp => new MetaBackup(sp.GetRequiredService<ClusterStore>(), sp.GetRequiredService<AuditLog>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<RotateSshPlanner>();
        services.AddSingleton<Inspection.Preflight>();
        return services;
    }
}
