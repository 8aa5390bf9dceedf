// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.State;

namespace Tug.Core.Tests.State;

/// <summary><c>TUG_STATE</c> / <c>--state</c>: what is accepted, and errors that say what, where and what to do.</summary>
public sealed class StateUrlTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    public sealed class TheParseMethod
    {
        [Fact]
        public void Should_Read_Every_Endpoint_And_The_Prefix()
        {
            // When
            var url = StateUrl.Parse("etcd://10.0.0.1:2379,etcd-b:22379,[fd00::3]:2379,10.0.0.4/teams/db/tug/", "TUG_STATE", Env());

            // Then
            Assert.Equal(StateKind.Etcd, url.Kind);
            Assert.Equal([new StateEndpoint("10.0.0.1", 2379), new StateEndpoint("etcd-b", 22379), new StateEndpoint("fd00::3", 2379), new StateEndpoint("10.0.0.4", StateUrl.DefaultPort)], url.Endpoints);
            Assert.Equal("teams/db/tug", url.Prefix);
            Assert.Null(url.Tls);
            Assert.Null(url.User);
            Assert.Equal(StateUrl.DefaultLockTtl, url.LockTtl);
            Assert.Equal("etcd://10.0.0.1:2379,etcd-b:22379,[fd00::3]:2379,10.0.0.4:2379/teams/db/tug", url.ToString());
        }

        [Fact]
        public void Should_Take_Tls_Auth_And_The_Lock_Ttl_From_The_Environment()
        {
            // Given
            var ca = Path.GetTempFileName();
            try
            {
                // When
                var url = StateUrl.Parse("etcd://h:2379/tug", "TUG_STATE", Env(
                    (StateUrl.CaCertVariable, ca), (StateUrl.UserVariable, "tug"), (StateUrl.PasswordVariable, "s3cret"), (StateUrl.LockTtlVariable, "45")));

                // Then
                Assert.Equal(new StateTls(ca, null, null), url.Tls);
                Assert.Equal("tug", url.User);
                Assert.Equal("s3cret", url.Password!.Reveal());
                Assert.Equal("[REDACTED]", url.Password.ToString());
                Assert.Equal(TimeSpan.FromSeconds(45), url.LockTtl);
                Assert.EndsWith("(TLS)", url.ToString(), StringComparison.Ordinal);
            }
            finally
            {
                File.Delete(ca);
            }
        }

        [Theory]
        [InlineData("etcd://h:2379", "it names no key prefix after the endpoints (such as /tug), so Tug's keys could mix with others'.\n  etcd://h:2379\n               ^")]
        [InlineData("etcd://h:2379/", "it names no key prefix after the endpoints (such as /tug), so Tug's keys could mix with others'.\n  etcd://h:2379/\n                ^")]
        [InlineData("etcd://h:23x9/tug", "the port '23x9' is not a number from 1 to 65535.\n  etcd://h:23x9/tug\n           ^")]
        [InlineData("etcd://h:70000/tug", "the port '70000' is not a number from 1 to 65535.\n  etcd://h:70000/tug\n           ^")]
        [InlineData("etcd://a:1,,b:2/tug", "an endpoint is empty (a leading, trailing or doubled ',').\n  etcd://a:1,,b:2/tug\n             ^")]
        [InlineData("etcd://a b:1/tug", "the host 'a b' has the character ' ' (one etcd URL takes HOST:PORT endpoints separated by ',').\n  etcd://a b:1/tug\n          ^")]
        [InlineData("etcd://h:1/.hidden", "the prefix '.hidden' is not a key prefix: use segments of letters, digits, '_', '.', '-' joined by '/', none starting with '.'.\n  etcd://h:1/.hidden\n             ^")]
        [InlineData("etcd://h:1/tug?x=1", "the prefix has the character '?'.\n  etcd://h:1/tug?x=1\n                ^")]
        [InlineData("https://h:2379/tug", "the scheme 'https' is not etcd (TLS is turned on by TUG_STATE_CACERT, not by https).\n  https://h:2379/tug\n  ^")]
        [InlineData("/home/me/state", "it is neither 'local' nor an etcd:// URL.\n  /home/me/state\n  ^")]
        public void Should_Refuse_A_Bad_Url_Pointing_At_The_Spot(string text, string problem)
        {
            // When
            var e = Assert.Throws<StateException>(() => StateUrl.Parse(text, "TUG_STATE", Env()));

            // Then
            Assert.Equal(StateException.BadUrl, e.Code);
            Assert.Equal($"TUG_STATE is not a state URL: {problem}", e.Message);
            Assert.Equal("Write it as etcd://HOST:PORT[,HOST:PORT...]/PREFIX, e.g. etcd://10.0.0.1:2379,10.0.0.2:2379/tug; or 'local' (or unset TUG_STATE) for the local directory $TUG_HOME.", e.Hint);
            Assert.Equal(ExitCodes.BadInput, e.ExitCode);
        }

        [Fact]
        public void Should_Refuse_A_Client_Certificate_Without_Its_Key()
        {
            // Given
            var cert = Path.GetTempFileName();
            try
            {
                // When
                var e = Assert.Throws<StateException>(() => StateUrl.Parse("etcd://h:1/tug", "TUG_STATE", Env((StateUrl.CertVariable, cert))));

                // Then
                Assert.Equal("TUG_STATE_CERT is set but TUG_STATE_KEY is not: a client certificate needs both its certificate and its key.", e.Message);
                Assert.Equal("Set TUG_STATE_KEY too (PEM files, as etcdctl's --cert and --key), or unset TUG_STATE_CERT.", e.Hint);
            }
            finally
            {
                File.Delete(cert);
            }
        }

        [Theory]
        [InlineData("TUG_STATE_CACERT", "/nonexistent/ca.pem", "TUG_STATE_CACERT names /nonexistent/ca.pem, which is not a file.")]
        [InlineData("TUG_STATE_USER", "tug", "TUG_STATE_USER is set but TUG_STATE_PASSWORD is not: etcd's auth takes a user and a password.")]
        [InlineData("TUG_STATE_PASSWORD", "pw", "TUG_STATE_PASSWORD is set but TUG_STATE_USER is not: etcd's auth takes a user and a password.")]
        [InlineData("TUG_STATE_LOCK_TTL", "1", "TUG_STATE_LOCK_TTL is '1', not a number of seconds from 2 to 3600.")]
        [InlineData("TUG_STATE_LOCK_TTL", "half a minute", "TUG_STATE_LOCK_TTL is 'half a minute', not a number of seconds from 2 to 3600.")]
        public void Should_Refuse_A_Bad_Setting_Naming_The_Variable(string variable, string value, string message)
        {
            // When
            var e = Assert.Throws<StateException>(() => StateUrl.Parse("etcd://h:1/tug", "TUG_STATE", Env((variable, value))));

            // Then
            Assert.Equal(StateException.BadUrl, e.Code);
            Assert.Equal(message, e.Message);
            Assert.NotNull(e.Hint);
        }
    }

    public sealed class TheResolveMethod
    {
        [Fact]
        public void Should_Prefer_The_Flag_Over_The_Environment()
        {
            // When
            var url = StateUrl.Resolve("etcd://flag:1/tug", Env((StateUrl.Variable, "etcd://env:1/tug")));

            // Then
            Assert.Equal("flag", url.Endpoints[0].Host);
        }

        [Fact]
        public void Should_Name_The_Flag_When_The_Flag_Is_Bad()
        {
            // When
            var e = Assert.Throws<StateException>(() => StateUrl.Resolve("etcd://h", Env()));

            // Then
            Assert.StartsWith("--state is not a state URL:", e.Message, StringComparison.Ordinal);
        }

        [Theory]
        [InlineData(null, null)]
        [InlineData("", "")]
        [InlineData("local", null)]
        [InlineData(null, "local")]
        public void Should_Mean_The_Local_Directory_When_Unset_Or_Local(string? flag, string? variable)
        {
            // When
            var url = StateUrl.Resolve(flag, Env((StateUrl.Variable, variable!)));

            // Then
            Assert.Same(StateUrl.Local, url);
        }
    }
}
