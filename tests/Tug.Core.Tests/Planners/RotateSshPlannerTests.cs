// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Security.Cryptography;
using Tug.Core.Cluster;
using Tug.Core.Planning;
using Tug.Core.Remote;
using Tug.Core.Topology;

namespace Tug.Core.Tests.Planners;

/// <summary>
/// The rotatessh plan: the new key made locally first, every host authorizes it (logged in with the current key), the
/// local switch only after that whole wave, every host then drops the old keys, and the old key file goes last. The
/// plan carries public keys only.
/// </summary>
public sealed class RotateSshPlannerTests : IDisposable
{
    private const string Name = "demo";

    private readonly string _root = Directory.CreateTempSubdirectory("tug-rotatessh-tests-").FullName;

    private readonly ClusterStore _store;

    public RotateSshPlannerTests()
    {
        _store = new ClusterStore(Path.Combine(_root, "clusters"), TimeProvider.System);
        var topology = TopologyLoader.Parse("global:\n  user: tidb\netcd_servers:\n  - host: 10.0.0.1\n  - host: 10.0.0.2\n    ssh_port: 2222\nmonitoring_servers:\n  - host: 10.0.0.1\n", "t.yaml");
        _store.Save(Name, new ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = topology });
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private ClusterKeys Keys => ClusterKeys.Of(_store, Name);

    private string WriteKey(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var rsa = RSA.Create(2048);
        File.WriteAllText(path, rsa.ExportRSAPrivateKeyPem() + "\n");
        return SshKeys.PublicKeyLine(rsa, ClusterKeys.CommentFor(Name));
    }

    [Fact]
    public void Should_Authorize_Everywhere_Before_The_Switch_And_Retire_Everywhere_Before_The_Cleanup()
    {
        // Given
        var current = WriteKey(Keys.Current);

        // When
        var plan = new RotateSshPlanner(_store).RotateSsh(Name);

        // Then
        Assert.Equal("rotatessh", plan.Operation);
        Assert.Equal(
        [
            "1 ssh-keygen demo Local", "2 ssh-authorize 10.0.0.1 Deploy", "2 ssh-authorize 10.0.0.2 Deploy", "3 ssh-switch demo Local",
            "4 ssh-retire 10.0.0.1 Deploy", "4 ssh-retire 10.0.0.2 Deploy", "5 ssh-cleanup demo Local",
        ], plan.Steps.Select(s => $"{s.Wave} {s.Key} {s.Login}"));
        Assert.Equal(["10.0.0.1", "10.0.0.2"], plan.Hosts);
        Assert.All(plan.Steps, s => Assert.Equal([current], ((KeyRotationInputs)s.Inputs).Retired));
        Assert.False(plan.ContinueOnFailure);
        Assert.Equal(Tug.Core.Execution.Executor.MetaRevision(_store, Name), plan.BasedOn);
    }

    [Fact]
    public void Should_Carry_No_Private_Key_And_Round_Trip_As_Json()
    {
        // Given
        WriteKey(Keys.Current);
        WriteKey(Keys.Pending);
        var plan = new RotateSshPlanner(_store).RotateSsh(Name);

        // When
        var json = PlanJson.Serialize(plan);
        var back = PlanJson.Deserialize(json, "plan.json");

        // Then
        Assert.DoesNotContain("PRIVATE KEY", json, StringComparison.Ordinal);
        Assert.Contains("\"ssh-authorize\"", json, StringComparison.Ordinal);
        Assert.Equal(plan.Steps, back.Steps, (a, b) => a.Key == b.Key && ((KeyRotationInputs)a.Inputs).Retired.SequenceEqual(((KeyRotationInputs)b.Inputs).Retired));
    }

    [Fact]
    public void Should_Also_Retire_The_Keys_An_Unfinished_Rotation_Left()
    {
        // Given: an earlier rotation switched (id_rsa.old left: some host still accepts it) and another never got to
        // switch (its unused id_rsa.new left on the hosts it reached)
        var current = WriteKey(Keys.Current);
        var previous = WriteKey(Keys.Previous);
        var pending = WriteKey(Keys.Pending);

        // When
        var plan = new RotateSshPlanner(_store).RotateSsh(Name);

        // Then
        var retired = ((KeyRotationInputs)plan.Steps[0].Inputs).Keys();
        Assert.Equal([SshPublicKey.Parse(current), SshPublicKey.Parse(previous), SshPublicKey.Parse(pending)], retired);
    }

    [Fact]
    public void Should_Refuse_A_Cluster_Without_A_Key_As_Bad_Input()
    {
        // When
        var e = Assert.Throws<ClusterException>(() => new RotateSshPlanner(_store).RotateSsh(Name));

        // Then
        Assert.Equal(ClusterException.BadInput, e.Code);
        Assert.Equal(2, e.ExitCode);
        Assert.Contains("id_rsa", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Keys.Pending));
    }

    [Fact]
    public void Should_Refuse_An_Unknown_Cluster() =>
        Assert.Equal(ClusterException.NotFound, Assert.Throws<ClusterException>(() => new RotateSshPlanner(_store).RotateSsh("nope")).Code);
}
