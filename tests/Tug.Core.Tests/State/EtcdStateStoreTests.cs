// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Diagnostics;
using System.Globalization;
using Tug.Core.State;
using Tug.Etcd;

namespace Tug.Core.Tests.State;

/// <summary>The state store contract on a real etcd (started by <see cref="EtcdServer"/>), and what only etcd does: leases renewed in the background.</summary>
public sealed class EtcdStateStoreTests(EtcdServer server) : StateStoreContract, IClassFixture<EtcdServer>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    // One prefix per test, so tests sharing the server never see each other's keys.
    private readonly string _url = server.NewUrl();

    protected override IStateStore Open(TimeSpan? lockTtl = null) => Connect(_url, lockTtl);

    protected override Task AbandonAsync(IStateLock held) => ((EtcdStateLock)held).AbandonAsync();

    protected override bool DeadHolderKeepsLockUntilLeaseExpires => true;

    protected override async Task<(IStateStore Store, TimeSpan Bound, IAsyncDisposable Cleanup)> OpenUnavailableAsync()
    {
        var stopped = new EtcdServer();
        await stopped.InitializeAsync();
        var store = Connect(stopped.NewUrl(), null);
        await store.PutAsync("warm", Utf8("x"), StateRevision.Absent, Token);
        stopped.Kill();
        return (store, Timeout, stopped);
    }

    private static EtcdStateStore Connect(string url, TimeSpan? lockTtl) =>
        EtcdStateStore.Connect(
            StateUrl.Parse(url, "TUG_STATE", name => name == StateUrl.LockTtlVariable && lockTtl is { } ttl ? ttl.TotalSeconds.ToString(CultureInfo.InvariantCulture) : null),
            TimeProvider.System, Timeout);

    [Fact]
    public async Task Should_Keep_A_Lock_For_Many_Ttls_While_Its_Holder_Lives()
    {
        // Given
        var ttl = TimeSpan.FromSeconds(2);
        await using var a = Open(ttl);
        await using var b = Open(ttl);
        await using var held = await a.AcquireLockAsync("clusters/prod", Holder("tug cluster upgrade prod v8.5.0"), Token);

        // When
        await Task.Delay(ttl * 3, Token);

        // Then
        Assert.False(held.IsLost);
        held.EnsureHeld();
        var e = await Assert.ThrowsAsync<StateException>(() => b.AcquireLockAsync("clusters/prod", Holder("tug cluster replay prod", 5151), Token));
        Assert.Equal(StateException.Locked, e.Code);
    }

    [Fact]
    public async Task Should_Tell_A_Live_Holder_Its_Lock_Was_Broken()
    {
        // Given
        var ttl = TimeSpan.FromSeconds(2);
        await using var a = Open(ttl);
        await using var b = Open(ttl);
        await using var held = await a.AcquireLockAsync("clusters/prod", Holder("tug cluster upgrade prod v8.5.0"), Token);

        // When
        var broken = await b.BreakLockAsync("clusters/prod", Token);
        var clock = Stopwatch.StartNew();
        while (!held.IsLost && clock.Elapsed < ttl * 2)
        {
            await Task.Delay(100, Token);
        }

        // Then
        Assert.Equal("tug cluster upgrade prod v8.5.0", broken!.Command);
        var e = Assert.Throws<StateException>(held.EnsureHeld);
        Assert.Equal(StateException.LockLost, e.Code);
        Assert.Contains("no longer holds the lock 'clusters/prod'", e.Message, StringComparison.Ordinal);
        await using var next = await b.AcquireLockAsync("clusters/prod", Holder("tug cluster replay prod", 5151), Token);
    }

    [Fact]
    public async Task Should_Fail_Every_Kind_Of_Call_Within_Its_Timeout_When_Etcd_Is_Down()
    {
        // Given
        var (store, bound, cleanup) = await OpenUnavailableAsync();
        await using (cleanup)
        await using (store)
        {
            var calls = new (string What, Func<Task> Call)[]
            {
                ("get", () => store.GetAsync("warm", Token)),
                ("list", () => store.ListAsync("", Token)),
                ("commit", () => store.CommitAsync([new StatePut("a", Utf8("x"), StateRevision.Absent)], Token)),
                ("lock", () => store.AcquireLockAsync("clusters/prod", Holder("tug cluster upgrade prod v8.5.0"), Token)),
                ("read lock", () => store.ReadLockAsync("clusters/prod", Token)),
                ("break lock", () => store.BreakLockAsync("clusters/prod", Token)),
            };
            foreach (var (what, call) in calls)
            {
                var clock = Stopwatch.StartNew();

                // When
                var e = await Assert.ThrowsAsync<StateException>(call);

                // Then
                Assert.True(e.Code == StateException.Unavailable, $"{what}: {e.Code} {e.Message}");
                Assert.True(clock.Elapsed < bound + TimeSpan.FromSeconds(3), $"{what} took {clock.Elapsed}");
            }
        }
    }

    [Fact]
    public async Task Should_Answer_Again_Once_Etcd_Is_Back()
    {
        // Given
        await using var restarted = new EtcdServer();
        await restarted.InitializeAsync();
        await using var store = Connect(restarted.NewUrl(), null);
        var revision = await store.PutAsync("clusters/prod/journal/op1", Utf8("step 1 done"), StateRevision.Absent, Token);
        restarted.Kill();
        var down = await Assert.ThrowsAsync<StateException>(() => store.PutAsync("clusters/prod/journal/op1", Utf8("step 2 done"), revision, Token));

        // When
        await restarted.RestartAsync();
        StateEntry? entry = null;
        var clock = Stopwatch.StartNew();
        while (entry is null)
        {
            try
            {
                entry = await store.GetAsync("clusters/prod/journal/op1", Token);
            }
            catch (StateException e) when (e.Code == StateException.Unavailable && clock.Elapsed < TimeSpan.FromSeconds(15))
            {
                await Task.Delay(200, Token);
            }
        }

        // Then
        Assert.Equal(StateException.Unavailable, down.Code);
        Assert.Equal("step 1 done", Text(entry));
        Assert.Equal(revision, entry.Revision);
        await store.PutAsync("clusters/prod/journal/op1", Utf8("step 2 done"), entry.Revision, Token);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed} to answer again");
    }

    [Fact]
    public async Task Should_Work_With_Etcds_Auth_And_Refuse_A_Wrong_Password()
    {
        // Given: auth on, a user 'tug' allowed only under its prefix
        await using var secured = new EtcdServer();
        await secured.InitializeAsync();
        var url = secured.NewUrl();
        var prefix = url[(url.IndexOf("/tests/", StringComparison.Ordinal) + 1)..];
        using (var admin = new dotnet_etcd.EtcdClient($"http://127.0.0.1:{secured.Port.ToString(CultureInfo.InvariantCulture)}"))
        {
            await admin.RoleAddAsync(new Etcdserverpb.AuthRoleAddRequest { Name = "root" }, cancellationToken: Token);
            await admin.UserAddAsync(new Etcdserverpb.AuthUserAddRequest { Name = "root", Password = "rootpw" }, cancellationToken: Token);
            await admin.UserGrantRoleAsync(new Etcdserverpb.AuthUserGrantRoleRequest { User = "root", Role = "root" }, cancellationToken: Token);
            await admin.RoleAddAsync(new Etcdserverpb.AuthRoleAddRequest { Name = "tug" }, cancellationToken: Token);
            await admin.RoleGrantPermissionAsync(new Etcdserverpb.AuthRoleGrantPermissionRequest
            {
                Name = "tug",
                Perm = new Authpb.Permission
                {
                    PermType = Authpb.Permission.Types.Type.Readwrite,
                    Key = Google.Protobuf.ByteString.CopyFromUtf8(prefix + "/"),
                    RangeEnd = Google.Protobuf.ByteString.CopyFromUtf8(prefix + "0"),
                },
            }, cancellationToken: Token);
            await admin.UserAddAsync(new Etcdserverpb.AuthUserAddRequest { Name = "tug", Password = "tugpw" }, cancellationToken: Token);
            await admin.UserGrantRoleAsync(new Etcdserverpb.AuthUserGrantRoleRequest { User = "tug", Role = "tug" }, cancellationToken: Token);
            await admin.AuthEnableAsync(new Etcdserverpb.AuthEnableRequest(), cancellationToken: Token);
        }

        Func<string, string?> As(string user, string password) => name => name switch
        {
            StateUrl.UserVariable => user,
            StateUrl.PasswordVariable => password,
            _ => null,
        };

        await using var good = EtcdStateStore.Connect(StateUrl.Parse(url, "TUG_STATE", As("tug", "tugpw")), TimeProvider.System, Timeout);
        await using var wrong = EtcdStateStore.Connect(StateUrl.Parse(url, "TUG_STATE", As("tug", "nope")), TimeProvider.System, Timeout);
        await using var anonymous = EtcdStateStore.Connect(StateUrl.Parse(url, "TUG_STATE", _ => null), TimeProvider.System, Timeout);

        // When
        var revision = await good.PutAsync("clusters/prod/meta.yaml", Utf8("m"), StateRevision.Absent, Token);
        await using (var held = await good.AcquireLockAsync("clusters/prod", Holder("tug cluster upgrade prod v8.5.0"), Token))
        {
            held.EnsureHeld();
        }

        var refused = await Assert.ThrowsAsync<StateException>(() => wrong.GetAsync("clusters/prod/meta.yaml", Token));
        var unauthenticated = await Assert.ThrowsAsync<StateException>(() => anonymous.GetAsync("clusters/prod/meta.yaml", Token));

        // Then
        Assert.Equal(revision, (await good.GetAsync("clusters/prod/meta.yaml", Token))!.Revision);
        Assert.True(refused.Code == StateException.BadUrl, $"{refused.Code}: {refused.Message}");
        Assert.Contains("TUG_STATE_USER", refused.Hint, StringComparison.Ordinal);
        Assert.True(unauthenticated.Code == StateException.BadUrl, $"{unauthenticated.Code}: {unauthenticated.Message}");
    }

    [Fact]
    public async Task Should_Report_An_Endpoint_That_Does_Not_Answer_Within_Its_Timeout()
    {
        // Given: IPv6 loopback on a port nobody listens on, next to nothing else
        await using var store = Connect("etcd://[::1]:1,127.0.0.1:1/tug", null);

        // When
        var e = await Assert.ThrowsAsync<StateException>(() => store.GetAsync("clusters/prod/meta.yaml", Token));

        // Then
        Assert.Equal(StateException.Unavailable, e.Code);
        Assert.StartsWith("The state store etcd://[::1]:1,127.0.0.1:1/tug did not answer reading 'clusters/prod/meta.yaml' within 2 s", e.Message, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Failure, e.ExitCode);
    }

    [Fact]
    public async Task Should_Keep_Its_Keys_Under_The_Prefix()
    {
        // Given
        await using var store = Open();
        await using var other = Connect(server.NewUrl(), null);

        // When
        await store.PutAsync("clusters/prod/meta.yaml", Utf8("mine"), StateRevision.Absent, Token);

        // Then
        Assert.Null(await other.GetAsync("clusters/prod/meta.yaml", Token));
        Assert.Empty(await other.ListAsync("", Token));
    }
}
