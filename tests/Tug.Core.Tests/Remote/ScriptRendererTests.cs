// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Remote;

namespace Tug.Core.Tests.Remote;

/// <summary>The renderer refuses every mismatch between a template's declared parameters and what it is given.</summary>
public sealed class ScriptRendererTests
{
    private const string Template = "#!/usr/bin/env bash\n# Says hello.\n# tug:params name names[]\nname={{name}}\nnames=({{names}})\necho \"$name\" \"${names[@]}\"\n";

    [Fact]
    public void Should_Quote_Each_Value_Once_And_Drop_The_Header()
    {
        // When
        var script = ScriptRenderer.RenderText("t.sh", Template, new() { { "name", "it's" }, { "names", new[] { "a b", "$x" } } });

        // Then
        Assert.Equal("name='it'\\''s'\nnames=('a b' '$x')\necho \"$name\" \"${names[@]}\"\n", script);
    }

    [Fact]
    public void Should_Render_An_Empty_List_As_An_Empty_Array()
    {
        // When
        var script = ScriptRenderer.RenderText("t.sh", Template, new() { { "name", string.Empty }, { "names", Array.Empty<string>() } });

        // Then
        Assert.StartsWith("name=''\nnames=()\n", script, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("unknown parameter(s) nmae")]
    public void Should_Throw_When_A_Parameter_Is_Unknown(string expected)
    {
        // When
        var e = Assert.Throws<ArgumentException>(() => ScriptRenderer.RenderText("t.sh", Template, new() { { "name", "x" }, { "names", new[] { "y" } }, { "nmae", "z" } }));

        // Then
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Throw_When_A_Parameter_Is_Missing()
    {
        var e = Assert.Throws<ArgumentException>(() => ScriptRenderer.RenderText("t.sh", Template, new() { { "name", "x" } }));
        Assert.Contains("missing parameter(s) names", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Throw_When_A_List_Is_Given_For_A_Word_Or_The_Reverse()
    {
        var e = Assert.Throws<ArgumentException>(() => ScriptRenderer.RenderText("t.sh", Template, new() { { "name", new[] { "x" } }, { "names", "y" } }));
        Assert.Contains("name must be a single value, names must be a list", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("# tug:params a\necho {{b}}\n", "uses {{b}}, which its header does not declare")]
    [InlineData("# tug:params a b\na={{a}}\n", "declares b but never uses it")]
    [InlineData("# tug:params a\na={{a}}\nb={{a}}\n", "uses {{a}} 2 times")]
    [InlineData("# tug:params a\necho \"{{a}}\"\n", "{{a}} must stand alone as a={{a}}")]
    [InlineData("# tug:params a\nb=x{{a}}\n", "{{a}} must stand alone as a={{a}}")]
    [InlineData("# tug:params a[]\na={{a}}\n", "{{a}} must stand alone as a=({{a}})")]
    [InlineData("# tug:params a a\na={{a}}\n", "declares parameter 'a' twice")]
    public void Should_Throw_When_A_Template_Misuses_A_Parameter(string template, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => ScriptRenderer.RenderText("t.sh", template, new() { { "a", "x" } }));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Refuse_A_Value_With_A_Nul()
    {
        Assert.Throws<ArgumentException>(() => ScriptRenderer.Quote("a\0b"));
    }

    [Fact]
    public void Should_Throw_For_An_Unknown_Template()
    {
        var e = Assert.Throws<ArgumentException>(() => ScriptRenderer.Render("nope.sh", []));
        Assert.Contains("no script template 'nope.sh'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Load_Every_Embedded_Template()
    {
        // Every file under Remote/Scripts is embedded and parses (declared = used, placements valid).
        var files = Directory.GetFiles(Path.Combine(Infrastructure.Repo.Root, "src", "Tug.Core", "Remote", "Scripts"), "*.sh").Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(files, ScriptRenderer.Names);
        Assert.All(ScriptRenderer.Names, n => ScriptRenderer.Parameters(n));
    }
}
