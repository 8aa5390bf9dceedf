// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Cluster;
using Tug.Core.Remote;

namespace Tug.Core.Planning;

/// <summary>What <c>tug cluster deploy</c> is asked to do.</summary>
/// <param name="Name">Cluster name.</param>
/// <param name="Version">Cluster version: the version of every component that follows the cluster.</param>
/// <param name="TopologyFile">TiUP topology file.</param>
/// <param name="User">The login used to prepare hosts (<c>-u</c>): root, or a user with passwordless sudo.</param>
/// <param name="Credential">Its key (<c>-i</c>) or password.</param>
public sealed record DeployRequest(string Name, string Version, string TopologyFile, string User, Credential Credential);

/// <summary>What <c>tug cluster scale-out</c> is asked to do.</summary>
/// <param name="Name">Cluster name.</param>
/// <param name="TopologyFile">A topology file with only the new instances (TiUP's scale-out format).</param>
/// <param name="User">The login used to prepare new hosts (<c>-u</c>).</param>
/// <param name="Credential">Its key or password.</param>
public sealed record ScaleOutRequest(string Name, string TopologyFile, string User, Credential Credential);

/// <summary>What <c>tug cluster upgrade</c> is asked to do.</summary>
/// <param name="Name">Cluster name.</param>
/// <param name="ClusterVersion">New cluster version (components that follow the cluster), or null to leave them.</param>
/// <param name="Components">Explicit role (or package) → version pins.</param>
/// <param name="Batch">Instances per batch: a count, or a percentage of each role's instances ("25%").</param>
/// <param name="HealthWindow">Seconds each switched instance must stay healthy after its first healthy check (<c>--health-window</c>); 0: none.</param>
public sealed record UpgradeRequest(string Name, string? ClusterVersion, ImmutableDictionary<string, string> Components, string Batch, int HealthWindow = 0);

/// <summary>What <c>tug cluster patch</c> is asked to do.</summary>
/// <param name="Name">Cluster name.</param>
/// <param name="PackagePath">A tarball holding the component's executable, or the executable itself.</param>
/// <param name="Filter">The instances to patch (<c>-R</c>/<c>-N</c>): all of one component.</param>
/// <param name="Batch">Instances per batch: a count or a percentage.</param>
/// <param name="HealthWindow">Seconds each patched instance must stay healthy after its first healthy check (<c>--health-window</c>); 0: none.</param>
public sealed record PatchRequest(string Name, string PackagePath, InstanceFilter Filter, string Batch, int HealthWindow = 0);
