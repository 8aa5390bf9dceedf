// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using Tug.Core.Cluster;

namespace Tug.Core.Tests.Cluster;

/// <summary><c>verified.tsv</c>: what display may trust without hashing; a file it cannot read only costs a re-hash.</summary>
public sealed class VerifiedIdentitiesTests
{
    private static readonly string Sha = new('a', 64);

    private static readonly VerifiedIdentity Entry = new("boot:123:2049:77:1000:1.5:1.5:2049:77:1000:1.5:1.5", Sha, "etcd Version: 3.5.17\nGit SHA: x\ty|z", new DateTimeOffset(2026, 12, 4, 17, 40, 12, TimeSpan.Zero));

    [Fact]
    public void Should_Read_Back_What_It_Wrote()
    {
        // Given
        var entries = new Dictionary<string, VerifiedIdentity> { ["10.0.0.2:2379"] = Entry, ["10.0.0.1:2379"] = Entry with { Sha256 = new string('b', 64) } };

        // When
        var read = VerifiedIdentities.Parse(VerifiedIdentities.Format(entries));

        // Then
        Assert.Equal(2, read.Count);
        Assert.Equal(Entry, read["10.0.0.2:2379"]);
        Assert.Equal(new string('b', 64), read["10.0.0.1:2379"].Sha256);
    }

    [Theory]
    [InlineData("10.0.0.1:2379\tid\n")]
    [InlineData("10.0.0.1:2379\tid\tshort\tAA==\t2026-12-04T17:40:12Z\n")]
    [InlineData("10.0.0.1:2379\tid\taaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\t!!not base64!!\t2026-12-04T17:40:12Z\n")]
    [InlineData("10.0.0.1:2379\tid\taaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\tAA==\tnot a date\n")]
    [InlineData("\0\u0001\u00ff garbage \t\t\t\t\t\n")]
    public void Should_Leave_Out_A_Garbled_Line_And_Keep_The_Rest(string garbled)
    {
        // Given: a good line, then a garbled one, then a torn one (cut mid-line, no newline).
        var good = VerifiedIdentities.Format(new Dictionary<string, VerifiedIdentity> { ["10.0.0.3:2379"] = Entry });
        var text = good + garbled + good.Replace("10.0.0.3", "10.0.0.4", StringComparison.Ordinal)[..20];

        // When
        var read = VerifiedIdentities.Parse(text);

        // Then
        Assert.Equal(["10.0.0.3:2379"], read.Keys);
    }

    [Fact]
    public void Should_Load_An_Unreadable_File_As_Empty()
    {
        // Given
        using var directory = new TempDirectory();
        var store = new ClusterStore(directory.Root, TimeProvider.System);
        File.WriteAllBytes(store.VerifiedFile("prod"), [0xff, 0xfe, 0x00, 0x09, 0x0a, 0x80]);

        // When / Then
        Assert.Empty(store.LoadVerified("prod"));
        store.SaveVerified("prod", new Dictionary<string, VerifiedIdentity> { ["x:1"] = Entry });
        Assert.Equal(Entry, store.LoadVerified("prod")["x:1"]);
    }

    [Fact]
    public void Should_Drop_An_Entry_Found_Not_Verified_And_Renew_One_Hashed_Now()
    {
        // Given
        var known = ImmutableDictionary<string, VerifiedIdentity>.Empty.Add("a:1", Entry).Add("b:1", Entry).Add("c:1", Entry);
        var now = Entry.VerifiedAt.AddHours(1);
        InstanceStatus S(string id, bool verified, string? by) => new(id, "etcd", "h", "1", "Up", "v", verified, "/d", "/d", string.Empty)
        {
            VerifiedBy = by, Identity = "new", Sha256 = verified ? Sha : null, VersionOutput = "v",
        };

        // When
        var updated = VerifiedIdentities.Update(known, [S("a:1", false, null), S("b:1", true, InstanceStatus.ByHash), S("c:1", true, InstanceStatus.ByIdentity)], now);

        // Then
        Assert.False(updated.ContainsKey("a:1"));
        Assert.Equal(new VerifiedIdentity("new", Sha, "v", now), updated["b:1"]);
        Assert.Equal(Entry, updated["c:1"]);
    }
}
