// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text;
using Tug.Core.Inspection;
using Tug.Core.Remote;
using Tug.Core.Tests.Infrastructure;
using Tug.Core.Topology;

namespace Tug.Core.Tests.Inspection;

/// <summary>The preflight's reading of the host script's output, and its judgements: ports, directories, other clusters, kernel, limits.</summary>
public sealed class PreflightRulesTests
{
    private static readonly Topology.Topology Etcd = Topologies.Etcd;

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    /// <summary>Script output for one host: sockets (ss lines), then any extra lines.</summary>
    private static HostFacts Facts(IEnumerable<string> sockets, params string[] extra) =>
        PreflightRules.Parse(HostReply.Parse(string.Join('\n', sockets.Select(s => $"TUG|pf|socket|{B64(s)}").Concat(extra))));

    private static HostPlan Plan(string host, IEnumerable<InstanceSpec>? own = null) => HostPlan.For(host, "tidb", Etcd.Instances, own ?? []);

    public sealed class TheParseMethod
    {
        [Fact]
        public void Should_Read_Every_Fact_The_Script_Prints()
        {
            // Given
            var stdout = string.Join('\n',
                "noise before",
                $"TUG|pf|os|{B64("debian")}|{B64("12")}|{B64("Debian GNU/Linux 12 (bookworm)")}",
                "TUG|pf|virt|systemd-nspawn",
                $"TUG|pf|socket|{B64("LISTEN 0      5            0.0.0.0:9100      0.0.0.0:*    users:((\"python3\",pid=4242,fd=3))")}",
                $"TUG|pf|socket|{B64("LISTEN 0 128 [::]:22 [::]:*")}",
                "TUG|pf|proc|4242|squat.service",
                $"TUG|pf|dir|{B64("/tidb-data/etcd-2379")}|nonempty|tidb|81638364|{B64("/")}",
                "TUG|pf|sysctl|vm.swappiness|60|0",
                "TUG|pf|sysctl|net.ipv4.tcp_tw_recycle|-|0",
                $"TUG|pf|limit|{B64("tidb soft nofile 1000000")}|{B64("/etc/security/limits.d/x.conf")}",
                $"TUG|pf|thp|{B64("always [madvise] never")}|0",
                "TUG|pf|swap|2048",
                "TUG|pf|service|firewalld|1|active",
                "TUG|pf|ntp|no",
                $"TUG|pf|applied|{B64("20261203T000000.0000000Z.json")}",
                "TUG|pf|user|1");

            // When
            var facts = PreflightRules.Parse(HostReply.Parse(stdout));

            // Then
            Assert.Equal(("debian", "12", "Debian GNU/Linux 12 (bookworm)"), (facts.OsId, facts.OsVersion, facts.OsName));
            Assert.True(facts.InContainer);
            Assert.Equal([new ListeningSocket("0.0.0.0", 9100, 4242, "python3", "squat.service"), new ListeningSocket("[::]", 22, 0, string.Empty, string.Empty)], facts.Sockets);
            Assert.Equal([new DirFact("/tidb-data/etcd-2379", "nonempty", "tidb", 81638364, "/")], facts.Dirs);
            Assert.Equal([new SysctlFact("vm.swappiness", "60", false), new SysctlFact("net.ipv4.tcp_tw_recycle", null, false)], facts.Sysctls);
            Assert.Equal(["tidb soft nofile 1000000"], facts.Limits);
            Assert.Equal(("always [madvise] never", false), (facts.Thp, facts.ThpWritable));
            Assert.Equal(2048, facts.SwapKib);
            Assert.Equal([new ServiceFact("firewalld", true, "active")], facts.Services);
            Assert.Equal("no", facts.NtpSynchronized);
            Assert.Equal(["20261203T000000.0000000Z.json"], facts.Applied);
            Assert.True(facts.UserExists);
        }

        [Theory]
        [InlineData("LISTEN 0 4096 127.0.0.1:2379 0.0.0.0:* users:((\"etcd\",pid=77,fd=7))", "127.0.0.1", 2379, 77, "etcd")]
        [InlineData("LISTEN 0 4096 [::ffff:10.0.0.1]:9115 [::]:* users:((\"blackbox_export\",pid=9,fd=3),(\"blackbox_export\",pid=9,fd=4))", "[::ffff:10.0.0.1]", 9115, 9, "blackbox_export")]
        [InlineData("LISTEN 0 5 *:9100 *:*", "*", 9100, 0, "")]
        public void Should_Read_An_Ss_Line(string line, string address, int port, int pid, string process)
        {
            Assert.Equal(new ListeningSocket(address, port, pid, process, string.Empty), PreflightRules.ParseSocket(line));
        }

        [Theory]
        [InlineData("State Recv-Q Send-Q Local Peer")]
        [InlineData("ESTAB 0 0 10.0.0.1:22 10.0.0.9:5555")]
        [InlineData("LISTEN 0 5 nonsense *:*")]
        [InlineData("")]
        public void Should_Skip_What_Is_Not_A_Listening_Socket(string line)
        {
            Assert.Null(PreflightRules.ParseSocket(line));
        }
    }

    public sealed class TheConflictsMethod
    {
        [Fact]
        public void Should_Name_The_Process_And_Pid_Holding_A_Planned_Exporter_Port()
        {
            // Given python3 listening on node_exporter's port of 10.0.0.1
            var facts = Facts(["LISTEN 0 5 0.0.0.0:9100 0.0.0.0:* users:((\"python3\",pid=4242,fd=3))"], "TUG|pf|proc|4242|squat.service");

            // When
            var findings = PreflightRules.Conflicts(Plan("10.0.0.1"), facts);

            // Then that port fails, naming who needs it and who holds it; the others (blackbox's 9115 too) pass
            var fail = Assert.Single(findings, f => f.Verdict == CheckVerdict.Fail);
            Assert.Equal(("10.0.0.1", PreflightRules.PortCheck), (fail.Host, fail.Check));
            Assert.Equal("port 9100, needed by node_exporter 10.0.0.1:9100 (node_exporter_port), is in use by python3 (pid 4242, unit squat.service)", fail.Message);
            var free = Assert.Single(findings, f => f.Check == PreflightRules.PortCheck && f.Verdict == CheckVerdict.Pass);
            Assert.Contains("2379", free.Message, StringComparison.Ordinal);
            Assert.Contains("9115", free.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("9100", free.Message, StringComparison.Ordinal);
            Assert.True(fail.IsConflict);
        }

        [Fact]
        public void Should_Not_Count_A_Port_Held_By_The_Clusters_Own_Unit()
        {
            // Given the cluster's own node_exporter holding 9100
            var facts = Facts(["LISTEN 0 5 *:9100 *:* users:((\"node_exporter\",pid=10,fd=3))"], "TUG|pf|proc|10|node_exporter-9100.service");

            // When
            var findings = PreflightRules.Conflicts(Plan("10.0.0.1", Etcd.Instances), facts);

            // Then
            Assert.DoesNotContain(findings, f => f.Verdict == CheckVerdict.Fail);
            Assert.Contains(findings, f => f.Message == "port 9100 is held by this cluster's node_exporter-9100.service");
        }

        [Fact]
        public void Should_Fail_A_Port_Held_By_Another_Unit_Even_For_A_Deployed_Cluster()
        {
            var facts = Facts(["LISTEN 0 5 *:2379 *:* users:((\"etcd\",pid=11,fd=3))"], "TUG|pf|proc|11|etcd-other.service");

            var findings = PreflightRules.Conflicts(Plan("10.0.0.1", Etcd.Instances), facts);

            Assert.Contains(findings, f => f.Verdict == CheckVerdict.Fail && f.Message.EndsWith("is in use by etcd (pid 11, unit etcd-other.service)", StringComparison.Ordinal));
        }

        [Fact]
        public void Should_Fail_A_Non_Empty_Directory_Unless_It_Is_The_Clusters_Own()
        {
            // Given the etcd data directory of 10.0.0.1 holding files
            var etcd = Etcd.Instances.First(i => i.Role == Roles.Etcd && i.ManageHost == "10.0.0.1");
            var facts = Facts([], $"TUG|pf|dir|{B64(etcd.DataDir)}|nonempty|root|100|{B64("/")}");

            // When it is planned new, and when it is the cluster's own
            var fresh = PreflightRules.Conflicts(Plan("10.0.0.1"), facts);
            var own = PreflightRules.Conflicts(Plan("10.0.0.1", [etcd]), facts);

            // Then
            var fail = Assert.Single(fresh, f => f.Verdict == CheckVerdict.Fail);
            Assert.Equal($"{etcd.DataDir}, the etcd {etcd.Id} (data_dir), exists and is not empty (owner root)", fail.Message);
            Assert.DoesNotContain(own, f => f.Verdict == CheckVerdict.Fail);
        }
    }

    public sealed class TheClusterConflictsMethod
    {
        [Fact]
        public void Should_Name_The_Other_Cluster_Sharing_A_Port_Or_Directory_On_The_Same_Host()
        {
            // Given another cluster with an etcd on 10.0.0.1 at the same port, and one whose deploy dir holds ours
            var etcd = Etcd.Instances.First(i => i.Role == Roles.Etcd && i.ManageHost == "10.0.0.1");
            var samePort = etcd with { DeployDir = "/elsewhere/etcd", DataDirs = ["/elsewhere/data"], LogDir = "/elsewhere/log" };
            var around = etcd with { Ports = [new NamedPort("client_port", 12379)], MainPort = 12379, DeployDir = Path.GetDirectoryName(etcd.DeployDir)!, DataDirs = [], LogDir = string.Empty };
            var otherHost = etcd with { Host = "10.9.9.9", ManageHost = "10.9.9.9" };

            // When
            var findings = PreflightRules.ClusterConflicts("mine", [etcd], [("a", [samePort]), ("b", [around]), ("c", [otherHost]), ("mine", [etcd])]);

            // Then
            Assert.All(findings, f => Assert.Equal(CheckVerdict.Fail, f.Verdict));
            Assert.Contains(findings, f => f.Check == PreflightRules.ClusterPortCheck && f.Message.Contains("cluster 'a'", StringComparison.Ordinal) && f.Message.StartsWith($"port {etcd.MainPort}", StringComparison.Ordinal));
            Assert.Contains(findings, f => f.Check == PreflightRules.ClusterDirCheck && f.Message.Contains("cluster 'b'", StringComparison.Ordinal));
            Assert.DoesNotContain(findings, f => f.Message.Contains("cluster 'c'", StringComparison.Ordinal) || f.Message.Contains("cluster 'mine'", StringComparison.Ordinal));
            Assert.DoesNotContain(findings, f => f.Check == PreflightRules.ClusterDirCheck && f.Message.Contains("cluster 'a'", StringComparison.Ordinal));
        }

        [Theory]
        [InlineData("/tidb-deploy/etcd-2379", "/tidb-deploy/etcd-2379", true)]
        [InlineData("/tidb-deploy/etcd-2379", "/tidb-deploy", true)]
        [InlineData("/tidb-deploy/", "/tidb-deploy/etcd-2379/log", true)]
        [InlineData("/tidb-deploy/etcd-2379", "/tidb-deploy/etcd-23790", false)]
        [InlineData("/tidb-deploy/etcd-2379", "/tidb-deploy/node_exporter-9100", false)]
        public void Should_Overlap_Only_The_Same_Directory_Or_One_Inside_The_Other(string a, string b, bool overlap)
        {
            Assert.Equal(overlap, PreflightRules.Overlap(a, b));
            Assert.Equal(overlap, PreflightRules.Overlap(b, a));
        }
    }

    public sealed class TheJudgeMethod
    {
        [Fact]
        public void Should_Offer_A_Fix_Only_For_What_The_Host_Lets_Root_Change()
        {
            // Given a container where net.core.somaxconn (per network namespace) is writable and vm.swappiness is not
            var facts = Facts([], "TUG|pf|virt|systemd-nspawn", "TUG|pf|sysctl|net.core.somaxconn|4096|1", "TUG|pf|sysctl|vm.swappiness|60|0", $"TUG|pf|thp|{B64("[always] madvise never")}|0", "TUG|pf|swap|1024");

            // When
            var findings = PreflightRules.Judge(Plan("10.0.0.1"), facts);

            // Then
            var somaxconn = Assert.Single(findings, f => f.Message.StartsWith("net.core.somaxconn", StringComparison.Ordinal));
            Assert.Equal(CheckVerdict.Fail, somaxconn.Verdict);
            Assert.Equal(new SysctlFix("net.core.somaxconn", "32768", "4096"), somaxconn.Fix);
            foreach (var kernelwide in findings.Where(f => f.Message.StartsWith("vm.swappiness", StringComparison.Ordinal) || f.Check is PreflightRules.ThpCheck or PreflightRules.SwapCheck))
            {
                Assert.Equal(CheckVerdict.Warn, kernelwide.Verdict);
                Assert.Null(kernelwide.Fix);
                Assert.Contains("cannot be changed on this host", kernelwide.Message, StringComparison.Ordinal);
            }
        }

        [Fact]
        public void Should_Fail_Limits_Not_Set_For_The_Deploy_User_With_A_Fix()
        {
            var facts = Facts([], $"TUG|pf|limit|{B64("* soft nofile 1024")}|{B64("/etc/security/limits.conf")}", $"TUG|pf|limit|{B64("tidb - stack 10240")}|{B64("/etc/security/limits.conf")}");

            var limits = PreflightRules.Judge(Plan("10.0.0.1"), facts).Where(f => f.Check == PreflightRules.LimitsCheck).ToList();

            Assert.Equal(3, limits.Count);
            Assert.Equal(new LimitFix("tidb", "soft", "nofile", 1000000), Assert.Single(limits, l => l.Message.StartsWith("soft limit of 'nofile'", StringComparison.Ordinal)).Fix);
            Assert.Contains("1024, too low", limits[0].Message, StringComparison.Ordinal);
            Assert.Contains(limits, l => l.Message.StartsWith("hard limit of 'nofile'", StringComparison.Ordinal) && l.Message.Contains("not set", StringComparison.Ordinal));
            Assert.Contains(limits, l => l.Verdict == CheckVerdict.Pass && l.Message == "soft stack of 'tidb' is 10240");
        }

        [Theory]
        [InlineData("debian", "12", CheckVerdict.Warn)]
        [InlineData("debian", "9", CheckVerdict.Fail)]
        [InlineData("rocky", "9.2", CheckVerdict.Pass)]
        [InlineData("rhel", "10.0", CheckVerdict.Fail)]
        [InlineData("arch", "", CheckVerdict.Fail)]
        public void Should_Judge_The_Os_As_TiUP_Does(string id, string version, CheckVerdict verdict)
        {
            var facts = Facts([], $"TUG|pf|os|{B64(id)}|{B64(version)}|{B64("x")}");

            Assert.Equal(verdict, Assert.Single(PreflightRules.Judge(Plan("10.0.0.1"), facts), f => f.Check == PreflightRules.OsCheck).Verdict);
        }
    }

    public sealed class TheEffectiveLimitMethod
    {
        [Theory]
        [InlineData(new[] { "* soft nofile 10" }, 10L)]
        [InlineData(new[] { "tidb soft nofile 20", "* soft nofile 10" }, 20L)]
        [InlineData(new[] { "tidb soft nofile 20", "tidb - nofile 30" }, 30L)]
        [InlineData(new[] { "tidb hard nofile 20" }, null)]
        [InlineData(new[] { "other soft nofile 20" }, null)]
        [InlineData(new[] { "tidb soft nofile unlimited" }, long.MaxValue)]
        public void Should_Prefer_The_User_Then_The_Later_Line(string[] lines, long? expected)
        {
            Assert.Equal(expected, PreflightRules.EffectiveLimit(lines, "tidb", "soft", "nofile"));
        }
    }

    public sealed class TheMergeMethod
    {
        [Fact]
        public void Should_Replace_Lines_Of_The_Same_Key_And_Keep_The_Others()
        {
            var before = "# Written by tug cluster check --apply; `tug cluster check ... --revert` puts back what was here before.\nnet.core.somaxconn = 4096\nvm.max_map_count = 5\n";

            var after = Preflight.Merge(before, [("net.core.somaxconn", "net.core.somaxconn = 32768")]);

            Assert.Equal("# Written by tug cluster check --apply; `tug cluster check ... --revert` puts back what was here before.\nvm.max_map_count = 5\nnet.core.somaxconn = 32768\n", after);
        }
    }
}
