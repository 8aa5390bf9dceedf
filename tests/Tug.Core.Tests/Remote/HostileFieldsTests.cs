// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text;
using Tug.Core.Remote;
using Tug.Core.Topology;
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
    public static IReadOnlyDictionary<string, string> Scripts()
    {
        var etcd = Hostile.Instance(ScriptCases.Etcd, "/tmp/tug-hostile");
        var ne = Hostile.Instance(ScriptCases.NodeExporter, "/tmp/tug-hostile");
        var others = ScriptCases.Topology.OfRole(Roles.Etcd).Skip(1).Select(i => Hostile.Instance(i, "/tmp/tug-hostile")).ToList();
        var user = "user " + Hostile.Fragment;
        var key = "ssh-ed25519 AAAA " + Hostile.Fragment;
        var package = ScriptCases.EtcdPackage with { Version = "v3.5.17" + Hostile.Fragment, Component = "etcd" + Hostile.Fragment };
        var nePackage = ScriptCases.NodeExporterPackage with { Version = "v1.9.0" + Hostile.Fragment };
        var etcdContext = ScriptCases.Context(etcd, ScriptCases.EtcdPackage) with { DeployUser = user, ClusterName = "c" + Hostile.Fragment };
        var neContext = ScriptCases.Context(ne, ScriptCases.NodeExporterPackage) with { DeployUser = user, ClusterName = "c" + Hostile.Fragment };
        return new Dictionary<string, string>
        {
            ["env-init"] = HostScripts.EnvInit(user, "group " + Hostile.Fragment, key, createUser: true),
            ["platform"] = HostScripts.Platform(),
            ["install"] = HostScripts.Install([(etcdContext, package), (neContext, nePackage)]),
            ["stage"] = HostScripts.Stage(user, [(etcd, package), (ne, nePackage)]),
            ["stage-check"] = HostScripts.StageCheck([(etcd, package)]),
            ["stage-patch"] = HostScripts.StagePatch(user, "/tmp/patch " + Hostile.Fragment, ScriptCases.EtcdPatch.EntrySha256, [(etcd, package)]),
            ["switch"] = HostScripts.Switch(etcdContext, package, "v3.5.16" + Hostile.Fragment, Wait),
            ["rollback"] = HostScripts.Rollback(etcdContext, package, "v3.5.16" + Hostile.Fragment, Wait),
            ["start"] = HostScripts.Start([etcd, ne], Wait),
            ["stop"] = HostScripts.Stop([etcd, ne], Wait),
            ["refresh"] = HostScripts.Refresh([etcdContext, neContext], [etcd, ne], Wait),
            ["probe"] = HostScripts.Probe([(etcd, package.Entry), (ne, nePackage.Entry)]),
            ["cluster-check"] = HostScripts.ClusterCheck(etcdContext, TimeSpan.FromSeconds(1)),
            ["membership-add"] = HostScripts.Membership(others[0], add: true, etcd, package.Entry, others),
            ["membership-remove"] = HostScripts.Membership(others[0], add: false, etcd, package.Entry, others),
            ["file-hashes"] = HostScripts.FileHashes([$"{etcd.DeployDir}/conf/x", Hostile.Marker]),
            ["destroy"] = HostScripts.Destroy([etcd, ne], user, key),
        };
    }

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
            Assert.Equal(17, scripts.Count);
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
