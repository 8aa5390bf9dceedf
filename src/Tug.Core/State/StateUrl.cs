// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Globalization;
using Tug.Core.Remote;

namespace Tug.Core.State;

/// <summary>Which implementation of <see cref="IStateStore"/> a <see cref="StateUrl"/> names.</summary>
public enum StateKind
{
    /// <summary>The local directory, <c>$TUG_HOME</c>.</summary>
    Local,

    /// <summary>An etcd v3 cluster.</summary>
    Etcd,
}

/// <summary>One etcd client endpoint.</summary>
public sealed record StateEndpoint(string Host, int Port)
{
    /// <summary><c>host:port</c>, or <c>[v6]:port</c>.</summary>
    public override string ToString() =>
        Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}" : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>TLS for etcd, as etcdctl takes it: the CA that signed the servers' certificates, and an optional client certificate.</summary>
/// <param name="CaCertFile">PEM CA bundle (<c>TUG_STATE_CACERT</c>); null trusts the system's roots.</param>
/// <param name="CertFile">PEM client certificate (<c>TUG_STATE_CERT</c>), or null.</param>
/// <param name="KeyFile">PEM key of <paramref name="CertFile"/> (<c>TUG_STATE_KEY</c>), or null.</param>
public sealed record StateTls(string? CaCertFile, string? CertFile, string? KeyFile);

/// <summary>
/// Where the state lives, from <c>--state URL</c> or <c>TUG_STATE</c> (the flag wins): unset or <c>local</c> is the
/// local directory; <c>etcd://HOST:PORT[,HOST:PORT...]/PREFIX</c> is etcd, with TLS when any of
/// <c>TUG_STATE_CACERT</c>, <c>TUG_STATE_CERT</c>, <c>TUG_STATE_KEY</c> is set and auth from
/// <c>TUG_STATE_USER</c>/<c>TUG_STATE_PASSWORD</c>.
/// </summary>
public sealed record StateUrl
{
    /// <summary>The environment variable naming the store.</summary>
    public const string Variable = "TUG_STATE";

    /// <summary>The lock lease TTL in seconds (default <see cref="DefaultLockTtl"/>).</summary>
    public const string LockTtlVariable = "TUG_STATE_LOCK_TTL";

    public const string CaCertVariable = "TUG_STATE_CACERT";
    public const string CertVariable = "TUG_STATE_CERT";
    public const string KeyVariable = "TUG_STATE_KEY";
    public const string UserVariable = "TUG_STATE_USER";
    public const string PasswordVariable = "TUG_STATE_PASSWORD";

    /// <summary>etcd's client port, taken when an endpoint names none.</summary>
    public const int DefaultPort = 2379;

    /// <summary>The lock lease's TTL unless <c>TUG_STATE_LOCK_TTL</c> says otherwise (Terraform's etcd backend takes 60 s).</summary>
    public static readonly TimeSpan DefaultLockTtl = TimeSpan.FromSeconds(30);

    private static readonly System.Buffers.SearchValues<char> HostCharacters =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");

    private const string Scheme = "etcd://";
    private const string Syntax = "etcd://HOST:PORT[,HOST:PORT...]/PREFIX, e.g. etcd://10.0.0.1:2379,10.0.0.2:2379/tug";

    private StateUrl(StateKind kind, string text, ImmutableArray<StateEndpoint> endpoints, string prefix, StateTls? tls, string? user, Secret? password, TimeSpan lockTtl)
    {
        Kind = kind;
        Text = text;
        Endpoints = endpoints;
        Prefix = prefix;
        Tls = tls;
        User = user;
        Password = password;
        LockTtl = lockTtl;
    }

    /// <summary>The local directory.</summary>
    public static StateUrl Local { get; } = new(StateKind.Local, "local", [], "", null, null, null, DefaultLockTtl);

    public StateKind Kind { get; }

    /// <summary>The URL as given (<c>local</c> for the local directory).</summary>
    public string Text { get; }

    /// <summary>etcd's client endpoints, in the order given; empty for the local directory.</summary>
    public ImmutableArray<StateEndpoint> Endpoints { get; }

    /// <summary>The key prefix every key of this store lives under in etcd (<c>tug</c>, <c>teams/db/tug</c>), without slashes at its ends.</summary>
    public string Prefix { get; }

    /// <summary>TLS settings, or null for plain HTTP.</summary>
    public StateTls? Tls { get; }

    /// <summary>The etcd user, or null without auth.</summary>
    public string? User { get; }

    /// <summary>The etcd user's password, or null.</summary>
    public Secret? Password { get; }

    /// <summary>The TTL of a lock's lease: how long a dead holder keeps a lock.</summary>
    public TimeSpan LockTtl { get; }

    /// <summary>The store's address for messages: <c>etcd://HOST:PORT,.../PREFIX</c> (https noted), or <c>local</c>.</summary>
    public override string ToString() =>
        Kind == StateKind.Local ? "local" : $"{Scheme}{string.Join(',', Endpoints)}/{Prefix}{(Tls is null ? "" : " (TLS)")}";

    /// <summary>The store to use: <paramref name="flag"/> (<c>--state</c>) if given, else <c>TUG_STATE</c>, else the local directory.</summary>
    /// <exception cref="StateException"><see cref="StateException.BadUrl"/>, naming the source, the spot and the fix.</exception>
    public static StateUrl Resolve(string? flag, Func<string, string?> environment) =>
        !string.IsNullOrEmpty(flag) ? Parse(flag, "--state", environment)
        : environment(Variable) is { Length: > 0 } value ? Parse(value, Variable, environment)
        : Local;

    /// <summary>Parses a state URL given by <paramref name="source"/> (<c>--state</c> or <c>TUG_STATE</c>), reading TLS, auth and TTL settings from <paramref name="environment"/>.</summary>
    /// <exception cref="StateException"><see cref="StateException.BadUrl"/>, naming the source, the spot and the fix.</exception>
    public static StateUrl Parse(string text, string source, Func<string, string?> environment)
    {
        if (text == "local")
        {
            return Local;
        }

        if (!text.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            var colon = text.IndexOf("://", StringComparison.Ordinal);
            var problem = colon > 0
                ? $"the scheme '{text[..colon]}' is not etcd (TLS is turned on by {CaCertVariable}, not by https)"
                : "it is neither 'local' nor an etcd:// URL";
            throw Bad(source, text, 0, problem);
        }

        var slash = text.IndexOf('/', Scheme.Length);
        var authority = slash < 0 ? text[Scheme.Length..] : text[Scheme.Length..slash];
        var endpoints = ImmutableArray.CreateBuilder<StateEndpoint>();
        var at = Scheme.Length;
        foreach (var part in authority.Split(','))
        {
            endpoints.Add(Endpoint(source, text, part, at));
            at += part.Length + 1;
        }

        if (slash < 0 || slash == text.Length - 1)
        {
            throw Bad(source, text, text.Length, "it names no key prefix after the endpoints (such as /tug), so Tug's keys could mix with others'");
        }

        var prefix = text[(slash + 1)..].TrimEnd('/');
        foreach (var c in prefix)
        {
            if (c is '?' or '#' or ' ')
            {
                throw Bad(source, text, text.IndexOf(c, slash), $"the prefix has the character '{c}'");
            }
        }

        if (!StateKey.IsValid(prefix))
        {
            throw Bad(source, text, slash + 1, $"the prefix '{prefix}' is not a key prefix: use segments of letters, digits, '_', '.', '-' joined by '/', none starting with '.'");
        }

        return new StateUrl(StateKind.Etcd, text, endpoints.ToImmutable(), prefix, ReadTls(environment), ReadUser(environment, out var password), password, ReadLockTtl(environment));
    }

    private static StateEndpoint Endpoint(string source, string text, string part, int at)
    {
        if (part.Length == 0)
        {
            throw Bad(source, text, at, "an endpoint is empty (a leading, trailing or doubled ',')");
        }

        string host;
        string? port;
        if (part.StartsWith('['))
        {
            var close = part.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw Bad(source, text, at, $"the IPv6 address in '{part}' has no closing ']'");
            }

            host = part[1..close];
            var rest = part[(close + 1)..];
            if (rest.Length > 0 && rest[0] != ':')
            {
                throw Bad(source, text, at + close + 1, $"'{rest}' follows the IPv6 address; write [ADDRESS]:PORT");
            }

            port = rest.Length > 0 ? rest[1..] : null;
            if (host.Length == 0 || !host.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.'))
            {
                throw Bad(source, text, at + 1, $"'{host}' is not an IPv6 address");
            }
        }
        else
        {
            var colon = part.LastIndexOf(':');
            host = colon < 0 ? part : part[..colon];
            port = colon < 0 ? null : part[(colon + 1)..];
            var bad = host.AsSpan().IndexOfAnyExcept(HostCharacters);
            if (host.Length == 0)
            {
                throw Bad(source, text, at, $"the endpoint '{part}' has no host");
            }

            if (bad >= 0)
            {
                throw Bad(source, text, at + bad, $"the host '{host}' has the character '{host[bad]}' (one etcd URL takes HOST:PORT endpoints separated by ',')");
            }
        }

        var number = DefaultPort;
        if (port is not null && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out number) || number is < 1 or > 65535))
        {
            throw Bad(source, text, at + part.Length - port.Length, $"the port '{port}' is not a number from 1 to 65535");
        }

        return new StateEndpoint(host, number);
    }

    private static StateTls? ReadTls(Func<string, string?> environment)
    {
        var ca = File(environment, CaCertVariable);
        var cert = File(environment, CertVariable);
        var key = File(environment, KeyVariable);
        if ((cert is null) != (key is null))
        {
            var (set, unset) = cert is null ? (KeyVariable, CertVariable) : (CertVariable, KeyVariable);
            throw new StateException(StateException.BadUrl, $"{set} is set but {unset} is not: a client certificate needs both its certificate and its key.",
                $"Set {unset} too (PEM files, as etcdctl's --cert and --key), or unset {set}.", where: set);
        }

        return ca is null && cert is null ? null : new StateTls(ca, cert, key);
    }

    private static string? File(Func<string, string?> environment, string variable)
    {
        if (environment(variable) is not { Length: > 0 } path)
        {
            return null;
        }

        return System.IO.File.Exists(path)
            ? path
            : throw new StateException(StateException.BadUrl, $"{variable} names {path}, which is not a file.",
                $"Point {variable} at a PEM file readable by this user (as etcdctl's --{variable[(variable.LastIndexOf('_') + 1)..].ToLowerInvariant()}), or unset it.", where: variable);
    }

    private static string? ReadUser(Func<string, string?> environment, out Secret? password)
    {
        var user = environment(UserVariable) is { Length: > 0 } u ? u : null;
        var secret = environment(PasswordVariable) is { Length: > 0 } p ? p : null;
        if ((user is null) != (secret is null))
        {
            var (set, unset) = user is null ? (PasswordVariable, UserVariable) : (UserVariable, PasswordVariable);
            throw new StateException(StateException.BadUrl, $"{set} is set but {unset} is not: etcd's auth takes a user and a password.",
                $"Set {unset} too, or unset {set}.", where: set);
        }

        password = secret is null ? null : new Secret(secret);
        return user;
    }

    private static TimeSpan ReadLockTtl(Func<string, string?> environment)
    {
        if (environment(LockTtlVariable) is not { Length: > 0 } text)
        {
            return DefaultLockTtl;
        }

        var digits = text.EndsWith('s') ? text[..^1] : text;
        return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 2 and <= 3600
            ? TimeSpan.FromSeconds(seconds)
            : throw new StateException(StateException.BadUrl, $"{LockTtlVariable} is '{text}', not a number of seconds from 2 to 3600.",
                $"Set it to whole seconds such as 30 (a dead holder keeps a lock that long), or unset it for {DefaultLockTtl.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.", where: LockTtlVariable);
    }

    private static StateException Bad(string source, string text, int column, string problem) =>
        new(StateException.BadUrl,
            $"{source} is not a state URL: {problem}.\n  {text}\n  {new string(' ', Math.Clamp(column, 0, text.Length))}^",
            $"Write it as {Syntax}; or 'local' (or unset {Variable}) for the local directory $TUG_HOME.", where: source);
}
