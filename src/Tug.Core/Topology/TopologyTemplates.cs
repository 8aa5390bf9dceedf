// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace Tug.Core.Topology;

/// <summary>Which topology template <c>tug cluster template</c> prints (TiUP's <c>minimal</c>, <c>--full</c>, <c>--multi-dc</c>, <c>--local</c>).</summary>
public enum TemplateVariant
{
    /// <summary>A small production cluster (TiUP's <c>minimal.yaml</c>).</summary>
    Minimal,

    /// <summary>Every section, with the defaults (TiUP's <c>topology.example.yaml</c>).</summary>
    Full,

    /// <summary>Several data centres, placed by location labels (TiUP's <c>multi-dc.yaml</c>).</summary>
    MultiDc,

    /// <summary>Rendered from the given values (TiUP's <c>local.tpl</c>).</summary>
    Local,
}

/// <summary>
/// The values <c>template --local</c> renders, TiUP's <c>LocalTemplate</c> with TiUP's defaults: an empty host list
/// leaves its section out.
/// </summary>
public sealed record LocalTemplateValues
{
    public string User { get; init; } = "tidb";

    public string Group { get; init; } = string.Empty;

    public string SystemdMode { get; init; } = "system";

    public int SshPort { get; init; } = 22;

    public string DeployDir { get; init; } = "/tidb-deploy";

    public string DataDir { get; init; } = "/tidb-data";

    public string Arch { get; init; } = "amd64";

    public ImmutableArray<string> PdServers { get; init; } = ["127.0.0.1"];

    public ImmutableArray<string> TidbServers { get; init; } = ["127.0.0.1"];

    public ImmutableArray<string> TikvServers { get; init; } = ["127.0.0.1"];

    public ImmutableArray<string> TiflashServers { get; init; } = [];

    public ImmutableArray<string> MonitoringServers { get; init; } = ["127.0.0.1"];

    public ImmutableArray<string> GrafanaServers { get; init; } = ["127.0.0.1"];

    public ImmutableArray<string> AlertmanagerServers { get; init; } = [];
}

/// <summary>
/// The topology templates <c>tug cluster template</c> prints: Tug's own texts in TiUP's shapes (the file names under
/// <c>Topology/Templates</c>), each loaded and validated by <see cref="TopologyLoader"/> before it is returned, so no
/// template that Tug itself would refuse is ever printed.
/// </summary>
public static class TopologyTemplates
{
    private const string ResourcePrefix = "Tug.Core.Topology.Templates.";

    /// <summary>The template text of a fixed variant (not <see cref="TemplateVariant.Local"/>), validated.</summary>
    /// <exception cref="ArgumentException"><paramref name="variant"/> is <see cref="TemplateVariant.Local"/>.</exception>
    public static string Text(TemplateVariant variant) => Validated(variant switch
    {
        TemplateVariant.Minimal => Read("minimal.yaml"),
        TemplateVariant.Full => Read("full.yaml"),
        TemplateVariant.MultiDc => Read("multi-dc.yaml"),
        _ => throw new ArgumentException("the local template is rendered from values: use Local()", nameof(variant)),
    }, variant);

    /// <summary>Renders the local template from <paramref name="values"/>, validated as deploy would read it.</summary>
    /// <exception cref="TopologyException">A value is not allowed (the arch, a host, a directory...), every problem listed.</exception>
    public static string Local(LocalTemplateValues values)
    {
        if (values.Arch is not ("amd64" or "arm64"))
        {
            throw new TopologyException([new TopologyDiagnostic(TopologyErrors.BadValue, new SourceLocation("--arch", 0, 0),
                $"supported values are \"amd64\" or \"arm64\" in global.arch, not \"{values.Arch}\"", "Give --arch amd64 or --arch arm64.")]);
        }

        var text = new StringBuilder();
        text.Append("# A cluster on the hosts given to `tug cluster template --local`.\n");
        text.Append("# Check it with `tug cluster check FILE`, deploy it with `tug cluster deploy NAME VERSION FILE`.\n\n");
        text.Append("global:\n");
        text.Append("  # The OS user the services run as.\n");
        text.Append(CultureInfo.InvariantCulture, $"  user: {Quote(values.User)}\n");
        if (values.Group.Length > 0)
        {
            text.Append("  # Its group, when it is not the user's own.\n");
            text.Append(CultureInfo.InvariantCulture, $"  group: {Quote(values.Group)}\n");
        }

        if (values.SystemdMode.Length > 0)
        {
            text.Append("  # system: units managed with sudo; user: the deploy user's own units.\n");
            text.Append(CultureInfo.InvariantCulture, $"  systemd_mode: {Quote(values.SystemdMode)}\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"  ssh_port: {values.SshPort}\n");
        text.Append("  # Deployment files, run scripts and configuration; data.\n");
        text.Append(CultureInfo.InvariantCulture, $"  deploy_dir: {Quote(values.DeployDir)}\n");
        text.Append(CultureInfo.InvariantCulture, $"  data_dir: {Quote(values.DataDir)}\n");
        text.Append("  # amd64 or arm64.\n");
        text.Append(CultureInfo.InvariantCulture, $"  arch: {Quote(values.Arch)}\n");
        foreach (var (section, hosts) in new[]
        {
            ("pd_servers", values.PdServers), ("tidb_servers", values.TidbServers), ("tikv_servers", values.TikvServers),
            ("tiflash_servers", values.TiflashServers), ("monitoring_servers", values.MonitoringServers),
            ("grafana_servers", values.GrafanaServers), ("alertmanager_servers", values.AlertmanagerServers),
        })
        {
            var given = hosts.Where(h => h.Length > 0).ToList();
            if (given.Count == 0)
            {
                continue;
            }

            text.Append(CultureInfo.InvariantCulture, $"\n{section}:\n");
            foreach (var host in given)
            {
                text.Append(CultureInfo.InvariantCulture, $"  - host: {Quote(host)}\n");
            }
        }

        return Validated(text.ToString(), TemplateVariant.Local);
    }

    /// <summary>A YAML double-quoted scalar: every value the user gives is quoted once, so no value can add a key.</summary>
    public static string Quote(string value)
    {
        var quoted = new StringBuilder("\"");
        foreach (var c in value)
        {
            quoted.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => c.ToString(),
            });
        }

        return quoted.Append('"').ToString();
    }

    private static string Validated(string text, TemplateVariant variant)
    {
        // Throws with every problem and its line when Tug itself would refuse the template.
        _ = TopologyLoader.Parse(text, $"template ({variant.ToString().ToLowerInvariant()})");
        return text;
    }

    private static string Read(string name)
    {
        using var stream = typeof(TopologyTemplates).Assembly.GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new InvalidOperationException($"no embedded topology template '{name}'");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
