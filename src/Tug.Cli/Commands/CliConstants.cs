// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

namespace Tug.Cli.Commands;

/// <summary>The names of the <c>tug cluster</c> verbs and of their options, in one place.</summary>
public static class CliConstants
{
    // Verbs.
    public const string ClusterVerb = "cluster";
    public const string DeployVerb = "deploy";
    public const string ScaleOutVerb = "scale-out";
    public const string ScaleInVerb = "scale-in";
    public const string StartVerb = "start";
    public const string StopVerb = "stop";
    public const string RestartVerb = "restart";
    public const string DisplayVerb = "display";
    public const string UpgradeVerb = "upgrade";
    public const string PatchVerb = "patch";
    public const string ReplayVerb = "replay";
    public const string AuditVerb = "audit";
    public const string VerifyVerb = "verify";
    public const string ListVerb = "list";
    public const string ExecVerb = "exec";
    public const string PushVerb = "push";
    public const string PullVerb = "pull";
    public const string DestroyVerb = "destroy";
    public const string AcceptHostKeyVerb = "accept-host-key";
    public const string ReloadVerb = "reload";
    public const string EditConfigVerb = "edit-config";
    public const string ShowConfigVerb = "show-config";
    public const string CheckVerb = "check";
    public const string EnableVerb = "enable";
    public const string DisableVerb = "disable";
    public const string CleanVerb = "clean";
    public const string PruneVerb = "prune";
    public const string RenameVerb = "rename";
    public const string ImportVerb = "import";
    public const string ExportVerb = "export";
    public const string ImportNameOption = "--name";
    public const string MetaVerb = "meta";
    public const string MetaBackupVerb = "backup";
    public const string MetaRestoreVerb = "restore";
    public const string AuditCleanupVerb = "cleanup";
    public const string RotateSshVerb = "rotatessh";
    public const string TemplateVerb = "template";

    // Global options of every cluster verb (TiUP's global flags).
    public const string YesOption = "--yes";
    public const string YesAlias = "-y";
    public const string SshOption = "--ssh";

    public const string DeliveryOption = "--delivery";

    public const string HostMirrorOption = "--host-mirror";
    public const string SshTimeoutOption = "--ssh-timeout";
    public const string WaitTimeoutOption = "--wait-timeout";
    public const string ConcurrencyOption = "--concurrency";
    public const string ConcurrencyAlias = "-c";
    public const string FormatOption = "--format";

    // Options several cluster verbs share.
    public const string DryRunOption = "--dry-run";
    public const string ForceOption = "--force";
    public const string RoleOption = "--role";
    public const string RoleAlias = "-R";
    public const string NodeOption = "--node";
    public const string NodeAlias = "-N";
    public const string UserOption = "--user";
    public const string UserAlias = "-u";
    public const string IdentityFileOption = "--identity_file";
    public const string IdentityFileAlias = "-i";
    public const string PasswordOption = "--password";
    public const string PasswordAlias = "-p";
    public const string BatchOption = "--batch";
    public const string HealthWindowOption = "--health-window";

    // Options of one cluster verb.
    public const string ComponentOption = "--component";
    public const string NodeExporterVersionOption = "--node-exporter-version";
    public const string BlackboxExporterVersionOption = "--blackbox-exporter-version";
    public const string RollbackOption = "--rollback";
    public const string SkipRestartOption = "--skip-restart";
    public const string VerifyOption = "--verify";
    public const string ClusterOption = "--cluster";
    public const string ApplyOption = "--apply";
    public const string RevertOption = "--revert";
    public const string CommandOption = "--command";
    public const string SudoOption = "--sudo";
    public const string TopologyFileOption = "--topology-file";
    public const string DataOption = "--data";
    public const string LogOption = "--log";
    public const string AllOption = "--all";
    public const string AuditLogOption = "--audit-log";
    public const string IgnoreNodeOption = "--ignore-node";
    public const string IgnoreRoleOption = "--ignore-role";
    public const string RetainNodeDataOption = "--retain-node-data";
    public const string RetainRoleDataOption = "--retain-role-data";
    public const string FileOption = "--file";
    public const string RetainDaysOption = "--retain-days";

    // template (TiUP's flag names, `--systemd_mode` with its underscore).
    public const string FullOption = "--full";
    public const string MultiDcOption = "--multi-dc";
    public const string LocalOption = "--local";
    public const string GroupOption = "--group";
    public const string SystemdModeOption = "--systemd_mode";
    public const string SshPortOption = "--ssh-port";
    public const string DeployDirOption = "--deploy-dir";
    public const string DataDirOption = "--data-dir";
    public const string ArchOption = "--arch";
    public const string PdServersOption = "--pd-servers";
    public const string TidbServersOption = "--tidb-servers";
    public const string TikvServersOption = "--tikv-servers";
    public const string TiflashServersOption = "--tiflash-servers";
    public const string MonitoringServersOption = "--monitoring-servers";
    public const string GrafanaServersOption = "--grafana-servers";
    public const string AlertmanagerServersOption = "--alertmanager-servers";

    // display.
    public const string UptimeOption = "--uptime";
    public const string VersionsOption = "--versions";
    public const string VersionOnlyOption = "--version";
    public const string StatusTimeoutOption = "--status-timeout";
    public const string ProcessOption = "--process";
    public const string ManageHostOption = "--manage-host";
    public const string NumaOption = "--numa";

    // upgrade and patch: TiUP's flag, accepted.
    public const string TransferTimeoutOption = "--transfer-timeout";
}
