// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Security.Cryptography;
using Tug.Core.Cluster;
using Tug.Core.Planning;
using Tug.Core.Remote;

namespace Tug.Core.Execution.Steps;

/// <summary>What the steps of a key rotation share: the key files, the plan's retired keys, and the edit of a host's authorized_keys.</summary>
internal static class KeyRotation
{
    /// <summary>The exit status of the write script when the file changed since it was read.</summary>
    private const int ChangedMeanwhile = 46;

    public static ClusterKeys Keys(StepContext context) => ClusterKeys.Of(context.Store, context.Plan.Cluster);

    public static ImmutableArray<SshPublicKey> Retired(Step step) => ((KeyRotationInputs)step.Inputs).Keys();

    /// <summary>The deploy user's authorized_keys on a host: its path, its text (Latin-1, byte for byte; empty when missing) and whether it exists.</summary>
    /// <exception cref="ClusterException">The script failed or printed no result.</exception>
    public static async Task<(string Path, string Text, byte[]? Bytes)> ReadAsync(IRemoteHost remote, StepContext context, CancellationToken cancellationToken)
    {
        var result = await remote.RunAsync(HostScripts.AuthorizedKeysRead(context.Meta.User), new RunOptions(Timeout: context.Reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
        if (!result.Ok || HostReply.Parse(result.Stdout).OfType<AuthorizedKeysLine>().FirstOrDefault() is not { } line)
        {
            throw new ClusterException(ClusterException.StateBroken, $"reading {context.Meta.User}'s authorized_keys failed (exit {result.ExitCode}): {result.Stderr.Trim()}");
        }

        return (line.Path, AuthorizedKeys.Bytes.GetString(line.Content ?? []), line.Content);
    }

    /// <summary>
    /// Applies <paramref name="edit"/> to the deploy user's authorized_keys on a host: read, edited here, written back
    /// only if the file is still what was read (else read again, up to three times). Returns the text before and after.
    /// </summary>
    /// <exception cref="ClusterException">The file cannot be read or written, or kept changing under the edit.</exception>
    public static async Task<(string Before, string After)> EditAsync(IRemoteHost remote, StepContext context, Func<string, string> edit, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var (path, text, bytes) = await ReadAsync(remote, context, cancellationToken).ConfigureAwait(false);
            var next = edit(text);
            if (bytes is not null && next == text)
            {
                return (text, text);
            }

            var expected = bytes is null ? "-" : Convert.ToHexStringLower(SHA256.HashData(bytes));
            var result = await remote.RunAsync(HostScripts.AuthorizedKeysWrite(context.Meta.User, expected, AuthorizedKeys.Bytes.GetBytes(next)), new RunOptions(Timeout: context.Reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
            if (result.Ok)
            {
                return (text, next);
            }

            if (result.ExitCode != ChangedMeanwhile || attempt == 3)
            {
                throw new ClusterException(ClusterException.StateBroken, $"writing {path} failed (exit {result.ExitCode}): {result.Stderr.Trim()}");
            }
        }
    }

    /// <summary>Logs in to a host afresh with the key at <paramref name="keyFile"/> and runs <c>true</c>: the proof that the key is accepted there.</summary>
    /// <exception cref="RemoteException">The host cannot be reached or refuses the key.</exception>
    public static async Task ProveLoginAsync(StepContext context, string host, string keyFile, CancellationToken cancellationToken)
    {
        var fresh = await context.ConnectAsync(host, new KeyFileCredential(keyFile), cancellationToken).ConfigureAwait(false);
        await using (fresh.ConfigureAwait(false))
        {
            var result = await fresh.RunAsync("true", new RunOptions(Timeout: context.Reach.WaitTimeout), cancellationToken).ConfigureAwait(false);
            if (!result.Ok)
            {
                throw new RemoteException(RemoteException.AuthenticationFailed, host, $"a login with {Path.GetFileName(keyFile)} ran `true` with exit {result.ExitCode}: {result.Stderr.Trim()}");
            }
        }
    }

    /// <summary>The same failure with <paramref name="more"/> said after it (the executor reports a host failure by its message).</summary>
    public static RemoteException Saying(RemoteException e, string more) => new(e.Code, e.Host, $"{e.Message.TrimEnd('.')}; {more}", e.Hint, e);

    public static string Fingerprint(string publicLine) => SshPublicKey.Parse(publicLine).Fingerprint;
}

/// <summary>Makes the rotation's new key on the control machine (<c>ssh/id_rsa.new</c>), or keeps the one an interrupted run of it made.</summary>
public sealed class SshKeygenStep : StepHandler
{
    public override StepKind Kind => StepKind.SshKeygen;

    public override string Untouched(Step step) => "no new key made; the cluster keeps its key";

    public override Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var line = KeyRotation.Keys(context).EnsurePending(KeyRotation.Retired(step));
        return Task.FromResult(StepResult.Done($"new key {KeyRotation.Fingerprint(line)} in ssh/id_rsa.new"));
    }

    public override Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var keys = KeyRotation.Keys(context);
        var retired = KeyRotation.Retired(step);
        return Task.FromResult(keys.PendingReady(retired) || keys.Switched(retired)
            ? StepResult.Done($"new key {KeyRotation.Fingerprint(keys.PublicLine(keys.NewKeyFile(retired)!)!)} made")
            : null);
    }
}

/// <summary>
/// Adds the new public key to a host's authorized_keys, logged in with the cluster's current key (an edit that finds
/// it there changes nothing), then proves a fresh login with the new key works there. Re-probed on a replay: the
/// switch must not happen unless every host still accepts the new key.
/// </summary>
public sealed class SshAuthorizeStep : StepHandler
{
    public override StepKind Kind => StepKind.SshAuthorize;

    public override bool ReprobeWhenDone => true;

    public override string Untouched(Step step) => "its authorized_keys not changed; the old key works there";

    public override async Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var keys = KeyRotation.Keys(context);
        var newKey = keys.NewKeyFile(KeyRotation.Retired(step));
        if (newKey is null)
        {
            return StepResult.Fail($"there is no new key in {keys.Pending}; nothing switched: the cluster keeps its old key, which every host still accepts");
        }

        var line = keys.PublicLine(newKey)!;
        try
        {
            var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
            var (before, after) = await KeyRotation.EditAsync(remote, context, text => AuthorizedKeys.Append(text, line), cancellationToken).ConfigureAwait(false);
            context.Note(step.Host, null, StepKinds.Name(Kind), before == after ? "the new key was there already" : "new key added");
            try
            {
                await KeyRotation.ProveLoginAsync(context, step.Host, newKey, cancellationToken).ConfigureAwait(false);
            }
            catch (RemoteException e) when (e.Code == RemoteException.AuthenticationFailed)
            {
                return StepResult.Fail($"the new key is in authorized_keys, but a login with it is refused: {e.Message.TrimEnd('.')}; nothing switched: the cluster keeps its old key, which this host and every other host still accept");
            }

            return StepResult.Done($"new key {KeyRotation.Fingerprint(line)} {(before == after ? "was there already" : "added")}; a fresh login with it works");
        }
        catch (RemoteException e)
        {
            throw KeyRotation.Saying(e, "nothing switched: the cluster keeps its old key, which this host and every other host still accept");
        }
        catch (ClusterException e)
        {
            return StepResult.Fail($"{e.Message}; nothing switched: the cluster keeps its old key, which this host and every other host still accept");
        }
    }

    public override async Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var keys = KeyRotation.Keys(context);
        if (keys.NewKeyFile(KeyRotation.Retired(step)) is not { } newKey)
        {
            return null;
        }

        var line = keys.PublicLine(newKey)!;
        try
        {
            var remote = await context.HostAsync(step, cancellationToken).ConfigureAwait(false);
            var (_, text, _) = await KeyRotation.ReadAsync(remote, context, cancellationToken).ConfigureAwait(false);
            if (!AuthorizedKeys.Contains(text, SshPublicKey.Parse(line)))
            {
                return null;
            }

            await KeyRotation.ProveLoginAsync(context, step.Host, newKey, cancellationToken).ConfigureAwait(false);
            return StepResult.Done($"new key {KeyRotation.Fingerprint(line)} authorized; a fresh login with it works");
        }
        catch (Exception e) when (e is RemoteException or ClusterException)
        {
            return null;
        }
    }
}

/// <summary>Makes the new key the cluster's on the control machine (<c>id_rsa.new</c> renamed over <c>id_rsa</c>), the old one kept as <c>id_rsa.old</c>.</summary>
public sealed class SshSwitchStep : StepHandler
{
    public override StepKind Kind => StepKind.SshSwitch;

    public override string Untouched(Step step) => "the cluster keeps its old key ssh/id_rsa, which every host still accepts";

    public override Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var line = KeyRotation.Keys(context).Switch(KeyRotation.Retired(step));
        return Task.FromResult(StepResult.Done($"ssh/id_rsa is the new key {KeyRotation.Fingerprint(line)} (every host accepts it); the old one is kept as ssh/id_rsa.old"));
    }

    public override Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken) =>
        Task.FromResult(KeyRotation.Keys(context).Switched(KeyRotation.Retired(step)) ? StepResult.Done("ssh/id_rsa is the new key") : null);
}

/// <summary>
/// Logs in to a host with the cluster's key, which must be the new one by now, and removes every line of the retired
/// keys from its authorized_keys (whatever their options or comment), keeping every other line byte for byte and the
/// new key's line; then reads the file again to prove it.
/// </summary>
public sealed class SshRetireStep : StepHandler
{
    public override StepKind Kind => StepKind.SshRetire;

    public override string Untouched(Step step) => "this host still accepts the old key";

    public override async Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var keys = KeyRotation.Keys(context);
        var retired = KeyRotation.Retired(step);
        var finish = $"`tug cluster replay {context.Plan.Cluster}` (or `tug cluster rotatessh {context.Plan.Cluster}`) finishes it; ssh/id_rsa.old is kept until then";
        if (!keys.Switched(retired))
        {
            return StepResult.Fail($"the cluster's key ssh/id_rsa is not the new one, so the old key is not removed; this host still accepts it; {finish}");
        }

        var line = keys.PublicLine(keys.Current)!;
        try
        {
            var remote = await context.ConnectAsync(step.Host, new KeyFileCredential(keys.Current), cancellationToken).ConfigureAwait(false);
            await using (remote.ConfigureAwait(false))
            {
                var (before, after) = await KeyRotation.EditAsync(remote, context, text => AuthorizedKeys.Retire(text, retired, line), cancellationToken).ConfigureAwait(false);
                var (_, now, _) = await KeyRotation.ReadAsync(remote, context, cancellationToken).ConfigureAwait(false);
                if (retired.Any(k => AuthorizedKeys.Contains(now, k)) || !AuthorizedKeys.Contains(now, SshPublicKey.Parse(line)))
                {
                    return StepResult.Fail($"authorized_keys does not hold the new key alone among the cluster's keys after the edit; this host still accepts the old key; {finish}");
                }

                var removed = AuthorizedKeys.Lines(before).Count(l => AuthorizedKeys.KeyOf(l) is { } k && retired.Contains(k));
                var others = AuthorizedKeys.Lines(now).Count(l => AuthorizedKeys.KeyOf(l) is { } k && k != SshPublicKey.Parse(line));
                return StepResult.Done($"logged in with the new key; {removed} old key line(s) removed, {others} other key line(s) kept{(before == after ? " (nothing to change)" : string.Empty)}");
            }
        }
        catch (RemoteException e)
        {
            throw KeyRotation.Saying(e, $"this host still accepts the old key (the new one too); {finish}");
        }
        catch (Exception e) when (e is ClusterException or ArgumentException)
        {
            return StepResult.Fail($"{e.Message}; this host still accepts the old key (the new one, which the cluster uses now, too); {finish}");
        }
    }

    public override async Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var keys = KeyRotation.Keys(context);
        var retired = KeyRotation.Retired(step);
        if (!keys.Switched(retired))
        {
            return null;
        }

        try
        {
            var remote = await context.ConnectAsync(step.Host, new KeyFileCredential(keys.Current), cancellationToken).ConfigureAwait(false);
            await using (remote.ConfigureAwait(false))
            {
                var (_, text, _) = await KeyRotation.ReadAsync(remote, context, cancellationToken).ConfigureAwait(false);
                return !retired.Any(k => AuthorizedKeys.Contains(text, k)) && AuthorizedKeys.Contains(text, keys.KeyOf(keys.Current)!)
                    ? StepResult.Done("only the new key of the cluster's keys is authorized; it logs in")
                    : null;
            }
        }
        catch (Exception e) when (e is RemoteException or ClusterException)
        {
            return null;
        }
    }
}

/// <summary>Removes <c>ssh/id_rsa.old</c> from the control machine once every host stopped accepting the old key.</summary>
public sealed class SshCleanupStep : StepHandler
{
    public override StepKind Kind => StepKind.SshCleanup;

    public override string Untouched(Step step) => "the old key stays on this machine until no host accepts it";

    public override Task<StepResult> ActAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        KeyRotation.Keys(context).RemovePrevious();
        return Task.FromResult(StepResult.Done("ssh/id_rsa.old removed: no host accepts the old key any more"));
    }

    public override Task<StepResult?> ProbeAsync(StepContext context, Step step, CancellationToken cancellationToken)
    {
        var keys = KeyRotation.Keys(context);
        return Task.FromResult(!File.Exists(keys.Previous) && keys.Switched(KeyRotation.Retired(step)) ? StepResult.Done("ssh/id_rsa.old removed") : null);
    }
}
