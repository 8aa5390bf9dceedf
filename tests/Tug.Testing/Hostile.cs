// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Topology;

namespace Tug.Testing;

/// <summary>
/// Values no shell may interpret, for proving that Tug's operational scripts quote structurally: each holds a single
/// quote, a double quote, <c>;</c>, <c>$(touch MARKER)</c>, a backtick command and a newline. The validator refuses
/// them in a topology; these tests build the instance directly, bypassing it.
/// </summary>
public static class Hostile
{
    /// <summary>The file a value that reached a shell as code would create.</summary>
    public const string Marker = "/tmp/x";

    /// <summary>The hostile fragment itself.</summary>
    public const string Fragment = "it's \"q\"; $(touch /tmp/x) `touch /tmp/x`\nnext";

    /// <summary>A directory under <paramref name="root"/> named with the fragment.</summary>
    public static string Dir(string root, string leaf) => $"{root}/{Fragment}/{leaf}";

    /// <summary>
    /// <paramref name="instance"/> with every string field Tug puts into its own scripts hostile: deploy, data and
    /// log directories, member name, NUMA settings and listen host. Role, component and the addresses stay real so
    /// the instance can be reached and its component found.
    /// </summary>
    public static InstanceSpec Instance(InstanceSpec instance, string root) => instance with
    {
        DeployDir = Dir(root, $"{instance.Role}-{instance.MainPort}"),
        DataDirs = [Dir(root, $"data/{instance.Role}-{instance.MainPort}")],
        LogDir = Dir(root, $"{instance.Role}-{instance.MainPort}/log"),
        Name = instance.Name is null ? null : "member " + Fragment,
        NumaNode = Fragment,
        NumaCores = Fragment,
        ListenHost = Fragment,
    };
}
