// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Topology;

namespace Tug.Core.Tests.Model;

/// <summary>TiUP's validation rules (validate.go), each refused with its code, file:line:column, the value and a hint.</summary>
public sealed class TopologyValidationTests
{
    private static TopologyDiagnostic Refused(string yaml) => Assert.Single(Assert.Throws<TopologyException>(() => TopologyLoader.Parse(yaml, "topology.yaml")).Diagnostics);

    [Fact]
    public void Should_Refuse_A_Port_Out_Of_Range()
    {
        var d = Refused("tikv_servers:\n  - host: a\n    status_port: 70000\n");

        Assert.Equal("topology.yaml:3:18: error[E1006]: tikv_servers[0].status_port is 70000, outside the port range", d.ToString());
        Assert.Equal("Use a port between 1 and 65535.", d.Hint);
    }

    [Fact]
    public void Should_Refuse_Two_Instances_On_One_Port_Of_One_Host()
    {
        var d = Refused("""
            pd_servers:
              - host: 10.0.0.1
            tikv_servers:
              - host: 10.0.0.1
                port: 2379
            """);

        Assert.Equal(TopologyErrors.PortConflict, d.Code);
        Assert.Equal((5, 11), (d.Location.Line, d.Location.Column));
        Assert.Equal("port 2379 on host \"10.0.0.1\" is used by both pd_servers[0].client_port and tikv_servers[0].port", d.Message);
    }

    [Fact]
    public void Should_Refuse_An_Instance_On_An_Exporter_Port_Even_When_Exporters_Are_Ignored()
    {
        var d = Refused("""
            tidb_servers:
              - host: 10.0.0.1
                status_port: 9115
                ignore_exporter: true
            """);

        Assert.Equal(TopologyErrors.PortConflict, d.Code);
        Assert.Equal("port 9115 on host \"10.0.0.1\" is used by both tidb_servers[0].status_port and monitored.blackbox_exporter_port", d.Message);
    }

    [Fact]
    public void Should_Refuse_Two_Instances_Sharing_A_Directory_On_One_Host()
    {
        var d = Refused("""
            tikv_servers:
              - host: 10.0.0.1
                data_dir: /data/kv
              - host: 10.0.0.1
                port: 20161
                status_port: 20181
                data_dir: /data/kv
            """);

        Assert.Equal("topology.yaml:7:15: error[E1008]: directory \"/data/kv\" on host \"10.0.0.1\" is used by both tikv_servers[0].data_dir and tikv_servers[1].data_dir", d.ToString());
    }

    [Fact]
    public void Should_Refuse_Relative_Deploy_Dirs_That_Expand_To_The_Same_Place()
    {
        var error = Assert.Throws<TopologyException>(() => TopologyLoader.Parse("""
            pd_servers:
              - host: 10.0.0.1
                deploy_dir: shared
            tikv_servers:
              - host: 10.0.0.1
                deploy_dir: shared
            """, "topology.yaml"));

        Assert.Equal(
        [
            "directory \"/home/tidb/shared/data\" on host \"10.0.0.1\" is used by both pd_servers[0].data_dir and tikv_servers[0].data_dir",
            "directory \"/home/tidb/shared\" on host \"10.0.0.1\" is used by both pd_servers[0].deploy_dir and tikv_servers[0].deploy_dir",
        ], error.Diagnostics.Select(d => d.Message));
    }

    [Theory]
    [InlineData("user: Tidb", TopologyErrors.BadUser, "global.user \"Tidb\" is not a valid Linux user name")]
    [InlineData("user: 1tidb", TopologyErrors.BadUser, "global.user \"1tidb\" is not a valid Linux user name")]
    [InlineData("group: a-group-name-longer-than-16", TopologyErrors.BadGroup, "global.group \"a-group-name-longer-than-16\" is not a valid Linux group name")]
    [InlineData("systemd_mode: users", TopologyErrors.BadEnumValue, "global.systemd_mode \"users\" is neither \"system\" nor \"user\"")]
    [InlineData("ssh_type: telnet", TopologyErrors.BadEnumValue, "global.ssh_type \"telnet\" is not one of builtin, system, none")]
    public void Should_Refuse_Bad_Global_Values(string field, string code, string message)
    {
        var d = Refused($"global:\n  {field}\ntikv_servers:\n  - host: a\n");

        Assert.Equal((code, 2, field.IndexOf(':', StringComparison.Ordinal) + 5, message), (d.Code, d.Location.Line, d.Location.Column, d.Message));
    }

    [Theory]
    [InlineData("tidb$")]
    [InlineData("_svc")]
    [InlineData("tidb-user_1")]
    public void Should_Accept_Valid_User_Names(string user) =>
        Assert.Equal(user, TopologyLoader.Parse($"global:\n  user: \"{user}\"\n  deploy_dir: /tidb-deploy\n  data_dir: /tidb-data\netcd_servers:\n  - host: a\n", "t.yaml").Global.User);

    [Theory]
    [InlineData("pd_servers", "")]
    [InlineData("tso_servers", "pd_servers:\n  - host: z\n")]
    [InlineData("etcd_servers", "")]
    public void Should_Refuse_Duplicate_Member_Names(string section, string prefix)
    {
        var d = Refused($"{prefix}{section}:\n  - host: a\n    name: m1\n  - host: b\n    name: m1\n");

        Assert.Equal(TopologyErrors.DuplicateName, d.Code);
        Assert.Contains("name \"m1\" is used twice", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Refuse_Instances_Of_One_Host_Disagreeing_On_Ignore_Exporter()
    {
        var d = Refused("""
            pd_servers:
              - host: 10.0.0.1
            tikv_servers:
              - host: 10.0.0.1
                ignore_exporter: true
            """);

        Assert.Equal("topology.yaml:5:22: error[E1012]: host \"10.0.0.1\" has ignore_exporter: true in tikv_servers[0] but false in pd_servers[0] (line 2)", d.ToString());
    }

    [Fact]
    public void Should_Refuse_Instances_Of_One_Host_Disagreeing_On_Platform()
    {
        var d = Refused("""
            pd_servers:
              - host: 10.0.0.1
                arch: amd64
            tikv_servers:
              - host: 10.0.0.1
                arch: aarch64
            """);

        Assert.Equal(TopologyErrors.PlatformMismatch, d.Code);
        Assert.Equal("host \"10.0.0.1\" has arch \"arm64\" in tikv_servers[0] but \"amd64\" in pd_servers[0] (line 2)", d.Message);
    }

    [Theory]
    [InlineData("monitoring_servers", "rule_dir: rules")]
    [InlineData("grafana_servers", "dashboard_dir: dashboards")]
    [InlineData("alertmanager_servers", "config_file: alertmanager.yml")]
    public void Should_Refuse_Relative_Local_Paths(string section, string field)
    {
        var d = Refused($"{section}:\n  - host: a\n    {field}\n");

        Assert.Equal((TopologyErrors.RelativePath, 3), (d.Code, d.Location.Line));
        Assert.Contains("is a relative path", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Refuse_Components_Without_TLS_In_A_TLS_Cluster()
    {
        var d = Refused("global:\n  enable_tls: true\netcd_servers:\n  - host: a\n");

        Assert.Equal("topology.yaml:4:5: error[E1015]: component etcd is not supported in a cluster with global.enable_tls: true", d.ToString());
    }

    [Theory]
    [InlineData("tispark_workers:\n  - host: a\n", "TiSpark workers need a Spark master")]
    [InlineData("tispark_masters:\n  - host: a\n  - host: b\n", "2 TiSpark masters are declared")]
    [InlineData("tispark_masters:\n  - host: a\ntispark_workers:\n  - host: b\n  - host: b\n    port: 7079\n    web_port: 8082\n", "host \"b\" has more than one TiSpark worker")]
    public void Should_Enforce_The_TiSpark_Rules(string yaml, string message)
    {
        var d = Refused(yaml);

        Assert.Equal(TopologyErrors.TiSpark, d.Code);
        Assert.StartsWith(message, d.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("server_configs:\n  tiflash:\n    storage.main.dir: [/data1/tiflash]\ntiflash_servers:\n  - host: a\n", "must not be set in server_configs.tiflash")]
    [InlineData("tiflash_servers:\n  - host: a\n    config:\n      storage.latest.dir: [/ssd0/tiflash]\n", "without \"storage.main.dir\"")]
    [InlineData("tiflash_servers:\n  - host: a\n    config:\n      storage.raft.dir: [/ssd0/tiflash]\n", "without \"storage.main.dir\"")]
    [InlineData("tiflash_servers:\n  - host: a\n    config:\n      storage.main.dir: [tiflash/data, ]\n", "is not an absolute path")]
    [InlineData("tiflash_servers:\n  - host: a\n    config:\n      data_dir: /x\n", "must not be set in tiflash_servers[0].config")]
    public void Should_Enforce_The_TiFlash_Storage_Rules(string yaml, string message)
    {
        var d = Refused(yaml);

        Assert.Equal(TopologyErrors.TiFlashStorage, d.Code);
        Assert.Contains(message, d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Refuse_An_Instance_Without_A_Host()
    {
        var d = Refused("tikv_servers:\n  - port: 20160\n");

        Assert.Equal("topology.yaml:2:5: error[E1005]: tikv_servers[0] has no host", d.ToString());
    }

    [Fact]
    public void Should_Collect_Every_Violation_Not_Only_The_First()
    {
        // Given
        const string Yaml = """
            global:
              user: Tidb
            pd_servers:
              - host: 10.0.0.1
                name: pd
              - host: 10.0.0.2
                name: pd
                peer_port: -1
            tikv_servers:
              - host: 10.0.0.1
                port: 2379
            """;

        // When
        var error = Assert.Throws<TopologyException>(() => TopologyLoader.Parse(Yaml, "topology.yaml"));

        // Then
        Assert.Equal(
        [
            "topology.yaml:2:9: error[E1009]: global.user \"Tidb\" is not a valid Linux user name",
            "topology.yaml:7:11: error[E1011]: pd name \"pd\" is used twice (pd_servers[0] and pd_servers[1])",
            "topology.yaml:8:16: error[E1006]: pd_servers[1].peer_port is -1, outside the port range",
            "topology.yaml:11:11: error[E1007]: port 2379 on host \"10.0.0.1\" is used by both pd_servers[0].client_port and tikv_servers[0].port",
        ], error.Diagnostics.Select(d => d.ToString()));
        Assert.Equal(TopologyErrors.BadUser, error.Code);
        Assert.Equal((2, 9), (error.Line, error.Column));
        Assert.Contains("  hint: ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("prod-1", true)]
    [InlineData("a.b_c", true)]
    [InlineData("has space", false)]
    [InlineData("", false)]
    [InlineData("x/y", false)]
    [InlineData(".", false)]
    [InlineData("..", false)]
    [InlineData(".hidden", false)]
    [InlineData("-x", false)]
    [InlineData("v1.0", true)]
    public void Should_Check_Cluster_Names(string name, bool valid)
    {
        Assert.Equal(valid, ClusterName.IsValid(name));
        if (!valid)
        {
            Assert.Equal(TopologyErrors.BadClusterName, Assert.Throws<TopologyException>(() => ClusterName.Validate(name)).Code);
        }
    }
}
