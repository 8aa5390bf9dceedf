// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tug.Mirror.Json;

namespace Tug.Mirror.Crypto;

/// <summary>
/// A TiUP key: <c>{"keytype":"rsa","keyval":{"public"|"private":PEM},"scheme":"rsassa-pss-sha256"}</c>.
/// </summary>
/// <remarks>
/// TiUP stores private keys as PKCS#1 DER under a <c>PRIVATE KEY</c> PEM label; that is what is written here,
/// and both PKCS#1 and PKCS#8 are read.
/// </remarks>
public sealed record KeyInfo
{
    /// <summary>The only key type TiUP accepts.</summary>
    public const string RsaType = "rsa";

    /// <summary>The only signature scheme TiUP accepts.</summary>
    public const string PssScheme = "rsassa-pss-sha256";

    private KeyInfo(string keyType, string scheme, string? publicPem, string? privatePem)
    {
        KeyType = keyType;
        Scheme = scheme;
        PublicPem = publicPem;
        PrivatePem = privatePem;
    }

    public string KeyType { get; }

    public string Scheme { get; }

    /// <summary>The PEM exactly as stored; null for a private key file.</summary>
    public string? PublicPem { get; }

    /// <summary>The private PEM; null for a public key. Never logged.</summary>
    public string? PrivatePem { get; }

    public bool IsPrivate => PrivatePem is not null;

    /// <summary>Generates a new 2048-bit RSA key, as <c>tiup mirror genkey</c> does.</summary>
    public static KeyInfo Generate()
    {
        using var rsa = RSA.Create(2048);
        var pem = PemEncoding.WriteString("PRIVATE KEY", rsa.ExportRSAPrivateKey()) + "\n";
        return new KeyInfo(RsaType, PssScheme, null, pem);
    }

    /// <summary>Creates a public key from a PEM string, kept byte for byte.</summary>
    public static KeyInfo FromPublicPem(string pem) => new(RsaType, PssScheme, pem, null);

    /// <summary>Parses a key from its JSON form.</summary>
    /// <exception cref="MirrorException">The JSON is not a TiUP key.</exception>
    public static KeyInfo FromJson(JsonElement element, string source)
    {
        if (element.ValueKind != JsonValueKind.Object
            || !element.TryGetProperty("keytype", out var type) || type.ValueKind != JsonValueKind.String
            || !element.TryGetProperty("scheme", out var scheme) || scheme.ValueKind != JsonValueKind.String
            || !element.TryGetProperty("keyval", out var keyval) || keyval.ValueKind != JsonValueKind.Object)
        {
            throw new MirrorException(MirrorErrors.BadKey, $"{source} is not a TiUP key: it needs \"keytype\", \"keyval\" and \"scheme\".", source,
                "Use a key file written by `tug mirror genkey` or `tiup mirror genkey`.");
        }

        var publicPem = keyval.TryGetProperty("public", out var pub) ? pub.GetString() : null;
        var privatePem = keyval.TryGetProperty("private", out var priv) ? priv.GetString() : null;
        if (publicPem is null && privatePem is null)
        {
            throw new MirrorException(MirrorErrors.BadKey, $"{source} holds neither a public nor a private key in \"keyval\".", source);
        }

        var key = new KeyInfo(type.GetString()!, scheme.GetString()!, privatePem is null ? publicPem : null, privatePem);
        if (key.KeyType != RsaType || key.Scheme != PssScheme)
        {
            throw new MirrorException(MirrorErrors.BadKey,
                $"{source} is a '{key.KeyType}'/'{key.Scheme}' key; TiUP mirrors accept only '{RsaType}'/'{PssScheme}'.", source);
        }

        return key;
    }

    /// <summary>Loads a key file (<c>keys/&lt;id&gt;-&lt;role&gt;.json</c> or <c>private.json</c>).</summary>
    /// <exception cref="MirrorException">The file is missing or is not a TiUP key.</exception>
    public static KeyInfo Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new MirrorException(MirrorErrors.NotFound, $"Key file {path} does not exist.", path,
                "Create one with `tug mirror genkey`, or pass the owner's key with --key FILE.");
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            return FromJson(document.RootElement, path);
        }
        catch (JsonException e)
        {
            throw new MirrorException(MirrorErrors.BadKey, $"{path} is not valid JSON ({e.Message}).", path,
                "A key file holds one JSON object written by `tug mirror genkey`.", e);
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException or ArgumentException or CryptographicException or IOException or UnauthorizedAccessException)
        {
            // Valid JSON of the wrong shape (a number where the key's text belongs, no "value"), a bad PEM, or an unreadable file: a clear refusal, not a bug.
            throw new MirrorException(MirrorErrors.BadKey, $"{path} is not a readable key file ({e.Message}).", path,
                "A key file holds one JSON object written by `tug mirror genkey`.", e);
        }
    }

    /// <summary>The public half of this key, with TiUP's PEM encoding (PKIX, trailing newline).</summary>
    public KeyInfo Public()
    {
        if (PrivatePem is null)
        {
            return this;
        }

        using var rsa = CreateRsa();
        return FromPublicPem(rsa.ExportSubjectPublicKeyInfoPem() + "\n");
    }

    /// <summary>The TiUP key ID: hex SHA-256 of the canonical public key.</summary>
    public string Id() => Convert.ToHexStringLower(SHA256.HashData(CanonicalJson.Serialize(Public().ToJson())));

    /// <summary>The key's JSON form, with fields in canonical order.</summary>
    public JsonObject ToJson() => new()
    {
        ["keytype"] = KeyType,
        ["keyval"] = PrivatePem is null ? new JsonObject { ["public"] = PublicPem } : new JsonObject { ["private"] = PrivatePem },
        ["scheme"] = Scheme,
    };

    /// <summary>The bytes of a key file as TiUP writes it: compact JSON plus a newline.</summary>
    public byte[] ToFileBytes() => [.. CanonicalJson.Serialize(ToJson()), (byte)'\n'];

    /// <summary>Writes the key to a file, mode 0600 for private keys, refusing to overwrite.</summary>
    /// <exception cref="MirrorException">The file already exists.</exception>
    public void Save(string path)
    {
        if (File.Exists(path))
        {
            throw new MirrorException(MirrorErrors.BadInput, $"Key file {path} already exists; refusing to overwrite a key.", path,
                "Move the existing file away first, or write the new key elsewhere with --name.");
        }

        var keyDirectory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (IsPrivate)
        {
            PrivateFiles.CreateDirectory(keyDirectory);
        }
        else
        {
            Directory.CreateDirectory(keyDirectory);
        }

        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = IsPrivate ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
        };
        using var stream = new FileStream(path, options);
        if (!OperatingSystem.IsWindows())
        {
            // Explicitly, so the umask cannot widen (or narrow) it: 0600 private, 0644 public.
            File.SetUnixFileMode(stream.SafeFileHandle, options.UnixCreateMode.Value);
        }

        stream.Write(ToFileBytes());
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Signs a payload; only for private keys.</summary>
    public string Sign(ReadOnlySpan<byte> payload)
    {
        using var rsa = CreateRsa();
        return Convert.ToBase64String(RsaPss.Sign(rsa, payload));
    }

    /// <summary>Verifies a base64 signature over a payload with any PSS salt length.</summary>
    public bool Verify(ReadOnlySpan<byte> payload, string signatureBase64)
    {
        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(signatureBase64);
        }
        catch (FormatException)
        {
            return false;
        }

        using var rsa = CreateRsa();
        return RsaPss.Verify(rsa.ExportParameters(false), payload, signature);
    }

    /// <summary>Opens the key as a platform RSA object.</summary>
    /// <exception cref="MirrorException">The PEM cannot be decoded.</exception>
    public RSA CreateRsa()
    {
        var rsa = RSA.Create();
        try
        {
            if (PrivatePem is not null)
            {
                var der = DecodePem(PrivatePem);
                try
                {
                    rsa.ImportRSAPrivateKey(der, out _);
                }
                catch (CryptographicException)
                {
                    rsa.ImportPkcs8PrivateKey(der, out _);
                }
            }
            else
            {
                rsa.ImportSubjectPublicKeyInfo(DecodePem(PublicPem!), out _);
            }

            return rsa;
        }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            rsa.Dispose();
            throw new MirrorException(MirrorErrors.BadKey, $"The RSA key cannot be decoded ({e.Message}).", hint: "The key file may be damaged; restore it from a backup.", inner: e);
        }
    }

    /// <summary>Never renders key material.</summary>
    public override string ToString() => IsPrivate ? "[REDACTED private key]" : $"public key {Id()[..16]}";

    private static byte[] DecodePem(string pem)
    {
        // Go's pem.Decode ignores the label; so do we (TiUP labels PKCS#1 DER "PRIVATE KEY").
        var lines = pem.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var body = new StringBuilder();
        var inside = false;
        foreach (var line in lines)
        {
            if (line.StartsWith("-----BEGIN ", StringComparison.Ordinal))
            {
                inside = true;
            }
            else if (line.StartsWith("-----END ", StringComparison.Ordinal))
            {
                break;
            }
            else if (inside)
            {
                body.Append(line);
            }
        }

        return Convert.FromBase64String(body.ToString());
    }
}
