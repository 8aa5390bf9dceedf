// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

namespace Tug.Ssh;

/// <summary>How commands are wrapped on the remote side, the same for every transport.</summary>
internal static class Shell
{
    /// <summary>Prepended to every script, as TiUP does: a predictable locale and the sbin directories on PATH.</summary>
    public const string Prelude = "export LANG=C; PATH=$PATH:/bin:/sbin:/usr/bin:/usr/sbin\n";

    /// <summary>Quotes a string for a POSIX shell.</summary>
    public static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>Runs <paramref name="command"/> through non-interactive sudo when asked and the login user is not root.</summary>
    public static string Wrap(string command, bool sudo, string user) =>
        sudo && user != "root" ? "sudo -n -H " + command : command;

    /// <summary>A script that writes stdin to a temp file beside <paramref name="path"/>, sets its mode, and renames it into place.</summary>
    public static string AtomicWrite(string path, string mode) =>
        $"set -e; p={Quote(path)}; t=$(mktemp \"$(dirname \"$p\")/.tug-upload.XXXXXX\"); trap 'rm -f \"$t\"' EXIT; cat > \"$t\"; chmod {Quote(mode)} \"$t\"; mv -f \"$t\" \"$p\"; trap - EXIT";
}
