// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Cluster;
using Tug.Core.Remote;

namespace Tug.Cli.Commands.Cluster;

/// <summary>What cluster verbs read from this machine: paths relative to the working directory, the preparing login and its credential.</summary>
public sealed class ClusterInput(IOContext io, IEnvironment environment)
{
    /// <summary>The login that prepares hosts: the one given, else the current user, else root.</summary>
    public string PreparingUser(string? user) => user ?? environment.GetVariable("USER") ?? "root";

    /// <summary>A key file (the one given, or ~/.ssh/id_rsa or id_ed25519), or with <c>-p</c> a password from the first line of standard input.</summary>
    public Credential ReadCredential(bool password, string? identity)
    {
        if (!password)
        {
            return new KeyFileCredential(identity is null ? DefaultIdentity() : Resolve(identity));
        }

        var line = io.In.ReadLine();
        if (string.IsNullOrEmpty(line))
        {
            throw new ClusterException(ClusterException.BadInput, "-p/--password needs the password on the first line of standard input.", "Pipe it in, e.g. `tug cluster deploy ... -p < password-file`.");
        }

        return new PasswordCredential(new Secret(line));
    }

    /// <summary>A path given on the command line, made absolute against the working directory.</summary>
    public string Resolve(string path) => Path.GetFullPath(path, environment.CurrentDirectory);

    private string DefaultIdentity()
    {
        var home = environment.GetVariable("HOME") ?? "/root";
        var rsa = Path.Combine(home, ".ssh", "id_rsa");
        var ed = Path.Combine(home, ".ssh", "id_ed25519");
        return File.Exists(rsa) || !File.Exists(ed) ? rsa : ed;
    }
}
