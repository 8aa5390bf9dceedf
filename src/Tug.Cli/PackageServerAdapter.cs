// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;
using Tug.Core.Execution;
using Tug.Mirror;
using Tug.Mirror.Server;

namespace Tug.Cli;

/// <summary>The operation's package server (<see cref="PackageServer"/>, the same HTTP stack as <c>tug mirror serve</c>) behind Core's seam.</summary>
public sealed class PackageServerAdapter : IPackageServer
{
    public async Task<IServedPackages> StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            return new Served(await PackageServer.StartAsync(cancellationToken));
        }
        catch (MirrorException e)
        {
            throw new ClusterException(ClusterException.BadInput, e.Message, e.Hint, e);
        }
    }

    private sealed class Served(PackageServer server) : IServedPackages
    {
        public int Port => server.Port;

        public void Add(string name, string file) => server.Add(name, file);

        public ValueTask DisposeAsync() => server.DisposeAsync();
    }
}
