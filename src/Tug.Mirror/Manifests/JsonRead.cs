// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Text.Json;

namespace Tug.Mirror.Manifests;

/// <summary>Typed reads from a JSON element that fail with the file and the JSON path of the bad value.</summary>
internal readonly record struct JsonRead(JsonElement Element, string File, string Path)
{
    public JsonRead Property(string name)
    {
        if (Element.ValueKind != JsonValueKind.Object)
        {
            throw Bad($"expected an object at {Path}");
        }

        if (!Element.TryGetProperty(name, out var value))
        {
            throw Bad($"missing field \"{name}\" at {Path}");
        }

        return new JsonRead(value, File, $"{Path}.{name}");
    }

    public JsonRead? OptionalProperty(string name) =>
        Element.ValueKind == JsonValueKind.Object && Element.TryGetProperty(name, out var value)
            ? new JsonRead(value, File, $"{Path}.{name}")
            : null;

    public string String() => Element.ValueKind == JsonValueKind.String ? Element.GetString()! : throw Bad($"expected a string at {Path}");

    public bool Bool() => Element.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Bad($"expected true or false at {Path}"),
    };

    public ulong UInt() => Element.ValueKind == JsonValueKind.Number && Element.TryGetUInt64(out var v) ? v : throw Bad($"expected a non-negative integer at {Path}");

    public long Int() => Element.ValueKind == JsonValueKind.Number && Element.TryGetInt64(out var v) ? v : throw Bad($"expected an integer at {Path}");

    public bool IsNull => Element.ValueKind == JsonValueKind.Null;

    public ImmutableSortedDictionary<string, T> Map<T>(Func<JsonRead, T> read)
    {
        if (IsNull)
        {
            return ImmutableSortedDictionary<string, T>.Empty.WithComparers(StringComparer.Ordinal);
        }

        if (Element.ValueKind != JsonValueKind.Object)
        {
            throw Bad($"expected an object at {Path}");
        }

        var builder = ImmutableSortedDictionary.CreateBuilder<string, T>(StringComparer.Ordinal);
        foreach (var property in Element.EnumerateObject())
        {
            if (builder.ContainsKey(property.Name))
            {
                throw Bad($"duplicate key \"{property.Name}\" at {Path}");
            }

            builder[property.Name] = read(new JsonRead(property.Value, File, $"{Path}[\"{property.Name}\"]"));
        }

        return builder.ToImmutable();
    }

    public ImmutableArray<T> Array<T>(Func<JsonRead, T> read)
    {
        if (IsNull)
        {
            return [];
        }

        if (Element.ValueKind != JsonValueKind.Array)
        {
            throw Bad($"expected an array at {Path}");
        }

        var path = Path;
        var file = File;
        return [.. Element.EnumerateArray().Select((e, i) => read(new JsonRead(e, file, $"{path}[{i}]")))];
    }

    public MirrorException Bad(string what) =>
        new(MirrorErrors.BadSchema, $"{File}: {what}.", File,
            "The manifest does not follow TiUP's v1 format; fetch it again from the mirror's source, or re-publish it.");
}
