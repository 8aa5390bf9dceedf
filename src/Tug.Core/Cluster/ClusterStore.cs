// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;
using System.Text;
using Tug.Core.Topology;

namespace Tug.Core.Cluster;

/// <summary>
/// Where a cluster's state lives on the control machine: <c>$TUG_HOME/clusters/NAME/</c> with <c>meta.yaml</c>
/// (TiUP's shape plus Tug's pins), <c>ssh/id_rsa</c> (the cluster's key, 0600) and <c>backup/</c>.
/// </summary>
public sealed class ClusterStore(string clustersDirectory, TimeProvider time)
{
    /// <summary>A cluster's directory; a name that is not a valid cluster name (<c>..</c>, <c>a/b</c>) is refused, so no command can reach outside <c>clusters/</c>.</summary>
    /// <exception cref="ClusterException">The name is not a valid cluster name.</exception>
    public string Directory(string name)
    {
        RefuseBadName(name);
        return Path.Combine(clustersDirectory, name);
    }

    /// <summary>Refuses a name that is not a cluster name (<c>[A-Za-z0-9][A-Za-z0-9._-]*</c>, so never <c>.</c> or <c>..</c>).</summary>
    /// <exception cref="ClusterException">The name is not a valid cluster name (exit 2).</exception>
    public static void RefuseBadName(string name)
    {
        if (!ClusterName.IsValid(name))
        {
            throw new ClusterException(ClusterException.BadInput, $"'{name}' is not a cluster name: names start with a letter or digit and use only letters, digits, '-', '_' and '.'.",
                "See the clusters with `tug cluster list`; a TiUP cluster with another name is imported with --name.");
        }
    }

    public string MetaFile(string name) => Path.Combine(Directory(name), "meta.yaml");

    public string SshDirectory(string name) => Path.Combine(Directory(name), "ssh");

    public string KeyFile(string name) => Path.Combine(SshDirectory(name), "id_rsa");

    public bool Exists(string name) => File.Exists(MetaFile(name));

    /// <summary>The names of every cluster with a meta.yaml, sorted.</summary>
    public IReadOnlyList<string> List() =>
        System.IO.Directory.Exists(clustersDirectory)
            ? [.. System.IO.Directory.GetDirectories(clustersDirectory).Select(Path.GetFileName).OfType<string>().Where(ClusterName.IsValid).Where(Exists).Order(StringComparer.Ordinal)]
            : [];

    /// <summary>Reads a cluster's metadata.</summary>
    /// <exception cref="ClusterException">The cluster does not exist.</exception>
    public ClusterMeta Load(string name)
    {
        if (!Exists(name))
        {
            throw ClusterException.ClusterNotFound(name);
        }

        return ClusterMetaSerializer.Deserialize(File.ReadAllText(MetaFile(name)), MetaFile(name));
    }

    /// <summary>Writes a cluster's metadata atomically, keeping the previous version under <c>backup/</c>.</summary>
    public void Save(string name, ClusterMeta meta)
    {
        var path = MetaFile(name);
        System.IO.Directory.CreateDirectory(Directory(name));
        if (File.Exists(path))
        {
            var backup = Path.Combine(Directory(name), "backup");
            System.IO.Directory.CreateDirectory(backup);
            File.Copy(path, Path.Combine(backup, $"meta-{time.GetUtcNow().ToString("yyyy-MM-ddTHH-mm-ss.fffffffZ", CultureInfo.InvariantCulture)}.yaml"), overwrite: true);
        }

        var temporary = path + $".tmp-{Environment.ProcessId}";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            stream.Write(Encoding.UTF8.GetBytes(ClusterMetaSerializer.Serialize(meta)));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Removes a cluster's state from the control machine.</summary>
    public void Delete(string name)
    {
        if (System.IO.Directory.Exists(Directory(name)))
        {
            System.IO.Directory.Delete(Directory(name), recursive: true);
        }
    }
}
