// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;
using Spectre.Console;
using Tug.Mirror;
using Tug.Mirror.Crypto;
using Tug.Mirror.Manifests;
using Tug.Mirror.Publishing;
using Tug.Mirror.Server;

namespace Tug.Cli.Commands;

public sealed record GenKeyArguments(string Name, bool ShowPublic, bool Save);

public sealed record InitArguments(string Directory, string? KeyDirectory);

public sealed record SetArguments(string Address, string? RootFile);

public sealed record ShowArguments(string Format);

public sealed record PublishArguments(string Component, string Version, string Tarball, string Entry, string? Key, string? Os, string? Arch, string? Description, bool Standalone, bool Hide);

public sealed record VerifyArguments(string? Address, string? At, string? RootFile, bool ManifestsOnly, string Format);

public sealed record RenewArguments(string Role, int Days, string? Key);

public sealed record CloneArguments(string Destination, string[] Components, string[] Os, string[] Arch);

public sealed record MergeArguments(string[] Sources, string? Key);

public sealed record GrantArguments(string Owner, string? Name, string? Key);

public sealed record RotateArguments(int? Keys, int? Threshold);

public sealed record ServeArguments(string Directory, string Address);

public sealed record DownloadArguments(string Component, string? Os, string? Arch);

public sealed record ListArguments(string? Component, bool All, string Format);

/// <summary>The <c>tug mirror</c> verbs and <c>tug list</c>: thin adapters from arguments to Tug.Mirror and the renderer.</summary>
public sealed class MirrorCommands(Renderer output, MirrorClient client, TugHome home, TimeProvider time, IEnvironment environment)
{
    public Task<int> GenKeyAsync(GenKeyArguments args, CancellationToken cancellationToken)
    {
        _ = cancellationToken;
        var path = Path.Combine(home.KeysDirectory, args.Name + ".json");
        KeyInfo key;
        if (args.ShowPublic)
        {
            key = KeyInfo.Load(path);
        }
        else
        {
            key = KeyInfo.Generate();
            key.Save(path);
            output.Note($"wrote private key {path} (mode 0600); keep it secret and back it up");
        }

        var publicKey = key.Public();
        if (args.Save)
        {
            var publicPath = Path.Combine(environment.CurrentDirectory, $"{publicKey.Id()[..16]}-public.json");
            publicKey.Save(publicPath);
            output.Note($"wrote public key {publicPath}");
        }

        output.Line($"KeyID: {publicKey.Id()}");
        if (args.ShowPublic)
        {
            output.Line(System.Text.Encoding.UTF8.GetString(publicKey.ToFileBytes()).TrimEnd());
        }

        return Task.FromResult(ExitCodes.Success);
    }

    public async Task<int> InitAsync(InitArguments args, CancellationToken cancellationToken)
    {
        var (mirror, keyFiles) = await LocalMirror.InitAsync(Resolve(args.Directory), args.KeyDirectory is null ? null : Resolve(args.KeyDirectory), time, cancellationToken);
        output.Line($"initialized mirror {mirror.Directory}");
        foreach (var file in keyFiles)
        {
            output.Line($"  key {file}");
        }

        output.Note($"root expires {mirror.Root.Signed.Expires}; snapshot and timestamp expire {mirror.Timestamp.Signed.Expires} (renew with `tug mirror renew ROLE --days N`)");
        output.Note("next: `tug mirror set DIR`, `tug mirror genkey`, `tug mirror grant OWNER`, then `tug mirror publish`");
        return ExitCodes.Success;
    }

    public async Task<int> SetAsync(SetArguments args, CancellationToken cancellationToken)
    {
        var address = Tug.Mirror.Sources.MirrorSource.IsHttp(args.Address) ? args.Address : Resolve(args.Address);
        var root = await client.SetAsync(address, args.RootFile is null ? null : Resolve(args.RootFile), cancellationToken);
        output.Line($"mirror set to {Tug.Mirror.Sources.MirrorSource.Normalize(address)} (root version {root.Signed.Version}, expires {root.Signed.Expires})");
        if (address.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            output.Warning("the mirror is served over plain HTTP; signatures protect content, but pin the root with --root for first contact");
        }

        return ExitCodes.Success;
    }

    public async Task<int> ShowAsync(ShowArguments args, CancellationToken cancellationToken)
    {
        var view = await client.RefreshAsync(cancellationToken);
        (string Role, ulong Version, string Expires)[] roles =
        [
            ("root", view.Root.Signed.Version, view.Root.Signed.Expires),
            ("index", view.Index.Signed.Version, view.Index.Signed.Expires),
            ("snapshot", view.Snapshot.Signed.Version, view.Snapshot.Signed.Expires),
            ("timestamp", view.Timestamp.Signed.Version, view.Timestamp.Signed.Expires),
        ];
        if (args.Format == "json")
        {
            output.Json(new
            {
                Mirror = view.Reader.Source.Address,
                Roles = roles.Select(r => new { r.Role, r.Version, r.Expires }),
                Owners = view.Index.Signed.Owners.Select(o => new { Id = o.Key, o.Value.Name, Keys = o.Value.Keys.Keys, o.Value.Threshold }),
                Components = view.Index.Signed.Components.Select(c => new { Id = c.Key, c.Value.Owner, c.Value.Hidden, c.Value.Yanked, c.Value.Standalone }),
            });
            return ExitCodes.Success;
        }

        output.Line($"mirror: {view.Reader.Source.Address}");
        var table = new Table().AddColumns("role", "version", "expires");
        foreach (var (role, version, expires) in roles)
        {
            table.AddRow(role, version.ToString(CultureInfo.InvariantCulture), expires);
        }

        output.Show(table);
        output.Line($"owners: {string.Join(", ", view.Index.Signed.Owners.Select(o => $"{o.Key} ({o.Value.Name})"))}");
        output.Line($"components: {view.Index.Signed.Components.Count}");
        return ExitCodes.Success;
    }

    public async Task<int> PublishAsync(PublishArguments args, CancellationToken cancellationToken)
    {
        var mirror = await OpenCurrentLocalAsync("publish", cancellationToken);
        var host = MirrorCopier.HostPlatform().Split('/');
        var platform = $"{args.Os ?? host[0]}/{args.Arch ?? host[1]}";
        var change = await mirror.PublishAsync(
            new PublishRequest(args.Component, args.Version, Resolve(args.Tarball), args.Entry, platform, args.Description, args.Standalone, args.Hide),
            OwnerKeys(args.Key, mirror), cancellationToken);
        return Report(change);
    }

    public async Task<int> VerifyAsync(VerifyArguments args, CancellationToken cancellationToken)
    {
        var at = time.GetUtcNow();
        if (args.At is not null && !ManifestNames.TryParseTime(args.At, out at))
        {
            throw new MirrorException(MirrorErrors.BadInput, $"--at '{args.At}' is not an RFC 3339 time such as 2021-01-01T00:00:00Z.");
        }

        string address;
        byte[]? trustedRoot = null;
        TrustedState? trusted = null;
        if (args.Address is null)
        {
            address = client.CurrentAddress();
            (trustedRoot, trusted) = client.LoadTrust(address);
        }
        else
        {
            address = Tug.Mirror.Sources.MirrorSource.IsHttp(args.Address) ? args.Address : Resolve(args.Address);
        }

        if (args.RootFile is not null)
        {
            var path = Resolve(args.RootFile);
            trustedRoot = File.Exists(path) ? await File.ReadAllBytesAsync(path, cancellationToken)
                : throw new MirrorException(MirrorErrors.NotFound, $"Root file {path} does not exist.", path);
        }

        var reader = new MirrorReader(client.Open(address), at);
        var report = await new MirrorVerifier(reader).VerifyAsync(new VerifyOptions(trustedRoot, trusted, !args.ManifestsOnly, TimeSpan.FromDays(30)), cancellationToken);
        if (args.Format == "json")
        {
            output.Json(new
            {
                Mirror = report.Address,
                At = ManifestNames.FormatTime(report.At),
                report.Ok,
                report.Errors,
                report.Warnings,
                Files = report.Files.Select(f => new { f.File, f.Role, f.Version, f.Expires }),
                Findings = report.Findings.Select(f => new { Severity = f.Severity.ToString().ToLowerInvariant(), f.Code, f.File, f.Message, f.Hint }),
            });
        }
        else
        {
            output.Line($"verifying {report.Address} as of {ManifestNames.FormatTime(report.At)}");
            foreach (var file in report.Files)
            {
                var bad = report.Findings.Any(f => f.File == file.File && f.Severity == FindingSeverity.Error);
                output.Line($"  {(bad ? "FAIL" : "ok  ")} {file.File}{(file.Role == "tarball" ? string.Empty : $" ({file.Role} v{file.Version}, expires {file.Expires})")}");
            }

            foreach (var finding in report.Findings)
            {
                if (finding.Severity == FindingSeverity.Error)
                {
                    output.Error(finding.Code, finding.Message, finding.File, finding.Hint);
                }
                else
                {
                    output.Warning(finding.Message, finding.Hint);
                }
            }

            output.Line(report.Ok
                ? $"OK: {report.Files.Length} file(s) verified, {report.Warnings} warning(s)"
                : $"FAILED: {report.Errors} error(s), {report.Warnings} warning(s)");
        }

        return report.Ok ? ExitCodes.Success : ExitCodes.Failure;
    }

    public async Task<int> RenewAsync(RenewArguments args, CancellationToken cancellationToken)
    {
        var mirror = await OpenCurrentLocalAsync("renew", cancellationToken);
        return Report(await mirror.RenewAsync(args.Role, args.Days, OwnerKeys(args.Key, mirror), cancellationToken));
    }

    public async Task<int> CloneAsync(CloneArguments args, CancellationToken cancellationToken)
    {
        var host = MirrorCopier.HostPlatform().Split('/');
        var oses = args.Os.Length > 0 ? args.Os.SelectMany(o => o.Split(',')).ToArray() : [host[0]];
        var arches = args.Arch.Length > 0 ? args.Arch.SelectMany(a => a.Split(',')).ToArray() : [host[1]];
        var platforms = oses.SelectMany(o => arches.Select(a => $"{o}/{a}")).ToList();
        var view = await client.RefreshAsync(cancellationToken);
        var change = await MirrorCopier.CloneAsync(client, view, Resolve(args.Destination), [.. args.Components.Select(ComponentSelection.Parse)], platforms, time, output.Progress(), cancellationToken);
        return Report(change);
    }

    public async Task<int> MergeAsync(MergeArguments args, CancellationToken cancellationToken)
    {
        var mirror = await OpenCurrentLocalAsync("merge", cancellationToken);
        var change = await MirrorCopier.MergeAsync(mirror, [.. args.Sources.Select(Resolve)], OwnerKeys(args.Key, mirror), output.Progress(), cancellationToken);
        return Report(change);
    }

    public async Task<int> GrantAsync(GrantArguments args, CancellationToken cancellationToken)
    {
        var mirror = await OpenCurrentLocalAsync("grant", cancellationToken);
        var key = KeyInfo.Load(args.Key is null ? home.DefaultKey : Resolve(args.Key));
        return Report(await mirror.GrantAsync(args.Owner, args.Name, key, cancellationToken));
    }

    public async Task<int> RotateAsync(RotateArguments args, CancellationToken cancellationToken)
    {
        var mirror = await OpenCurrentLocalAsync("rotate", cancellationToken);
        var current = mirror.Root.Signed.Roles[ManifestNames.Root];
        return Report(await mirror.RotateAsync(args.Keys ?? current.Keys.Count, args.Threshold ?? (int)current.Threshold, cancellationToken));
    }

    public async Task<int> ServeAsync(ServeArguments args, CancellationToken cancellationToken)
    {
        await using var server = await MirrorServer.StartAsync(Resolve(args.Directory), args.Address, null, cancellationToken);
        output.Line($"serving {Resolve(args.Directory)} at {server.Address}");
        output.Note("press Ctrl+C to stop");
        await MirrorServer.WaitAsync(cancellationToken);
        return ExitCodes.Success;
    }

    public async Task<int> DownloadAsync(DownloadArguments args, CancellationToken cancellationToken)
    {
        var selection = ComponentSelection.Parse(args.Component);
        var host = MirrorCopier.HostPlatform().Split('/');
        var view = await client.RefreshAsync(cancellationToken);
        var package = await client.DownloadAsync(view, selection.Component, selection.Version, $"{args.Os ?? host[0]}/{args.Arch ?? host[1]}", output.Progress(), cancellationToken);
        output.Note($"{package.Component} {package.Version} {package.Platform}: sha256 {package.Item.Sha256} verified");
        output.Line(package.Path);
        return ExitCodes.Success;
    }

    public async Task<int> ListAsync(ListArguments args, CancellationToken cancellationToken)
    {
        var view = await client.RefreshAsync(cancellationToken);
        if (view.TrustedOnFirstUse)
        {
            output.Warning($"trusting {view.Reader.Source.Address}'s root.json on first use; pin it with `tug mirror set ADDRESS --root FILE`");
        }

        if (args.Component is null)
        {
            var rows = new List<(string Id, string Owner, string Latest, string Platforms, bool Hidden, bool Yanked, string Description)>();
            foreach (var (id, item) in view.Index.Signed.Components)
            {
                if ((item.Hidden || item.Yanked) && !args.All)
                {
                    continue;
                }

                var component = (await client.ComponentAsync(view, id, cancellationToken)).Signed;
                var latest = Versions.Latest(component, MirrorCopier.HostPlatform()) ?? string.Empty;
                rows.Add((id, item.Owner, latest, string.Join(",", component.Platforms.Keys), item.Hidden, item.Yanked, component.Description));
            }

            if (args.Format == "json")
            {
                output.Json(rows.Select(r => new { r.Id, r.Owner, r.Latest, Platforms = r.Platforms.Split(','), r.Hidden, r.Yanked, r.Description }));
                return ExitCodes.Success;
            }

            var table = new Table().AddColumns("component", "latest", "platforms", "owner", "description");
            foreach (var r in rows)
            {
                table.AddRow(Markup.Escape(r.Id + (r.Yanked ? " (yanked)" : string.Empty)), Markup.Escape(r.Latest), Markup.Escape(r.Platforms), Markup.Escape(r.Owner), Markup.Escape(r.Description));
            }

            output.Show(table);
            return ExitCodes.Success;
        }

        var manifest = (await client.ComponentAsync(view, args.Component, cancellationToken)).Signed;
        var versions = manifest.Platforms
            .SelectMany(p => p.Value.Select(v => (Version: v.Key, Platform: p.Key, v.Value)))
            .Where(v => args.All || !v.Value.Yanked)
            .OrderByDescending(v => v.Version, Comparer<string>.Create(Versions.Compare)).ThenBy(v => v.Platform, StringComparer.Ordinal)
            .ToList();
        if (args.Format == "json")
        {
            output.Json(new
            {
                manifest.Id,
                manifest.Description,
                Versions = versions.Select(v => new { v.Version, v.Platform, v.Value.Entry, v.Value.Yanked, v.Value.Released, v.Value.Length, Sha256 = v.Value.Sha256 }),
            });
            return ExitCodes.Success;
        }

        var list = new Table().AddColumns("version", "platform", "entry", "released", "yanked");
        foreach (var v in versions)
        {
            list.AddRow(Markup.Escape(v.Version), v.Platform, Markup.Escape(v.Value.Entry), Markup.Escape(v.Value.Released), v.Value.Yanked ? "yes" : "no");
        }

        output.Show(list);
        return ExitCodes.Success;
    }

    private async Task<LocalMirror> OpenCurrentLocalAsync(string verb, CancellationToken cancellationToken)
    {
        var address = client.CurrentAddress();
        if (Tug.Mirror.Sources.MirrorSource.IsHttp(address))
        {
            throw new MirrorException(MirrorErrors.NotLocal, $"`tug mirror {verb}` writes to a mirror directory, but the mirror in use is {address}.", null,
                $"Run it on the machine that holds the mirror's directory, with `tug mirror set DIR` first.");
        }

        return await LocalMirror.OpenAsync(address, time, cancellationToken);
    }

    private KeyRing OwnerKeys(string? explicitKey, LocalMirror mirror)
    {
        var ring = new KeyRing();
        if (explicitKey is not null)
        {
            ring.Add(KeyInfo.Load(Resolve(explicitKey)));
            return ring;
        }

        ring.AddDirectory(home.KeysDirectory);
        ring.AddDirectory(mirror.KeyDirectory);
        return ring;
    }

    private int Report(MirrorChange change)
    {
        output.Line(change.Summary);
        foreach (var note in change.Notes)
        {
            output.Note($"note: {note}");
        }

        foreach (var file in change.FilesWritten)
        {
            output.Note($"  wrote {file}");
        }

        return ExitCodes.Success;
    }

    private string Resolve(string path) => Path.GetFullPath(path, environment.CurrentDirectory);
}
