// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;
using System.Text;
using Tug.Core.Topology;

namespace Tug.Core.Components;

/// <summary>
/// The run scripts, in the exact shape of TiUP's <c>embed/templates/scripts/run_*.sh.tpl</c> (as rendered, with
/// Go template whitespace trimming applied), with one change: the executable is <c>bin/&lt;manifest entry&gt;</c>
/// instead of a path hard-coded per component. The exporters therefore lose TiUP's fallback to a flat
/// <c>bin/node_exporter</c>, which could start a stale binary left by an older package, except in TiUP's layout
/// (entry <c>node_exporter/node_exporter</c>, an imported cluster), where the script is TiUP's, fallback included.
/// </summary>
internal static class RunScripts
{
    private const string Banner = "# WARNING: This file was auto-generated. Do not edit!\n#          All your edit might be overwritten!\n";

    public static string NodeExporter(InstanceContext c)
    {
        var i = c.Instance;
        var sb = ExporterHead(c, "node_exporter");
        sb.Append(i.NumaNode.Length > 0 ? $"exec numactl --cpunodebind={i.NumaNode} --membind={i.NumaNode} $EXPORTER_BIN \\\n" : "exec $EXPORTER_BIN \\\n");
        sb.Append($"    --web.listen-address=\":{i.MainPort}\" \\\n");
        sb.Append("    --collector.tcpstat \\\n");
        sb.Append("    --collector.mountstats \\\n");
        sb.Append("    --collector.meminfo_numa \\\n");
        sb.Append("    --collector.buddyinfo \\\n");
        sb.Append("    --collector.vmstat.fields=\"^.*\" \\\n");
        sb.Append("    --log.level=\"info\"\n");
        sb.Append("    #--collector.systemd \\\n");
        sb.Append("    #--collector.interrupts \\\n");
        return sb.ToString();
    }

    public static string BlackboxExporter(InstanceContext c)
    {
        // TiUP never passes monitored.numa_node to the blackbox script.
        var sb = ExporterHead(c, "blackbox_exporter");
        sb.Append("exec $EXPORTER_BIN \\\n");
        sb.Append($"    --web.listen-address=\":{c.Instance.MainPort}\" \\\n");
        sb.Append("    --log.level=\"info\" \\\n");
        sb.Append("    --config.file=\"conf/blackbox.yml\"\n");
        return sb.ToString();
    }

    public static string Prometheus(InstanceContext c)
    {
        var i = c.Instance;
        var ngPort = i.Ports.FirstOrDefault(p => p.Name == "ng_port").Number;
        var args = i.Extras.GetStrings("additional_args");
        var agentMode = i.Extras.GetBool("enable_prom_agent_mode") || args.Contains("--enable-feature=agent");
        var retention = i.Extras.GetString("storage_retention_time") is { Length: > 0 } time ? time : i.Extras.GetString("storage_retention") ?? string.Empty;
        var retentionSize = i.Extras.GetString("storage_retention_size") ?? string.Empty;

        var sb = new StringBuilder("#!/bin/bash\nset -e\n\n");
        sb.Append($"DEPLOY_DIR={i.DeployDir}\n");
        sb.Append("cd \"${DEPLOY_DIR}\" || exit 1\n\n");
        sb.Append(Banner).Append('\n');
        sb.Append("if [ -e \"bin/ng-monitoring-server\" ]; then\n");
        sb.Append("echo \"#!/bin/bash\n\n");
        sb.Append("# WARNING: This file was auto-generated to restart ng-monitoring when fail. \n");
        sb.Append("#          Do not edit! All your edit might be overwritten!\n\n");
        sb.Append("while true\ndo\n");
        sb.Append(i.NumaNode.Length > 0 ? $"    numactl --cpunodebind={i.NumaNode} --membind={i.NumaNode} bin/ng-monitoring-server \\\n" : "    bin/ng-monitoring-server \\\n");
        sb.Append($"        --config {i.DeployDir}/conf/ngmonitoring.toml \\\n");
        sb.Append("        >/dev/null 2>&1\n");
        sb.Append("    sleep 15s\n");
        sb.Append("done\" > scripts/ng-wrapper.sh\n");
        sb.Append("fi\n");
        if (ngPort > 0)
        {
            sb.Append("/bin/bash scripts/ng-wrapper.sh &\n");
        }

        sb.Append('\n');
        sb.Append($"exec > >(tee -i -a \"{i.LogDir}/prometheus.log\")\n");
        sb.Append("exec 2>&1\n");
        sb.Append(Exec(i, c.Binary));
        sb.Append($"    --config.file=\"{i.DeployDir}/conf/prometheus.yml\" \\\n");
        sb.Append($"    --web.listen-address=\":{i.MainPort}\" \\\n");
        sb.Append($"    --web.external-url=\"http://{HostPort.Join(i.Host, i.MainPort)}/\" \\\n");
        sb.Append("    --web.enable-admin-api \\\n");
        sb.Append("    --log.level=\"info\" \\\n");
        sb.Append(agentMode ? "    --enable-feature=agent \\\n" : $"    --storage.tsdb.path=\"{i.DataDir}\" \\\n");
        foreach (var arg in args)
        {
            sb.Append($"    {arg} \\\n");
        }

        if (!agentMode)
        {
            // monitoring.go getRetentionSize/getRetentionTime: time defaults to 30d unless it is "<n>d".
            // The missing line continuation after the size line is TiUP's.
            if (RetentionSize(retentionSize) is { Length: > 0 } size)
            {
                sb.Append($"    --storage.tsdb.retention.size=\"{size}\"\n");
            }

            sb.Append($"    --storage.tsdb.retention.time=\"{RetentionTime(retention)}\"\n");
        }

        return sb.ToString();
    }

    public static string Alertmanager(InstanceContext c)
    {
        var i = c.Instance;
        var sb = new StringBuilder("#!/bin/bash\nset -e\n\n");
        sb.Append($"DEPLOY_DIR={i.DeployDir}\n");
        sb.Append("cd \"${DEPLOY_DIR}\" || exit 1\n\n");
        sb.Append(Banner).Append('\n');
        sb.Append($"exec > >(tee -i -a \"{i.LogDir}/alertmanager.log\")\n");
        sb.Append("exec 2>&1\n");
        sb.Append(Exec(i, c.Binary));
        sb.Append("    --config.file=\"conf/alertmanager.yml\" \\\n");
        sb.Append($"    --storage.path=\"{i.DataDir}\" \\\n");
        sb.Append("    --data.retention=120h \\\n");
        sb.Append("    --log.level=\"info\" \\\n");
        sb.Append($"    --web.listen-address=\"{HostPort.Join(i.ListenHost, i.MainPort)}\" \\\n");
        sb.Append($"    --web.external-url=\"http://{HostPort.Join(i.Host, i.MainPort)}\" \\\n");
        foreach (var peer in c.Topology.OfRole(Roles.Alertmanager))
        {
            sb.Append($"    --cluster.peer=\"{HostPort.Join(peer.Host, peer.Port("cluster_port"))}\" \\\n");
        }

        foreach (var arg in i.Extras.GetStrings("additional_args"))
        {
            sb.Append($"    {arg} \\\n");
        }

        // alertmanager.go: the cluster listen address is the host, never listen_host (alertmanager#2284, #1271).
        sb.Append($"    --cluster.listen-address=\"{HostPort.Join(i.Host, i.Port("cluster_port"))}\"\n");
        return sb.ToString();
    }

    public static string Grafana(InstanceContext c)
    {
        var i = c.Instance;

        // grafana needs its home: the directory above the entry's bin/ (TiUP's package: bin/grafana-server => bin/).
        var home = GoDir(c.EntryDirectory);
        var sb = Head(i.DeployDir, blankBeforeCd: false);
        sb.Append('\n');
        sb.Append("LANG=en_US.UTF-8 \\\n");
        sb.Append($"exec {c.Binary} \\\n");
        sb.Append($"    --homepath=\"{i.DeployDir}/bin{(home.Length > 0 ? "/" + home : string.Empty)}\" \\\n");
        sb.Append($"    --config=\"{i.DeployDir}/conf/grafana.ini\"\n");
        return sb.ToString();
    }

    public static string Etcd(InstanceContext c)
    {
        var i = c.Instance;
        var members = string.Join(',', c.Topology.OfRole(Roles.Etcd).Select(m => $"{m.Name}=http://{HostPort.Join(m.Host, m.Port("peer_port"))}"));
        var sb = Head(i.DeployDir, blankBeforeCd: true);
        sb.Append('\n');
        sb.Append(Exec(i, c.Binary));
        sb.Append($"    --name=\"{i.Name}\" \\\n");
        sb.Append($"    --data-dir=\"{i.DataDir}\" \\\n");
        sb.Append($"    --listen-client-urls=\"http://{HostPort.Join(i.ListenHost, i.Port("client_port"))}\" \\\n");
        sb.Append($"    --advertise-client-urls=\"http://{HostPort.Join(i.Host, i.Port("client_port"))}\" \\\n");
        sb.Append($"    --listen-peer-urls=\"http://{HostPort.Join(i.ListenHost, i.Port("peer_port"))}\" \\\n");
        sb.Append($"    --initial-advertise-peer-urls=\"http://{HostPort.Join(i.Host, i.Port("peer_port"))}\" \\\n");
        sb.Append($"    --initial-cluster=\"{members}\" \\\n");
        sb.Append($"    --initial-cluster-state=\"{(c.JoinExisting ? "existing" : "new")}\" \\\n");
        sb.Append($"    --initial-cluster-token=\"{c.ClusterName}\" \\\n");

        // etcd 3.4 defaults to the capnslog logger, which only writes to stdout/stderr; zap (3.5's default) writes files.
        sb.Append("    --logger=zap \\\n");
        sb.Append($"    --log-outputs=\"{i.LogDir}/etcd.log\"\n");
        return sb.ToString();
    }

    public static string Pd(InstanceContext c)
    {
        var i = c.Instance;
        var scheme = Scheme(c);
        var sb = Head(i.DeployDir, blankBeforeCd: true);
        sb.Append('\n');
        sb.Append("exec \\\n");
        if (i.NumaNode.Length > 0)
        {
            sb.Append($"    numactl --cpunodebind={i.NumaNode} --membind={i.NumaNode} \\\n");
        }

        sb.Append("    env GODEBUG=madvdontneed=1 \\\n");
        if (c.Topology.Global.PdMode == "ms")
        {
            sb.Append("    PD_SERVICE_MODE=api \\\n");
        }

        sb.Append($"    {c.Binary} \\\n");
        sb.Append($"    --name=\"{i.Name}\" \\\n");
        sb.Append($"    --client-urls=\"{scheme}://{HostPort.Join(i.ListenHost, i.Port("client_port"))}\" \\\n");
        sb.Append($"    --advertise-client-urls=\"{PdClientUrl(i, scheme)}\" \\\n");
        sb.Append($"    --peer-urls=\"{scheme}://{HostPort.Join(i.ListenHost, i.Port("peer_port"))}\" \\\n");
        sb.Append($"    --advertise-peer-urls=\"{PdPeerUrl(i, scheme)}\" \\\n");
        sb.Append($"    --data-dir=\"{i.DataDir}\" \\\n");
        if (c.JoinExisting)
        {
            // run_pd_scale.sh.tpl: join through every PD's advertised client URL (TiUP's template ends with "  \n").
            sb.Append($"    --join=\"{string.Join(',', c.Topology.OfRole(Roles.Pd).Select(p => PdClientUrl(p, scheme)))}\" \\\n");
        }
        else
        {
            sb.Append($"    --initial-cluster=\"{string.Join(',', c.Topology.OfRole(Roles.Pd).Select(p => $"{p.Name}={PdPeerUrl(p, scheme)}"))}\" \\\n");
        }

        sb.Append("    --config=conf/pd.toml \\\n");
        sb.Append($"    --log-file=\"{i.LogDir}/pd.log\" 2>> \"{i.LogDir}/pd_stderr.log\"\n");
        if (c.JoinExisting)
        {
            sb.Append("  \n");
        }

        return sb.ToString();
    }

    /// <summary>tso, scheduling, resource-manager and router: <c>pd-server services &lt;name&gt;</c>.</summary>
    public static string PdService(InstanceContext c)
    {
        var i = c.Instance;
        var scheme = Scheme(c);
        var service = i.Role;
        var sb = Head(i.DeployDir, blankBeforeCd: true);

        // The numactl variant has no space before its line continuation in TiUP's templates; kept.
        sb.Append(i.NumaNode.Length > 0
            ? $"exec numactl --cpunodebind={i.NumaNode} --membind={i.NumaNode} env GODEBUG=madvdontneed=1 {c.Binary} services {service}\\\n"
            : $"exec env GODEBUG=madvdontneed=1 {c.Binary} services {service} \\\n");

        // tso.go etc.: --name only from v8.3.0 (PDSupportMicroservicesWithName).
        if (i.Name is { Length: > 0 } && VersionGate.AtLeast(c.Version, "v8.3.0"))
        {
            sb.Append($"    --name=\"{i.Name}\" \\\n");
        }

        sb.Append($"    --backend-endpoints=\"{PdUrls(c)}\" \\\n");
        sb.Append($"    --listen-addr=\"{scheme}://{HostPort.Join(i.ListenHost, i.MainPort)}\" \\\n");
        var advertise = i.Extras.GetString("advertise_listen_addr") is { Length: > 0 } a ? a : $"{scheme}://{HostPort.Join(i.Host, i.MainPort)}";
        sb.Append($"    --advertise-listen-addr=\"{advertise}\" \\\n");
        sb.Append($"    --config=conf/{service}.toml \\\n");
        sb.Append($"    --log-file=\"{i.LogDir}/{service}.log\" 2>> \"{i.LogDir}/{service}_stderr.log\"\n");
        return sb.ToString();
    }

    public static string TiKV(InstanceContext c)
    {
        var i = c.Instance;
        var sb = new StringBuilder("#!/bin/bash\nset -e\n\n").Append(Banner);
        sb.Append($"cd \"{i.DeployDir}\" || exit 1\n\n");
        sb.Append("echo -n 'sync ... '\n");
        sb.Append("stat=$(time sync || sync)\n");
        sb.Append("echo ok\n");
        sb.Append("echo $stat\n\n");
        sb.Append("export MALLOC_CONF=\"prof:true,prof_active:false\"\n");
        sb.Append(NumaExec(i, c.Binary));
        var advertise = i.Extras.GetString("advertise_addr") is { Length: > 0 } a ? a : HostPort.Join(i.Host, i.MainPort);
        var advertiseStatus = i.Extras.GetString("advertise_status_addr") is { Length: > 0 } s ? s : HostPort.Join(i.Host, i.Port("status_port"));
        sb.Append($"    --addr \"{HostPort.Join(i.ListenHost, i.MainPort)}\" \\\n");
        sb.Append($"    --advertise-addr \"{advertise}\" \\\n");
        sb.Append($"    --status-addr \"{HostPort.Join(i.ListenHost, i.Port("status_port"))}\" \\\n");
        if (VersionGate.AtLeast(c.EffectiveClusterVersion, "v4.0.1"))
        {
            sb.Append($"    --advertise-status-addr \"{advertiseStatus}\" \\\n");
        }

        sb.Append($"    --pd \"{PdAddrs(c)}\" \\\n");
        sb.Append($"    --data-dir \"{i.DataDir}\" \\\n");
        sb.Append("    --config conf/tikv.toml \\\n");
        sb.Append($"    --log-file \"{i.LogDir}/tikv.log\" 2>> \"{i.LogDir}/tikv_stderr.log\"\n");
        return sb.ToString();
    }

    public static string TiDB(InstanceContext c)
    {
        var i = c.Instance;
        var sb = Head(i.DeployDir, blankBeforeCd: true);
        var numa = i.NumaNode.Length == 0 ? string.Empty
            : i.NumaCores.Length > 0 ? $"numactl --cpunodebind={i.NumaNode} --membind={i.NumaNode} -C {i.NumaCores} "
            : $"numactl --cpunodebind={i.NumaNode} --membind={i.NumaNode} ";
        sb.Append($"exec {numa}env GODEBUG=madvdontneed=1 {c.Binary} \\\n");
        sb.Append($"    -P {i.MainPort} \\\n");
        sb.Append($"    --status=\"{i.Port("status_port")}\" \\\n");
        sb.Append($"    --host=\"{i.ListenHost}\" \\\n");
        sb.Append($"    --advertise-address=\"{(i.Extras.GetString("advertise_address") is { Length: > 0 } a ? a : i.Host)}\" \\\n");
        sb.Append("    --store=\"tikv\" \\\n");
        if (VersionGate.AtLeast(c.Version, "v5.3.0"))
        {
            sb.Append("    --initialize-insecure \\\n");
        }

        sb.Append($"    --path=\"{PdAddrs(c)}\" \\\n");
        sb.Append($"    --log-slow-query=\"{i.LogDir}/tidb_slow_query.log\" \\\n");
        sb.Append("    --config=conf/tidb.toml \\\n");
        sb.Append($"    --log-file=\"{i.LogDir}/tidb.log\" 2>> \"{i.LogDir}/tidb_stderr.log\"\n");
        return sb.ToString();
    }

    public static string TiFlash(InstanceContext c)
    {
        var i = c.Instance;
        var sb = new StringBuilder("#!/bin/bash\nset -e\n\n").Append(Banner);
        sb.Append($"cd \"{i.DeployDir}\" || exit 1\n\n");
        sb.Append("export RUST_BACKTRACE=1\n\n");
        sb.Append("export TZ=${TZ:-/etc/localtime}\n");
        sb.Append($"export LD_LIBRARY_PATH={i.DeployDir}/bin{(c.EntryDirectory.Length > 0 ? "/" + c.EntryDirectory : string.Empty)}:$LD_LIBRARY_PATH\n");
        sb.Append("export MALLOC_CONF=\"prof:true,prof_active:false\"\n");

        // tiflash.go getTiFlashRequiredCPUFlagsWithVersion: amd64 builds from v6.3.0 need AVX2.
        if (i.Arch is "amd64" or "x86_64" && VersionGate.AtLeast(c.Version, "v6.3.0"))
        {
            sb.Append("if [ -f \"/proc/cpuinfo\" ]; then\n");
            sb.Append("    IFS_OLD=$IFS\n");
            sb.Append("    IFS=' '\n");
            sb.Append("    required_cpu_flags=\"avx2 popcnt movbe\"\n");
            sb.Append("    for flag in $(echo $required_cpu_flags); do\n");
            sb.Append("        if grep -q ${flag} /proc/cpuinfo; then\n");
            sb.Append("            true\n");
            sb.Append("        else\n");
            sb.Append("            err_msg=\"Fail to check CPU flags: \\`${flag}\\` not supported. Require \\`${required_cpu_flags}\\`.\"\n");
            sb.Append("            echo ${err_msg}\n");
            sb.Append($"            echo ${{err_msg}} >>\"{i.LogDir}/tiflash_stderr.log\"\n");
            sb.Append("            exit -1\n");
            sb.Append("        fi\n");
            sb.Append("    done\n");
            sb.Append("    IFS=$IFS_OLD\n");
            sb.Append("fi\n");
        }

        sb.Append('\n');
        sb.Append("echo -n 'sync ... '\n");
        sb.Append("stat=$(time sync)\n");
        sb.Append("echo ok\n");
        sb.Append("echo $stat\n");
        sb.Append(NumaExec(i, c.Binary + " server"));
        sb.Append($"    --config-file conf/tiflash.toml 2>> \"{i.LogDir}/tiflash_stderr.log\"\n");
        return sb.ToString();
    }

    public static string Cdc(InstanceContext c)
    {
        var i = c.Instance;
        var tls = c.Topology.Global.EnableTls;
        var sb = Head(i.DeployDir, blankBeforeCd: false);
        sb.Append(Exec(i, c.Binary + " server"));
        sb.Append($"    --addr \"{HostPort.Join(i.ListenHost, i.MainPort)}\" \\\n");
        sb.Append($"    --advertise-addr \"{HostPort.Join(i.Host, i.MainPort)}\" \\\n");
        sb.Append($"    --pd \"{PdUrls(c)}\" \\\n");

        // cdc.go: sort/data dir from v4.0.13 (not v5.0.0-rc); --data-dir from v4.0.14 (v4) / v5.0.3, else --sort-dir.
        var v = c.Version;
        var configFile = VersionGate.AtLeast(v, "v4.0.13") && v != "v5.0.0-rc";
        var dataDirFlag = VersionGate.AtLeast(v, "v5.0.3") || (v.StartsWith("v4.", StringComparison.Ordinal) && VersionGate.AtLeast(v, "v4.0.14"));
        if (configFile && i.DataDir.Length > 0)
        {
            sb.Append(dataDirFlag ? $"    --data-dir=\"{i.DataDir}\" \\\n" : $"    --sort-dir=\"{i.DataDir}/tmp/sorter\" \\\n");
        }

        if (tls)
        {
            sb.Append("    --ca tls/ca.crt \\\n    --cert tls/cdc.crt \\\n    --key tls/cdc.pem \\\n");
        }

        AppendGcTtlAndTz(sb, i);
        if (i.Extras.GetString("ticdc_cluster_id") is { Length: > 0 } clusterId)
        {
            sb.Append($"    --cluster-id {clusterId} \\\n");
        }

        if (configFile)
        {
            sb.Append("    --config conf/cdc.toml \\\n");
        }

        sb.Append($"    --log-file \"{i.LogDir}/cdc.log\" 2>> \"{i.LogDir}/cdc_stderr.log\"\n");
        return sb.ToString();
    }

    public static string TiKVCdc(InstanceContext c)
    {
        var i = c.Instance;
        var sb = Head(i.DeployDir, blankBeforeCd: false);
        sb.Append(Exec(i, c.Binary + " server"));
        sb.Append($"    --addr \"{HostPort.Join(i.ListenHost, i.MainPort)}\" \\\n");
        sb.Append($"    --advertise-addr \"{HostPort.Join(i.Host, i.MainPort)}\" \\\n");
        sb.Append($"    --pd \"{PdUrls(c)}\" \\\n");
        if (i.DataDir.Length > 0)
        {
            sb.Append($"    --data-dir=\"{i.DataDir}\" \\\n");
        }

        if (c.Topology.Global.EnableTls)
        {
            sb.Append("    --ca tls/ca.crt \\\n    --cert tls/cdc.crt \\\n    --key tls/cdc.pem \\\n");
        }

        AppendGcTtlAndTz(sb, i);
        sb.Append("    --config conf/tikv-cdc.toml \\\n");
        sb.Append($"    --log-file \"{i.LogDir}/tikv-cdc.log\" 2>> \"{i.LogDir}/tikv-cdc_stderr.log\"\n");
        return sb.ToString();
    }

    public static string TiProxy(InstanceContext c)
    {
        var sb = Head(c.Instance.DeployDir, blankBeforeCd: false);
        sb.Append(Exec(c.Instance, c.Binary));
        sb.Append("    --config conf/tiproxy.toml\n");
        return sb.ToString();
    }

    public static string Pump(InstanceContext c)
    {
        var i = c.Instance;
        var sb = Head(i.DeployDir, blankBeforeCd: true);
        sb.Append(Exec(i, c.Binary));
        sb.Append($"    --node-id=\"{i.Id}\" \\\n");
        sb.Append($"    --addr=\"{HostPort.Join(i.ListenHost, i.MainPort)}\" \\\n");
        sb.Append($"    --advertise-addr=\"{HostPort.Join(i.Host, i.MainPort)}\" \\\n");
        sb.Append($"    --pd-urls=\"{PdUrls(c)}\" \\\n");
        sb.Append($"    --data-dir=\"{i.DataDir}\" \\\n");
        sb.Append($"    --log-file=\"{i.LogDir}/pump.log\" \\\n");
        sb.Append($"    --config=conf/pump.toml 2>> \"{i.LogDir}/pump_stderr.log\"\n");
        return sb.ToString();
    }

    public static string Drainer(InstanceContext c)
    {
        var i = c.Instance;
        var sb = Head(i.DeployDir, blankBeforeCd: true);
        sb.Append(Exec(i, c.Binary));
        sb.Append($"    --node-id=\"{i.Id}\" \\\n");
        sb.Append($"    --addr=\"{HostPort.Join(i.Host, i.MainPort)}\" \\\n");
        sb.Append($"    --pd-urls=\"{PdUrls(c)}\" \\\n");
        sb.Append($"    --data-dir=\"{i.DataDir}\" \\\n");
        sb.Append($"    --log-file=\"{i.LogDir}/drainer.log\" \\\n");
        sb.Append($"    --config=conf/drainer.toml 2>> \"{i.LogDir}/drainer_stderr.log\"\n");
        return sb.ToString();
    }

    public static string TiDBDashboard(InstanceContext c)
    {
        var i = c.Instance;
        var sb = Head(i.DeployDir, blankBeforeCd: true);
        sb.Append(Exec(i, c.Binary));
        sb.Append($"    --feature-version=\"{c.EffectiveClusterVersion}\" \\\n");
        sb.Append($"    --host=\"{i.ListenHost}\" \\\n");
        sb.Append($"    --port=\"{i.MainPort}\" \\\n");
        sb.Append($"    --pd=\"{PdUrls(c)}\" \\\n");
        sb.Append($"    --data-dir=\"{i.DataDir}\" \\\n");
        if (c.Topology.Global.EnableTls)
        {
            sb.Append("    --tidb-ca tls/ca.crt \\\n    --tidb-cert tls/tidb-dashboard.crt \\\n    --tidb-key tls/tidb-dashboard.pem \\\n");
        }

        sb.Append($"    1>> \"{i.LogDir}/tidb_dashboard.log\" \\\n");
        sb.Append($"    2>> \"{i.LogDir}/tidb_dashboard_stderr.log\"\n");
        return sb.ToString();
    }

    /// <summary>The usual head: shebang, banner, <c>DEPLOY_DIR=</c>, optional blank line, <c>cd</c>.</summary>
    private static StringBuilder Head(string deployDir, bool blankBeforeCd)
    {
        var sb = new StringBuilder("#!/bin/bash\nset -e\n\n").Append(Banner);
        sb.Append($"DEPLOY_DIR={deployDir}\n");
        if (blankBeforeCd)
        {
            sb.Append('\n');
        }

        sb.Append("cd \"${DEPLOY_DIR}\" || exit 1\n");
        return sb;
    }

    private static StringBuilder ExporterHead(InstanceContext c, string name)
    {
        var sb = Head(c.Instance.DeployDir, blankBeforeCd: false);
        sb.Append('\n');
        sb.Append($"exec > >(tee -i -a \"{c.Instance.LogDir}/{name}.log\")\n");
        sb.Append("exec 2>&1\n\n");
        sb.Append($"EXPORTER_BIN={c.Binary}\n");
        if (c.Entry == $"{name}/{name}")
        {
            // TiUP's layout (an imported cluster): TiUP's script as it is, fallback to a flat bin/<name> included.
            sb.Append($"if [ ! -f $EXPORTER_BIN ]; then\n  EXPORTER_BIN=bin/{name}\nfi\n");
        }

        return sb;
    }

    /// <summary><c>exec [numactl ...] &lt;binary&gt; \</c>.</summary>
    private static string Exec(InstanceSpec i, string command) =>
        i.NumaNode.Length > 0 ? $"exec numactl --cpunodebind={i.NumaNode} --membind={i.NumaNode} {command} \\\n" : $"exec {command} \\\n";

    /// <summary>As <see cref="Exec"/>, with <c>-C &lt;cores&gt;</c> when numa_cores is set too (tikv, tiflash).</summary>
    private static string NumaExec(InstanceSpec i, string command) =>
        i.NumaNode.Length > 0 && i.NumaCores.Length > 0
            ? $"exec numactl --cpunodebind={i.NumaNode} --membind={i.NumaNode} -C {i.NumaCores} {command} \\\n"
            : Exec(i, command);

    private static void AppendGcTtlAndTz(StringBuilder sb, InstanceSpec i)
    {
        if (i.Extras.GetInt64("gc-ttl") is { } ttl and not 0)
        {
            sb.Append($"    --gc-ttl {ttl.ToString(CultureInfo.InvariantCulture)} \\\n");
        }

        if (i.Extras.GetString("tz") is { Length: > 0 } tz)
        {
            sb.Append($"    --tz \"{tz}\" \\\n");
        }
    }

    private static string Scheme(InstanceContext c) => c.Topology.Global.EnableTls ? "https" : "http";

    /// <summary>PD members as <c>host:client_port</c> (tikv, tidb).</summary>
    private static string PdAddrs(InstanceContext c) =>
        string.Join(',', c.Topology.OfRole(Roles.Pd).Select(p => HostPort.Join(p.Host, p.Port("client_port"))));

    /// <summary>PD members' advertised client URLs (cdc, pump, drainer, dashboard, PD services).</summary>
    private static string PdUrls(InstanceContext c) =>
        string.Join(',', c.Topology.OfRole(Roles.Pd).Select(p => PdClientUrl(p, Scheme(c))));

    private static string PdClientUrl(InstanceSpec pd, string scheme) =>
        pd.Extras.GetString("advertise_client_addr") is { Length: > 0 } a ? a : $"{scheme}://{HostPort.Join(pd.Host, pd.Port("client_port"))}";

    private static string PdPeerUrl(InstanceSpec pd, string scheme) =>
        pd.Extras.GetString("advertise_peer_addr") is { Length: > 0 } a ? a : $"{scheme}://{HostPort.Join(pd.Host, pd.Port("peer_port"))}";

    private static string RetentionTime(string retention)
    {
        retention = retention.Trim();
        return retention.Length > 1 && retention[^1] == 'd' && retention[0] != '0' && retention[..^1].All(char.IsAsciiDigit) ? retention : "30d";
    }

    /// <summary>monitoring.go getRetentionSize: uppercased, and dropped unless it is "&lt;n&gt;B|KB|MB|GB|TB|PB|EB".</summary>
    private static string RetentionSize(string size)
    {
        size = size.Trim().ToUpperInvariant();
        var unit = size.TrimStart("0123456789".ToCharArray());
        var digits = size[..^unit.Length];
        return digits.Length > 0 && digits[0] != '0' && unit is "B" or "KB" or "MB" or "GB" or "TB" or "PB" or "EB" ? size : string.Empty;
    }

    private static string GoDir(string path) => path.Contains('/', StringComparison.Ordinal) ? path[..path.LastIndexOf('/')] : string.Empty;
}
