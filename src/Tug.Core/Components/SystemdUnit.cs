// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text;
using Tug.Core.Topology;

namespace Tug.Core.Components;

/// <summary>
/// Renders TiUP's <c>embed/templates/systemd/system.service.tpl</c> exactly, including its whitespace quirks
/// (a blank line after <c>Restart=</c>, and after <c>ExecReload=</c> for prometheus).
/// </summary>
internal static class SystemdUnit
{
    public static string Render(ComponentSpec spec, InstanceContext context)
    {
        var instance = context.Instance;
        var topology = context.Topology;
        var system = topology.Global.SystemdMode == "system";

        // instance.go InitConfig / monitored_config.go: the instance's (or monitored's) limits over the global ones.
        var limits = instance.ResourceControl.Over(topology.Global.ResourceControl);
        var sb = new StringBuilder();
        sb.Append("[Unit]\n");
        sb.Append("Description=").Append(spec.Role).Append(" service\n");
        sb.Append("After=syslog.target network.target remote-fs.target nss-lookup.target\n");
        sb.Append('\n');
        sb.Append("[Service]\n");
        Optional(sb, "MemoryLimit", limits.MemoryLimit);
        Optional(sb, "CPUQuota", limits.CpuQuota);
        Optional(sb, "IOReadBandwidthMax", limits.IoReadBandwidthMax);
        Optional(sb, "IOWriteBandwidthMax", limits.IoWriteBandwidthMax);
        Optional(sb, "LimitCORE", limits.LimitCore);
        sb.Append("LimitNOFILE=1000000\n");
        sb.Append("LimitSTACK=10485760\n");
        if (spec.GrantCapNetRaw && system)
        {
            sb.Append("AmbientCapabilities=CAP_NET_RAW\n");
        }

        if (system)
        {
            sb.Append("User=").Append(context.DeployUser).Append('\n');
        }

        sb.Append("ExecStart=/bin/bash -c '").Append(instance.DeployDir).Append("/scripts/run_").Append(spec.Role).Append(".sh'\n");
        if (spec.Role == Roles.Prometheus)
        {
            sb.Append("ExecReload=/bin/bash -c 'kill -HUP $MAINPID $(pidof ").Append(instance.DeployDir).Append("/bin/ng-monitoring-server)'\n\n");
        }

        sb.Append("Restart=").Append(spec.Restart).Append("\n\n");
        sb.Append("RestartSec=15s\n");
        Optional(sb, "TimeoutStartSec", limits.TimeoutStartSec);
        Optional(sb, "TimeoutStopSec", limits.TimeoutStopSec);
        sb.Append('\n');
        sb.Append("[Install]\n");
        sb.Append("WantedBy=multi-user.target\n");
        return sb.ToString();
    }

    private static void Optional(StringBuilder sb, string key, string value)
    {
        if (value.Length > 0)
        {
            sb.Append(key).Append('=').Append(value).Append('\n');
        }
    }
}
