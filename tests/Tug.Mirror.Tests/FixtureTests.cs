// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Tug.Mirror.Crypto;
using Tug.Mirror.Json;
using Tug.Mirror.Manifests;
using Tug.Mirror.Sources;
using Tug.Testing;

namespace Tug.Mirror.Tests;

/// <summary>Real PingCAP-signed manifests from TiUP's repository, checked where TiUP's own tests check them.</summary>
public sealed class FixtureTests
{
    private static string Polluted(params string[] parts) => Path.Combine([Repo.TiupFixtures, "pkg", "repository", "testdata", "polluted", .. parts]);

    private static string Legacy(string name) => Path.Combine(Repo.TiupFixtures, "pkg", "repository", "testdata", "manifests", name);

    private static readonly DateTimeOffset BeforeRootV6Expired = new(2021, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static SignedManifest<RootManifest> RootV6() => Manifest.ParseRoot(File.ReadAllBytes(Polluted("bin", "root.json")), "root.json");

    public sealed class TheKeyId
    {
        [Fact]
        public void Should_Match_The_Documented_Vector_For_The_Timestamp_Key()
        {
            // Given
            var key = RootV6().Signed.Roles["timestamp"].Keys.Single().Value;

            // When
            var canonical = CanonicalJson.Serialize(key.ToJson());

            // Then
            Assert.Equal(529, canonical.Length);
            Assert.Equal("66d4ea1da00076c822a6e1b4df5eb1e529eb38f6edcedff323e62f2bfe3eaddd", key.Id());
        }

        [Fact]
        public void Should_Reproduce_Every_Key_Id_Of_The_Official_Root()
        {
            var root = RootV6().Signed;
            var pairs = root.Roles.Values.SelectMany(r => r.Keys).ToList();
            Assert.Equal(8, pairs.Count);
            Assert.All(pairs, p => Assert.Equal(p.Key, p.Value.Id()));
        }
    }

    public sealed class TheSignatures
    {
        [Fact]
        public void Should_Verify_All_Five_Max_Salt_Root_Signatures()
        {
            var root = RootV6();
            var keys = root.Signed.Roles["root"].Keys;
            Assert.Equal(5, root.Signatures.Length);
            Assert.All(root.Signatures, s => Assert.True(keys[s.KeyId].Verify(root.RawSigned, s.Sig), $"signature by {s.KeyId} did not verify"));
        }

        [Fact]
        public void Should_Reject_A_Signature_When_One_Payload_Byte_Changes()
        {
            var root = RootV6();
            var keys = root.Signed.Roles["root"].Keys;
            var tampered = root.RawSigned.ToArray();
            tampered[100] ^= 1;
            Assert.All(root.Signatures, s => Assert.False(keys[s.KeyId].Verify(tampered, s.Sig)));
        }

        [Fact]
        public void Should_Not_Be_Verifiable_With_The_Platform_Pss_Salt_Length()
        {
            // The reason the verifier is hand-written: .NET's PSS only checks salt = hash length; TiUP signs with 222.
            var root = RootV6();
            var signature = root.Signatures[0];
            using var rsa = root.Signed.Roles["root"].Keys[signature.KeyId].CreateRsa();
            Assert.False(rsa.VerifyData(root.RawSigned, Convert.FromBase64String(signature.Sig), HashAlgorithmName.SHA256, RSASignaturePadding.Pss));
        }

        [Fact]
        public void Should_Verify_Platform_Signatures_With_Salt_32()
        {
            var key = KeyInfo.Generate();
            var payload = "{\"a\":1}"u8.ToArray();
            var signature = key.Sign(payload);
            Assert.True(key.Public().Verify(payload, signature));
            Assert.False(key.Public().Verify("{\"a\":2}"u8.ToArray(), signature));
        }
    }

    public sealed class ThePollutedProfile
    {
        // TiUP's local_manifests_test.go: index.json has a bad signature, snapshot.json is correct,
        // timestamp.json has expired, tidb.json is correct (but unusable because the index failed).
        [Fact]
        public void Should_Refuse_The_Index_For_Its_Signature()
        {
            var index = Manifest.ParseIndex(File.ReadAllBytes(Polluted("manifests", "index.json")), "index.json");
            var e = Assert.Throws<MirrorException>(() => Trust.VerifySignatures(index, "index.json", Trust.KeysOf(RootV6().Signed, "index"), BeforeRootV6Expired));
            Assert.Equal(MirrorErrors.BadSignature, e.Code);
            Assert.Contains("index.json", e.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Should_Accept_The_Snapshot()
        {
            var snapshot = Manifest.ParseSnapshot(File.ReadAllBytes(Polluted("manifests", "snapshot.json")), "snapshot.json");
            Trust.VerifySignatures(snapshot, "snapshot.json", Trust.KeysOf(RootV6().Signed, "snapshot"), BeforeRootV6Expired);
            Trust.CheckNotExpired(snapshot.Signed, "snapshot.json", BeforeRootV6Expired);
            Assert.True(snapshot.IsCurrentSchema);
        }

        [Fact]
        public void Should_Refuse_The_Timestamp_As_Expired_Though_Its_Signature_Is_Valid()
        {
            var timestamp = Manifest.ParseTimestamp(File.ReadAllBytes(Polluted("manifests", "timestamp.json")), "timestamp.json");
            Trust.VerifySignatures(timestamp, "timestamp.json", Trust.KeysOf(RootV6().Signed, "timestamp"), BeforeRootV6Expired);
            var e = Assert.Throws<MirrorException>(() => Trust.CheckNotExpired(timestamp.Signed, "timestamp.json", BeforeRootV6Expired));
            Assert.Equal(MirrorErrors.Expired, e.Code);
            Assert.Contains("2000-08-01", e.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Should_Accept_The_Tidb_Component_Signature_By_Its_Owner_Key()
        {
            // The owner key comes from the (badly signed) index: the component itself is intact.
            var index = Manifest.ParseIndex(File.ReadAllBytes(Polluted("manifests", "index.json")), "index.json").Signed;
            var tidb = Manifest.ParseComponent(File.ReadAllBytes(Polluted("manifests", "tidb.json")), "tidb.json");
            Trust.VerifySignatures(tidb, "tidb.json", Trust.KeysOfOwner(index, "pingcap", "tidb.json"), BeforeRootV6Expired);
            Assert.True(tidb.IsCurrentSchema);
            Assert.Equal("a61b695e2b86097d993e94e99fd15ec6d8fc8e9522948c9ff21c2f2c881093ae", tidb.Signatures.Single().KeyId);
        }

        [Fact]
        public void Should_Not_Be_Canonical_Where_The_Index_Was_Hand_Edited()
        {
            var bytes = File.ReadAllBytes(Polluted("manifests", "index.json"));
            Assert.Equal((byte)'\n', bytes[^1]);
            Assert.False(CanonicalJson.IsCanonical(bytes));
            Assert.True(CanonicalJson.IsCanonical(File.ReadAllBytes(Polluted("manifests", "tidb.json"))));
        }

        [Fact]
        public async Task Should_Fail_A_Full_Check_Exactly_Where_TiUP_Does()
        {
            // Given the polluted files laid out as a mirror (the snapshot names index v420 and tidb v62)
            using var dir = new TempDirectory();
            File.Copy(Polluted("bin", "root.json"), dir.Combine("root.json"));
            File.Copy(Polluted("manifests", "snapshot.json"), dir.Combine("snapshot.json"));
            File.Copy(Polluted("manifests", "timestamp.json"), dir.Combine("timestamp.json"));
            File.Copy(Polluted("manifests", "index.json"), dir.Combine("420.index.json"));
            File.Copy(Polluted("manifests", "tidb.json"), dir.Combine("62.tidb.json"));

            // When
            var reader = new MirrorReader(new LocalMirrorSource(dir.Path), BeforeRootV6Expired);
            var report = await new MirrorVerifier(reader).VerifyAsync(new VerifyOptions(null, null, false, TimeSpan.FromDays(30)), TestContext.Current.CancellationToken);

            // Then: root OK; timestamp expired; snapshot signature OK but not the one the timestamp names; index bad signature
            Assert.False(report.Ok);
            Assert.Contains(report.Files, f => f.File == "root.json" && f.Version == 6);
            Assert.Contains(report.Files, f => f.File == "snapshot.json");
            var errors = report.Findings.Where(f => f.Severity == FindingSeverity.Error).Select(f => (f.File, f.Code)).ToList();
            Assert.Equal([("timestamp.json", MirrorErrors.Expired), ("snapshot.json", MirrorErrors.MixAndMatch), ("420.index.json", MirrorErrors.BadSignature)], errors);
        }
    }

    public sealed class TheOfficialRoots
    {
        [Theory]
        [InlineData("tests/tiup/bin/root.json", 1, "2021-01-01T00:00:00Z")]
        [InlineData("tests/tiup-cluster/root.json", 4, "2023-01-01T00:00:00Z")]
        [InlineData("pkg/repository/testdata/polluted/bin/root.json", 6, "2025-01-01T00:00:00Z")]
        public void Should_Verify_Against_Their_Own_Keys_Before_Expiry(string path, int version, string at)
        {
            var reader = new MirrorReader(new LocalMirrorSource("/"), DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture));
            var root = reader.ParseTrustedRoot(File.ReadAllBytes(Path.Combine(Repo.TiupFixtures, path)), path);
            Assert.Equal((ulong)version, root.Signed.Version);
            Assert.True(root.IsCurrentSchema);
        }

        [Fact]
        public async Task Should_Refuse_Root_V6_After_It_Expired()
        {
            using var dir = new TempDirectory();
            File.Copy(Polluted("bin", "root.json"), dir.Combine("root.json"));
            var reader = new MirrorReader(new LocalMirrorSource(dir.Path), new DateTimeOffset(2026, 8, 1, 0, 0, 0, TimeSpan.Zero));
            var anchor = await reader.ReadInitialRootAsync(TestContext.Current.CancellationToken);
            var e = await Assert.ThrowsAsync<MirrorException>(() => reader.UpdateRootAsync(anchor, TestContext.Current.CancellationToken));
            Assert.Equal(MirrorErrors.Expired, e.Code);
        }
    }

    public sealed class TheLegacyMirror
    {
        [Fact]
        public void Should_Keep_Every_Signed_Payload_Byte_Identical_Under_Canonical_Encoding()
        {
            foreach (var file in Directory.GetFiles(Path.GetDirectoryName(Legacy("snapshot.json"))!, "*.json"))
            {
                using var document = JsonDocument.Parse(File.ReadAllBytes(file));
                var raw = Encoding.UTF8.GetBytes(document.RootElement.GetProperty("signed").GetRawText());
                Assert.True(raw.AsSpan().SequenceEqual(CanonicalJson.Serialize(document.RootElement.GetProperty("signed"))), $"{file} is not canonical");
                Assert.True(CanonicalJson.IsCanonical(File.ReadAllBytes(file)), file);
            }
        }

        [Fact]
        public async Task Should_Verify_Its_Chain_And_Refuse_Owners_Without_Threshold_As_TiUP_Does()
        {
            var reader = new MirrorReader(new LocalMirrorSource(Path.GetDirectoryName(Legacy("snapshot.json"))!), new DateTimeOffset(2021, 1, 1, 0, 0, 0, TimeSpan.Zero));
            var report = await new MirrorVerifier(reader).VerifyAsync(
                new VerifyOptions(File.ReadAllBytes(Legacy("1.root.json")), null, false, TimeSpan.FromDays(30)), TestContext.Current.CancellationToken);

            Assert.Contains(report.Files, f => f.File == "timestamp.json");
            Assert.Contains(report.Files, f => f.File == "snapshot.json");
            Assert.Contains(report.Files, f => f.File == "1.index.json");
            var errors = report.Findings.Where(f => f.Severity == FindingSeverity.Error).ToList();
            Assert.Equal(22, errors.Count);
            Assert.All(errors, e => Assert.Contains("threshold 0", e.Message, StringComparison.Ordinal));
        }
    }
}
