// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text;
using Tug.Core.Cluster;
using Tug.Core.Remote;
using Tug.Testing;

namespace Tug.Core.Tests.Testing;

/// <summary>The shared remote fakes behave as the seams they stand for.</summary>
public sealed class FakeRemoteTests
{
    private static readonly Credential Key = new KeyFileCredential("/nonexistent/id_rsa");

    private static Task<IRemoteHost> ConnectAsync(FakeRemoteConnector connector, string host, IHostKeyPins pins) =>
        connector.ConnectAsync(new RemoteEndpoint(host, 22, "tidb"), Key, pins, TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);

    public sealed class TheFakeRemoteConnector
    {
        [Fact]
        public async Task Should_Pin_The_Host_Key_On_First_Contact_And_Accept_It_After()
        {
            // Given
            var connector = new FakeRemoteConnector();
            var pins = new PinStore([]);

            // When
            var first = await ConnectAsync(connector, "10.0.0.1", pins);
            var second = await ConnectAsync(connector, "10.0.0.1", pins);

            // Then
            Assert.Equal(FakeRemoteConnector.FingerprintOf("10.0.0.1"), pins.Get("10.0.0.1:22"));
            Assert.Same(first, second);
            Assert.Equal(pins.Get("10.0.0.1:22"), first.HostKeyFingerprint);
            Assert.Equal(2, connector.Connections.Length);
        }

        [Fact]
        public async Task Should_Refuse_A_Changed_Host_Key_And_Keep_The_Pin()
        {
            // Given
            var connector = new FakeRemoteConnector();
            var pins = new PinStore([new("10.0.0.1:22", "SHA256:pinned")]);

            // When
            var e = await Assert.ThrowsAsync<RemoteException>(() => ConnectAsync(connector, "10.0.0.1", pins));

            // Then
            Assert.Equal(RemoteException.HostKeyChanged, e.Code);
            Assert.StartsWith($"The host key of 10.0.0.1:22 changed: pinned SHA256:pinned, presented {FakeRemoteConnector.FingerprintOf("10.0.0.1")}.", e.Message, StringComparison.Ordinal);
            Assert.Equal("SHA256:pinned", pins.Get("10.0.0.1:22"));
            Assert.Same(e, Assert.Single(connector.Connections).Refused);
        }

        [Fact]
        public async Task Should_Refuse_A_Host_As_Unreachable_Until_It_Is_Admitted()
        {
            // Given
            var connector = new FakeRemoteConnector().Refuse("10.0.0.2");
            var pins = new PinStore([]);

            // When
            var e = await Assert.ThrowsAsync<RemoteException>(() => ConnectAsync(connector, "10.0.0.2", pins));
            connector.Admit("10.0.0.2");
            var host = await ConnectAsync(connector, "10.0.0.2", pins);

            // Then
            Assert.Equal((RemoteException.Unreachable, "10.0.0.2"), (e.Code, e.Host));
            Assert.Equal("10.0.0.2", host.Endpoint.Host);
            Assert.NotNull(pins.Get("10.0.0.2:22"));
        }
    }

    public sealed class TheFakeRemoteHost
    {
        [Fact]
        public async Task Should_Record_Scripts_And_Answer_By_The_First_Matching_Rule_Or_The_Default()
        {
            // Given
            var host = new FakeRemoteHost("10.0.0.1")
                .OnPrint("systemctl is-active", "active\n")
                .On(s => s.StartsWith("sha256sum", StringComparison.Ordinal), new CommandResult(1, string.Empty, "no such file"))
                .OnPrint("systemctl", "never: an earlier rule matches first");
            host.Default = new CommandResult(0, "default", string.Empty);
            var ct = TestContext.Current.CancellationToken;

            // When
            var active = await host.RunAsync("systemctl is-active etcd-2379", new RunOptions(Sudo: true), ct);
            var hash = await host.RunAsync("sha256sum /opt/x", new RunOptions(), ct);
            var other = await host.RunAsync("true", new RunOptions(), ct);

            // Then
            Assert.Equal("active\n", active.Stdout);
            Assert.Equal((1, "no such file"), (hash.ExitCode, hash.Stderr));
            Assert.Equal("default", other.Stdout);
            Assert.Equal(["systemctl is-active etcd-2379", "sha256sum /opt/x", "true"], host.Scripts);
            Assert.True(host.Runs[0].Options.Sudo);
        }

        [Fact]
        public async Task Should_Keep_Uploads_As_Files_That_Downloads_Read_Back()
        {
            // Given
            var host = new FakeRemoteHost("10.0.0.1").WithFile("/etc/os-release", "ID=debian\n");
            var ct = TestContext.Current.CancellationToken;

            // When
            await host.UploadAsync(new MemoryStream("unit"u8.ToArray()), "/etc/systemd/system/etcd-2379.service", "0644", sudo: true, ct);
            using var unit = new MemoryStream();
            await host.DownloadAsync("/etc/systemd/system/etcd-2379.service", unit, sudo: false, ct);
            using var release = new MemoryStream();
            await host.DownloadAsync("/etc/os-release", release, sudo: false, ct);
            var missing = await Assert.ThrowsAsync<RemoteException>(() => host.DownloadAsync("/nope", new MemoryStream(), sudo: false, ct));

            // Then
            var upload = Assert.Single(host.Uploads);
            Assert.Equal(("/etc/systemd/system/etcd-2379.service", "unit", "0644", true), (upload.RemotePath, upload.Text, upload.Mode, upload.Sudo));
            Assert.Equal("unit", Encoding.UTF8.GetString(unit.ToArray()));
            Assert.Equal("ID=debian\n", Encoding.UTF8.GetString(release.ToArray()));
            Assert.Equal(RemoteException.TransferFailed, missing.Code);
            Assert.Equal(["/etc/systemd/system/etcd-2379.service", "/etc/os-release", "/nope"], host.Downloads.Select(d => d.RemotePath));
        }

        [Fact]
        public async Task Should_Throw_On_Every_Call_While_Cut_And_Work_Again_When_Mended()
        {
            // Given
            var host = new FakeRemoteHost("10.0.0.1");
            var ct = TestContext.Current.CancellationToken;
            host.Cut();

            // When
            var run = await Assert.ThrowsAsync<RemoteException>(() => host.RunAsync("true", new RunOptions(), ct));
            var upload = await Assert.ThrowsAsync<RemoteException>(() => host.UploadAsync(new MemoryStream(), "/x", "0644", false, ct));
            var download = await Assert.ThrowsAsync<RemoteException>(() => host.DownloadAsync("/x", new MemoryStream(), false, ct));
            host.Mend();
            var after = await host.RunAsync("true", new RunOptions(), ct);

            // Then
            Assert.All([run, upload, download], e => Assert.Equal(RemoteException.Unreachable, e.Code));
            Assert.True(after.Ok);
            Assert.Equal(["true"], host.Scripts);
        }

        [Fact]
        public async Task Should_Throw_From_A_Rule_When_A_Script_Breaks_The_Connection()
        {
            // Given
            var host = new FakeRemoteHost("10.0.0.1").Throw(s => s.Contains("reboot", StringComparison.Ordinal));

            // When
            var e = await Assert.ThrowsAsync<RemoteException>(() => host.RunAsync("reboot", new RunOptions(Sudo: true), TestContext.Current.CancellationToken));

            // Then
            Assert.Equal("The connection to 10.0.0.1 was lost.", e.Message);
            Assert.Equal(["reboot"], host.Scripts);
        }
    }

    public sealed class TheFakeHostState
    {
        [Fact]
        public void Should_Keep_What_Is_On_Each_Host_And_Record_Every_Change()
        {
            // Given
            var state = new FakeHostState();

            // When
            state.Set("h1", "unit etcd-2379", "active");
            state.Set("h2", "unit etcd-2379", "inactive");
            var removed = state.Remove("h1", "unit etcd-2379");
            var removedAgain = state.Remove("h1", "unit etcd-2379");

            // Then
            Assert.True(removed);
            Assert.False(removedAgain);
            Assert.False(state.Has("h1", "unit etcd-2379"));
            Assert.Equal("inactive", state.Get("h2", "unit etcd-2379"));
            Assert.Equal([new HostChange("h1", "unit etcd-2379", "active"), new HostChange("h2", "unit etcd-2379", "inactive"), new HostChange("h1", "unit etcd-2379", null)], state.Changes);
        }
    }
}
