// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tug.Mirror.Json;

/// <summary>
/// Writes JSON exactly as TiUP's canonical-JSON encoder does: members sorted byte-wise by UTF-8 key,
/// no whitespace, only <c>"</c>, <c>\</c> and control bytes escaped (uppercase <c>\u00XX</c>), integers as digits.
/// </summary>
/// <remarks>
/// System.Text.Json cannot be configured to produce these bytes (it escapes <c>+</c> and HTML characters), and
/// signatures and key IDs are computed over them, so the encoder is written by hand.
/// </remarks>
public static class CanonicalJson
{
    private const string Hex = "0123456789ABCDEF";

    /// <summary>Encodes a JSON node canonically.</summary>
    /// <exception cref="FormatException">A number is not integral or a string is not valid Unicode.</exception>
    public static byte[] Serialize(JsonNode? node)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        WriteNode(buffer, node);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes an already parsed JSON element canonically (as <c>tiup mirror sign</c> re-canonicalizes).</summary>
    /// <exception cref="FormatException">A number is not integral or a string is not valid Unicode.</exception>
    public static byte[] Serialize(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        WriteElement(buffer, element);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Returns whether <paramref name="bytes"/> is already in canonical form.</summary>
    public static bool IsCanonical(ReadOnlySpan<byte> bytes)
    {
        try
        {
            using var document = JsonDocument.Parse(bytes.ToArray(), new JsonDocumentOptions { AllowDuplicateProperties = false });
            return bytes.SequenceEqual(Serialize(document.RootElement));
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            return false;
        }
    }

    private static void WriteNode(IBufferWriter<byte> output, JsonNode? node)
    {
        switch (node)
        {
            case null:
                WriteAscii(output, "null");
                break;
            case JsonObject obj:
                var members = obj.Select(p => (Key: Encoding.UTF8.GetBytes(p.Key), p.Value)).ToList();
                members.Sort((a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
                WriteByte(output, (byte)'{');
                for (var i = 0; i < members.Count; i++)
                {
                    if (i > 0)
                    {
                        WriteByte(output, (byte)',');
                    }

                    WriteString(output, members[i].Key);
                    WriteByte(output, (byte)':');
                    WriteNode(output, members[i].Value);
                }

                WriteByte(output, (byte)'}');
                break;
            case JsonArray array:
                WriteByte(output, (byte)'[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                    {
                        WriteByte(output, (byte)',');
                    }

                    WriteNode(output, array[i]);
                }

                WriteByte(output, (byte)']');
                break;
            case JsonValue value:
                WriteValue(output, value);
                break;
            default:
                throw new FormatException($"Unsupported JSON node {node.GetType().Name}.");
        }
    }

    private static void WriteValue(IBufferWriter<byte> output, JsonValue value)
    {
        if (value.TryGetValue<JsonElement>(out var element))
        {
            WriteElement(output, element);
            return;
        }

        if (value.TryGetValue<string>(out var s))
        {
            WriteString(output, EncodeUtf8Strict(s));
        }
        else if (value.TryGetValue<bool>(out var b))
        {
            WriteAscii(output, b ? "true" : "false");
        }
        else if (value.TryGetValue<long>(out var l))
        {
            WriteAscii(output, l.ToString(CultureInfo.InvariantCulture));
        }
        else if (value.TryGetValue<ulong>(out var ul))
        {
            WriteAscii(output, ul.ToString(CultureInfo.InvariantCulture));
        }
        else if (value.TryGetValue<int>(out var i))
        {
            WriteAscii(output, i.ToString(CultureInfo.InvariantCulture));
        }
        else if (value.TryGetValue<uint>(out var ui))
        {
            WriteAscii(output, ui.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            throw new FormatException($"Unsupported JSON value '{value.ToJsonString()}': canonical JSON here holds only strings, booleans and integers.");
        }
    }

    private static void WriteElement(IBufferWriter<byte> output, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var members = element.EnumerateObject().Select(p => (Key: Encoding.UTF8.GetBytes(p.Name), p.Value)).ToList();
                members.Sort((a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
                WriteByte(output, (byte)'{');
                for (var i = 0; i < members.Count; i++)
                {
                    if (i > 0)
                    {
                        WriteByte(output, (byte)',');
                    }

                    WriteString(output, members[i].Key);
                    WriteByte(output, (byte)':');
                    WriteElement(output, members[i].Value);
                }

                WriteByte(output, (byte)'}');
                break;
            case JsonValueKind.Array:
                WriteByte(output, (byte)'[');
                var first = true;
                foreach (var item in element.EnumerateArray())
                {
                    if (!first)
                    {
                        WriteByte(output, (byte)',');
                    }

                    first = false;
                    WriteElement(output, item);
                }

                WriteByte(output, (byte)']');
                break;
            case JsonValueKind.String:
                WriteString(output, EncodeUtf8Strict(element.GetString()!));
                break;
            case JsonValueKind.Number:
                WriteAscii(output, NormalizeInteger(element.GetRawText()));
                break;
            case JsonValueKind.True:
                WriteAscii(output, "true");
                break;
            case JsonValueKind.False:
                WriteAscii(output, "false");
                break;
            case JsonValueKind.Null:
                WriteAscii(output, "null");
                break;
            default:
                throw new FormatException($"Unsupported JSON value kind {element.ValueKind}.");
        }
    }

    private static string NormalizeInteger(string raw)
    {
        // Go decodes numbers as float64 and prints integral values as plain digits (1e3 -> 1000, 10.0 -> 10).
        if (decimal.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == decimal.Truncate(d))
        {
            return decimal.Truncate(d).ToString(CultureInfo.InvariantCulture);
        }

        throw new FormatException($"Number '{raw}' is not an integer; TiUP manifests hold only integers.");
    }

    private static byte[] EncodeUtf8Strict(string s)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetBytes(s);
        }
        catch (EncoderFallbackException e)
        {
            throw new FormatException("String is not valid Unicode and cannot be encoded as UTF-8.", e);
        }
    }

    private static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<byte> utf8)
    {
        WriteByte(output, (byte)'"');
        foreach (var c in utf8)
        {
            switch (c)
            {
                case (byte)'"':
                    WriteAscii(output, "\\\"");
                    break;
                case (byte)'\\':
                    WriteAscii(output, "\\\\");
                    break;
                case (byte)'\b':
                    WriteAscii(output, "\\b");
                    break;
                case (byte)'\t':
                    WriteAscii(output, "\\t");
                    break;
                case (byte)'\n':
                    WriteAscii(output, "\\n");
                    break;
                case (byte)'\f':
                    WriteAscii(output, "\\f");
                    break;
                case (byte)'\r':
                    WriteAscii(output, "\\r");
                    break;
                case < 0x20:
                    WriteAscii(output, "\\u00");
                    WriteByte(output, (byte)Hex[c >> 4]);
                    WriteByte(output, (byte)Hex[c & 0xF]);
                    break;
                default:
                    WriteByte(output, c);
                    break;
            }
        }

        WriteByte(output, (byte)'"');
    }

    private static void WriteAscii(IBufferWriter<byte> output, string ascii)
    {
        var span = output.GetSpan(ascii.Length);
        for (var i = 0; i < ascii.Length; i++)
        {
            span[i] = (byte)ascii[i];
        }

        output.Advance(ascii.Length);
    }

    private static void WriteByte(IBufferWriter<byte> output, byte b)
    {
        output.GetSpan(1)[0] = b;
        output.Advance(1);
    }
}
