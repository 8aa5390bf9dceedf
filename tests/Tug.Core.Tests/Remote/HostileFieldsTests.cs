// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text;
using Tug.Core.Remote;
using Tug.Testing;

namespace Tug.Core.Tests.Remote;

/// <summary>
/// Issue 11 item 2, on this machine: every operational script Tug sends, rendered for instances whose every string
/// field (and the user, group, key and versions) holds a quote, a double quote, <c>;</c>, <c>$(touch /tmp/x)</c>, a
/// backtick and a newline, built directly so the validator is bypassed, passes <c>bash -n</c> and shellcheck. The
/// testbed test (Tug.IntegrationTests HostileScriptTests) runs the same scripts on a host.
/// </summary>
public sealed class HostileFieldsTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    /// <summary>Every operational script, by name, for hostile instances of etcd and node_exporter.</summary>
    public static IReadOnlyDictionary<string, string> Scripts() => HostileScripts.For(ScriptCases.Topology, "10.0.0.1", "/tmp/tug-hostile", Wait);

    [Fact]
    public void Should_Render_Every_Script_With_Every_Field_Hostile_And_Pass_Bash_And_Shellcheck()
    {
        // Given
        var scripts = Scripts();
        var directory = Directory.CreateTempSubdirectory("tug-hostile-fields-").FullName;
        try
        {
            var problems = new List<string>();

            // When
            foreach (var (name, script) in scripts)
            {
                var path = Path.Combine(directory, name + ".sh");
                File.WriteAllText(path, script, new UTF8Encoding(false));

                var syntax = Shell.Run("bash", ["-n", path]);
                if (syntax.ExitCode != 0)
                {
                    problems.Add($"{name}: bash -n: {syntax.Stderr.Trim()}");
                }
            }

            var check = Shell.Run("shellcheck", ["-s", "bash", "-S", "warning", "-f", "gcc", .. scripts.Keys.Select(n => Path.Combine(directory, n + ".sh"))]);
            problems.AddRange(check.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

            // Then
            Assert.True(check.ExitCode is 0 or 1, check.Stderr);
            Assert.True(problems.Count == 0, string.Join('\n', problems));
            Assert.Equal(30, scripts.Count);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Should_Refuse_A_Nul_Rather_Than_Render_It()
    {
        var instance = ScriptCases.Etcd with { DeployDir = "/tmp/a\0b" };

        Assert.Throws<ArgumentException>(() => HostScripts.Probe([(instance, "etcd")]));
    }
}
