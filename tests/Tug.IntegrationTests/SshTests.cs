// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Tug.Core.Remote;
using Tug.Ssh;
using Tug.Testing;

namespace Tug.IntegrationTests;

/// <summary>Both SSH transports against real sshd on the testbed: pinning, scripts, transfers, failures.</summary>
public sealed class SshTests(TestbedFixture testbed)
{
    private sealed class Pins : IHostKeyPins
    {
        public Dictionary<string, string> Values { get; } = [];

        public string? Get(string endpointKey) => Values.GetValueOrDefault(endpointKey);

        public void Pin(string endpointKey, string fingerprint) => Values[endpointKey] = fingerprint;
    }

    public static TheoryData<string> Transports => ["builtin", "system"];

    private static IRemoteConnector Connector(string transport) => transport == "system" ? new SystemSshConnector() : new SshNetConnector();

    private Task<IRemoteHost> ConnectAsync(string transport, TestbedHost host, Pins pins, int timeoutSeconds = 5) =>
        Connector(transport).ConnectAsync(new RemoteEndpoint(host.Address, host.Port, host.User), new KeyFileCredential(host.Key), pins,
            TimeSpan.FromSeconds(timeoutSeconds), TestContext.Current.CancellationToken);

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Should_Pin_The_Host_Key_On_First_Contact_And_Run_A_Script(string transport)
    {
        var host = testbed.Inventory.Hosts[0];
        var pins = new Pins();

        await using var remote = await ConnectAsync(transport, host, pins);
        var result = await remote.RunAsync("echo out; echo err >&2; hostname; exit 3", new RunOptions(), TestContext.Current.CancellationToken);

        Assert.Equal(host.HostKeyFingerprint, pins.Values[$"{host.Address}:{host.Port}"]);
        Assert.Equal(host.HostKeyFingerprint, remote.HostKeyFingerprint);
        Assert.Equal(3, result.ExitCode);
        Assert.Equal($"out\n{host.Name}\n", result.Stdout);
        Assert.Equal("err\n", result.Stderr);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Should_Refuse_A_Changed_Host_Key_Before_Running_Anything(string transport)
    {
        var host = testbed.Inventory.Hosts[0];
        var pins = new Pins();
        pins.Pin($"{host.Address}:{host.Port}", "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");

        var e = await Assert.ThrowsAsync<RemoteException>(() => ConnectAsync(transport, host, pins));

        Assert.Equal(RemoteException.HostKeyChanged, e.Code);
        Assert.Contains("SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", e.Message, StringComparison.Ordinal);
        Assert.Contains(host.HostKeyFingerprint, e.Message, StringComparison.Ordinal);
        Assert.Contains("accept-host-key", e.Hint, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Should_Transfer_Files_Both_Ways_Over_The_Same_Connection(string transport)
    {
        var host = testbed.Inventory.Hosts[1];
        await using var remote = await ConnectAsync(transport, host, new Pins());
        var content = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 7);
        var path = $"/tmp/tug-transfer-{transport}.bin";

        await remote.UploadAsync(new MemoryStream(content), path, "0640", sudo: false, TestContext.Current.CancellationToken);
        var check = await remote.RunAsync($"sha256sum {path} | cut -d' ' -f1; stat -c %a {path}", new RunOptions(), TestContext.Current.CancellationToken);
        using var back = new MemoryStream();
        await remote.DownloadAsync(path, back, sudo: false, TestContext.Current.CancellationToken);

        Assert.Equal($"{Convert.ToHexStringLower(SHA256.HashData(content))}\n640\n", check.Stdout);
        Assert.Equal(content, back.ToArray());
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Should_Report_A_Cut_Host_As_Unreachable_Within_The_Timeout(string transport)
    {
        var host = testbed.Inventory.Hosts[^1];
        var (cut, log) = await TestbedFixture.TestbedAsync($"fault {host.Name} cut");
        Assert.True(cut == 0, log);
        try
        {
            var clock = Stopwatch.StartNew();
            var e = await Assert.ThrowsAsync<RemoteException>(() => ConnectAsync(transport, host, new Pins(), timeoutSeconds: 3));
            Assert.Equal(RemoteException.Unreachable, e.Code);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(12), $"took {clock.Elapsed}");
        }
        finally
        {
            await TestbedFixture.TestbedAsync($"fault {host.Name} heal");
        }
    }

    [Fact]
    public async Task Should_Run_Sudo_Scripts_As_Root_For_A_Non_Root_User()
    {
        // Given a deploy user with passwordless sudo and its own key, made over a root connection
        var host = testbed.Inventory.Hosts[0];
        await using (var root = await ConnectAsync("builtin", host, new Pins()))
        {
            var key = await File.ReadAllTextAsync(host.Key + ".pub", TestContext.Current.CancellationToken);
            var setup = await root.RunAsync(
                "id -u tugtest >/dev/null 2>&1 || useradd -m -s /bin/bash tugtest; echo 'tugtest ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/tugtest; " +
                $"install -d -m 700 -o tugtest -g tugtest /home/tugtest/.ssh; echo {key.Trim()} > /home/tugtest/.ssh/authorized_keys; chown tugtest:tugtest /home/tugtest/.ssh/authorized_keys; chmod 600 /home/tugtest/.ssh/authorized_keys",
                new RunOptions(), TestContext.Current.CancellationToken);
            Assert.True(setup.Ok, setup.Stderr);
        }

        // When
        await using var user = await Connector("builtin").ConnectAsync(new RemoteEndpoint(host.Address, host.Port, "tugtest"), new KeyFileCredential(host.Key), new Pins(),
            TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        var plain = await user.RunAsync("id -un", new RunOptions(), TestContext.Current.CancellationToken);
        var sudo = await user.RunAsync("id -un", new RunOptions(Sudo: true), TestContext.Current.CancellationToken);
        await user.UploadAsync(new MemoryStream(Encoding.UTF8.GetBytes("x")), "/etc/tug-sudo-test", "0644", sudo: true, TestContext.Current.CancellationToken);
        var owner = await user.RunAsync("stat -c %U /etc/tug-sudo-test", new RunOptions(), TestContext.Current.CancellationToken);

        // Then
        Assert.Equal("tugtest\n", plain.Stdout);
        Assert.Equal("root\n", sudo.Stdout);
        Assert.Equal("root\n", owner.Stdout);
    }
}
