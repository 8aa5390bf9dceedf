// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Tug.Core.Inspection;

namespace Tug.Cli.Commands.Cluster;

public sealed record AcceptHostKeyArguments(string Name, string Endpoint, string Fingerprint);

/// <summary>
/// <c>tug cluster accept-host-key</c>: re-pins a host's SSH host key in the cluster's local state. It touches local
/// files only, so it runs synchronously, as before.
/// </summary>
public sealed class AcceptHostKeyCommand(ClusterInspector inspector, Renderer output)
{
    public static Command Create(IServiceProvider services, ClusterOptions options)
    {
        _ = options;
        var handler = services.GetRequiredService<AcceptHostKeyCommand>();
        var name = ClusterOptions.Name();
        var endpoint = new Argument<string>("HOST[:PORT]") { Description = "The host whose new key to accept." };
        var fingerprint = new Argument<string>("FINGERPRINT") { Description = "The new key's SHA256 fingerprint, as checked on the host's console." };
        var command = new Command(CliConstants.AcceptHostKeyVerb, "Deliberately replace a host's pinned SSH host key after checking it.") { name, endpoint, fingerprint };
        command.SetAction(p => handler.Run(new AcceptHostKeyArguments(p.GetValue(name)!, p.GetValue(endpoint)!, p.GetValue(fingerprint)!)));
        return command;
    }

    public int Run(AcceptHostKeyArguments args)
    {
        var key = args.Endpoint.Contains(':', StringComparison.Ordinal) ? args.Endpoint : args.Endpoint + ":22";
        inspector.AcceptHostKey(args.Name, key, args.Fingerprint);
        output.Line($"pinned {key} to {args.Fingerprint} for cluster {args.Name}");
        return ExitCodes.Success;
    }
}
