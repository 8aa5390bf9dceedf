// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Tug.Core.State;
using Tug.Core.Tests.Cluster;
using Tug.Etcd;

namespace Tug.Core.Tests.State;

/// <summary>etcd with TLS and client certificates, as etcdctl takes them: <c>TUG_STATE_CACERT</c>, <c>TUG_STATE_CERT</c>, <c>TUG_STATE_KEY</c>.</summary>
public sealed class EtcdTlsTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Should_Talk_Tls_With_A_Client_Certificate_And_Refuse_A_Server_Its_Ca_Did_Not_Sign()
    {
        // Given: a CA, a certificate for 127.0.0.1 it signed (server and client), and a CA that signed nothing
        using var dir = new TempDirectory("tls");
        var (caFile, certFile, keyFile) = WriteCertificates(dir.Path, "tug test CA");
        var (otherCaFile, _, _) = WriteCertificates(dir.Path, "some other CA");
        await using var server = EtcdServer.WithTls(certFile, keyFile, caFile);
        await server.InitializeAsync();
        var url = server.NewUrl();
        Func<string, string?> Env(string ca) => name => name switch
        {
            StateUrl.CaCertVariable => ca,
            StateUrl.CertVariable => certFile,
            StateUrl.KeyVariable => keyFile,
            _ => null,
        };

        await using var trusted = EtcdStateStore.Connect(StateUrl.Parse(url, "TUG_STATE", Env(caFile)), TimeProvider.System, TimeSpan.FromSeconds(3));
        await using var untrusting = EtcdStateStore.Connect(StateUrl.Parse(url, "TUG_STATE", Env(otherCaFile)), TimeProvider.System, TimeSpan.FromSeconds(2));

        // When
        var revision = await trusted.PutAsync("clusters/prod/meta.yaml", Encoding.UTF8.GetBytes("m"), StateRevision.Absent, Token);
        var e = await Assert.ThrowsAsync<StateException>(() => untrusting.GetAsync("clusters/prod/meta.yaml", Token));

        // Then
        Assert.Equal(revision, (await trusted.GetAsync("clusters/prod/meta.yaml", Token))!.Revision);
        Assert.EndsWith("(TLS)", trusted.Address, StringComparison.Ordinal);
        Assert.Equal(StateException.Unavailable, e.Code);
    }

    private static (string Ca, string Cert, string Key) WriteCertificates(string directory, string caName)
    {
        var now = TimeProvider.System.GetUtcNow();
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN={caName}", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        using var certificate = request.Create(ca, now.AddDays(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(8));

        var stem = Path.Combine(directory, caName.Replace(' ', '-'));
        File.WriteAllText(stem + "-ca.pem", ca.ExportCertificatePem());
        File.WriteAllText(stem + "-cert.pem", certificate.ExportCertificatePem());
        File.WriteAllText(stem + "-key.pem", key.ExportPkcs8PrivateKeyPem());
        return (stem + "-ca.pem", stem + "-cert.pem", stem + "-key.pem");
    }
}
