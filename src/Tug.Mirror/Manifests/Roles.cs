// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json.Nodes;
using Tug.Mirror.Crypto;

namespace Tug.Mirror.Manifests;

/// <summary>The fields every signed role shares (TiUP's <c>SignedBase</c>).</summary>
public interface IRole
{
    /// <summary>The <c>_type</c> value.</summary>
    string Type { get; }

    /// <summary>RFC 3339 expiry, kept exactly as written.</summary>
    string Expires { get; }

    /// <summary>Version; 0 for the unversioned snapshot.</summary>
    ulong Version { get; }

    /// <summary>The signed object with exactly TiUP's field set.</summary>
    JsonObject ToJson();
}

/// <summary>Names, constants and time formats of TiUP's v1 manifests.</summary>
public static class ManifestNames
{
    public const string SpecVersion = "0.1.0";
    public const string Root = "root";
    public const string Index = "index";
    public const string Snapshot = "snapshot";
    public const string Timestamp = "timestamp";
    public const string Component = "component";
    public const string AnyPlatform = "any/any";

    /// <summary>The four top-level roles declared in root.</summary>
    public static readonly ImmutableArray<string> TopLevelRoles = [Root, Index, Snapshot, Timestamp];

    /// <summary>Formats a time as Go's <c>time.RFC3339</c> on a UTC time.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Parses an RFC 3339 time with <c>Z</c> or an offset.</summary>
    public static bool TryParseTime(string text, out DateTimeOffset time) =>
        DateTimeOffset.TryParseExact(text, ["yyyy'-'MM'-'dd'T'HH':'mm':'ssK", "yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFFFFK"],
            CultureInfo.InvariantCulture, DateTimeStyles.None, out time);

    /// <summary>The file name of a versioned manifest: <c>N.name.json</c>.</summary>
    public static string Versioned(ulong version, string name) => $"{version}.{name}.json";

    /// <summary>The snapshot key of a manifest: <c>/name.json</c>.</summary>
    public static string MetaKey(string name) => $"/{name}.json";

    /// <summary>The tarball name TiUP uses: <c>id-version-os-arch.tar.gz</c>.</summary>
    public static string TarballName(string component, string version, string platform) =>
        $"{component}-{version}-{platform.Replace('/', '-')}.tar.gz";

    internal static JsonObject Base(string type, string expires, ulong version, JsonObject rest)
    {
        rest["_type"] = type;
        rest["expires"] = expires;
        rest["spec_version"] = SpecVersion;
        rest["version"] = version;
        return rest;
    }

    internal static JsonObject Keys(ImmutableSortedDictionary<string, KeyInfo> keys)
    {
        var obj = new JsonObject();
        foreach (var (id, key) in keys)
        {
            obj[id] = key.ToJson();
        }

        return obj;
    }

    internal static ImmutableSortedDictionary<string, KeyInfo> ReadKeys(JsonRead read) =>
        read.Map(k => KeyInfo.FromJson(k.Element, $"{k.File} {k.Path}"));

    internal static ImmutableSortedDictionary<string, T> Empty<T>() =>
        ImmutableSortedDictionary<string, T>.Empty.WithComparers(StringComparer.Ordinal);
}

/// <summary>A role's keys and threshold as declared in root.</summary>
public sealed record RoleSpec(ImmutableSortedDictionary<string, KeyInfo> Keys, ulong Threshold, string Url)
{
    internal JsonObject ToJson() => new()
    {
        ["keys"] = ManifestNames.Keys(Keys),
        ["threshold"] = Threshold,
        ["url"] = Url,
    };

    internal static RoleSpec Read(JsonRead r) =>
        new(ManifestNames.ReadKeys(r.Property("keys")), r.Property("threshold").UInt(), r.Property("url").String());
}

/// <summary>The root role: the keys of every top-level role.</summary>
public sealed record RootManifest(string Expires, ulong Version, ImmutableSortedDictionary<string, RoleSpec> Roles) : IRole
{
    public string Type => ManifestNames.Root;

    public JsonObject ToJson()
    {
        var roles = new JsonObject();
        foreach (var (name, role) in Roles)
        {
            roles[name] = role.ToJson();
        }

        return ManifestNames.Base(Type, Expires, Version, new JsonObject { ["roles"] = roles });
    }

    internal static RootManifest Read(JsonRead r) =>
        new(r.Property("expires").String(), r.Property("version").UInt(), r.Property("roles").Map(RoleSpec.Read));
}

/// <summary>An entry of the index's component list.</summary>
public sealed record ComponentItem(bool Hidden, string Owner, bool Standalone, string Url, bool Yanked)
{
    internal JsonObject ToJson() => new()
    {
        ["hidden"] = Hidden,
        ["owner"] = Owner,
        ["standalone"] = Standalone,
        ["url"] = Url,
        ["yanked"] = Yanked,
    };

    internal static ComponentItem Read(JsonRead r) => new(
        r.OptionalProperty("hidden")?.Bool() ?? false,
        r.Property("owner").String(),
        r.OptionalProperty("standalone")?.Bool() ?? false,
        r.Property("url").String(),
        r.OptionalProperty("yanked")?.Bool() ?? false);
}

/// <summary>A component owner: the keys that sign its component manifests.</summary>
public sealed record Owner(ImmutableSortedDictionary<string, KeyInfo> Keys, string Name, long Threshold)
{
    internal JsonObject ToJson() => new()
    {
        ["keys"] = ManifestNames.Keys(Keys),
        ["name"] = Name,
        ["threshold"] = Threshold,
    };

    // Legacy indexes have no owner threshold; TiUP reads it as 0 and then refuses it.
    internal static Owner Read(JsonRead r) =>
        new(ManifestNames.ReadKeys(r.Property("keys")), r.Property("name").String(), r.OptionalProperty("threshold")?.Int() ?? 0);
}

/// <summary>The index role: components, their owners and the owners' keys.</summary>
public sealed record IndexManifest(
    string Expires,
    ulong Version,
    ImmutableSortedDictionary<string, ComponentItem> Components,
    ImmutableArray<string> DefaultComponents,
    ImmutableSortedDictionary<string, Owner> Owners) : IRole
{
    public string Type => ManifestNames.Index;

    public JsonObject ToJson()
    {
        var components = new JsonObject();
        foreach (var (id, item) in Components)
        {
            components[id] = item.ToJson();
        }

        var owners = new JsonObject();
        foreach (var (id, owner) in Owners)
        {
            owners[id] = owner.ToJson();
        }

        return ManifestNames.Base(Type, Expires, Version, new JsonObject
        {
            ["components"] = components,
            ["default_components"] = new JsonArray([.. DefaultComponents.Select(d => (JsonNode?)d)]),
            ["owners"] = owners,
        });
    }

    internal static IndexManifest Read(JsonRead r) => new(
        r.Property("expires").String(),
        r.Property("version").UInt(),
        r.Property("components").Map(ComponentItem.Read),
        r.OptionalProperty("default_components")?.Array(d => d.String()) ?? [],
        r.Property("owners").Map(Owner.Read));
}

/// <summary>One published version of a component on one platform.</summary>
public sealed record VersionItem(
    ImmutableSortedDictionary<string, string>? Dependencies,
    string Entry,
    ImmutableSortedDictionary<string, string> Hashes,
    ulong Length,
    string Released,
    string Url,
    bool Yanked)
{
    /// <summary>The lowercase hex SHA-256 of the tarball, when present.</summary>
    public string? Sha256 => Hashes.GetValueOrDefault("sha256");

    internal JsonObject ToJson()
    {
        JsonObject? deps = null;
        if (Dependencies is not null)
        {
            deps = [];
            foreach (var (k, v) in Dependencies)
            {
                deps[k] = v;
            }
        }

        var hashes = new JsonObject();
        foreach (var (k, v) in Hashes)
        {
            hashes[k] = v;
        }

        return new JsonObject
        {
            ["dependencies"] = deps,
            ["entry"] = Entry,
            ["hashes"] = hashes,
            ["length"] = Length,
            ["released"] = Released,
            ["url"] = Url,
            ["yanked"] = Yanked,
        };
    }

    internal static VersionItem Read(JsonRead r)
    {
        var deps = r.OptionalProperty("dependencies");
        return new VersionItem(
            deps is null || deps.Value.IsNull ? null : deps.Value.Map(d => d.String()),
            r.Property("entry").String(),
            r.Property("hashes").Map(h => h.String()),
            r.Property("length").UInt(),
            r.Property("released").String(),
            r.Property("url").String(),
            r.OptionalProperty("yanked")?.Bool() ?? false);
    }
}

/// <summary>A component manifest: versions per platform, signed by the component's owner.</summary>
public sealed record ComponentManifest(
    string Expires,
    ulong Version,
    string Id,
    string Description,
    string Nightly,
    ImmutableSortedDictionary<string, ImmutableSortedDictionary<string, VersionItem>> Platforms) : IRole
{
    public string Type => ManifestNames.Component;

    public JsonObject ToJson()
    {
        var platforms = new JsonObject();
        foreach (var (platform, versions) in Platforms)
        {
            var items = new JsonObject();
            foreach (var (version, item) in versions)
            {
                items[version] = item.ToJson();
            }

            platforms[platform] = items;
        }

        return ManifestNames.Base(Type, Expires, Version, new JsonObject
        {
            ["description"] = Description,
            ["id"] = Id,
            ["nightly"] = Nightly,
            ["platforms"] = platforms,
        });
    }

    /// <summary>The version item for a platform, falling back to <c>any/any</c> as TiUP does.</summary>
    public VersionItem? Find(string platform, string version)
    {
        if (Platforms.TryGetValue(platform, out var versions) && versions.TryGetValue(version, out var item) && item.Entry.Length > 0)
        {
            return item;
        }

        return Platforms.TryGetValue(ManifestNames.AnyPlatform, out var any) && any.TryGetValue(version, out var anyItem) && anyItem.Entry.Length > 0
            ? anyItem
            : null;
    }

    internal static ComponentManifest Read(JsonRead r) => new(
        r.Property("expires").String(),
        r.Property("version").UInt(),
        r.Property("id").String(),
        r.OptionalProperty("description")?.String() ?? string.Empty,
        r.OptionalProperty("nightly")?.String() ?? string.Empty,
        r.Property("platforms").Map(p => p.Map(VersionItem.Read)));
}

/// <summary>A snapshot entry: the version and maximum length of one manifest.</summary>
public sealed record FileVersion(ulong Length, ulong Version);

/// <summary>The snapshot role: the current version of every manifest.</summary>
public sealed record SnapshotManifest(string Expires, ImmutableSortedDictionary<string, FileVersion> Meta) : IRole
{
    public string Type => ManifestNames.Snapshot;

    public ulong Version => 0;

    public JsonObject ToJson()
    {
        var meta = new JsonObject();
        foreach (var (path, file) in Meta)
        {
            meta[path] = new JsonObject { ["length"] = file.Length, ["version"] = file.Version };
        }

        return ManifestNames.Base(Type, Expires, Version, new JsonObject { ["meta"] = meta });
    }

    internal static SnapshotManifest Read(JsonRead r) => new(
        r.Property("expires").String(),
        r.Property("meta").Map(m => new FileVersion(m.Property("length").UInt(), m.Property("version").UInt())));
}

/// <summary>A hashed file reference: hashes and length.</summary>
public sealed record FileHash(ImmutableSortedDictionary<string, string> Hashes, ulong Length);

/// <summary>The timestamp role: the hash and length of the current snapshot.</summary>
public sealed record TimestampManifest(string Expires, ulong Version, ImmutableSortedDictionary<string, FileHash> Meta) : IRole
{
    public const string SnapshotKey = "/snapshot.json";

    public string Type => ManifestNames.Timestamp;

    public FileHash? Snapshot => Meta.GetValueOrDefault(SnapshotKey);

    public JsonObject ToJson()
    {
        var meta = new JsonObject();
        foreach (var (path, file) in Meta)
        {
            var hashes = new JsonObject();
            foreach (var (k, v) in file.Hashes)
            {
                hashes[k] = v;
            }

            meta[path] = new JsonObject { ["hashes"] = hashes, ["length"] = file.Length };
        }

        return ManifestNames.Base(Type, Expires, Version, new JsonObject { ["meta"] = meta });
    }

    internal static TimestampManifest Read(JsonRead r) => new(
        r.Property("expires").String(),
        r.Property("version").UInt(),
        r.Property("meta").Map(m => new FileHash(m.Property("hashes").Map(h => h.String()), m.Property("length").UInt())));
}
