// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Cluster;
using Tug.Core.Execution;
using Tug.Core.Remote;

namespace Tug.Core.Planning;

/// <summary>
/// What every step of a key rotation needs: the public key lines of the keys it retires (the cluster's key when it
/// was planned, and keys an earlier rotation that did not finish left behind). Public keys only: the new private
/// key is made by the rotation's first step into <c>ssh/id_rsa.new</c> and never enters the plan.
/// </summary>
/// <param name="Retired">The public key lines (<c>ssh-rsa AAAA... comment</c>) to remove from every host.</param>
public sealed record KeyRotationInputs(ImmutableArray<string> Retired) : StepInputs
{
    /// <summary>The retired keys, parsed.</summary>
    public ImmutableArray<SshPublicKey> Keys() => [.. Retired.Select(SshPublicKey.Parse)];
}

/// <summary>
/// Plans <c>tug cluster rotatessh</c> (TiUP's: a new cluster key on every host, the old one removed) so that at every
/// point, crash included, the key on the control machine is one every host accepts:
/// <list type="number">
/// <item>on this machine, a new RSA 4096 key into <c>ssh/id_rsa.new</c> (kept for a replay);</item>
/// <item>on every host, logged in with the current key, the new public key added to the deploy user's
/// authorized_keys, then a fresh login with the new key proves it works there;</item>
/// <item>only when every host passed: on this machine, the new key becomes <c>ssh/id_rsa</c>, the old one kept as
/// <c>ssh/id_rsa.old</c>;</item>
/// <item>on every host, logged in with the new key, every line of the old keys removed, other lines kept byte for byte;</item>
/// <item>only when every host passed: <c>ssh/id_rsa.old</c> removed.</item>
/// </list>
/// A host that fails in (2) stops the rotation before the switch: the cluster keeps its old key, which every host
/// still accepts (the new line stays where it was added; the next rotation removes it with the old key). A host that
/// fails in (4) keeps both keys; a replay or another rotatessh finishes it.
/// </summary>
public sealed class RotateSshPlanner(ClusterStore store)
{
    /// <summary>The plan of a key rotation for cluster <paramref name="name"/>.</summary>
    /// <exception cref="ClusterException">The cluster does not exist, its meta.yaml is broken, or it has no key on this machine (<c>ssh/id_rsa</c>).</exception>
    public Plan RotateSsh(string name)
    {
        var meta = store.Load(name);
        var keys = ClusterKeys.Of(store, name);
        var current = keys.PublicLine(keys.Current)
            ?? throw new ClusterException(ClusterException.BadInput, $"Cluster '{name}' has no usable key on this control machine ({keys.Current} is missing or is not an RSA key in PEM).",
                $"rotatessh replaces the key Tug logs in with; without one there is nothing to rotate from. Check {keys.Current} (a TiUP cluster keeps it in the same place). Nothing was changed.");

        // The key being replaced, and keys an earlier rotation that did not finish left on hosts (its old key, its unused new one).
        var retired = new[] { current, keys.PublicLine(keys.Previous), keys.PublicLine(keys.Pending) }.OfType<string>()
            .DistinctBy(SshPublicKey.Parse).ToImmutableArray();
        var inputs = new KeyRotationInputs(retired);
        var hosts = meta.Topology.ManageHosts;
        var file = $"~{meta.User}/.ssh/authorized_keys";
        var steps = ImmutableArray.CreateBuilder<Step>();
        steps.Add(Local(StepKind.SshKeygen, name, 1, $"a new RSA {ClusterKeys.RsaBits} key in ssh/id_rsa.new (kept for a replay)", inputs));
        steps.AddRange(hosts.Select(h => Host(StepKind.SshAuthorize, h, 2, $"add the new key to {file} (logged in with the current key), then log in with it", inputs)));
        steps.Add(Local(StepKind.SshSwitch, name, 3, "the new key becomes ssh/id_rsa; the old one is kept as ssh/id_rsa.old", inputs));
        steps.AddRange(hosts.Select(h => Host(StepKind.SshRetire, h, 4, $"log in with the new key, remove {retired.Length} old key(s) from {file}; other lines kept", inputs)));
        steps.Add(Local(StepKind.SshCleanup, name, 5, "remove ssh/id_rsa.old", inputs));
        return new Plan("rotatessh", name, steps.ToImmutable())
        {
            BasedOn = Executor.MetaRevision(store, name),
            RequireAllHosts = false,
            Notes =
            [
                "the instances: nothing is stopped or restarted; only the deploy user's authorized_keys on each host and the key on this machine change",
                "the key this machine logs in with: the old one until every host accepts the new one, then the new one; at every point one that every host accepts",
            ],
        };
    }

    private static Step Local(StepKind kind, string cluster, int wave, string summary, KeyRotationInputs inputs) =>
        new(new StepKey(kind, cluster), string.Empty, "cluster", wave, StepGate.None, StepLogin.Local, summary, inputs);

    private static Step Host(StepKind kind, string host, int wave, string summary, KeyRotationInputs inputs) =>
        new(new StepKey(kind, host), host, "host", wave, StepGate.None, StepLogin.Deploy, summary, inputs);
}
