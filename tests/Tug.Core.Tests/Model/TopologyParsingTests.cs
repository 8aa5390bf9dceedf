// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Tests.Infrastructure;
using Tug.Core.Topology;

namespace Tug.Core.Tests.Model;

/// <summary>Reading TiUP topology files: fixtures, defaults, TiUP's dir-expansion golden cases, strictness.</summary>
public sealed class TopologyParsingTests
{
    public sealed class TheTiupFixtures
    {
        public static TheoryData<string> Files() =>
        [
            .. Topologies.TiupFixtureFiles().Select(Path.GetFileName).Where(f => f != "full_scale_in_tispark.yaml").OfType<string>(),
        ];

        [Theory]
        [MemberData(nameof(Files))]
        public void Should_Parse_Every_Complete_Topology(string file)
        {
            // Given
            var path = Topologies.TiupFixtureFiles().Single(f => Path.GetFileName(f) == file);

            // When
            var topology = TopologyLoader.Load(path);

            // Then
            Assert.NotEmpty(topology.Servers);
            Assert.All(topology.Instances, i => Assert.StartsWith("/", i.DeployDir, StringComparison.Ordinal));
            Assert.All(topology.Instances, i => Assert.All(i.DataDirs, d => Assert.StartsWith("/", d, StringComparison.Ordinal)));
        }

        [Fact]
        public void Should_Refuse_The_TiSpark_Worker_Part_Alone_And_Accept_It_As_A_Scale_Out()
        {
            // Given
            var part = Repo.Fixture("tests", "tiup-cluster", "topo", "full_scale_in_tispark.yaml");
            var cluster = TopologyLoader.Parse("""
                pd_servers:
                  - host: n1
                tispark_masters:
                  - host: n1
                """, "cluster.yaml");

            // When
            var alone = Assert.Throws<TopologyException>(() => TopologyLoader.Load(part));
            var merged = TopologyLoader.LoadScaleOut(part, cluster);

            // Then
            Assert.Equal(TopologyErrors.TiSpark, alone.Code);
            Assert.Equal("n5", Assert.Single(merged.OfRole(Roles.TiSparkWorker)).Host);
        }

        [Fact]
        public void Should_Model_Full_Yaml_As_A_Flat_List_In_Start_Order()
        {
            // Given
            var topology = TopologyLoader.Load(Repo.Fixture("tests", "tiup-cluster", "topo", "full.yaml"));

            // When
            var roles = topology.Instances.Select(i => i.Role).Distinct().ToList();

            // Then
            Assert.Equal(
                [Roles.Pd, Roles.TiProxy, Roles.TiKV, Roles.Pump, Roles.TiDB, Roles.TiFlash, Roles.Drainer, Roles.Cdc, Roles.TiKVCdc,
                 Roles.Prometheus, Roles.Grafana, Roles.Alertmanager, Roles.NodeExporter, Roles.BlackboxExporter],
                roles);
            Assert.Equal(["n3:2379", "n4:2379", "n5:2379"], topology.OfRole(Roles.Pd).Select(p => p.Id));
            Assert.Equal(["pd-n3-2379", "pd-n4-2379", "pd-n5-2379"], topology.OfRole(Roles.Pd).Select(p => p.Name));
            Assert.Equal("pingcap", topology.Global.Group);
        }
    }

    public sealed class TheDefaults
    {
        [Fact]
        public void Should_Fill_TiUPs_Defaults_For_Every_Instance()
        {
            // Given
            const string Yaml = """
                global:
                  ssh_port: 2222
                tikv_servers:
                  - host: 10.0.0.1
                    arch: x86_64
                    os: Linux
                tiflash_servers:
                  - host: 10.0.0.2
                alertmanager_servers:
                  - host: 10.0.0.3
                    listen_host: 10.0.0.3
                """;

            // When
            var topology = TopologyLoader.Parse(Yaml, "topology.yaml");
            var tikv = topology.OfRole(Roles.TiKV)[0];
            var tiflash = topology.OfRole(Roles.TiFlash)[0];
            var alertmanager = topology.OfRole(Roles.Alertmanager)[0];

            // Then
            Assert.Equal(new GlobalOptions { SshPort = 2222 }, topology.Global);
            Assert.Equal(2222, tikv.SshPort);
            Assert.Equal([new NamedPort("port", 20160), new NamedPort("status_port", 20180)], tikv.Ports);
            Assert.Equal(("amd64", "linux"), (tikv.Arch, tikv.Os));
            Assert.Equal("0.0.0.0", tikv.ListenHost);
            Assert.Equal(("tikv-20160", "tikv"), (tikv.ServiceName, tikv.Component));
            Assert.Equal(9000, tiflash.MainPort);
            Assert.Equal("tiflash-9000", tiflash.ServiceName);
            Assert.Equal(6, tiflash.Ports.Length);
            Assert.Equal(("10.0.0.3:9093", "10.0.0.3"), (alertmanager.Id, alertmanager.ListenHost));
            Assert.Equal(9094, alertmanager.Port("cluster_port"));
        }

        [Fact]
        public void Should_Name_PD_Services_As_TiUP_Does()
        {
            // Given
            const string Yaml = """
                pd_servers:
                  - host: 10.0.0.1
                    client_port: 2479
                tso_servers:
                  - host: 10.0.0.1
                resource_manager_servers:
                  - host: 10.0.0.1
                    port: 3380
                etcd_servers:
                  - host: 10.0.0.2
                    name: first
                  - host: 10.0.0.3
                """;

            // When
            var topology = TopologyLoader.Parse(Yaml, "topology.yaml");

            // Then
            Assert.Equal("pd-10.0.0.1-2479", topology.OfRole(Roles.Pd)[0].Name);
            Assert.Equal("tso-10.0.0.1-3379", topology.OfRole(Roles.Tso)[0].Name);
            Assert.Equal("resourcemanager-10.0.0.1-3380", topology.OfRole(Roles.ResourceManager)[0].Name);
            Assert.Equal(["first", "etcd-10.0.0.3-2379"], topology.OfRole(Roles.Etcd).Select(e => e.Name));
            Assert.Equal("pd", topology.OfRole(Roles.Tso)[0].Component);
        }

        [Fact]
        public void Should_Take_The_Package_From_Source_Then_Component_Sources()
        {
            // Given
            const string Yaml = """
                component_sources:
                  tikv: tikv-enterprise
                tikv_servers:
                  - host: 10.0.0.1
                  - host: 10.0.0.2
                    source: tikv-debug
                """;

            // When
            var tikv = TopologyLoader.Parse(Yaml, "topology.yaml").OfRole(Roles.TiKV);

            // Then
            Assert.Equal(["tikv-enterprise", "tikv-debug"], tikv.Select(t => t.Component));
            Assert.All(tikv, t => Assert.Equal("tikv", t.Role));
        }

        [Fact]
        public void Should_Move_A_Drainer_Commit_Ts_Into_Its_Config()
        {
            // Given
            const string Yaml = """
                drainer_servers:
                  - host: 10.0.0.1
                    commit_ts: 421
                  - host: 10.0.0.2
                    commit_ts: -1
                """;

            // When
            var drainers = TopologyLoader.Parse(Yaml, "topology.yaml").OfRole(Roles.Drainer);

            // Then
            Assert.Equal(421L, drainers[0].Config["initial-commit-ts"]);
            Assert.False(drainers[1].Config.ContainsKey("initial-commit-ts"));
        }

        [Fact]
        public void Should_Keep_Server_Configs_Raw_And_Typed()
        {
            // Given
            const string Yaml = """
                server_configs:
                  tidb:
                    log.slow-threshold: 300
                    binlog.enable: true
                    performance.feedback-probability: 12.0
                  pd:
                    replication.location-labels: ["zone", "host"]
                    schedule:
                      leader-schedule-limit: 4
                tikv_servers:
                  - host: 10.0.0.1
                """;

            // When
            var topology = TopologyLoader.Parse(Yaml, "topology.yaml");

            // Then
            Assert.Equal(300L, topology.ServerConfig("tidb")["log.slow-threshold"]);
            Assert.Equal(true, topology.ServerConfig("tidb")["binlog.enable"]);
            Assert.Equal(12.0, topology.ServerConfig("tidb")["performance.feedback-probability"]);
            Assert.Equal(["zone", "host"], topology.ServerConfig("pd").GetStrings("replication.location-labels"));
            Assert.Equal(4L, topology.ServerConfig("pd").GetMap("schedule")["leader-schedule-limit"]);
            Assert.Empty(topology.ServerConfig("tikv"));
        }
    }

    /// <summary>TiUP's <c>parse_topology_test.go</c> cases for <c>ExpandRelativeDir</c>, one by one.</summary>
    public sealed class TheDirectoryExpansion
    {
        private static InstanceSpec Only(string yaml, string role = Roles.TiKV, int index = 0) =>
            TopologyLoader.Parse(yaml, "topology.yaml").OfRole(role)[index];

        [Fact]
        public void Should_Put_A_Relative_Deploy_Dir_Under_The_Users_Home()
        {
            var tikv = Only("""
                tikv_servers:
                  - host: 172.16.5.140
                    deploy_dir: my-deploy
                """);

            Assert.Equal("/home/tidb/my-deploy", tikv.DeployDir);
        }

        [Fact]
        public void Should_Put_Relative_Data_And_Log_Dirs_Under_The_Deploy_Dir()
        {
            var tikv = Only("""
                tikv_servers:
                  - host: 172.16.5.140
                    deploy_dir: my-deploy
                    data_dir: my-data
                    log_dir: my-log
                """);

            Assert.Equal(("/home/tidb/my-deploy", "/home/tidb/my-deploy/my-data", "/home/tidb/my-deploy/my-log"), (tikv.DeployDir, tikv.DataDir, tikv.LogDir));
        }

        [Fact]
        public void Should_Derive_Instance_Dirs_From_A_Relative_Global_Deploy_Dir()
        {
            var topology = TopologyLoader.Parse("""
                global:
                  deploy_dir: my-deploy
                tikv_servers:
                  - host: 172.16.5.140
                    port: 20160
                    status_port: 20180
                    data_dir: my-data
                    log_dir: my-log
                  - host: 172.16.5.140
                    port: 20161
                    status_port: 20181
                """, "topology.yaml");
            var tikv = topology.OfRole(Roles.TiKV);

            Assert.Equal(("my-deploy", "data"), (topology.Global.DeployDir, topology.Global.DataDir));
            Assert.Equal(("/home/tidb/my-deploy/tikv-20160", "/home/tidb/my-deploy/tikv-20160/my-data", "/home/tidb/my-deploy/tikv-20160/my-log"), (tikv[0].DeployDir, tikv[0].DataDir, tikv[0].LogDir));
            Assert.Equal(("/home/tidb/my-deploy/tikv-20161", "/home/tidb/my-deploy/tikv-20161/data", "/home/tidb/my-deploy/tikv-20161/log"), (tikv[1].DeployDir, tikv[1].DataDir, tikv[1].LogDir));
        }

        [Fact]
        public void Should_Double_The_Monitored_Log_Path_As_TiUP_Does()
        {
            // TiUP joins the default log dir to the still-relative deploy dir, then expands it again.
            var topology = TopologyLoader.Parse("""
                global:
                  deploy_dir: my-deploy
                tikv_servers:
                  - host: 172.16.5.140
                """, "topology.yaml");

            Assert.Equal("/home/tidb/my-deploy/monitor-9100", topology.Monitored.DeployDir);
            Assert.Equal("/home/tidb/my-deploy/monitor-9100/data/monitor-9100", topology.Monitored.DataDir);
            Assert.Equal("/home/tidb/my-deploy/monitor-9100/my-deploy/monitor-9100/log", topology.Monitored.LogDir);
        }

        [Fact]
        public void Should_Use_The_Doubled_Default_Monitored_Log_Path()
        {
            // tests/tiup-cluster/script/scale_core.sh asserts that /home/tidb/deploy/monitor-9100/deploy/monitor-9100 exists.
            var topology = TopologyLoader.Parse("""
                global:
                  data_dir: my-global-data
                  log_dir: my-global-log
                tikv_servers:
                  - host: 172.16.5.140
                    port: 20160
                    status_port: 20180
                    data_dir: my-local-data
                    log_dir: my-local-log
                  - host: 172.16.5.140
                    port: 20161
                    status_port: 20181
                """, "topology.yaml");
            var tikv = topology.OfRole(Roles.TiKV);

            Assert.Equal("/home/tidb/deploy/monitor-9100", topology.Monitored.DeployDir);
            Assert.Equal("/home/tidb/deploy/monitor-9100/my-global-data/monitor-9100", topology.Monitored.DataDir);
            Assert.Equal("/home/tidb/deploy/monitor-9100/deploy/monitor-9100/log", topology.Monitored.LogDir);
            Assert.Equal(("/home/tidb/deploy/tikv-20160/my-local-data", "/home/tidb/deploy/tikv-20160/my-local-log"), (tikv[0].DataDir, tikv[0].LogDir));
            Assert.Equal(("/home/tidb/deploy/tikv-20161/my-global-data", "/home/tidb/deploy/tikv-20161/my-global-log"), (tikv[1].DataDir, tikv[1].LogDir));
        }

        [Fact]
        public void Should_Expand_Each_Of_Several_TiFlash_Data_Dirs()
        {
            var tiflash = Only("""
                tiflash_servers:
                  - host: 172.16.5.140
                    data_dir: /path/to/my-first-data,my-second-data
                """, Roles.TiFlash);

            Assert.Equal(["/path/to/my-first-data", "/home/tidb/deploy/tiflash-9000/my-second-data"], tiflash.DataDirs);
            Assert.Equal("/home/tidb/deploy/tiflash-9000/log", tiflash.LogDir);
        }

        [Fact]
        public void Should_Use_The_Global_Users_Home()
        {
            var tikv = TopologyLoader.Parse("""
                global:
                  user: test
                  data_dir: my-global-data
                  log_dir: my-global-log
                tikv_servers:
                  - host: 172.16.5.140
                    deploy_dir: my-local-deploy
                    data_dir: my-local-data
                    log_dir: my-local-log
                  - host: 172.16.5.140
                    port: 20161
                    status_port: 20181
                """, "topology.yaml").OfRole(Roles.TiKV);

            Assert.Equal(("/home/test/my-local-deploy", "/home/test/my-local-deploy/my-local-data", "/home/test/my-local-deploy/my-local-log"), (tikv[0].DeployDir, tikv[0].DataDir, tikv[0].LogDir));
            Assert.Equal(("/home/test/deploy/tikv-20161", "/home/test/deploy/tikv-20161/my-global-data", "/home/test/deploy/tikv-20161/my-global-log"), (tikv[1].DeployDir, tikv[1].DataDir, tikv[1].LogDir));
        }

        [Fact]
        public void Should_Keep_Absolute_Global_Dirs_With_A_Role_Port_Subdirectory()
        {
            var topology = TopologyLoader.Parse("""
                global:
                  deploy_dir: /tidb-deploy
                  data_dir: /tidb-data
                  log_dir: /tidb-log
                pd_servers:
                  - host: 10.0.1.11
                """, "topology.yaml");
            var pd = topology.OfRole(Roles.Pd)[0];

            Assert.Equal(("/tidb-deploy/pd-2379", "/tidb-data/pd-2379", "/tidb-log/pd-2379"), (pd.DeployDir, pd.DataDir, pd.LogDir));
            Assert.Equal(("/tidb-deploy/monitor-9100", "/tidb-data/monitor-9100", "/tidb-deploy/monitor-9100/log"), (topology.Monitored.DeployDir, topology.Monitored.DataDir, topology.Monitored.LogDir));
        }

        [Theory]
        [InlineData("data_dir: /ssd0/tiflash", "/ssd0/tiflash")]
        [InlineData("data_dir: /ssd0/tiflash,/ssd1/tiflash,/ssd2/tiflash\n    config:\n      storage.main.dir: [/ssd0/tiflash, /ssd1/tiflash, /ssd2/tiflash]\n      storage.latest.dir: [/ssd0/tiflash, /ssd1/tiflash, /ssd2/tiflash]", "/ssd0/tiflash,/ssd1/tiflash,/ssd2/tiflash")]
        [InlineData("data_dir: /hdd0/tiflash\n    config:\n      storage.main.dir: [/ssd0/tiflash, /ssd1/tiflash, /ssd2/tiflash]", "/ssd0/tiflash,/ssd1/tiflash,/ssd2/tiflash")]
        [InlineData("data_dir: /ssd0/tiflash\n    config:\n      storage.main.dir: [/hdd0/tiflash, /hdd1/tiflash, /hdd2/tiflash]\n      storage.latest.dir: [/ssd0/tiflash, /ssd1/tiflash, /ssd2/tiflash, /hdd0/tiflash]", "/ssd0/tiflash,/hdd0/tiflash,/hdd1/tiflash,/hdd2/tiflash,/ssd1/tiflash,/ssd2/tiflash")]
        [InlineData("data_dir: /hhd0/tiflash\n    config:\n      storage.main.dir: [/ssd0/tiflash]", "/ssd0/tiflash")]
        [InlineData("data_dir: /ssd0/tiflash\n    config:\n      storage.remote.dir: /tmp/tiflash/remote", "/ssd0/tiflash")]
        public void Should_Take_TiFlash_Data_Dirs_From_Its_Storage_Config(string fields, string expected)
        {
            var tiflash = Only($"tiflash_servers:\n  - host: 172.16.5.140\n    {fields}\n", Roles.TiFlash);

            Assert.Equal(expected, string.Join(',', tiflash.DataDirs));
            Assert.Equal("/home/tidb/deploy/tiflash-9000", tiflash.DeployDir);
        }
    }

    public sealed class TheStrictReader
    {
        [Fact]
        public void Should_Refuse_An_Unknown_Key_With_Its_Position_And_A_Suggestion()
        {
            // Given
            const string Yaml = "tikv_servers:\n  - host: 10.0.0.1\n    status_prot: 20180\n";

            // When
            var error = Assert.Throws<TopologyException>(() => TopologyLoader.Parse(Yaml, "topology.yaml"));

            // Then
            var d = Assert.Single(error.Diagnostics);
            Assert.Equal((TopologyErrors.UnknownKey, "topology.yaml", 3, 5), (d.Code, d.Location.File, d.Location.Line, d.Location.Column));
            Assert.Equal("topology.yaml:3:5: error[E1001]: unknown key \"status_prot\" in tikv_servers[0]", d.ToString());
            Assert.StartsWith("Did you mean \"status_port\"?", d.Hint, StringComparison.Ordinal);
        }

        [Theory]
        [InlineData("globals:\n  user: tidb\n", 1, 1, "unknown key \"globals\" in the topology")]
        [InlineData("global:\n  usr: tidb\n", 2, 3, "unknown key \"usr\" in global")]
        [InlineData("monitored:\n  node_exporter_version: v1.9.0\n  grafana_port: 3000\n", 3, 3, "unknown key \"grafana_port\" in monitored")]
        [InlineData("component_versions:\n  node_exporter: v1.9.0\n", 2, 3, "unknown key \"node_exporter\" in component_versions")]
        [InlineData("server_configs:\n  tidbb: {}\n", 2, 3, "unknown key \"tidbb\" in server_configs")]
        [InlineData("pd_servers:\n  - host: a\n    resource_control:\n      memory: 1G\n", 4, 7, "unknown key \"memory\" in pd_servers[0].resource_control")]
        [InlineData("tiproxy_servers:\n  - host: a\n    data_dir: /d\n", 3, 5, "unknown key \"data_dir\" in tiproxy_servers[0]")]
        public void Should_Refuse_Unknown_Keys_At_Every_Level(string yaml, int line, int column, string message)
        {
            var d = Assert.Single(Assert.Throws<TopologyException>(() => TopologyLoader.Parse(yaml, "t.yaml")).Diagnostics);

            Assert.Equal((TopologyErrors.UnknownKey, line, column, message), (d.Code, d.Location.Line, d.Location.Column, d.Message));
        }

        [Fact]
        public void Should_Refuse_A_Duplicate_Key_Naming_Both_Places()
        {
            var d = Assert.Single(Assert.Throws<TopologyException>(() => TopologyLoader.Parse("tikv_servers:\n  - host: a\n    port: 1\n    port: 2\n", "t.yaml")).Diagnostics);

            Assert.Equal((TopologyErrors.DuplicateKey, 4, 5), (d.Code, d.Location.Line, d.Location.Column));
            Assert.Equal("duplicate key \"port\" (first defined at line 3, column 5)", d.Message);
        }

        [Theory]
        [InlineData("tikv_servers:\n  - host: a\n    port: \"20160\"\n", 3, 11, "tikv_servers[0].port must be a whole number, not the quoted text \"20160\"")]
        [InlineData("tikv_servers:\n  - host: a\n    port: abc\n", 3, 11, "tikv_servers[0].port must be a whole number, not \"abc\"")]
        [InlineData("global:\n  enable_tls: maybe\n", 2, 15, "global.enable_tls must be true or false, not \"maybe\"")]
        [InlineData("tikv_servers:\n  host: a\n", 2, 3, "tikv_servers must be a list of instances ('- host: ...' lines), not a mapping")]
        [InlineData("tikv_servers:\n  - host: a\n    config: [1, 2]\n", 3, 13, "tikv_servers[0].config must be a mapping, not a list")]
        public void Should_Refuse_A_Value_Of_The_Wrong_Type(string yaml, int line, int column, string message)
        {
            var d = Assert.Single(Assert.Throws<TopologyException>(() => TopologyLoader.Parse(yaml, "t.yaml")).Diagnostics);

            Assert.Equal((TopologyErrors.BadValue, line, column, message), (d.Code, d.Location.Line, d.Location.Column, d.Message));
        }

        [Fact]
        public void Should_Report_A_Syntax_Error_With_Its_Position()
        {
            var d = Assert.Single(Assert.Throws<TopologyException>(() => TopologyLoader.Parse("tikv_servers:\n  - host: \"a\n", "t.yaml")).Diagnostics);

            Assert.Equal(TopologyErrors.BadValue, d.Code);
            Assert.StartsWith("t.yaml:2:", d.ToString(), StringComparison.Ordinal);
            Assert.StartsWith("YAML syntax error:", d.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("(Line:", d.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Should_Report_Every_Problem_In_File_Order()
        {
            // Given
            const string Yaml = """
                global:
                  user: Tidb
                tikv_servers:
                  - host: a
                    prot: 1
                  - host: a
                pd_servers:
                  - host: a
                    client_port: 20160
                """;

            // When
            var error = Assert.Throws<TopologyException>(() => TopologyLoader.Parse(Yaml, "t.yaml"));

            // Then: the unknown key stops the file before validation, as TiUP's decoder does.
            Assert.Equal(["t.yaml:5:5: error[E1001]: unknown key \"prot\" in tikv_servers[0]"], error.Diagnostics.Select(d => d.ToString()));
        }

        [Fact]
        public void Should_Read_A_Missing_File_As_A_Clear_Error()
        {
            var error = Assert.Throws<TopologyException>(() => TopologyLoader.Load("/nonexistent/topology.yaml"));

            Assert.Equal(TopologyErrors.ReadFailed, error.Code);
            Assert.Contains("\"/nonexistent/topology.yaml\"", error.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Should_Refuse_An_Empty_File_As_A_Cluster_Without_Instances()
        {
            var error = Assert.Throws<TopologyException>(() => TopologyLoader.Parse(string.Empty, "empty.yaml"));

            Assert.Equal("empty.yaml:1:1: error[E1035]: the topology declares no instance", Assert.Single(error.Diagnostics).ToString());
        }
    }
}
