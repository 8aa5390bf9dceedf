// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;
using Tug.Core.Planning;
using Tug.Core.Remote;
using Tug.Core.Tests.Infrastructure;
using Tug.Core.Topology;
using Tug.Testing;

namespace Tug.Core.Tests.Model;

/// <summary>
/// Issue 11, item 1: every value that reaches a run script, a unit or a root script is checked before any host is
/// touched. Each case goes through the deploy planner with a fake connector and package source, and is refused with
/// its code at the value's file:line:column, with no connection, no package asked for and nothing written.
/// </summary>
public sealed class TopologySafetyTests
{
    private const string Hostile = "$(touch /tmp/x)";

    /// <summary>One bad value per family: (topology, code, line, column, part of the message).</summary>
    public static TheoryData<string, string, int, int, string> Cases()
    {
        var data = new TheoryData<string, string, int, int, string>();

        // Hosts: quote, double quote, ';', $(...), backtick, newline, space, and what is not an IP or a DNS name.
        foreach (var (host, why) in new[]
        {
            ("\"10.0.0.1'\"", "not an IP address or a DNS name"),
            ("'10.0.0.1\"'", "not an IP address or a DNS name"),
            ("\"10.0.0.1;id\"", "not an IP address or a DNS name"),
            ($"\"{Hostile}\"", "not an IP address or a DNS name"),
            ("\"`id`.example\"", "not an IP address or a DNS name"),
            ("\"a.example\\nExecStartPre=+/bin/sh\"", "a.example\\nExecStartPre"),
            ("\"a example\"", "label \"a example\""),
            ("\"-a.example\"", "label \"-a\""),
            ("a..example", "empty label"),
            ("under_score.example", "label \"under_score\""),
            ("010.0.0.1", "leading zero"),
            ("127.1", "four decimal numbers"),
            ("0x7f.0.0.1", "four decimal numbers"),
            ("256.0.0.1", "four decimal numbers"),
            ("fe80::1%eth0", "not an IPv6 address"),
            ("\"[::1]\"", "not an IPv6 address"),
        })
        {
            data.Add($"etcd_servers:\n  - host: {host}\n", TopologyErrors.BadHost, 2, 11, why);
        }

        data.Add("etcd_servers:\n  - host: 10.0.0.1\n    manage_host: \"a;b\"\n", TopologyErrors.BadHost, 3, 18, "manage_host");
        data.Add("etcd_servers:\n  - host: 10.0.0.1\n    listen_host: \"0.0.0.0 ;\"\n", TopologyErrors.BadHost, 3, 18, "listen_host");
        data.Add("global:\n  listen_host: \"`id`\"\netcd_servers:\n  - host: 10.0.0.1\n", TopologyErrors.BadHost, 2, 16, "global.listen_host");
        data.Add("monitoring_servers:\n  - host: 10.0.0.1\n    external_alertmanagers:\n      - host: \"a;b\"\n", TopologyErrors.BadHost, 4, 15, "external_alertmanagers[0].host");
        data.Add("etcd_servers:\n  - host: A.example\n  - host: a.example\n    client_port: 2381\n    peer_port: 2382\n", TopologyErrors.BadHost, 3, 11, "written another way");

        // Every system directory, as a deploy dir.
        foreach (var dir in new[] { "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/var/lib", "/var/log" })
        {
            data.Add($"etcd_servers:\n  - host: 10.0.0.1\n    deploy_dir: {dir}\n", TopologyErrors.ForbiddenDirectory, 3, 17, $"is \"{dir}\", a system directory");
        }

        // Inside each system tree, through each kind of directory.
        foreach (var (field, dir) in new[]
        {
            ("deploy_dir", "/usr/local/tidb"), ("data_dir", "/etc/tidb"), ("log_dir", "/proc/1"), ("data_dir", "/sys/x"), ("log_dir", "/dev/shm/x"),
            ("deploy_dir", "/boot/x"), ("deploy_dir", "/bin/x"), ("data_dir", "/sbin/x"), ("log_dir", "/lib/x"), ("data_dir", "/lib64/x"),
        })
        {
            data.Add($"etcd_servers:\n  - host: 10.0.0.1\n    {field}: {dir}\n", TopologyErrors.ForbiddenDirectory, 3, field.Length + 7, $"{field} is \"{dir}\", inside the system directory /{dir.Split('/')[1]}");
        }

        // Directories that are not clean absolute paths of safe characters.
        foreach (var (field, dir, why) in new[]
        {
            ("deploy_dir", "../../../etc", "is \"/etc\", a system directory"),
            ("data_dir", "/data/../etc", "not normalised (it has a '..' part)"),
            ("data_dir", "/data/./pd", "not normalised (it has a '.' part)"),
            ("log_dir", "/data//pd", "not normalised (it has '//')"),
            ("deploy_dir", "\"/data/pd'\"", "has characters other than"),
            ("deploy_dir", "'/data/pd\"x'", "has characters other than"),
            ("deploy_dir", "\"/data/pd;id\"", "has characters other than"),
            ("data_dir", $"\"/data/{Hostile}\"", "has characters other than"),
            ("log_dir", "\"/data/`id`\"", "has characters other than"),
            ("deploy_dir", "\"/data/pd\\nExecStartPre=+/bin/sh -c id\"", "/data/pd\\nExecStartPre"),
            ("data_dir", "\"/data/a b\"", "has characters other than"),
        })
        {
            data.Add($"etcd_servers:\n  - host: 10.0.0.1\n    {field}: {dir}\n", dir.Contains("../../", StringComparison.Ordinal) ? TopologyErrors.ForbiddenDirectory : TopologyErrors.BadDirectory, 3, field.Length + 7, why);
        }

        // TiFlash's comma lists are split first; global and monitored dirs are checked after expansion, pointed at where they are written.
        data.Add("tiflash_servers:\n  - host: 10.0.0.1\n    data_dir: /data1/tiflash,/etc/tiflash\n", TopologyErrors.ForbiddenDirectory, 3, 15, "data_dir is \"/etc/tiflash\"");
        data.Add("tiflash_servers:\n  - host: 10.0.0.1\n    data_dir: \"/data1/tiflash,/data2/x;id\"\n", TopologyErrors.BadDirectory, 3, 15, "\"/data2/x;id\"");
        data.Add("global:\n  deploy_dir: /usr\netcd_servers:\n  - host: 10.0.0.1\n", TopologyErrors.ForbiddenDirectory, 2, 15, "is \"/usr/etcd-2379\", inside the system directory /usr");
        data.Add("global:\n  data_dir: \"/data/$(id)\"\netcd_servers:\n  - host: 10.0.0.1\n", TopologyErrors.BadDirectory, 2, 13, "global.data_dir");
        data.Add("monitored:\n  deploy_dir: /etc/monitor\netcd_servers:\n  - host: 10.0.0.1\n", TopologyErrors.ForbiddenDirectory, 2, 15, "monitored.deploy_dir is \"/etc/monitor\"");

        // Nesting: inside another instance's directory on the same machine (the agents' shared monitor dir aside).
        data.Add("etcd_servers:\n  - host: 10.0.0.1\n    deploy_dir: /data/etcd\n  - host: 10.0.0.1\n    client_port: 2381\n    peer_port: 2382\n    deploy_dir: /data/etcd/inner\n",
            TopologyErrors.NestedDirectory, 7, 17, "is inside etcd_servers[0].deploy_dir \"/data/etcd\"");
        data.Add("global:\n  deploy_dir: /data\netcd_servers:\n  - host: 10.0.0.1\n    deploy_dir: /data/monitor-9100/etcd\n",
            TopologyErrors.NestedDirectory, 5, 17, "is inside monitored.deploy_dir \"/data/monitor-9100\"");
        data.Add("etcd_servers:\n  - host: 10.0.0.1\n    log_dir: /logs/etcd\n  - host: 10.0.0.1\n    client_port: 2381\n    peer_port: 2382\n    log_dir: /logs/etcd\n",
            TopologyErrors.NestedDirectory, 7, 14, "is also etcd_servers[0].log_dir");

        // One address, two spellings: the same host for port and directory conflicts.
        data.Add("etcd_servers:\n  - host: 127.0.0.1\n  - host: 127.000.000.001\n", TopologyErrors.PortConflict, 3, 5, "port 2379 on host \"127.0.0.1\"");
        data.Add("etcd_servers:\n  - host: fd00::1\n    deploy_dir: /data/a\n  - host: FD00:0:0::1\n    client_port: 2381\n    peer_port: 2382\n    deploy_dir: /data/a\n", TopologyErrors.DirectoryConflict, 7, 17, "directory \"/data/a\" on host \"fd00::1\"");

        // No instance at all.
        data.Add("global:\n  user: tidb\n", TopologyErrors.NoInstances, 1, 1, "declares no instance");

        // Shaped values rendered into run scripts and units.
        foreach (var (section, line, why) in new[]
        {
            ("etcd_servers", "numa_node: \"0;id\"", "numa_node \"0;id\" is not a NUMA node list"),
            ("etcd_servers", $"numa_node: \"{Hostile}\"", "is not a NUMA node list"),
            ("tikv_servers", "numa_cores: \"0-3 `id`\"", "numa_cores"),
            ("etcd_servers", "name: \"m'1\"", "name \"m'1\" is not a member name"),
            ("pd_servers", "name: \"pd 1\"", "is not a member name"),
            ("etcd_servers", "name: \"a=http://evil:2380,b\"", "is not a member name"),
            ("etcd_servers", "resource_control: {memory_limit: \"2G\\nExecStartPre=+/bin/sh -c id\"}", "memory_limit \"2G\\nExecStartPre=+/bin/sh -c id\" is not a size"),
            ("etcd_servers", "resource_control: {memory_limit: 2 GB}", "memory_limit \"2 GB\" is not a size"),
            ("etcd_servers", "resource_control: {cpu_quota: \"200%;id\"}", "cpu_quota \"200%;id\" is not a percentage"),
            ("etcd_servers", "resource_control: {io_read_bandwidth_max: /dev/sda}", "io_read_bandwidth_max \"/dev/sda\" is not a device path and a rate"),
            ("etcd_servers", "resource_control: {io_write_bandwidth_max: \"/dev/sda 100M\\nUser=root\"}", "io_write_bandwidth_max"),
            ("etcd_servers", "resource_control: {limit_core: \"$(id)\"}", "limit_core"),
            ("etcd_servers", "resource_control: {timeout_stop_sec: \"90s\\nExecStopPost=+/bin/sh\"}", "timeout_stop_sec"),
            ("etcd_servers", "resource_control: {timeout_start_sec: \"1;id\"}", "timeout_start_sec"),
            ("monitoring_servers", $"additional_args: [\"--x={Hostile}\"]", "additional_args[0]"),
            ("alertmanager_servers", "additional_args: [\"--a b\"]", "additional_args[0]"),
            ("monitoring_servers", "additional_args: [\"'--q'\"]", "additional_args[0]"),
            ("monitoring_servers", "storage_retention: \"15d\\nExecStartPre=+/bin/sh\"", "storage_retention \"15d\\nExecStartPre=+/bin/sh\" is not a single line"),
            ("cdc_servers", "tz: \"UTC;id\"", "tz \"UTC;id\" is not a time zone"),
            ("cdc_servers", "ticdc_cluster_id: \"a b\"", "ticdc_cluster_id"),
            ("tikv_servers", "advertise_addr: \"h:20160;id\"", "advertise_addr"),
            ("pd_servers", "advertise_client_addr: \"http://a:2379'\"", "advertise_client_addr"),
            ("tidb_servers", "advertise_address: \"a\\\"b\"", "advertise_address"),
            ("etcd_servers", "arch: \"amd64;id\"", "arch"),
        })
        {
            data.Add($"{section}:\n  - host: 10.0.0.1\n    {line}\n", TopologyErrors.BadShape, 3, ValueColumn(line), why);
        }

        data.Add("global:\n  resource_control:\n    memory_limit: \"1G;id\"\netcd_servers:\n  - host: 10.0.0.1\n", TopologyErrors.BadShape, 3, 19, "global.resource_control.memory_limit");
        data.Add("monitored:\n  numa_node: \"0\\nUser=root\"\netcd_servers:\n  - host: 10.0.0.1\n", TopologyErrors.BadShape, 2, 14, "monitored.numa_node \"0\\nUser=root\"");
        data.Add("component_versions:\n  etcd: v3.5/../../x\netcd_servers:\n  - host: 10.0.0.1\n", TopologyErrors.BadShape, 2, 9, "component_versions.etcd");
        data.Add("monitored:\n  node_exporter_version: \"v1.9.0;id\"\netcd_servers:\n  - host: 10.0.0.1\n", TopologyErrors.BadShape, 2, 26, "monitored.node_exporter_version");
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Should_Refuse_Before_Any_Host_Or_File_Is_Touched(string yaml, string code, int line, int column, string message)
    {
        // Given a topology holding one bad value, and a planner whose hosts, packages and state directory record any use
        var root = Directory.CreateTempSubdirectory("tug-safety-").FullName;
        try
        {
            var file = Path.Combine(root, "t.yaml");
            await File.WriteAllTextAsync(file, yaml, TestContext.Current.CancellationToken);
            var clusters = Path.Combine(root, "clusters");
            var connector = new FakeRemoteConnector();
            var packages = new RecordingPackages();
            var store = new ClusterStore(clusters, TimeProvider.System);
            var planner = new TopologyPlanner(store, packages, new Tug.Core.Inspection.Preflight(store, TimeProvider.System));

            // When deploy is planned
            var error = await Assert.ThrowsAsync<TopologyException>(() => planner.DeployAsync(
                new DeployRequest("c1", "v3.4.23", file, "root", new PasswordCredential(new Secret("x"))),
                new Reach(connector, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 1),
                TestContext.Current.CancellationToken));

            // Then the value is refused where it is written, with a hint, and nothing was contacted, asked for or written
            var found = error.Diagnostics.FirstOrDefault(d => d.Code == code && d.Location == new SourceLocation(file, line, column) && d.Message.Contains(message, StringComparison.Ordinal));
            Assert.True(found is not null, $"expected {code} at {line}:{column} saying '{message}', got:\n{string.Join("\n", error.Diagnostics)}");
            Assert.NotEmpty(found.Hint);
            Assert.Equal(2, error.ExitCode);
            Assert.All(error.Diagnostics, d => Assert.DoesNotContain('\n', d.Message));
            Assert.Empty(connector.Connections);
            Assert.Equal(0, packages.Calls);
            Assert.False(Directory.Exists(clusters));
            Assert.Equal(["t.yaml"], Directory.GetFileSystemEntries(root).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("127.000.000.001", "127.0.0.1")]
    [InlineData("10.0.0.07", "10.0.0.7")]
    [InlineData("FD00:0:0::1", "fd00::1")]
    [InlineData("::FFFF:127.0.0.1", "::ffff:127.0.0.1")]
    [InlineData("Db-1.Example", "Db-1.Example")]
    public void Should_Store_An_IP_Address_In_Its_Canonical_Form(string written, string stored)
    {
        var topology = TopologyLoader.Parse($"etcd_servers:\n  - host: \"{written}\"\n", "t.yaml");

        var etcd = topology.OfRole(Roles.Etcd)[0];
        Assert.Equal(stored, etcd.Host);
        Assert.Equal(stored, etcd.ManageHost);
        Assert.Equal(HostPort.Join(stored, 2379), etcd.Id);
        Assert.All(topology.Instances, i => Assert.Equal(stored, i.Host));
    }

    [Fact]
    public void Should_Compare_An_IPv4_Mapped_Address_As_Its_IPv4_Address() =>
        Assert.Equal(HostNames.Key("127.0.0.1"), HostNames.Key("::ffff:127.0.0.1"));

    [Fact]
    public void Should_Accept_Every_Tiup_Fixture() =>
        Assert.All(Topologies.TiupFixtureFiles().Where(f => !f.EndsWith("full_scale_in_tispark.yaml", StringComparison.Ordinal)),
            f => Assert.NotEmpty(TopologyLoader.Load(f).Instances));

    [Fact]
    public void Should_Accept_The_Shapes_Tiup_Documents()
    {
        var topology = TopologyLoader.Parse("""
            global:
              resource_control:
                memory_limit: 2G
                cpu_quota: 200%
                io_read_bandwidth_max: /dev/disk/by-path/pci-0000:00:1f.2-scsi-0:0:0:0 100M
                limit_core: infinity
                timeout_stop_sec: 5min 20s
            pd_servers:
              - host: 10.0.0.1
                name: pd-1
                numa_node: "0,1"
                advertise_client_addr: http://pd1.example:2379
            tikv_servers:
              - host: tikv-1.example
                numa_node: "0"
                numa_cores: 0-3,8
                advertise_addr: "[fd00::5]:20160"
            cdc_servers:
              - host: 10.0.0.1
                tz: Asia/Shanghai
                ticdc_cluster_id: cluster-1
            monitoring_servers:
              - host: 10.0.0.1
                additional_args: [--web.enable-lifecycle, --query.timeout=2m, --web.route-prefix=/prometheus]
            """, "t.yaml");

        Assert.Equal(6, topology.Servers.Count() + topology.OfRole(Roles.NodeExporter).Length);
    }

    [Theory]
    [InlineData("host: 10.0.0.1", "host: \"10.0.0.1;touch /tmp/x\"", TopologyErrors.BadHost)]
    [InlineData("deploy_dir: /home/tidb/deploy/etcd-2379", "deploy_dir: /usr", TopologyErrors.ForbiddenDirectory)]
    [InlineData("data_dir: /home/tidb/deploy/etcd-2379/data", "data_dir: \"/data/$(touch /tmp/x)\"", TopologyErrors.BadDirectory)]
    [InlineData("user: tidb", "user: \"tidb;id\"", TopologyErrors.BadUser)]
    [InlineData("tidb_version: v3.4.23", "tidb_version: \"v3.4.23\\\"; id\"", TopologyErrors.BadShape)]
    [InlineData("host: 10.0.0.1", "host: \"10.0.0.1\\nExecStartPre=+/bin/sh\"", TopologyErrors.BadHost)]
    public void Should_Refuse_A_Hand_Edited_Meta_That_Smuggles_A_Value(string from, string to, string code)
    {
        // Given the meta.yaml of a valid cluster, edited by hand
        var meta = new ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = TopologyLoader.Parse("etcd_servers:\n  - host: 10.0.0.1\n", "t.yaml") };
        var yaml = ClusterMetaSerializer.Serialize(meta);
        Assert.Contains(from, yaml, StringComparison.Ordinal);
        var edited = yaml.Replace(from, to, StringComparison.Ordinal);
        var at = edited.Split('\n').Select((l, i) => (Line: i + 1, Column: l.IndexOf(to, StringComparison.Ordinal))).First(p => p.Column >= 0);

        // When it is read, then it is refused at the edited value
        var error = Assert.Throws<TopologyException>(() => ClusterMetaSerializer.Deserialize(edited, "meta.yaml"));
        Assert.Contains(error.Diagnostics, d => d.Code == code && d.Location == new SourceLocation("meta.yaml", at.Line, at.Column + to.IndexOf(':', StringComparison.Ordinal) + 3));
    }

    [Fact]
    public void Should_Name_A_Hostile_Host_Once_Not_Again_Through_The_Member_Name_Made_From_It()
    {
        var error = Assert.Throws<TopologyException>(() => TopologyLoader.Parse("etcd_servers:\n  - host: \"10.0.0.1;reboot\"\n", "t.yaml"));

        var only = Assert.Single(error.Diagnostics);
        Assert.Equal(TopologyErrors.BadHost, only.Code);
        Assert.Equal("t.yaml:2:11", only.Location.ToString());
    }

    [Fact]
    public void Should_Refuse_A_Scale_Out_Part_With_A_Hostile_Value()
    {
        var cluster = TopologyLoader.Parse("etcd_servers:\n  - host: 10.0.0.1\n", "t.yaml");

        var error = Assert.Throws<TopologyException>(() => TopologyLoader.ParseScaleOut("etcd_servers:\n  - host: 10.0.0.2\n    deploy_dir: /etc/etcd\n", "more.yaml", cluster));

        Assert.Equal("more.yaml:3:17: error[E1032]: etcd_servers[0].deploy_dir is \"/etc/etcd\", inside the system directory /etc", error.Diagnostics[0].ToString());
    }

    /// <summary>The 1-based column of the value in an instance field line (indented 4): after "key: ", inside "{k: v}", or the first item of "[...]".</summary>
    private static int ValueColumn(string line)
    {
        var at = line.Contains(": {", StringComparison.Ordinal) ? line.IndexOf(": ", line.IndexOf('{', StringComparison.Ordinal), StringComparison.Ordinal) + 2
            : line.Contains(": [", StringComparison.Ordinal) ? line.IndexOf('[', StringComparison.Ordinal) + 1
            : line.IndexOf(": ", StringComparison.Ordinal) + 2;
        return 4 + at + 1;
    }

    private sealed class RecordingPackages : IPackageSource
    {
        public int Calls { get; private set; }

        public Task<ResolvedPackage> GetAsync(string component, string? version, string platform, CancellationToken cancellationToken)
        {
            Calls++;
            throw new InvalidOperationException("no package may be asked for");
        }
    }
}
