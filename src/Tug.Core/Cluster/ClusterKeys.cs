// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Security.Cryptography;
using System.Text;
using Tug.Core.Remote;

namespace Tug.Core.Cluster;

/// <summary>
/// The cluster's key files on the control machine during <c>tug cluster rotatessh</c>, in <c>clusters/NAME/ssh/</c>:
/// <c>id_rsa</c> (the key every command logs in with), <c>id_rsa.new</c> (the next key, made before any host is
/// touched, so a replay uses the same one) and <c>id_rsa.old</c> (the key before the switch, kept until no host
/// accepts it any more); each with its <c>.pub</c>, all 0600. <c>id_rsa</c> is only ever replaced by a rename, so at
/// every instant it is one whole key: the old one until the switch, the new one after.
/// </summary>
public sealed class ClusterKeys(string sshDirectory, string comment)
{
    /// <summary>The size of every cluster key, as deploy makes it (<see cref="SshKeys.EnsureKeyPair"/>) and TiUP does.</summary>
    public const int RsaBits = 4096;

    /// <summary>The key files of cluster <paramref name="name"/>, with the comment deploy gives its key.</summary>
    public static ClusterKeys Of(ClusterStore store, string name) => new(store.SshDirectory(name), CommentFor(name));

    /// <summary>The comment of a cluster's public key line (<c>tug-cluster-NAME</c>), as deploy writes it.</summary>
    public static string CommentFor(string name) => $"tug-cluster-{name}";

    /// <summary><c>ssh/id_rsa</c>: the key commands log in with.</summary>
    public string Current => Path.Combine(sshDirectory, "id_rsa");

    /// <summary><c>ssh/id_rsa.new</c>: the next key, until the switch.</summary>
    public string Pending => Path.Combine(sshDirectory, "id_rsa.new");

    /// <summary><c>ssh/id_rsa.old</c>: the key before the switch, until no host accepts it.</summary>
    public string Previous => Path.Combine(sshDirectory, "id_rsa.old");

    /// <summary>The public key line (<c>ssh-rsa AAAA... tug-cluster-NAME</c>) of the private key at <paramref name="privatePath"/>; null when it is missing or is not an RSA key in PEM.</summary>
    public string? PublicLine(string privatePath)
    {
        if (!File.Exists(privatePath))
        {
            return null;
        }

        try
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(File.ReadAllText(privatePath));
            return SshKeys.PublicKeyLine(rsa, comment);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The key of the private key at <paramref name="privatePath"/>, or null (see <see cref="PublicLine"/>).</summary>
    public SshPublicKey? KeyOf(string privatePath) => PublicLine(privatePath) is { } line ? SshPublicKey.Parse(line) : null;

    /// <summary>
    /// Makes the next key, <c>id_rsa.new</c> (RSA 4096, PKCS#1 PEM, 0600, and its <c>.pub</c>), unless one is there that
    /// is not among <paramref name="retired"/> (this rotation's own, made before a crash: kept, so a replay uses it). A
    /// pending key that is retired (left by an earlier rotation that did not finish) is replaced. Returns its public line.
    /// </summary>
    public string EnsurePending(IReadOnlyCollection<SshPublicKey> retired)
    {
        PrivateFiles.CreateDirectory(sshDirectory);
        if (PublicLine(Pending) is not { } line || retired.Contains(SshPublicKey.Parse(line)))
        {
            using var rsa = RSA.Create(RsaBits);
            DurableFile.WriteAtomically(Pending, Encoding.ASCII.GetBytes(rsa.ExportRSAPrivateKeyPem() + "\n"));
            line = SshKeys.PublicKeyLine(rsa, comment);
        }

        WritePublic(Pending, line);
        return line;
    }

    /// <summary>Whether the next key is made and whole (<c>id_rsa.new</c> and its <c>.pub</c> agree, not a retired key).</summary>
    public bool PendingReady(IReadOnlyCollection<SshPublicKey> retired) =>
        PublicLine(Pending) is { } line && !retired.Contains(SshPublicKey.Parse(line)) && ReadPublic(Pending) == line;

    /// <summary>The private key file of this rotation's new key: <c>id_rsa.new</c> before the switch, <c>id_rsa</c> after it; null when neither holds a key that is not retired.</summary>
    public string? NewKeyFile(IReadOnlyCollection<SshPublicKey> retired)
    {
        if (KeyOf(Pending) is { } pending && !retired.Contains(pending))
        {
            return Pending;
        }

        return KeyOf(Current) is { } current && !retired.Contains(current) ? Current : null;
    }

    /// <summary>Whether the switch is done: <c>id_rsa</c> is a key that is not retired, its <c>.pub</c> agrees, and no <c>id_rsa.new</c> is left.</summary>
    public bool Switched(IReadOnlyCollection<SshPublicKey> retired) =>
        !File.Exists(Pending) && PublicLine(Current) is { } line && !retired.Contains(SshPublicKey.Parse(line)) && ReadPublic(Current) == line;

    /// <summary>
    /// Makes the new key the cluster's: <c>id_rsa</c> is copied to <c>id_rsa.old</c>, then <c>id_rsa.new</c> is renamed
    /// over <c>id_rsa</c> (one atomic step), then the <c>.pub</c> files follow. Safe to repeat from any point it can be
    /// interrupted at. Returns the new public line.
    /// </summary>
    /// <exception cref="ClusterException">There is no new key to switch to (neither <c>id_rsa.new</c> nor a switched <c>id_rsa</c>).</exception>
    public string Switch(IReadOnlyCollection<SshPublicKey> retired)
    {
        if (PublicLine(Pending) is { } pending && !retired.Contains(SshPublicKey.Parse(pending)))
        {
            if (PublicLine(Current) is { } current && retired.Contains(SshPublicKey.Parse(current)))
            {
                // Keep the old key until no host accepts it any more.
                DurableFile.WriteAtomically(Previous, File.ReadAllBytes(Current));
                WritePublic(Previous, current);
            }
            else if (PublicLine(Current) is { } other && other != pending)
            {
                throw new ClusterException(ClusterException.StateBroken,
                    $"{Current} changed since this rotation was planned: it is neither a key being retired nor the new one, so it is left as it is.",
                    "Check who replaced it; `tug cluster rotatessh` plans again from the key there now.");
            }

            File.Move(Pending, Current, overwrite: true);
        }

        var line = PublicLine(Current);
        if (line is null || retired.Contains(SshPublicKey.Parse(line)))
        {
            throw new ClusterException(ClusterException.StateBroken,
                $"There is no new key to switch to: {Pending} is missing or retired and {Current} is still a key being retired.",
                "Run `tug cluster rotatessh` again: it makes a new key; every host still accepts the current one.");
        }

        WritePublic(Current, line);
        if (PublicLine(Previous) is { } previous)
        {
            WritePublic(Previous, previous);
        }

        File.Delete(Pending + ".pub");
        return line;
    }

    /// <summary>Removes <c>id_rsa.old</c> (and leftovers of the rotation) once no host accepts the old key.</summary>
    public void RemovePrevious()
    {
        File.Delete(Previous);
        File.Delete(Previous + ".pub");
        File.Delete(Pending + ".pub");
    }

    private static string? ReadPublic(string privatePath) =>
        File.Exists(privatePath + ".pub") ? File.ReadAllText(privatePath + ".pub").TrimEnd('\n') : null;

    private static void WritePublic(string privatePath, string line)
    {
        if (ReadPublic(privatePath) != line)
        {
            DurableFile.WriteAtomically(privatePath + ".pub", Encoding.ASCII.GetBytes(line + "\n"));
        }
    }
}
