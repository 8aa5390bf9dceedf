// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Core.Execution.Steps;
using Tug.Core.Remote;

namespace Tug.Core.Tests.Execution;

/// <summary>The proof a reload's resume relies on: the running process was started by systemd after the files were written.</summary>
public sealed class ReloadStepTests
{
    private static readonly MtimeLine[] Written = [new("/a", 1_000_000), new("/b", 1_000_500)];

    [Fact]
    public void Should_Prove_The_Restart_When_The_Process_Started_After_The_Last_Write()
    {
        // Given
        var started = new StartedLine("h:9090", "active", 42, 1_000_600);

        // When
        var proof = ReloadStep.ProofOf(started, Written, files: 2);

        // Then
        Assert.Equal("PID 42 started 100 ms after the files were written", proof);
    }

    [Theory]
    [InlineData("active", 42, 1_000_499L)]
    [InlineData("activating", 42, 1_000_600L)]
    [InlineData("failed", 0, 1_000_600L)]
    [InlineData("active", 42, null)]
    public void Should_Not_Prove_It_When_The_Process_Started_Before_A_Write_Or_Does_Not_Run(string state, int pid, long? start)
    {
        // Given
        var started = new StartedLine("h:9090", state, pid, start);

        // When
        var proof = ReloadStep.ProofOf(started, Written, files: 2);

        // Then
        Assert.Null(proof);
    }

    [Fact]
    public void Should_Not_Prove_It_When_A_File_Is_Missing_Or_Its_Time_Unread()
    {
        // Given
        var started = new StartedLine("h:9090", "active", 42, 2_000_000);

        // When
        var missing = ReloadStep.ProofOf(started, [new MtimeLine("/a", 1_000_000), new MtimeLine("/b", null)], files: 2);
        var unread = ReloadStep.ProofOf(started, [new MtimeLine("/a", 1_000_000)], files: 2);
        var noAnswer = ReloadStep.ProofOf(null, Written, files: 2);

        // Then
        Assert.Null(missing);
        Assert.Null(unread);
        Assert.Null(noAnswer);
    }
}
