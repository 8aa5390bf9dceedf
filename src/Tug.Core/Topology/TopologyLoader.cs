// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text;

namespace Tug.Core.Topology;

/// <summary>Reads TiUP topology files, strictly as TiUP does, into a validated <see cref="Topology"/>.</summary>
/// <remarks>
/// Tug extension: an <c>etcd_servers</c> section declares a plain etcd cluster (role and package <c>etcd</c>)
/// with the fields <c>host</c>, <c>manage_host</c>, <c>listen_host</c>, <c>ssh_port</c>, <c>ignore_exporter</c>,
/// <c>name</c> (default <c>etcd-&lt;host&gt;-&lt;client_port&gt;</c>, unique), <c>client_port</c> (2379),
/// <c>peer_port</c> (2380), <c>deploy_dir</c>, <c>data_dir</c>, <c>log_dir</c>, <c>numa_node</c>, <c>config</c>,
/// <c>resource_control</c>, <c>arch</c> and <c>os</c>; <c>component_versions.etcd</c> pins its version. TiUP
/// refuses such a file (unknown key), so it is Tug-only; everything else reads exactly as in TiUP.
/// </remarks>
public static class TopologyLoader
{
    /// <summary>Reads and validates a topology file.</summary>
    /// <exception cref="TopologyException">The file cannot be read, or it is invalid (every problem is listed).</exception>
    public static Topology Load(string path) => Parse(Read(path), path);

    /// <summary>Parses and validates topology YAML; <paramref name="fileName"/> is used in error locations.</summary>
    /// <exception cref="TopologyException">The topology is invalid (every problem is listed).</exception>
    public static Topology Parse(string yaml, string fileName) =>
        TopologyBuilder.Build(yaml, fileName, strict: true, validate: true);

    /// <summary>
    /// Parses a scale-out topology on top of an existing cluster, as <c>tiup cluster scale-out</c> does: the file's
    /// <c>global</c>, <c>monitored</c> and <c>server_configs</c> are ignored, new instances take the cluster's
    /// defaults, and the merged topology (returned) is validated as a whole.
    /// </summary>
    /// <exception cref="TopologyException">The part is invalid, or conflicts with the cluster.</exception>
    public static Topology ParseScaleOut(string yaml, string fileName, Topology cluster) =>
        TopologyBuilder.BuildScaleOut(yaml, fileName, cluster);

    /// <summary>Reads a scale-out topology file; see <see cref="ParseScaleOut"/>.</summary>
    /// <exception cref="TopologyException">The file cannot be read, or it is invalid.</exception>
    public static Topology LoadScaleOut(string path, Topology cluster) => ParseScaleOut(Read(path), path, cluster);

    /// <summary>
    /// Reads a file as UTF-8, refusing it when it is larger than <paramref name="limits"/> allow: the size is checked
    /// before reading, and the read stops at the limit (a file that grows, or a device, cannot make it read more).
    /// </summary>
    /// <exception cref="TopologyException">The file is too large.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file cannot be read.</exception>
    internal static string ReadBounded(string path, YamlLimits limits)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (stream.CanSeek && stream.Length > limits.MaxBytes)
        {
            throw limits.TooLarge(path, stream.Length);
        }

        var buffer = new byte[limits.MaxBytes + 1];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = stream.Read(buffer, total, buffer.Length - total)) > 0)
        {
            total += read;
        }

        if (total > limits.MaxBytes)
        {
            throw limits.TooLarge(path, total);
        }

        return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetString(buffer, 0, total).TrimStart('\uFEFF');
    }

    private static string Read(string path)
    {
        try
        {
            return ReadBounded(path, YamlLimits.Topology);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw TopologyException.One(TopologyErrors.ReadFailed, new SourceLocation(path, 0, 0),
                $"cannot read topology file \"{path}\": {e.Message}",
                "Check that the file exists and is readable; 'tug cluster template' prints an example topology.");
        }
    }
}

/// <summary>Cluster names, as TiUP allows them (<c>clusterutil/cluster_name.go</c>).</summary>
public static class ClusterName
{
    /// <summary>Whether a name matches <c>^[A-Za-z0-9][A-Za-z0-9._-]*$</c> (so never <c>.</c> or <c>..</c>).</summary>
    public static bool IsValid(string name) => TopologyValidator.IsValidClusterName(name);

    /// <summary>Throws when a cluster name is not allowed.</summary>
    /// <exception cref="TopologyException">The name has characters other than letters, digits, '-', '_' and '.'.</exception>
    public static void Validate(string name)
    {
        if (!IsValid(name))
        {
            throw TopologyException.One(TopologyErrors.BadClusterName, new SourceLocation("cluster name", 0, 0),
                $"cluster name \"{name}\" is not allowed",
                "Start with a letter or digit and use only letters, digits, '-', '_' and '.', for example 'prod-1'.");
        }
    }
}
