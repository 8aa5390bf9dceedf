// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Security.Cryptography;
using System.Text;
using Tug.Core.Cluster;
using Tug.Core.Remote;

namespace Tug.Core.Tests.Cluster;

/// <summary>
/// The cluster's key files through a rotation: the next key made once (a replay keeps it), the switch safe to repeat
/// from every point it can be interrupted at, and <c>id_rsa</c> always one whole key: the old one, then the new one.
/// </summary>
public sealed class ClusterKeysTests : IDisposable
{
    private readonly TempDirectory _dir = new("ssh");

    private ClusterKeys Keys => new(_dir.Path, "tug-cluster-demo");

    public void Dispose() => _dir.Dispose();

    /// <summary>Writes an RSA key (2048 bits: quick) as deploy writes one, with its .pub; returns its public line.</summary>
    private string WriteKey(string path)
    {
        using var rsa = RSA.Create(2048);
        File.WriteAllText(path, rsa.ExportRSAPrivateKeyPem() + "\n");
        var line = SshKeys.PublicKeyLine(rsa, "tug-cluster-demo");
        File.WriteAllText(path + ".pub", line + "\n");
        return line;
    }

    [Fact]
    public void Should_Make_The_Next_Key_As_Deploy_Makes_One_Private_And_Whole()
    {
        // Given
        var old = WriteKey(Keys.Current);

        // When
        var line = Keys.EnsurePending([SshPublicKey.Parse(old)]);

        // Then: RSA 4096 in PKCS#1 PEM, 0600, its .pub agreeing, the current key untouched
        using var rsa = RSA.Create();
        rsa.ImportFromPem(File.ReadAllText(Keys.Pending));
        Assert.Equal(4096, rsa.KeySize);
        Assert.StartsWith("-----BEGIN RSA PRIVATE KEY-----", File.ReadAllText(Keys.Pending), StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Keys.Pending));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Keys.Pending + ".pub"));
        Assert.Equal(line + "\n", File.ReadAllText(Keys.Pending + ".pub"));
        Assert.EndsWith(" tug-cluster-demo", line, StringComparison.Ordinal);
        Assert.Equal(old, Keys.PublicLine(Keys.Current));
        Assert.True(Keys.PendingReady([SshPublicKey.Parse(old)]));
    }

    [Fact]
    public void Should_Keep_A_Next_Key_Made_Before_A_Crash_And_Replace_A_Retired_One()
    {
        // Given: this rotation's key made before a crash, its .pub not written yet
        var old = WriteKey(Keys.Current);
        var pending = WriteKey(Keys.Pending);
        File.Delete(Keys.Pending + ".pub");
        Assert.False(Keys.PendingReady([SshPublicKey.Parse(old)]));

        // When the step runs again, Then the same key, its .pub written
        Assert.Equal(pending, Keys.EnsurePending([SshPublicKey.Parse(old)]));
        Assert.True(Keys.PendingReady([SshPublicKey.Parse(old)]));

        // When a later rotation retires that unused key (an earlier rotation that did not finish), Then a new one is made
        var fresh = Keys.EnsurePending([SshPublicKey.Parse(old), SshPublicKey.Parse(pending)]);
        Assert.NotEqual(SshPublicKey.Parse(pending), SshPublicKey.Parse(fresh));
    }

    public static TheoryData<string> InterruptedAt() => ["not started", "old copied", "renamed", "public written"];

    [Theory]
    [MemberData(nameof(InterruptedAt))]
    public void Should_Switch_From_Every_Point_A_Crash_Can_Leave(string point)
    {
        // Given a switch interrupted at this point
        var old = WriteKey(Keys.Current);
        var next = WriteKey(Keys.Pending);
        var retired = new[] { SshPublicKey.Parse(old) };
        var oldBytes = File.ReadAllBytes(Keys.Current);
        var nextBytes = File.ReadAllBytes(Keys.Pending);
        if (point != "not started")
        {
            File.Copy(Keys.Current, Keys.Previous);
        }

        if (point is "renamed" or "public written")
        {
            File.Move(Keys.Pending, Keys.Current, overwrite: true);
        }

        if (point == "public written")
        {
            File.WriteAllText(Keys.Current + ".pub", next + "\n");
        }

        // When
        var line = Keys.Switch(retired);

        // Then: the new key is id_rsa with its .pub, the old one kept as id_rsa.old, nothing pending
        Assert.Equal(next, line);
        Assert.Equal(nextBytes, File.ReadAllBytes(Keys.Current));
        Assert.Equal(next + "\n", File.ReadAllText(Keys.Current + ".pub"));
        Assert.Equal(oldBytes, File.ReadAllBytes(Keys.Previous));
        Assert.Equal(old + "\n", File.ReadAllText(Keys.Previous + ".pub"));
        Assert.False(File.Exists(Keys.Pending));
        Assert.False(File.Exists(Keys.Pending + ".pub"));
        Assert.True(Keys.Switched(retired));
        Assert.Equal(Keys.Current, Keys.NewKeyFile(retired));

        // And again: nothing changes
        Assert.Equal(next, Keys.Switch(retired));
        Assert.Equal(oldBytes, File.ReadAllBytes(Keys.Previous));
    }

    [Fact]
    public void Should_Name_The_New_Key_File_Before_And_After_The_Switch()
    {
        var old = WriteKey(Keys.Current);
        var retired = new[] { SshPublicKey.Parse(old) };
        Assert.Null(Keys.NewKeyFile(retired));
        WriteKey(Keys.Pending);
        Assert.Equal(Keys.Pending, Keys.NewKeyFile(retired));
        Keys.Switch(retired);
        Assert.Equal(Keys.Current, Keys.NewKeyFile(retired));
    }

    [Fact]
    public void Should_Refuse_To_Switch_Without_A_New_Key_And_Leave_The_Old_One()
    {
        // Given
        var old = WriteKey(Keys.Current);
        var bytes = File.ReadAllBytes(Keys.Current);

        // When
        var e = Assert.Throws<ClusterException>(() => Keys.Switch([SshPublicKey.Parse(old)]));

        // Then
        Assert.Equal(ClusterException.StateBroken, e.Code);
        Assert.Equal(bytes, File.ReadAllBytes(Keys.Current));
        Assert.False(File.Exists(Keys.Previous));
    }

    [Fact]
    public void Should_Refuse_To_Overwrite_A_Key_Replaced_By_Hand_Since_The_Plan()
    {
        // Given: id_rsa is neither the retired key nor the new one
        var old = WriteKey(Keys.Current);
        WriteKey(Keys.Current);
        var byHand = File.ReadAllBytes(Keys.Current);
        WriteKey(Keys.Pending);

        // When, Then
        Assert.Throws<ClusterException>(() => Keys.Switch([SshPublicKey.Parse(old)]));
        Assert.Equal(byHand, File.ReadAllBytes(Keys.Current));
    }

    [Fact]
    public void Should_Remove_The_Old_Key_And_Leftovers_Only()
    {
        // Given
        var old = WriteKey(Keys.Current);
        WriteKey(Keys.Pending);
        Keys.Switch([SshPublicKey.Parse(old)]);
        File.WriteAllText(Keys.Pending + ".pub", "stale\n");

        // When
        Keys.RemovePrevious();

        // Then
        Assert.Equal(["id_rsa", "id_rsa.pub"], Directory.GetFiles(_dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Should_Read_No_Key_From_A_Missing_Or_Broken_File()
    {
        Assert.Null(Keys.PublicLine(Keys.Current));
        File.WriteAllText(Keys.Current, "-----BEGIN OPENSSH PRIVATE KEY-----\nnot this\n-----END OPENSSH PRIVATE KEY-----\n", Encoding.ASCII);
        Assert.Null(Keys.PublicLine(Keys.Current));
    }
}
