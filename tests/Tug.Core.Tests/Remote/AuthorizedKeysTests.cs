// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text;
using Tug.Core.Remote;

namespace Tug.Core.Tests.Remote;

/// <summary>
/// The edit of an authorized_keys file that rotatessh makes on every host: keys found by type and blob whatever their
/// options and comments, every other line kept byte for byte (comments, blank lines, CRLF, other people's keys, a last
/// line without a newline, bytes that are not UTF-8).
/// </summary>
public sealed class AuthorizedKeysTests
{
    private const string Old = "AAAAB3NzaC1yc2EAAAADAQABAAABAQDold+key/blob==";
    private const string New = "AAAAB3NzaC1yc2EAAAADAQABAAABAQDnew+key/blob==";
    private const string Alice = "AAAAC3NzaC1lZDI1NTE5AAAAIAlice";

    private static readonly SshPublicKey OldKey = new("ssh-rsa", Old);
    private static readonly SshPublicKey NewKey = new("ssh-rsa", New);
    private static readonly string NewLine = $"ssh-rsa {New} tug-cluster-demo";

    public sealed class KeyOf
    {
        [Theory]
        [InlineData("ssh-rsa " + Old + " tug-cluster-demo", "ssh-rsa", Old)]
        [InlineData("ssh-rsa " + Old, "ssh-rsa", Old)]
        [InlineData("ssh-rsa " + Old + " comment with spaces\r\n", "ssh-rsa", Old)]
        [InlineData("  \tssh-rsa " + Old + " indented\n", "ssh-rsa", Old)]
        [InlineData("no-pty,no-agent-forwarding ssh-rsa " + Old + " restricted", "ssh-rsa", Old)]
        [InlineData("command=\"echo \\\"hi there\\\"; exit\",from=\"10.0.0.*\" ssh-rsa " + Old + " forced", "ssh-rsa", Old)]
        [InlineData("restrict,command=\"ssh-rsa " + New + "\" ssh-rsa " + Old + " a quoted key in options", "ssh-rsa", Old)]
        [InlineData("ssh-ed25519 " + Alice + " alice@laptop", "ssh-ed25519", Alice)]
        [InlineData("ecdsa-sha2-nistp256 AAAAE2VjZHNh x", "ecdsa-sha2-nistp256", "AAAAE2VjZHNh")]
        [InlineData("cert-authority ssh-rsa-cert-v01@openssh.com AAAAHHNzaC1yc2EtY2VydC12MDFAb3BlbnNzaC5jb20= ca", "ssh-rsa-cert-v01@openssh.com", "AAAAHHNzaC1yc2EtY2VydC12MDFAb3BlbnNzaC5jb20=")]
        public void Should_Find_The_Key_Of_A_Line_Behind_Any_Options(string line, string type, string blob) =>
            Assert.Equal(new SshPublicKey(type, blob), AuthorizedKeys.KeyOf(line));

        [Theory]
        [InlineData("")]
        [InlineData("\n")]
        [InlineData("\r\n")]
        [InlineData("   ")]
        [InlineData("# ssh-rsa " + Old + " a commented-out key")]
        [InlineData("  # indented comment")]
        [InlineData("ssh-rsa")]
        [InlineData("ssh-rsa not*base64")]
        [InlineData("options-only")]
        [InlineData("command=\"unterminated ssh-rsa " + Old)]
        [InlineData("ssh-foo " + Old + " unknown type")]
        public void Should_Find_No_Key_In_Comments_Blank_Or_Broken_Lines(string line) => Assert.Null(AuthorizedKeys.KeyOf(line));

        [Fact]
        public void Should_Print_The_Fingerprint_As_Ssh_Keygen_Does()
        {
            // Given: ssh-keygen -lf of this public key prints SHA256:... (the unpadded base64 of the blob's sha256)
            var blob = Convert.ToBase64String(Encoding.ASCII.GetBytes("\0\0\0\u0007ssh-rsa"));
            var expected = "SHA256:" + Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(Encoding.ASCII.GetBytes("\0\0\0\u0007ssh-rsa"))).TrimEnd('=');

            // When, Then
            Assert.Equal(expected, new SshPublicKey("ssh-rsa", blob).Fingerprint);
        }
    }

    public sealed class Append
    {
        [Fact]
        public void Should_Add_The_Line_At_The_End_With_A_Newline()
        {
            var text = $"ssh-ed25519 {Alice} alice\n";
            Assert.Equal(text + NewLine + "\n", AuthorizedKeys.Append(text, NewLine));
        }

        [Fact]
        public void Should_Give_A_Last_Line_Without_A_Newline_One_First()
        {
            var text = $"ssh-ed25519 {Alice} alice";
            Assert.Equal(text + "\n" + NewLine + "\n", AuthorizedKeys.Append(text, NewLine));
        }

        [Fact]
        public void Should_Write_The_Line_Alone_Into_An_Empty_File() => Assert.Equal(NewLine + "\n", AuthorizedKeys.Append(string.Empty, NewLine));

        [Theory]
        [InlineData("ssh-rsa " + New + " tug-cluster-demo\n")]
        [InlineData("ssh-rsa " + New + " another comment\r\n")]
        [InlineData("from=\"10.0.0.1\" ssh-rsa " + New)]
        public void Should_Change_Nothing_When_A_Line_Already_Authorizes_The_Key(string existing)
        {
            var text = $"# keys\r\nssh-ed25519 {Alice} alice\r\n{existing}";
            Assert.Same(text, AuthorizedKeys.Append(text, NewLine));
        }

        [Theory]
        [InlineData("# not a key")]
        [InlineData("ssh-rsa " + New + " two\nssh-rsa " + Old + " lines")]
        public void Should_Refuse_What_Is_Not_One_Key_Line(string line) =>
            Assert.Throws<ArgumentException>(() => AuthorizedKeys.Append(string.Empty, line));
    }

    public sealed class Remove
    {
        [Fact]
        public void Should_Remove_Every_Line_Of_The_Key_Whatever_Its_Options_Or_Comment_And_Keep_Every_Other_Byte()
        {
            // Given: comments, a blank line, CRLF lines, someone else's key, the old key three times in three spellings,
            // a key commented out, and a last line without a newline
            var text = string.Concat(
                "# managed by hand\r\n",
                $"ssh-rsa {Old} tug-cluster-demo\n",
                "\n",
                $"ssh-ed25519 {Alice} alice@laptop\r\n",
                $"no-pty,command=\"echo \\\"x y\\\"\" ssh-rsa {Old} same key, options\r\n",
                $"# ssh-rsa {Old} commented out: not a key\n",
                $"   ssh-rsa {Old}\n",
                $"ssh-rsa {New} tug-cluster-demo\n",
                $"ssh-ed25519 {Alice}2 bob");

            // When
            var after = AuthorizedKeys.Remove(text, [OldKey]);

            // Then
            Assert.Equal(string.Concat(
                "# managed by hand\r\n",
                "\n",
                $"ssh-ed25519 {Alice} alice@laptop\r\n",
                $"# ssh-rsa {Old} commented out: not a key\n",
                $"ssh-rsa {New} tug-cluster-demo\n",
                $"ssh-ed25519 {Alice}2 bob"), after);
        }

        [Fact]
        public void Should_Remove_A_Last_Line_Without_A_Newline()
        {
            var text = $"ssh-ed25519 {Alice} alice\nssh-rsa {Old} tug-cluster-demo";
            Assert.Equal($"ssh-ed25519 {Alice} alice\n", AuthorizedKeys.Remove(text, [OldKey]));
        }

        [Fact]
        public void Should_Leave_A_File_Without_The_Key_As_It_Is()
        {
            var text = $"ssh-ed25519 {Alice} alice\r\n\r\n# end";
            Assert.Equal(text, AuthorizedKeys.Remove(text, [OldKey]));
        }

        [Fact]
        public void Should_Keep_Bytes_That_Are_Not_Utf8_As_They_Were()
        {
            // Given: a comment in Latin-1 and a stray 0xFF byte
            byte[] bytes = [.. Encoding.ASCII.GetBytes($"ssh-ed25519 {Alice} J"), 0xF6, (byte)'r', (byte)'g', 0xFF, (byte)'\n', .. Encoding.ASCII.GetBytes($"ssh-rsa {Old} x\n")];

            // When
            var after = AuthorizedKeys.Bytes.GetBytes(AuthorizedKeys.Remove(AuthorizedKeys.Bytes.GetString(bytes), [OldKey]));

            // Then
            Assert.Equal(bytes[..(bytes.Length - $"ssh-rsa {Old} x\n".Length)], after);
        }
    }

    public sealed class Retire
    {
        [Fact]
        public void Should_Leave_The_New_Key_And_The_Unrelated_Lines()
        {
            var text = $"ssh-ed25519 {Alice} alice\r\nssh-rsa {Old} tug-cluster-demo\n{NewLine}\n";
            Assert.Equal($"ssh-ed25519 {Alice} alice\r\n{NewLine}\n", AuthorizedKeys.Retire(text, [OldKey], NewLine));
        }

        [Fact]
        public void Should_Add_The_New_Key_When_It_Is_Missing()
        {
            var text = $"ssh-rsa {Old} tug-cluster-demo\nssh-ed25519 {Alice} alice";
            Assert.Equal($"ssh-ed25519 {Alice} alice\n{NewLine}\n", AuthorizedKeys.Retire(text, [OldKey], NewLine));
        }

        [Fact]
        public void Should_Remove_Every_Retired_Key()
        {
            var stale = new SshPublicKey("ssh-rsa", "AAAAB3NzaC1yc2EAAAADAQABstale");
            var text = $"ssh-rsa {stale.Blob} tug-cluster-demo\nssh-rsa {Old} tug-cluster-demo\n{NewLine}\n";
            Assert.Equal(NewLine + "\n", AuthorizedKeys.Retire(text, [OldKey, stale], NewLine));
        }

        [Fact]
        public void Should_Be_Idempotent()
        {
            var text = $"# x\r\nssh-ed25519 {Alice} alice\r\nssh-rsa {Old} tug-cluster-demo\r\n";
            var once = AuthorizedKeys.Retire(text, [OldKey], NewLine);
            Assert.Equal(once, AuthorizedKeys.Retire(once, [OldKey], NewLine));
            Assert.False(AuthorizedKeys.Contains(once, OldKey));
            Assert.True(AuthorizedKeys.Contains(once, NewKey));
        }

        [Fact]
        public void Should_Refuse_To_Keep_A_Key_It_Removes() =>
            Assert.Throws<ArgumentException>(() => AuthorizedKeys.Retire(string.Empty, [NewKey], NewLine));
    }

    [Fact]
    public void Should_Split_Lines_Keeping_Each_Ending()
    {
        Assert.Equal(["a\r\n", "\n", "b\n", "c"], AuthorizedKeys.Lines("a\r\n\nb\nc"));
        Assert.Empty(AuthorizedKeys.Lines(string.Empty));
    }
}

/// <summary>The <c>TUG|keys</c> line the read script prints: the file's bytes exactly, empty, or missing.</summary>
public sealed class AuthorizedKeysLineTests
{
    [Fact]
    public void Should_Read_The_File_As_Bytes_Empty_Or_Missing()
    {
        // Given
        byte[] bytes = [(byte)'s', 0xFF, (byte)'\r', (byte)'\n'];
        var path = Convert.ToBase64String(Encoding.UTF8.GetBytes("/home/tidb/.ssh/authorized_keys"));
        var stdout = $"TUG|keys|{path}|{Convert.ToBase64String(bytes)}\nTUG|keys|{path}|=\nTUG|keys|{path}|-\nTUG|keys|{path}|not*base64\n";

        // When
        var lines = HostReply.Parse(stdout).OfType<AuthorizedKeysLine>().ToList();

        // Then
        Assert.Equal(3, lines.Count);
        Assert.All(lines, l => Assert.Equal("/home/tidb/.ssh/authorized_keys", l.Path));
        Assert.Equal(bytes, lines[0].Content);
        Assert.Equal([], lines[1].Content!);
        Assert.Null(lines[2].Content);
    }
}
