// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.Json;
using Tug.Mirror.Server;
using Tug.Testing;

namespace Tug.Cli.Tests;

public sealed class MirrorCommandTests
{
    public sealed class TheCompatibilityWithAnIndependentImplementation
    {
        [Fact]
        public async Task Should_Write_Mirrors_The_Go_Oracle_Accepts_Byte_For_Byte()
        {
            // Given a mirror written by tug through every writing verb
            await using var s = await MirrorScenario.CreateAsync();
            await s.Tug.SucceedAsync("mirror", "renew", "all", "--days", "400");
            await s.Tug.SucceedAsync("mirror", "rotate");
            await s.PublishHelloAsync("v1.2.0");

            // When TiUP's rules, implemented independently in Go with Go's crypto, check it
            var (exit, output) = await GoOracle.RunAsync($"check {s.Mirror}");

            // Then
            Assert.True(exit == 0, output);
            Assert.Contains("OK", output, StringComparison.Ordinal);
        }

        [Fact]
        public async Task Should_Accept_And_Extend_A_Mirror_Written_By_The_Go_Oracle()
        {
            // Given a mirror written by the Go implementation (TiUP's max-salt signatures, its own encoder)
            using var dir = new TempDirectory();
            var mirror = dir.Combine("gomirror");
            var (exit, output) = await GoOracle.RunAsync($"write {mirror}");
            Assert.True(exit == 0, output);
            using var summary = JsonDocument.Parse(output);
            var ownerKey = summary.RootElement.GetProperty("ownerKey").GetString()!;
            var tug = new CliRunner(dir.Path);

            // When tug verifies it, lists it, and publishes into it with the owner key
            var verify = await tug.RunAsync("mirror", "verify", mirror);
            await tug.SucceedAsync("mirror", "set", mirror);
            var list = await tug.SucceedAsync("list", "hello", "--format", "json");
            var tarball = Packages.Write(dir.Combine("hello.tar.gz"), "hello-v2.0.0/hello", "#!/bin/sh\necho 2\n");
            await tug.SucceedAsync("mirror", "publish", "hello", "v2.0.0", tarball, "hello-v2.0.0/hello", "--key", ownerKey, "--os", "linux", "--arch", "amd64");
            var recheck = await GoOracle.RunAsync($"check {mirror}");

            // Then
            Assert.True(verify.ExitCode == 0, verify.ToString());
            Assert.Contains("v1.0.0", list.Stdout, StringComparison.Ordinal);
            Assert.Contains("v1.1.0", list.Stdout, StringComparison.Ordinal);
            Assert.True(recheck.ExitCode == 0, recheck.Output);
        }
    }

    public sealed class ThePublishVerb
    {
        [Fact]
        public async Task Should_Keep_Older_Versions_And_Record_The_Entry_As_Given()
        {
            await using var s = await MirrorScenario.CreateAsync();

            var list = await s.Tug.SucceedAsync("list", "hello", "--format", "json");

            using var json = JsonDocument.Parse(list.Stdout);
            var versions = json.RootElement.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()).ToList();
            Assert.Equal(["v1.1.0", "v1.0.0"], versions);
            Assert.Equal("hello-v1.1.0.linux-amd64/hello", json.RootElement.GetProperty("versions")[0].GetProperty("entry").GetString());
            Assert.True(File.Exists(Path.Combine(s.Mirror, "1.hello.json")));
            Assert.True(File.Exists(Path.Combine(s.Mirror, "2.hello.json")));
        }

        [Theory]
        [InlineData("hello/hello", "is not in", "Did you mean 'hello-v9.linux-amd64/hello'")]
        [InlineData("hello-v9.linux-amd64/README.md", "is not executable", "chmod 755")]
        [InlineData("hello-v9.linux-amd64", "not a regular file", "real executable")]
        public async Task Should_Refuse_A_Bad_Entry_And_Write_Nothing(string entry, string message, string hint)
        {
            // Given
            await using var s = await MirrorScenario.CreateAsync();
            var tarball = Packages.Write(s.Path("v9.tar.gz"), "hello-v9.linux-amd64/hello", "#!/bin/sh\n");
            var before = s.Snapshot();

            // When
            var result = await s.Tug.RunAsync("mirror", "publish", "hello", "v9.0.0", tarball, entry);

            // Then
            Assert.Equal(2, result.ExitCode);
            Assert.Contains("error[E2301]", result.Stderr, StringComparison.Ordinal);
            Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
            Assert.Contains(hint, result.Stderr, StringComparison.Ordinal);
            var after = s.Snapshot();
            Assert.Equal(before.Keys.Order(), after.Keys.Order());
            Assert.All(before, kv => Assert.Equal(kv.Value, after[kv.Key]));
        }

        [Fact]
        public async Task Should_Refuse_A_Key_That_Belongs_To_No_Owner()
        {
            await using var s = await MirrorScenario.CreateAsync();
            await s.Tug.SucceedAsync("mirror", "genkey", "--name", "stranger");
            var tarball = Packages.Write(s.Path("x.tar.gz"), "x/x", "#!/bin/sh\n");

            var result = await s.Tug.RunAsync("mirror", "publish", "newcomp", "v1.0.0", tarball, "x/x", "--key", Path.Combine(s.Tug.Home, "keys", "stranger.json"));

            Assert.Equal(2, result.ExitCode);
            Assert.Contains("belongs to an owner", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("tug mirror grant", result.Stderr, StringComparison.Ordinal);
        }
    }

    public sealed class ThePackageCache
    {
        [Fact]
        public async Task Should_Re_Verify_A_Cached_Package_On_Every_Use_And_Replace_A_Damaged_One()
        {
            // Given a package in the cache
            await using var s = await MirrorScenario.CreateAsync();
            var first = await s.Tug.SucceedAsync("mirror", "download", "hello:v1.0.0", "--os", "linux", "--arch", "amd64");
            var cached = first.Stdout.Trim();
            var good = await File.ReadAllBytesAsync(cached, TestContext.Current.CancellationToken);

            // When the cached file is damaged and the package is used again
            var damaged = good.ToArray();
            damaged[^10] ^= 0x55;
            await File.WriteAllBytesAsync(cached, damaged, TestContext.Current.CancellationToken);
            var second = await s.Tug.SucceedAsync("mirror", "download", "hello:v1.0.0", "--os", "linux", "--arch", "amd64");

            // Then it was noticed and replaced by a verified copy
            Assert.Contains("does not match the signed manifest", second.Stderr, StringComparison.Ordinal);
            Assert.Equal(good, await File.ReadAllBytesAsync(second.Stdout.Trim(), TestContext.Current.CancellationToken));
        }
    }

    public sealed class TheHttpMirror
    {
        [Fact]
        public async Task Should_Serve_Every_Client_Command_As_A_Directory_Does()
        {
            // Given the mirror served over HTTP and a second machine (its own TUG_HOME) using it
            await using var s = await MirrorScenario.CreateAsync();
            await using var server = await MirrorServer.StartAsync(s.Mirror, "127.0.0.1:0", null, TestContext.Current.CancellationToken);
            using var other = new TempDirectory();
            var client = new CliRunner(other.Path);

            // When
            var set = await client.RunAsync("mirror", "set", server.Address);
            var list = await client.RunAsync("list", "hello");
            var download = await client.RunAsync("mirror", "download", "hello:v1.0.0", "--os", "linux", "--arch", "amd64");
            var verify = await client.RunAsync("mirror", "verify", server.Address);
            var keys = await new HttpClient().GetAsync(new Uri(server.Address + "/keys/"), TestContext.Current.CancellationToken);

            // Then
            Assert.True(set.ExitCode == 0, set.ToString());
            Assert.Contains("v1.1.0", list.Stdout, StringComparison.Ordinal);
            Assert.True(download.ExitCode == 0, download.ToString());
            Assert.True(File.Exists(download.Stdout.Trim()));
            Assert.True(verify.ExitCode == 0, verify.ToString());
            Assert.Equal(System.Net.HttpStatusCode.NotFound, keys.StatusCode);
        }

        [Fact]
        public async Task Should_Refuse_Publishing_Into_An_Http_Mirror_With_Advice()
        {
            await using var s = await MirrorScenario.CreateAsync();
            await using var server = await MirrorServer.StartAsync(s.Mirror, "127.0.0.1:0", null, TestContext.Current.CancellationToken);
            await s.Tug.SucceedAsync("mirror", "set", server.Address);

            var result = await s.Tug.RunAsync("mirror", "publish", "hello", "v3.0.0", s.Path("nothing.tar.gz"), "x");

            Assert.Equal(2, result.ExitCode);
            Assert.Contains("error[E2202]", result.Stderr, StringComparison.Ordinal);
        }
    }

    public sealed class TheOfflineCopies
    {
        [Fact]
        public async Task Should_Clone_One_Version_With_Fresh_Keys_And_Fifty_Year_Expiry()
        {
            await using var s = await MirrorScenario.CreateAsync();
            var clone = s.Path("offline");

            var result = await s.Tug.SucceedAsync("mirror", "clone", clone, "hello:v1.0.0", "--os", "linux", "--arch", "amd64");
            var verify = await s.Tug.RunAsync("mirror", "verify", clone, "--format", "json");
            var oracle = await GoOracle.RunAsync($"check {clone}");

            Assert.Contains("cloned 1 component(s), 1 tarball(s)", result.Stdout, StringComparison.Ordinal);
            Assert.True(verify.ExitCode == 0, verify.ToString());
            using var json = JsonDocument.Parse(verify.Stdout);
            var expires = json.RootElement.GetProperty("files").EnumerateArray().First(f => f.GetProperty("file").GetString() == "timestamp.json").GetProperty("expires").GetString()!;
            Assert.True(DateTimeOffset.Parse(expires, System.Globalization.CultureInfo.InvariantCulture) > TimeProvider.System.GetUtcNow().AddYears(49));
            Assert.True(File.Exists(Path.Combine(clone, "hello-v1.0.0-linux-amd64.tar.gz")));
            Assert.False(File.Exists(Path.Combine(clone, "hello-v1.1.0-linux-amd64.tar.gz")));
            Assert.Single(Directory.GetFiles(Path.Combine(clone, "keys"), "*-pingcap.json"));
            Assert.True(oracle.ExitCode == 0, oracle.Output);
        }

        [Fact]
        public async Task Should_Fail_Loudly_And_Leave_Nothing_When_A_Version_Is_Missing()
        {
            await using var s = await MirrorScenario.CreateAsync();
            var clone = s.Path("offline");

            var result = await s.Tug.RunAsync("mirror", "clone", clone, "hello:v7.0.0", "--os", "linux", "--arch", "amd64");

            Assert.Equal(2, result.ExitCode);
            Assert.Contains("v7.0.0 does not exist", result.Stderr, StringComparison.Ordinal);
            Assert.False(Directory.Exists(clone));
            Assert.Empty(Directory.GetDirectories(s.Path(), "offline*"));
        }

        [Fact]
        public async Task Should_Merge_Versions_A_Source_Has_And_The_Mirror_Lacks()
        {
            // Given an empty mirror of ours and a mirror written by the Go implementation
            await using var s = await MirrorScenario.CreateAsync(publish: false);
            using var dir = new TempDirectory();
            var source = dir.Combine("gomirror");
            Assert.Equal(0, (await GoOracle.RunAsync($"write {source}")).ExitCode);

            // When merging twice
            var merge = await s.Tug.SucceedAsync("mirror", "merge", source);
            var again = await s.Tug.SucceedAsync("mirror", "merge", source);

            // Then both versions arrive once, and the result passes both implementations' checks
            Assert.Contains("merged 2 version(s) of 1 component(s)", merge.Stdout, StringComparison.Ordinal);
            Assert.Contains("nothing to merge", again.Stdout, StringComparison.Ordinal);
            Assert.Equal(0, (await s.Tug.RunAsync("mirror", "verify")).ExitCode);
            var oracle = await GoOracle.RunAsync($"check {s.Mirror}");
            Assert.True(oracle.ExitCode == 0, oracle.Output);
            var download = await s.Tug.SucceedAsync("mirror", "download", "hello:v1.1.0", "--os", "linux", "--arch", "amd64");
            Assert.True(File.Exists(download.Stdout.Trim()));
        }
    }

    public sealed class TheBadInputs
    {
        [Fact]
        public async Task Should_Refuse_Init_Into_A_Non_Empty_Directory()
        {
            using var dir = new TempDirectory();
            File.WriteAllText(dir.Combine("precious.txt"), "keep me");
            var result = await new CliRunner(dir.Path).RunAsync("mirror", "init", dir.Path);
            Assert.Equal(2, result.ExitCode);
            Assert.Contains("is not empty", result.Stderr, StringComparison.Ordinal);
            Assert.Single(Directory.GetFileSystemEntries(dir.Path));
        }

        [Fact]
        public async Task Should_Say_How_To_Choose_A_Mirror_When_None_Is_Set()
        {
            using var dir = new TempDirectory();
            var result = await new CliRunner(dir.Path).RunAsync("list");
            Assert.Equal(2, result.ExitCode);
            Assert.Contains("tug mirror set", result.Stderr, StringComparison.Ordinal);
        }

        [Fact]
        public async Task Should_Refuse_A_Bad_Time_For_Verify()
        {
            await using var s = await MirrorScenario.CreateAsync(publish: false);
            var result = await s.Tug.RunAsync("mirror", "verify", "--at", "yesterday");
            Assert.Equal(2, result.ExitCode);
            Assert.Contains("'yesterday' is not an RFC 3339 time", result.Stderr, StringComparison.Ordinal);
        }

        [Fact]
        public async Task Should_Warn_When_A_Role_Expires_Within_Thirty_Days()
        {
            await using var s = await MirrorScenario.CreateAsync();
            await s.Tug.SucceedAsync("mirror", "renew", "timestamp", "--days", "3");
            var result = await s.Tug.SucceedAsync("mirror", "verify");
            Assert.Contains("warning: timestamp.json expires in 3 days", result.Stderr, StringComparison.Ordinal);
        }

        [Fact]
        public async Task Should_Renew_A_Mirror_After_It_Expired()
        {
            // Given a mirror whose snapshot and timestamp lapsed 10 days ago
            await using var s = await MirrorScenario.CreateAsync();
            s.Tug.Time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(TimeProvider.System.GetUtcNow().AddDays(40));
            Assert.Equal(1, (await s.Tug.RunAsync("mirror", "verify")).ExitCode);

            // When
            await s.Tug.SucceedAsync("mirror", "renew", "all", "--days", "90");

            // Then
            var verify = await s.Tug.RunAsync("mirror", "verify");
            Assert.True(verify.ExitCode == 0, verify.ToString());
        }
    }
}
