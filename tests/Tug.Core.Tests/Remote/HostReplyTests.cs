// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text;
using Tug.Core.Remote;

namespace Tug.Core.Tests.Remote;

/// <summary>The one parser of <c>TUG|kind|...</c> result lines.</summary>
public sealed class HostReplyTests
{
    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void Should_Read_Every_Kind_And_Skip_Other_Output()
    {
        // Given
        var stdout = string.Join('\n',
            "some noise",
            $"TUG|probe|10.0.0.1:2379|active|4242|1|{B64("/opt/etcd (deleted)")}|aaa|bbb|{B64("etcd Version: 3.5.17\nGit SHA: x|y")}",
            "TUG|probe|10.0.0.2:2379|inactive|0|0|-|-|-|-",
            "TUG|wait|10.0.0.1:2379|ok",
            "TUG|wait|10.0.0.2:2379|fail|activating\r",
            "TUG|time|stop|1700000000000000000",
            $"TUG|file|{B64("/a|b\nc")}|abc",
            $"TUG|file|{B64("/missing")}|",
            "TUG|platform|Linux|aarch64",
            "TUG|member|present|8e9e05c52164694d",
            "TUG|member|added",
            "TUGT|old|1",
            string.Empty);

        // When
        var lines = HostReply.Parse(stdout);

        // Then
        Assert.Equal<HostLine>(
        [
            new ProbeLine("10.0.0.1:2379", "active", 4242, true, "/opt/etcd (deleted)", "aaa", "bbb", "etcd Version: 3.5.17\nGit SHA: x|y"),
            new ProbeLine("10.0.0.2:2379", "inactive", 0, false, null, null, null, null),
            new WaitLine("10.0.0.1:2379", true, string.Empty),
            new WaitLine("10.0.0.2:2379", false, "activating"),
            new TimeLine("stop", 1700000000000000000),
            new FileLine("/a|b\nc", "abc"),
            new FileLine("/missing", string.Empty),
            new PlatformLine("Linux", "aarch64"),
            new MemberLine("present", "8e9e05c52164694d"),
            new MemberLine("added", string.Empty),
        ], lines);
    }

    [Theory]
    [InlineData("TUG|probe|id|active|1|1|-|-|-")]
    [InlineData("TUG|wait|id|maybe")]
    [InlineData("TUG|wait|id")]
    [InlineData("TUG|time|stop|soon")]
    [InlineData("TUG|file|not base64!|abc")]
    [InlineData("TUG|unknown|x")]
    [InlineData("TUG|")]
    public void Should_Skip_A_Malformed_Line(string line)
    {
        Assert.Empty(HostReply.Parse(line + "\n"));
    }

    [Fact]
    public void Should_Time_Between_The_Last_Marks_Of_Each_Name()
    {
        // Given
        var lines = HostReply.Parse("TUG|time|start|1000000000\nTUG|time|start|2000000000\nTUG|time|listening|4500000000\n");

        // Then
        Assert.Equal(2.5, HostReply.Seconds(lines, "start", "listening"));
        Assert.Equal(0, HostReply.Seconds(lines, "listening", "start"));
        Assert.Equal(0, HostReply.Seconds(lines, "stop", "stopped"));
    }

    [Fact]
    public void Should_Read_Contents_Start_Times_And_Modification_Times()
    {
        // Given
        var stdout = string.Join('\n',
            $"TUG|content|{B64("/a b")}|{B64("x\ny\n")}",
            $"TUG|content|{B64("/empty")}|=",
            $"TUG|content|{B64("/missing")}|-",
            "TUG|started|10.0.0.1:9090|active|4242|1796308500123",
            "TUG|started|10.0.0.2:9090|inactive|0|-",
            $"TUG|mtime|{B64("/a b")}|1796308500100",
            $"TUG|mtime|{B64("/missing")}|-");

        // When
        var lines = HostReply.Parse(stdout);

        // Then
        Assert.Equal<HostLine>(
        [
            new ContentLine("/a b", "x\ny\n"),
            new ContentLine("/empty", string.Empty),
            new ContentLine("/missing", null),
            new StartedLine("10.0.0.1:9090", "active", 4242, 1796308500123),
            new StartedLine("10.0.0.2:9090", "inactive", 0, null),
            new MtimeLine("/a b", 1796308500100),
            new MtimeLine("/missing", null),
        ], lines);
    }

    [Fact]
    public void Should_Read_A_Process_Line_With_Dashes_For_What_Was_Not_Read()
    {
        // Given: what process-info.sh prints for a running and a stopped instance
        var stdout = "TUG|proc|10.0.0.1:9100|4242|93784|20480|infinity|2s\nTUG|proc|10.0.0.1:9115|0|-|-|1073741824|-\nTUG|proc|short|1\n";

        // When
        var lines = HostReply.Parse(stdout);

        // Then: the malformed line is no line
        Assert.Equal<HostLine>(
        [
            new ProcLine("10.0.0.1:9100", 4242, 93784, 20480, "infinity", "2s"),
            new ProcLine("10.0.0.1:9115", 0, null, null, "1073741824", null),
        ], lines);
    }
}
