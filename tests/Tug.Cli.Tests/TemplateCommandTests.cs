// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.Json;
using Tug.Core.Topology;
using Tug.Testing;

namespace Tug.Cli.Tests;

/// <summary>
/// <c>tug cluster template</c>: every variant and every <c>--local</c> flag of TiUP's prints a topology that Tug's own
/// loader reads strictly and validates, holding exactly the values given; bad combinations and values exit 2.
/// </summary>
public sealed class TemplateCommandTests
{
    /// <summary>Every flag combination TiUP's template takes (one of --full/--multi-dc/--local, or none; --local with each of its value flags).</summary>
    public static TheoryData<string[]> Variants => new()
    {
        { [] },
        { ["--full"] },
        { ["--multi-dc"] },
        { ["--local"] },
        { ["--local", "--user", "ops"] },
        { ["--local", "--group", "ops"] },
        { ["--local", "--systemd_mode", "user"] },
        { ["--local", "--systemd_mode", ""] },
        { ["--local", "--ssh-port", "2222"] },
        { ["--local", "--deploy-dir", "/opt/deploy"] },
        { ["--local", "--data-dir", "/opt/data"] },
        { ["--local", "--arch", "arm64"] },
        { ["--local", "--pd-servers", "10.0.0.1,10.0.0.2,10.0.0.3"] },
        { ["--local", "--tidb-servers", "10.0.0.4", "--tidb-servers", "10.0.0.5"] },
        { ["--local", "--tikv-servers", "10.0.0.6,10.0.0.7,10.0.0.8"] },
        { ["--local", "--tiflash-servers", "10.0.0.9"] },
        { ["--local", "--monitoring-servers", "10.0.0.10"] },
        { ["--local", "--grafana-servers", "10.0.0.10"] },
        { ["--local", "--alertmanager-servers", "10.0.0.10"] },
        { ["--local", "--tidb-servers", "", "--grafana-servers", ""] },
        { ["--user", "ignored-without-local"] },
        {
            [
                "--local", "--user", "ops", "--group", "dba", "--systemd_mode", "system", "--ssh-port", "2200", "--deploy-dir", "/srv/d", "--data-dir", "/srv/x",
                "--arch", "amd64", "--pd-servers", "10.1.0.1,10.1.0.2,10.1.0.3", "--tidb-servers", "10.1.0.4", "--tikv-servers", "10.1.0.5,10.1.0.6,10.1.0.7",
                "--tiflash-servers", "10.1.0.8", "--monitoring-servers", "10.1.0.9", "--grafana-servers", "10.1.0.9", "--alertmanager-servers", "10.1.0.9",
            ]
        },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task Should_Print_A_Topology_That_Loads_And_Validates_With_The_Given_Values(string[] flags)
    {
        // Given
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);

        // When
        var result = await tug.RunAsync(["cluster", "template", .. flags]);

        // Then: Tug's own strict loader and validator accept it, and it says what was asked
        Assert.True(result.ExitCode == 0, result.ToString());
        var topology = TopologyLoader.Parse(result.Stdout, "printed.yaml");
        Assert.NotEmpty(topology.Instances);
        var local = flags.Contains("--local");
        string? Value(string flag) => flags.Select((f, n) => (f, n)).Where(x => x.f == flag).Select(x => flags[x.n + 1]).LastOrDefault();
        if (local)
        {
            Assert.Equal(Value("--user") ?? "tidb", topology.Global.User);
            Assert.Equal(Value("--ssh-port") is { } port ? int.Parse(port, System.Globalization.CultureInfo.InvariantCulture) : 22, topology.Global.SshPort);
            Assert.Equal(Value("--arch") ?? "amd64", topology.Global.Arch);
            Assert.Equal(Value("--deploy-dir") ?? "/tidb-deploy", topology.Global.DeployDir);
            Assert.Equal(Value("--data-dir") ?? "/tidb-data", topology.Global.DataDir);
            Assert.Equal(Value("--group") ?? string.Empty, topology.Global.Group);
            foreach (var (flag, role, @default) in new[]
            {
                ("--pd-servers", "pd", 1), ("--tidb-servers", "tidb", 1), ("--tikv-servers", "tikv", 1), ("--tiflash-servers", "tiflash", 0),
                ("--monitoring-servers", "prometheus", 1), ("--grafana-servers", "grafana", 1), ("--alertmanager-servers", "alertmanager", 0),
            })
            {
                var given = flags.Select((f, n) => (f, n)).Where(x => x.f == flag).SelectMany(x => flags[x.n + 1].Split(',', StringSplitOptions.RemoveEmptyEntries)).ToList();
                var hosts = topology.OfRole(role).Select(i => i.Host).ToList();
                Assert.Equal(flags.Contains(flag) ? given : Enumerable.Repeat("127.0.0.1", @default).ToList(), hosts);
            }
        }
        else
        {
            var expected = flags.Contains("--full") ? "# Every section" : flags.Contains("--multi-dc") ? "# A TiDB cluster spread" : "# A small TiDB cluster";
            Assert.StartsWith(expected, result.Stdout, StringComparison.Ordinal);
            Assert.Equal("tidb", topology.Global.User);
        }
    }

    [Theory]
    [InlineData("--full")]
    [InlineData("--multi-dc")]
    [InlineData("--local")]
    [InlineData(null)]
    public async Task Should_Print_The_Template_As_Json_With_Its_Name(string? flag)
    {
        // Given
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);

        // When
        var result = await tug.RunAsync(flag is null ? ["cluster", "template", "--format", "json"] : ["cluster", "template", flag, "--format", "json"]);

        // Then
        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal(flag?.TrimStart('-') ?? "minimal", json.RootElement.GetProperty("template").GetString());
        Assert.NotEmpty(TopologyLoader.Parse(json.RootElement.GetProperty("yaml").GetString()!, "json.yaml").Instances);
    }

    [Theory]
    [InlineData(new[] { "--full", "--multi-dc" }, "At most one of --full, --multi-dc or --local")]
    [InlineData(new[] { "--full", "--local" }, "At most one of --full, --multi-dc or --local")]
    [InlineData(new[] { "--multi-dc", "--local" }, "At most one of --full, --multi-dc or --local")]
    [InlineData(new[] { "--local", "--arch", "x86_64" }, "supported values are \"amd64\" or \"arm64\"")]
    [InlineData(new[] { "--local", "--ssh-port", "0" }, "--ssh-port 0 is out of range")]
    [InlineData(new[] { "--local", "--ssh-port", "65536" }, "--ssh-port 65536 is out of range")]
    public async Task Should_Refuse_A_Bad_Combination_Or_Value_With_Exit_2(string[] flags, string message)
    {
        // Given
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);

        // When
        var result = await tug.RunAsync(["cluster", "template", .. flags]);

        // Then: no template printed (a parse error prints the help), the reason on stderr
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.DoesNotContain("global:", result.Stdout, StringComparison.Ordinal);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Keep_A_Hostile_Value_One_Scalar()
    {
        // Given: a user name trying to add a key of its own
        using var dir = new TempDirectory();
        var tug = new CliRunner(dir.Path);
        const string hostile = "ops\"\n  deploy_dir: \"/etc";

        // When
        var result = await tug.RunAsync("cluster", "template", "--local", "--user", hostile);

        // Then: refused, or the whole value stays the user name; never a second deploy_dir
        if (result.ExitCode == 0)
        {
            var topology = TopologyLoader.Parse(result.Stdout, "printed.yaml");
            Assert.Equal(hostile, topology.Global.User);
            Assert.Equal("/tidb-deploy", topology.Global.DeployDir);
        }
        else
        {
            Assert.Equal(2, result.ExitCode);
            Assert.Equal(string.Empty, result.Stdout);
        }
    }
}
