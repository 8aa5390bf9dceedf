// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tug.Mirror.Json;

namespace Tug.Mirror.Tests;

public sealed class CanonicalJsonTests
{
    private static string Encode(string json)
    {
        using var document = JsonDocument.Parse(json);
        return Encoding.UTF8.GetString(CanonicalJson.Serialize(document.RootElement));
    }

    [Theory]
    [InlineData("{ \"b\": 1, \"a\": [true, false, null] }", "{\"a\":[true,false,null],\"b\":1}")]
    [InlineData("{\"a\":1,\"_type\":2}", "{\"_type\":2,\"a\":1}")]
    [InlineData("\"+<>&/\"", "\"+<>&/\"")]
    [InlineData("\"tab\\there\\nnewline\\u001f\\u0001\"", "\"tab\\there\\nnewline\\u001F\\u0001\"")]
    [InlineData("\"quote\\\" backslash\\\\\"", "\"quote\\\" backslash\\\\\"")]
    [InlineData("\"\\u00e9\\u2028\\u007f\"", "\"é\u2028\u007f\"")]
    [InlineData("[1.0, 1e3, 0, -5]", "[1,1000,0,-5]")]
    public void Should_Encode_As_TiUPs_Canonical_Json(string input, string expected) =>
        Assert.Equal(expected, Encode(input));

    [Fact]
    public void Should_Sort_Keys_By_Utf8_Bytes_Not_Utf16()
    {
        // U+FF21 (EF BC A1 in UTF-8) sorts before U+1F600 (F0 9F 98 80) by bytes, after it by UTF-16 code units.
        var obj = new JsonObject { ["\U0001F600"] = 1, ["\uFF21"] = 2 };
        Assert.Equal("{\"\uFF21\":2,\"\U0001F600\":1}", Encoding.UTF8.GetString(CanonicalJson.Serialize(obj)));
    }

    [Fact]
    public void Should_Refuse_Non_Integer_Numbers()
    {
        using var document = JsonDocument.Parse("[1.5]");
        Assert.Throws<FormatException>(() => CanonicalJson.Serialize(document.RootElement));
    }

    [Fact]
    public void Should_Encode_Nodes_And_Elements_Identically()
    {
        var node = new JsonObject { ["z"] = "a+b", ["n"] = 42UL, ["t"] = true, ["null"] = null, ["arr"] = new JsonArray("x", 1) };
        using var document = JsonDocument.Parse(node.ToJsonString());
        Assert.Equal(CanonicalJson.Serialize(node), CanonicalJson.Serialize(document.RootElement));
    }
}
