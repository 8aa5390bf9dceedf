// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;

namespace Tug.Core.Remote;

/// <summary>An SSH public key as an <c>authorized_keys</c> line names it: its type and its base64 blob (the comment is not part of it).</summary>
/// <param name="Type"><c>ssh-rsa</c>, <c>ssh-ed25519</c>, ...</param>
/// <param name="Blob">The base64 key blob, as written.</param>
public sealed record SshPublicKey(string Type, string Blob)
{
    /// <summary>The key of an OpenSSH public key line (<c>ssh-rsa AAAA... comment</c>, or an <c>authorized_keys</c> line with options).</summary>
    /// <exception cref="ArgumentException">The line holds no key.</exception>
    public static SshPublicKey Parse(string line) => AuthorizedKeys.KeyOf(line) ?? throw new ArgumentException($"'{line}' is not an SSH public key line", nameof(line));

    /// <summary>The key's fingerprint as <c>ssh-keygen -l</c> prints it: <c>SHA256:</c> and the unpadded base64 of the blob's sha256.</summary>
    public string Fingerprint
    {
        get
        {
            try
            {
                return "SHA256:" + Convert.ToBase64String(SHA256.HashData(Convert.FromBase64String(Blob))).TrimEnd('=');
            }
            catch (FormatException)
            {
                return "SHA256:?";
            }
        }
    }

    /// <summary><c>ssh-rsa AAAA...</c>, without a comment.</summary>
    public override string ToString() => $"{Type} {Blob}";
}

/// <summary>
/// Edits the text of an <c>authorized_keys</c> file as sshd reads it (<c>sshd(8)</c>, AUTHORIZED_KEYS FILE FORMAT): one
/// key per line, optionally after options (<c>from="10.0.0.*",command="echo \"hi\"" ssh-rsa AAAA... comment</c>);
/// empty lines and lines starting with <c>#</c> are comments. A key is matched by its type and blob, never by its
/// comment or options. Every line the edit does not add or remove is kept byte for byte, its line ending (LF or
/// CRLF) included; a last line without a newline gets one only when a line is added after it. The text is Latin-1
/// decoded, so any byte round-trips.
/// </summary>
public static class AuthorizedKeys
{
    /// <summary>The encoding the file's bytes are read and written with: one char per byte, so nothing is ever changed by decoding.</summary>
    public static Encoding Bytes { get; } = Encoding.Latin1;

    private static readonly ImmutableHashSet<string> PlainTypes = ImmutableHashSet.Create(StringComparer.Ordinal,
        "ssh-rsa", "ssh-dss", "ssh-ed25519", "ssh-ed448", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com", "rsa-sha2-256", "rsa-sha2-512");

    /// <summary>Whether <paramref name="word"/> names a key type sshd accepts in <c>authorized_keys</c> (certificates included).</summary>
    public static bool IsKeyType(string word) =>
        PlainTypes.Contains(word) || (word.EndsWith("-cert-v01@openssh.com", StringComparison.Ordinal) && word.Length > "-cert-v01@openssh.com".Length);

    /// <summary>The lines of <paramref name="text"/>, each with its line ending (<c>\n</c> or <c>\r\n</c>; none on a last line without one).</summary>
    public static ImmutableArray<string> Lines(string text)
    {
        var lines = ImmutableArray.CreateBuilder<string>();
        var start = 0;
        while (start < text.Length)
        {
            var end = text.IndexOf('\n', start);
            if (end < 0)
            {
                lines.Add(text[start..]);
                break;
            }

            lines.Add(text[start..(end + 1)]);
            start = end + 1;
        }

        return lines.ToImmutable();
    }

    /// <summary>The key a line authorizes, or null for a comment, an empty line, or a line sshd would not read as a key.</summary>
    public static SshPublicKey? KeyOf(string line)
    {
        var text = line.TrimEnd('\n').TrimEnd('\r').TrimStart(' ', '\t');
        if (text.Length == 0 || text[0] == '#')
        {
            return null;
        }

        var words = Words(text);
        // A key line starts with the key type; otherwise the first word is the options (which may hold quoted blanks).
        var at = words.Count > 0 && IsKeyType(words[0]) ? 0 : 1;
        return words.Count > at + 1 && IsKeyType(words[at]) && IsBase64(words[at + 1]) ? new SshPublicKey(words[at], words[at + 1]) : null;
    }

    /// <summary>Whether some line of <paramref name="text"/> authorizes <paramref name="key"/>.</summary>
    public static bool Contains(string text, SshPublicKey key) => Lines(text).Any(l => KeyOf(l) == key);

    /// <summary>
    /// <paramref name="text"/> with <paramref name="line"/> (a public key line: <c>ssh-rsa AAAA... comment</c>) added at the
    /// end, unless a line already authorizes its key (then the text as it is). A last line without a newline gets one first.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="line"/> is not one public key line.</exception>
    public static string Append(string text, string line)
    {
        var key = KeyOf(line);
        if (key is null || line.Contains('\n', StringComparison.Ordinal) || line.Contains('\r', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{line}' is not one SSH public key line", nameof(line));
        }

        if (Contains(text, key))
        {
            return text;
        }

        return text + (text.Length > 0 && !text.EndsWith('\n') ? "\n" : string.Empty) + line + "\n";
    }

    /// <summary><paramref name="text"/> without every line that authorizes one of <paramref name="keys"/> (whatever its options or comment); every other line as it was.</summary>
    public static string Remove(string text, IEnumerable<SshPublicKey> keys)
    {
        var remove = keys.ToHashSet();
        return string.Concat(Lines(text).Where(l => KeyOf(l) is not { } key || !remove.Contains(key)));
    }

    /// <summary>
    /// The rotation's end state of a host's file: every line of <paramref name="retired"/> keys removed, and
    /// <paramref name="keep"/> (a public key line) present (added at the end when missing). Other lines as they were.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="keep"/> is one of the retired keys, or not a key line.</exception>
    public static string Retire(string text, IEnumerable<SshPublicKey> retired, string keep)
    {
        var kept = KeyOf(keep) ?? throw new ArgumentException($"'{keep}' is not an SSH public key line", nameof(keep));
        var remove = retired.ToList();
        if (remove.Contains(kept))
        {
            throw new ArgumentException("the key to keep is among the keys to remove", nameof(keep));
        }

        return Append(Remove(text, remove), keep);
    }

    /// <summary>Words separated by blanks, where a double-quoted part (with <c>\"</c> inside) belongs to its word, as sshd reads options.</summary>
    private static List<string> Words(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                word.Append(c);
                if (c == '\\' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    word.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
            }
            else if (c is ' ' or '\t')
            {
                if (word.Length > 0)
                {
                    words.Add(word.ToString());
                    word.Clear();
                }
            }
            else
            {
                word.Append(c);
                quoted = c == '"';
            }
        }

        if (word.Length > 0 && !quoted)
        {
            words.Add(word.ToString());
        }

        return words;
    }

    private static bool IsBase64(string word) => word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '=');
}
