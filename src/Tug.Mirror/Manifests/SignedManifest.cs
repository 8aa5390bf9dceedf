// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tug.Mirror.Crypto;
using Tug.Mirror.Json;

namespace Tug.Mirror.Manifests;

/// <summary>One signature of a manifest.</summary>
public sealed record Signature(string KeyId, string Sig);

/// <summary>
/// A manifest file as read: the typed role, its signatures, and the raw bytes of the <c>signed</c> member that the
/// signatures cover (verification never re-serializes).
/// </summary>
public sealed record SignedManifest<T>(T Signed, ImmutableArray<Signature> Signatures, byte[] RawSigned, byte[] RawFile)
    where T : IRole
{
    /// <summary>Whether the file is byte for byte what TiUP's current schema would write (canonical, exact field set).</summary>
    public bool IsCurrentSchema => RawSigned.AsSpan().SequenceEqual(CanonicalJson.Serialize(Signed.ToJson()))
        && RawFile.AsSpan().SequenceEqual(Manifest.Envelope(Signatures, Signed.ToJson()));

    /// <summary>Lowercase hex SHA-256 of the whole file.</summary>
    public string Sha256() => Convert.ToHexStringLower(SHA256.HashData(RawFile));
}

/// <summary>Reads and writes manifest files.</summary>
public static class Manifest
{
    /// <summary>Parses a manifest file of the expected role.</summary>
    /// <exception cref="MirrorException">The file is not JSON, not a manifest, or of another role.</exception>
    internal static SignedManifest<T> Parse<T>(byte[] file, string fileName, Func<JsonRead, T> read, string expectedType)
        where T : IRole
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(file, new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new MirrorException(MirrorErrors.BadJson,
                $"{fileName} is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): the file is damaged or was cut short.",
                fileName, "Fetch the mirror again from its source; if you own it, re-sign it with `tug mirror renew`.", e);
        }

        using (document)
        {
            var root = new JsonRead(document.RootElement, fileName, "$");
            var signed = root.Property("signed");
            var type = signed.Property("_type").String();
            if (type != expectedType)
            {
                throw new MirrorException(MirrorErrors.MixAndMatch,
                    $"{fileName} holds a '{type}' manifest where a '{expectedType}' manifest was expected.", fileName,
                    "The mirror's files were mixed up or replaced; fetch it again from its source.");
            }

            var spec = signed.Property("spec_version").String();
            if (spec != ManifestNames.SpecVersion)
            {
                throw signed.Bad($"spec_version is \"{spec}\"; only \"{ManifestNames.SpecVersion}\" is known");
            }

            var signatures = root.Property("signatures").Array(s => new Signature(s.Property("keyid").String(), s.Property("sig").String()));
            var raw = JsonMarshal.GetRawUtf8Value(signed.Element).ToArray();
            return new SignedManifest<T>(read(signed), signatures, raw, file);
        }
    }

    public static SignedManifest<RootManifest> ParseRoot(byte[] file, string fileName) => Parse(file, fileName, RootManifest.Read, ManifestNames.Root);

    public static SignedManifest<IndexManifest> ParseIndex(byte[] file, string fileName) => Parse(file, fileName, IndexManifest.Read, ManifestNames.Index);

    public static SignedManifest<ComponentManifest> ParseComponent(byte[] file, string fileName) => Parse(file, fileName, ComponentManifest.Read, ManifestNames.Component);

    public static SignedManifest<SnapshotManifest> ParseSnapshot(byte[] file, string fileName) => Parse(file, fileName, SnapshotManifest.Read, ManifestNames.Snapshot);

    public static SignedManifest<TimestampManifest> ParseTimestamp(byte[] file, string fileName) => Parse(file, fileName, TimestampManifest.Read, ManifestNames.Timestamp);

    /// <summary>Signs a role with the given private keys and returns the canonical file bytes.</summary>
    public static byte[] Sign(IRole role, IEnumerable<KeyInfo> keys)
    {
        var signed = role.ToJson();
        var payload = CanonicalJson.Serialize(signed);
        var signatures = keys.Select(k => new Signature(k.Id(), k.Sign(payload))).ToImmutableArray();
        return Envelope(signatures, signed);
    }

    /// <summary>Reads back a file this process just signed.</summary>
    public static SignedManifest<T> Reparse<T>(byte[] file, T role)
        where T : IRole
    {
        using var document = JsonDocument.Parse(file);
        var signed = document.RootElement.GetProperty("signed");
        var signatures = document.RootElement.GetProperty("signatures").EnumerateArray()
            .Select(s => new Signature(s.GetProperty("keyid").GetString()!, s.GetProperty("sig").GetString()!)).ToImmutableArray();
        return new SignedManifest<T>(role, signatures, JsonMarshal.GetRawUtf8Value(signed).ToArray(), file);
    }

    internal static byte[] Envelope(ImmutableArray<Signature> signatures, JsonObject signed)
    {
        var sigs = new JsonArray();
        foreach (var s in signatures)
        {
            sigs.Add(new JsonObject { ["keyid"] = s.KeyId, ["sig"] = s.Sig });
        }

        return CanonicalJson.Serialize(new JsonObject { ["signatures"] = sigs, ["signed"] = signed });
    }
}
