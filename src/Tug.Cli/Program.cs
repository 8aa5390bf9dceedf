// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Tug.Cli.Commands;
using Tug.Cli.Commands.Cluster;
using Tug.Cli.Rendering;
using Tug.Core.Execution;
using Tug.Core.Cluster;
using Tug.Mirror;

namespace Tug.Cli;

/// <summary>
/// The <c>tug</c> command: parses, composes services once, runs one verb, maps failures to exit codes: an expected
/// failure (<see cref="TugException"/>) prints itself and exits with its own code; anything else is a bug.
/// </summary>
public sealed class Program(IOContext io, Action<IServiceCollection>? overrides = null)
{
    public static async Task<int> Main(string[] args)
    {
        // `tug --version` alone answers before any service or the command tree is built (start-up is most of its
        // time): the same text System.CommandLine's version option prints.
        if (args is ["--version"])
        {
            Console.Out.WriteLine(VersionText());
            return ExitCodes.Success;
        }

        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };

        // SIGTERM too: stop starting new steps, record the operation as cancelled, exit 130.
        using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            cancellation.Cancel();
        });
        return await new Program(IOContext.FromConsole()).RunAsync(args, cancellation.Token);
    }

    /// <summary>The informational version of the <c>tug</c> assembly, as <c>--version</c> prints it.</summary>
    internal static string VersionText() =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(Program).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    /// <summary>Runs the command line and returns the exit status.</summary>
    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var services = new ServiceCollection();
        services.AddSingleton(new CommandLineArgs([.. args]));
        ConfigureServices(services);
        overrides?.Invoke(services);
        await using var provider = services.BuildServiceProvider();
        var renderer = provider.GetRequiredService<Renderer>();
        var root = CommandTree.Build(provider);
        var parse = root.Parse(args);
        try
        {
            var exit = await parse.InvokeAsync(new InvocationConfiguration { Output = io.Out, Error = io.Error, EnableDefaultExceptionHandler = false }, cancellationToken);

            // A command line that does not parse (unknown flag, bad number, value outside its set or range) is bad
            // input: refused, nothing done, exit 2 like every other refusal (System.CommandLine itself returns 1).
            return parse.Errors.Count > 0 && exit == ExitCodes.Failure ? ExitCodes.BadInput : exit;
        }
        catch (TugException e)
        {
            renderer.Error(e);
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            renderer.Error("E0130", "Cancelled; no further steps were started.", null, null);
            return ExitCodes.Cancelled;
        }
        catch (Exception e)
        {
            var log = renderer.WriteCrashLog(e);
            renderer.Error("E0070", $"Unexpected error: {e.Message}", null, $"This is a bug in tug; the full trace is in {log}.");
            return ExitCodes.Unexpected;
        }
    }

    private void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton(io);
        services.AddSingleton<IEnvironment, SystemEnvironment>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(_ => new HttpClient { Timeout = TimeSpan.FromMinutes(10) });
        services.AddSingleton(sp => TugHome.FromEnvironment(sp.GetRequiredService<IEnvironment>().GetVariable));
        services.AddSingleton(sp => new MirrorClient(
            sp.GetRequiredService<TugHome>(),
            sp.GetRequiredService<HttpClient>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IEnvironment>().GetVariable));
        services.AddSingleton<Renderer>();
        services.AddSingleton<MirrorCommands>();
        services.AddSingleton(sp => new ClusterStore(Path.Combine(sp.GetRequiredService<TugHome>().Directory, "clusters"), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IPackageSource, MirrorPackageSource>();
        services.AddSingleton<Tug.Core.Execution.IPackageServer, PackageServerAdapter>();
        services.AddSingleton<Tug.Core.Inspection.ClusterInspector>();
        services.AddTugExecution();
        services.AddSingleton<ProgressRenderer>();
        services.AddSingleton(sp => new AuditLog(Path.Combine(sp.GetRequiredService<TugHome>().Directory, "audit"), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ClusterInput>();
        services.AddSingleton<PlanRunner>();
        services.AddSingleton<DeployCommand>();
        services.AddSingleton<ScaleOutCommand>();
        services.AddSingleton<ScaleInCommand>();
        services.AddSingleton<StartCommand>();
        services.AddSingleton<StopCommand>();
        services.AddSingleton<RestartCommand>();
        services.AddSingleton<DisplayCommand>();
        services.AddSingleton<UpgradeCommand>();
        services.AddSingleton<PatchCommand>();
        services.AddSingleton<ReplayCommand>();
        services.AddSingleton<AuditCommand>();
        services.AddSingleton<VerifyCommand>();
        services.AddSingleton<ListCommand>();
        services.AddSingleton<ExecCommand>();
        services.AddSingleton<PushCommand>();
        services.AddSingleton<PullCommand>();
        services.AddSingleton<DestroyCommand>();
        services.AddSingleton<AcceptHostKeyCommand>();
        services.AddSingleton<ReloadCommand>();
        services.AddSingleton<Tug.Core.Planning.IHostFileReader>(sp => sp.GetRequiredService<Tug.Core.Inspection.ClusterInspector>());
        services.AddSingleton<EditConfigCommand>();
        services.AddSingleton<ShowConfigCommand>();
        services.AddSingleton<TemplateCommand>();
        services.AddSingleton<CheckCommand>();
        services.AddSingleton<Tug.Core.Planning.IMemberReader>(sp => sp.GetRequiredService<Tug.Core.Inspection.ClusterInspector>());
        services.AddSingleton<EnableCommand>();
        services.AddSingleton<DisableCommand>();
        services.AddSingleton<CleanCommand>();
        services.AddSingleton<PruneCommand>();
        services.AddSingleton<RenameCommand>();
        services.AddSingleton<MetaCommand>();
        services.AddSingleton<AuditCleanupCommand>();
        services.AddSingleton<RotateSshCommand>();
        services.AddSingleton<ClusterImporter>();
        services.AddSingleton<ClusterExporter>();
        services.AddSingleton<ImportCommand>();
        services.AddSingleton<ExportCommand>();
    }
}
