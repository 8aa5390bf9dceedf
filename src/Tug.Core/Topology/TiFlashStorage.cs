// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Topology.Yaml;

namespace Tug.Core.Topology;

/// <summary>
/// TiFlash's storage rules (<c>tiflash.go</c> <c>GetOverrideDataDir</c>, <c>CheckIncorrectConfigs</c>): dirs set in
/// <c>storage.main.dir</c>/<c>storage.latest.dir</c> (flat dotted keys of the instance <c>config</c>) replace
/// <c>data_dir</c>: the first latest dir (else the first main dir), then the other dirs sorted, de-duplicated.
/// </summary>
internal static class TiFlashStorage
{
    private const string MainDirs = "storage.main.dir";
    private const string LatestDirs = "storage.latest.dir";
    private const string RaftDirs = "storage.raft.dir";

    /// <summary>Checks the <c>server_configs.tiflash</c> map once.</summary>
    public static void CheckServerConfigs(ConfigMap serverConfig, SourceLocation at, List<TopologyDiagnostic> errors)
    {
        foreach (var key in new[] { "data_dir", "path" })
        {
            if (serverConfig.GetString(key) is { Length: > 0 })
            {
                errors.Add(Error(at, $"TiFlash \"{key}\" must not be set in server_configs.tiflash (its value would be ignored)", "Remove it and set data_dir on each tiflash_servers entry instead."));
            }
        }

        foreach (var key in new[] { MainDirs, LatestDirs, RaftDirs })
        {
            if (serverConfig.ContainsKey(key))
            {
                errors.Add(Error(at, $"TiFlash \"{key}\" must not be set in server_configs.tiflash", $"Move \"{key}\" into the config of each tiflash_servers entry."));
            }
        }
    }

    /// <summary>Checks one instance's config and returns its data dir, overridden by the storage dirs when they are set.</summary>
    public static string Check(BoundStruct instance, string path, string dataDir, List<TopologyDiagnostic> errors)
    {
        var config = instance.Map("config");
        var at = instance.At("config");
        foreach (var key in new[] { "data_dir", "path" })
        {
            if (config.GetString(key) is { Length: > 0 })
            {
                errors.Add(Error(at, $"TiFlash \"{key}\" must not be set in {path}.config (its value would be ignored)", $"Remove it and set data_dir on {path} instead."));
            }
        }

        var mainDefined = config.TryGetValue(MainDirs, out var main);
        if (mainDefined && !IsTextList(main, allowEmpty: false))
        {
            errors.Add(Error(at, $"\"{MainDirs}\" in {path}.config must be a non-empty list of directories", $"Write {MainDirs}: [/dir1, /dir2]."));
            return dataDir;
        }

        if (!mainDefined && config.Keys.FirstOrDefault(k => k.StartsWith("storage.latest", StringComparison.Ordinal) || k.StartsWith("storage.raft", StringComparison.Ordinal)) is { } dependent)
        {
            errors.Add(Error(at, $"\"{dependent}\" is set in {path}.config without \"{MainDirs}\"", $"Set \"{MainDirs}\" before \"{dependent}\"."));
            return dataDir;
        }

        if (config.TryGetValue(LatestDirs, out var latest) && !IsTextList(latest, allowEmpty: true))
        {
            errors.Add(Error(at, $"\"{LatestDirs}\" in {path}.config must be a list of directories", $"Write {LatestDirs}: [/dir1, /dir2]."));
            return dataDir;
        }

        var mainDirs = Dirs(config, MainDirs);
        var latestDirs = Dirs(config, LatestDirs);
        if (mainDirs.IsEmpty && latestDirs.IsEmpty)
        {
            return dataDir;
        }

        var all = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, dirs) in new[] { (LatestDirs, latestDirs), (MainDirs, mainDirs) })
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var dir in dirs)
            {
                if (!dir.StartsWith('/'))
                {
                    errors.Add(Error(at, $"directory \"{dir}\" in {path}.config.{key} is not an absolute path", "Write TiFlash storage directories as absolute paths."));
                    return dataDir;
                }

                if (!seen.Add(dir))
                {
                    errors.Add(Error(at, $"directory \"{dir}\" appears twice in {path}.config.{key}", "List each directory once."));
                    return dataDir;
                }

                all.Add(dir);
            }
        }

        var first = latestDirs.IsEmpty ? mainDirs[0] : latestDirs[0];
        all.Remove(first);
        return string.Join(',', [first, .. all.Order(StringComparer.Ordinal)]);
    }

    private static bool IsTextList(object? value, bool allowEmpty) =>
        value is ImmutableArray<object?> list && (allowEmpty || list.Length > 0) && list.All(v => v is string);

    private static ImmutableArray<string> Dirs(ConfigMap config, string key) =>
        [.. config.GetList(key).OfType<string>().Select(d => d.Trim()).Select(d => d.EndsWith('/') ? d[..^1] : d)];

    private static TopologyDiagnostic Error(SourceLocation at, string message, string hint) =>
        new(TopologyErrors.TiFlashStorage, at, message, hint);
}
