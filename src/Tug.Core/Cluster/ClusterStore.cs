// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
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

    /// <summary>
    /// The first line of every meta.yaml Tug writes; such a file must end with <see cref="MetaFooter"/>, so a truncated
    /// one is told from a whole one (both are YAML comments: TiUP reads the file as before, and a file TiUP wrote,
    /// without them, is read as before too).
    /// </summary>
    public const string MetaHeader = "# meta.yaml of a Tug cluster: written whole, it ends with the line '# end of meta.yaml'.\n";

    /// <summary>The last line of every meta.yaml Tug writes.</summary>
    public const string MetaFooter = "# end of meta.yaml\n";

    public string MetaFile(string name) => Path.Combine(Directory(name), "meta.yaml");

    public string SshDirectory(string name) => Path.Combine(Directory(name), "ssh");

    public string KeyFile(string name) => Path.Combine(SshDirectory(name), "id_rsa");

    public bool Exists(string name) => File.Exists(MetaFile(name));

    /// <summary>The names of every cluster with a meta.yaml, sorted.</summary>
    public IReadOnlyList<string> List() =>
        System.IO.Directory.Exists(clustersDirectory)
            ? [.. System.IO.Directory.GetDirectories(clustersDirectory).Select(Path.GetFileName).OfType<string>().Where(ClusterName.IsValid).Where(Exists).Order(StringComparer.Ordinal)]
            : [];

    /// <summary>The names of every cluster directory, with or without a meta.yaml (a deploy interrupted before it saved one keeps its journal there), sorted.</summary>
    public IReadOnlyList<string> ListDirectories() =>
        System.IO.Directory.Exists(clustersDirectory)
            ? [.. System.IO.Directory.GetDirectories(clustersDirectory).Select(Path.GetFileName).OfType<string>().Where(ClusterName.IsValid).Order(StringComparer.Ordinal)]
            : [];

    /// <summary>
    /// Reads a cluster's metadata. A meta.yaml that cannot be read, is larger than <see cref="YamlLimits.Meta"/> allows,
    /// does not parse, lacks <c>user</c> or <c>tidb_version</c>, or holds no instance is refused: it never reads as an
    /// empty cluster (which destroy would then "remove" from no host and forget).
    /// </summary>
    /// <exception cref="ClusterException">
    /// <see cref="ClusterException.NotFound"/>: the cluster does not exist; <see cref="ClusterException.MetaBroken"/>: its
    /// meta.yaml is unreadable, the message naming the file and the first problem with its line and column.
    /// </exception>
    public ClusterMeta Load(string name)
    {
        if (!Exists(name))
        {
            throw ClusterException.ClusterNotFound(name);
        }

        var path = MetaFile(name);
        ClusterMeta meta;
        try
        {
            var text = TopologyLoader.ReadBounded(path, YamlLimits.Meta);
            if (text.StartsWith(MetaHeader, StringComparison.Ordinal) && !text.EndsWith(MetaFooter, StringComparison.Ordinal))
            {
                throw MetaBroken(name, path, $"it is truncated: Tug wrote it whole, but it does not end with the line '{MetaFooter.TrimEnd()}'", null);
            }

            meta = ClusterMetaSerializer.Deserialize(text, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw MetaBroken(name, path, $"it cannot be read: {e.Message}", e);
        }
        catch (TopologyException e)
        {
            throw MetaBroken(name, path, e.Diagnostics[0].ToString(), e);
        }

        var missing = meta.User.Length == 0 ? "user" : meta.Version.Length == 0 ? "tidb_version" : !meta.Topology.Servers.Any() ? "topology (no instance)" : null;
        if (missing is not null)
        {
            throw MetaBroken(name, path, $"{path}: it has no {missing} (empty or truncated)", null);
        }

        return meta;
    }

    /// <summary>The refusal for a cluster whose meta.yaml cannot be used.</summary>
    public static ClusterException MetaBroken(string name, string path, string problem, Exception? inner) =>
        new(ClusterException.MetaBroken, $"Cluster '{name}' has a broken meta.yaml ({path}): {problem}.",
            $"Restore it from {Path.Combine(Path.GetDirectoryName(path) ?? ".", "backup")}/ (the copies kept before each change), or forget the cluster on this control machine only with `tug cluster destroy {name} --force` (nothing on its hosts is removed then). Nothing was changed.",
            inner);

    /// <summary>Writes a cluster's metadata atomically, keeping the previous version under <c>backup/</c>.</summary>
    /// <remarks>Directories are created 0700 and files 0600 whatever the umask (<see cref="PrivateFiles"/>).</remarks>
    public void Save(string name, ClusterMeta meta)
    {
        var path = MetaFile(name);
        CreateDirectories(name);
        if (File.Exists(path))
        {
            var backup = Path.Combine(Directory(name), "backup");
            PrivateFiles.CreateDirectory(backup);
            var copy = Path.Combine(backup, $"meta-{time.GetUtcNow().ToString("yyyy-MM-ddTHH-mm-ss.fffffffZ", CultureInfo.InvariantCulture)}.yaml");
            File.Copy(path, copy, overwrite: true);
            PrivateFiles.Restrict(copy);
        }

        var temporary = path + $".tmp-{Environment.ProcessId}";
        using (var stream = PrivateFiles.Open(temporary, FileMode.Create))
        {
            stream.Write(Encoding.UTF8.GetBytes(MetaHeader + ClusterMetaSerializer.Serialize(meta) + MetaFooter));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The file of the identities last verified by hash (<see cref="VerifiedIdentities"/>).</summary>
    public string VerifiedFile(string name) => Path.Combine(Directory(name), VerifiedIdentities.FileName);

    /// <summary>The identities last verified by hash, by instance ID; empty when the file is missing or unreadable (everything is hashed again then).</summary>
    public ImmutableDictionary<string, VerifiedIdentity> LoadVerified(string name)
    {
        try
        {
            return File.Exists(VerifiedFile(name)) ? VerifiedIdentities.Parse(File.ReadAllText(VerifiedFile(name))) : ImmutableDictionary<string, VerifiedIdentity>.Empty;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ImmutableDictionary<string, VerifiedIdentity>.Empty;
        }
    }

    /// <summary>Writes the identities last verified by hash atomically (a temporary file renamed into place), 0600.</summary>
    public void SaveVerified(string name, IReadOnlyDictionary<string, VerifiedIdentity> entries)
    {
        CreateDirectories(name);
        var path = VerifiedFile(name);
        var temporary = path + $".tmp-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}";
        using (var stream = PrivateFiles.Open(temporary, FileMode.Create))
        {
            stream.Write(Encoding.UTF8.GetBytes(VerifiedIdentities.Format(entries)));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>
    /// Creates <c>$TUG_HOME</c>, <c>clusters/</c> and the cluster's directory as needed, each 0700 whatever the umask
    /// (directories that exist keep their mode).
    /// </summary>
    public void CreateDirectories(string name)
    {
        var home = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(clustersDirectory)));
        if (home is not null)
        {
            PrivateFiles.CreateDirectory(home);
        }

        PrivateFiles.CreateDirectory(clustersDirectory);
        PrivateFiles.CreateDirectory(Directory(name));
    }

    /// <summary>
    /// A fresh directory inside <c>clusters/</c> (so a rename from it into place stays on one file system) whose name
    /// is no cluster's (it starts with a dot, so <see cref="List"/> never shows it): <c>.PURPOSE-PID-RANDOM</c>, 0700.
    /// </summary>
    public string StagingDirectory(string purpose)
    {
        PrivateFiles.CreateDirectory(clustersDirectory);
        var path = Path.Combine(clustersDirectory, $".{purpose}-{Environment.ProcessId}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4))}");
        PrivateFiles.CreateDirectory(path);
        return path;
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
