// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Tug.Core.Cluster;

namespace Tug.Core.Tests.Cluster;

/// <summary>The hash-chained audit trail: append, read, merge per operation, detect edits, deletions and truncation.</summary>
public sealed class AuditLogTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);

    private static AuditEvent Begin(string id, string cluster = "prod", string user = "alice") =>
        new(id, cluster, $"tug cluster upgrade {cluster} v8.5.0", user, AuditEventKind.Start);

    private static AuditEvent Finish(string id, JournalOutcome outcome = JournalOutcome.Succeeded, int exitCode = 0, string cluster = "prod", string user = "alice") =>
        new(id, cluster, $"tug cluster upgrade {cluster} v8.5.0", user, AuditEventKind.End, outcome, exitCode, $"{outcome} in 3 steps");

    /// <summary>A log with <paramref name="operations"/> finished operations (2 records each), one second apart.</summary>
    private static AuditLog Filled(TempDirectory dir, int operations, FakeTimeProvider? time = null)
    {
        time ??= new FakeTimeProvider(Start);
        var log = new AuditLog(dir.Path, time);
        for (var i = 1; i <= operations; i++)
        {
            log.Append(Begin($"op{i}"));
            time.Advance(TimeSpan.FromSeconds(1));
            log.Append(Finish($"op{i}"));
        }

        return log;
    }

    private static void EditLine(string path, int line, Func<string, string> edit)
    {
        var lines = File.ReadAllLines(path).ToList();
        lines[line - 1] = edit(lines[line - 1]);
        File.WriteAllText(path, string.Join('\n', lines) + "\n");
    }

    private static void DeleteLine(string path, int line)
    {
        var lines = File.ReadAllLines(path).ToList();
        lines.RemoveAt(line - 1);
        File.WriteAllText(path, string.Join('\n', lines) + "\n");
    }

    public sealed class TheAppendAndReadMethods
    {
        [Fact]
        public void Should_Read_Back_Chained_Records()
        {
            // Given
            using var dir = new TempDirectory("home");
            var time = new FakeTimeProvider(Start);
            var log = new AuditLog(dir.Path, time);

            // When
            var first = log.Append(Begin("op1"));
            time.Advance(TimeSpan.FromSeconds(3));
            var second = log.Append(Finish("op1", JournalOutcome.Failed, 4));
            var entries = log.Read();

            // Then
            Assert.Equal([first, second], entries);
            Assert.Equal(
                new AuditEntry(1, "op1", "prod", "tug cluster upgrade prod v8.5.0", "alice", Start, AuditEventKind.Start, null, null, null, AuditLog.GenesisHash, first.Hash),
                first);
            Assert.Equal((2L, first.Hash, JournalOutcome.Failed, 4, Start.AddSeconds(3)), (second.Seq, second.Prev, second.Outcome, second.ExitCode, second.At));
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(AuditLog.CanonicalBytes(second))), second.Hash);
            Assert.Equal($"{{\"count\":2,\"hash\":\"{second.Hash}\"}}\n", File.ReadAllText(log.HeadPath));
            Assert.True(log.Verify().Ok);
        }

        [Fact]
        public void Should_Hash_The_Documented_Canonical_Bytes()
        {
            // Given: a record with every optional member and characters that need escaping
            var entry = new AuditEntry(7, "fD8kUi4vSTW", "prod", "tug cluster exec prod --command \"echo a\\b\"\n", "bob", Start,
                AuditEventKind.End, JournalOutcome.Cancelled, 130, "stopped at 'h2' – by Ctrl+C <\u0001>", new string('a', 64), "ignored");

            // When
            var canonical = Encoding.UTF8.GetString(AuditLog.CanonicalBytes(entry));

            // Then
            Assert.Equal(
                "{\"seq\":7,\"id\":\"fD8kUi4vSTW\",\"cluster\":\"prod\",\"command\":\"tug cluster exec prod --command \\\"echo a\\\\b\\\"\\n\","
                + "\"user\":\"bob\",\"at\":\"2025-03-04T05:06:07.0000000Z\",\"event\":\"end\",\"outcome\":\"cancelled\",\"exit_code\":130,"
                + "\"summary\":\"stopped at 'h2' – by Ctrl+C <\\u0001>\",\"prev\":\"" + new string('a', 64) + "\"}",
                canonical);
        }

        [Fact]
        public void Should_Write_Each_Line_As_Its_Canonical_Bytes_Plus_The_Hash()
        {
            // Given
            using var dir = new TempDirectory("home");
            var log = new AuditLog(dir.Path, new FakeTimeProvider(Start));

            // When
            var entry = log.Append(Finish("op1"));

            // Then
            var canonical = Encoding.UTF8.GetString(AuditLog.CanonicalBytes(entry));
            Assert.Equal(canonical[..^1] + $",\"hash\":\"{entry.Hash}\"}}\n", File.ReadAllText(log.FilePath));
        }

        [Fact]
        public void Should_Keep_A_Valid_Chain_When_Threads_Append_At_Once()
        {
            // Given
            using var dir = new TempDirectory("home");
            var log = new AuditLog(dir.Path, TimeProvider.System);

            // When: each thread opens its own lock file description, exactly as another process would
            Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
            {
                for (var i = 0; i < 25; i++)
                {
                    log.Append(Begin($"t{t}-{i}"));
                }
            });

            // Then
            var verification = log.Verify();
            Assert.True(verification.Ok, string.Join("; ", verification.Problems.Select(p => p.Message)));
            Assert.Equal(100, verification.Records);
            Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), log.Read().Select(e => e.Seq));
        }

        [Fact]
        public void Should_Wait_For_Another_Process_That_Holds_The_Append_Lock()
        {
            Assert.SkipUnless(Processes.HaveFlock, "needs Linux and util-linux flock(1)");

            // Given: another process holds audit.lock for a second
            using var dir = new TempDirectory("home");
            var log = Filled(dir, 1);
            using var other = Processes.HoldWithFlock(Path.Combine(dir.Path, AuditLog.LockFileName), 1);

            // When
            var waited = System.Diagnostics.Stopwatch.StartNew();
            log.Append(Begin("op2"));
            waited.Stop();

            // Then: the append could only take the lock once flock was gone (it holds it for about a second)
            Assert.True(waited.Elapsed >= TimeSpan.FromMilliseconds(500), $"Append returned after {waited.Elapsed} without waiting for the other process's lock");
            Assert.True(other.WaitForExit(TimeSpan.FromSeconds(5)));
            Assert.True(log.Verify().Ok);
        }

        [Fact]
        public void Should_Chain_Onto_A_Record_Whose_Head_Update_Was_Cut_Off()
        {
            // Given: the last append wrote its line, then the process died before replacing HEAD
            using var dir = new TempDirectory("home");
            var log = Filled(dir, 1);
            var head = File.ReadAllText(log.HeadPath);
            log.Append(Begin("op2"));
            File.WriteAllText(log.HeadPath, head);
            var beforeNextAppend = log.Verify();

            // When
            log.Append(Finish("op2"));

            // Then
            Assert.True(beforeNextAppend.Ok, string.Join("; ", beforeNextAppend.Problems.Select(p => p.Message)));
            Assert.True(log.Verify().Ok);
            Assert.Equal([1L, 2, 3, 4], log.Read().Select(e => e.Seq));
        }

        [Fact]
        public void Should_Start_On_A_Fresh_Line_After_A_Torn_One_And_Report_It()
        {
            // Given: a crash in the middle of writing a line
            using var dir = new TempDirectory("home");
            var log = Filled(dir, 1);
            File.AppendAllText(log.FilePath, "{\"seq\":3,\"id\":\"op2\",\"clu");

            // When
            log.Append(Begin("op2"));

            // Then
            Assert.Equal([1L, 2, 3], log.Read().Select(e => e.Seq));
            var problem = Assert.Single(log.Verify().Problems);
            Assert.Equal((AuditProblemKind.Unparsable, 3), (problem.Kind, problem.Line));
            Assert.StartsWith("line 3 ", problem.Message, StringComparison.Ordinal);
        }
    }

    public sealed class TheVerifyMethod
    {
        [Fact]
        public void Should_Pass_An_Untouched_Log()
        {
            using var dir = new TempDirectory("home");
            var verification = Filled(dir, 5).Verify();
            Assert.Equal((true, 10), (verification.Ok, verification.Records));
            verification.ThrowIfBroken("audit.jsonl");
        }

        [Fact]
        public void Should_Pass_An_Empty_Log()
        {
            using var dir = new TempDirectory("home");
            Assert.True(new AuditLog(dir.Path, TimeProvider.System).Verify().Ok);
        }

        [Fact]
        public void Should_Name_A_Record_Edited_In_Place()
        {
            // Given
            using var dir = new TempDirectory("home");
            var log = Filled(dir, 3);

            // When: one field of the middle record is changed by text replacement
            EditLine(log.FilePath, 3, line => line.Replace("\"user\":\"alice\"", "\"user\":\"mallory\"", StringComparison.Ordinal));
            var verification = log.Verify();

            // Then
            var problem = Assert.Single(verification.Problems);
            Assert.Equal((AuditProblemKind.Edited, 3, 3L), (problem.Kind, problem.Line, problem.Seq));
            Assert.Equal("line 3 (seq 3) was changed after it was written: its content does not match its hash", problem.Message);
            var e = Assert.Throws<ClusterException>(() => verification.ThrowIfBroken(log.FilePath));
            Assert.Equal(ClusterException.AuditBroken, e.Code);
            Assert.Contains("line 3 (seq 3)", e.Message, StringComparison.Ordinal);
        }

        [Fact]
        public void Should_Name_A_Record_Whose_Hash_Was_Recomputed_After_An_Edit()
        {
            // Given: an edit that also fixes up its own hash
            using var dir = new TempDirectory("home");
            var log = Filled(dir, 3);
            var original = log.Read()[2];
            var forged = original with { User = "mallory" };
            forged = forged with { Hash = AuditLog.HashOf(AuditLog.CanonicalBytes(forged)) };
            EditLine(log.FilePath, 3, line => line
                .Replace("\"user\":\"alice\"", "\"user\":\"mallory\"", StringComparison.Ordinal)
                .Replace(original.Hash, forged.Hash, StringComparison.Ordinal));

            // When
            var problems = log.Verify().Problems;

            // Then: the next record no longer chains onto it
            var problem = Assert.Single(problems);
            Assert.Equal((AuditProblemKind.ChainBroken, 4, 4L), (problem.Kind, problem.Line, problem.Seq));
        }

        [Fact]
        public void Should_Name_The_Break_When_A_Middle_Record_Is_Deleted()
        {
            // Given
            using var dir = new TempDirectory("home");
            var log = Filled(dir, 3);

            // When
            DeleteLine(log.FilePath, 3);
            var problems = log.Verify().Problems;

            // Then: the record that now sits on line 3 is seq 4 and does not chain onto seq 2
            Assert.Equal(
                [(AuditProblemKind.ChainBroken, 3, (long?)4), (AuditProblemKind.SequenceGap, 3, (long?)4)],
                problems.Select(p => (p.Kind, p.Line, p.Seq)));
            Assert.Equal("line 3 (seq 4) does not chain onto the record before it: a record was deleted, inserted, reordered or rewritten", problems[0].Message);
            Assert.Equal("line 3 (seq 4) follows seq 2: 1 record(s) missing", problems[1].Message);
        }

        [Fact]
        public void Should_Name_Reordered_Records()
        {
            // Given
            using var dir = new TempDirectory("home");
            var log = Filled(dir, 2);
            var lines = File.ReadAllLines(log.FilePath);

            // When
            File.WriteAllLines(log.FilePath, [lines[0], lines[2], lines[1], lines[3]]);

            // Then
            Assert.Contains(log.Verify().Problems, p => p is { Kind: AuditProblemKind.ChainBroken, Line: 2 });
            Assert.Contains(log.Verify().Problems, p => p is { Kind: AuditProblemKind.SequenceGap, Line: 3 });
        }

        [Fact]
        public void Should_Name_A_Truncated_Tail()
        {
            // Given
            using var dir = new TempDirectory("home");
            var log = Filled(dir, 3);

            // When
            DeleteLine(log.FilePath, 6);
            var problems = log.Verify().Problems;

            // Then
            var problem = Assert.Single(problems);
            Assert.Equal((AuditProblemKind.TailTruncated, 0, 6L), (problem.Kind, problem.Line, problem.Seq));
            Assert.Equal("HEAD records 6 record(s) but the log ends at seq 5: records were removed from the end", problem.Message);
        }

        [Fact]
        public void Should_Keep_Reporting_A_Truncation_After_Later_Appends()
        {
            // Given: the tail was cut, then Tug appended again
            using var dir = new TempDirectory("home");
            var log = Filled(dir, 3);
            DeleteLine(log.FilePath, 6);
            DeleteLine(log.FilePath, 5);

            // When
            var appended = log.Append(Begin("op4"));

            // Then: the new record continues from HEAD, so the hole stays visible
            Assert.Equal(7, appended.Seq);
            Assert.Equal(
                [(AuditProblemKind.ChainBroken, 5, (long?)7), (AuditProblemKind.SequenceGap, 5, (long?)7)],
                log.Verify().Problems.Select(p => (p.Kind, p.Line, p.Seq)));
        }

        [Fact]
        public void Should_Name_A_Replaced_Last_Record_And_A_Missing_Head()
        {
            // Given
            using var dir = new TempDirectory("home");
            var log = Filled(dir, 2);
            var lines = File.ReadAllLines(log.FilePath);

            // When: the last line is swapped for a different (valid) record with the same seq
            File.WriteAllLines(log.FilePath, lines[..3]);
            var headBefore = File.ReadAllText(log.HeadPath);
            File.Delete(log.HeadPath);
            var missingHead = log.Verify().Problems;
            File.WriteAllText(log.HeadPath, headBefore);
            var prev = log.Read()[^1].Hash;
            var forged = new AuditEntry(4, "op9", "prod", "tug cluster destroy prod", "mallory", Start, AuditEventKind.End, JournalOutcome.Succeeded, 0, null, prev, "");
            forged = forged with { Hash = AuditLog.HashOf(AuditLog.CanonicalBytes(forged)) };
            var forgedLine = Encoding.UTF8.GetString(AuditLog.CanonicalBytes(forged))[..^1] + $",\"hash\":\"{forged.Hash}\"}}";
            File.WriteAllLines(log.FilePath, [.. lines[..3], forgedLine]);
            var replaced = log.Verify().Problems;

            // Then
            Assert.Equal([AuditProblemKind.HeadMismatch], missingHead.Select(p => p.Kind).Distinct());
            var problem = Assert.Single(replaced);
            Assert.Equal(AuditProblemKind.HeadMismatch, problem.Kind);
            Assert.Equal("the last record (seq 4) is not the one HEAD recorded: it was replaced", problem.Message);
        }

        [Fact]
        public void Should_Name_An_Unparsable_Line()
        {
            using var dir = new TempDirectory("home");
            var log = Filled(dir, 2);
            EditLine(log.FilePath, 2, line => line[..20]);
            Assert.Contains(log.Verify().Problems, p => p is { Kind: AuditProblemKind.Unparsable, Line: 2, Seq: null });
        }
    }

    public sealed class TheOperationsMethod
    {
        [Fact]
        public void Should_Merge_Start_And_End_Per_Operation()
        {
            // Given
            using var dir = new TempDirectory("home");
            var time = new FakeTimeProvider(Start);
            var log = new AuditLog(dir.Path, time);
            var store = new ClusterStore(Path.Combine(dir.Path, "clusters"), time);
            log.Append(Begin("op1"));
            log.Append(Begin("op2", "test"));
            time.Advance(TimeSpan.FromMinutes(2));
            log.Append(Finish("op1", JournalOutcome.Failed, 3));
            log.Append(Begin("op3", "stage"));
            using var running = ClusterLock.Acquire(store.Directory("stage"), LockHolder.ForThisProcess("op3", "tug cluster upgrade stage v8.5.0", time));

            // When
            var operations = log.Operations(store);
            var withoutStore = log.Operations();

            // Then
            Assert.Equal(
                [
                    new OperationAudit("op1", "prod", "tug cluster upgrade prod v8.5.0", "alice", Start, Start.AddMinutes(2), AuditOutcome.Failed, 3, "Failed in 3 steps"),
                    new OperationAudit("op2", "test", "tug cluster upgrade test v8.5.0", "alice", Start, null, AuditOutcome.Interrupted, null, null),
                    new OperationAudit("op3", "stage", "tug cluster upgrade stage v8.5.0", "alice", Start.AddMinutes(2), null, AuditOutcome.Running, null, null),
                ],
                operations);
            Assert.Equal(AuditOutcome.Interrupted, withoutStore[2].Outcome);
        }

        [Fact]
        public void Should_Take_The_Outcome_Of_The_Latest_Run_Of_A_Replayed_Operation()
        {
            // Given: op1 failed, then `tug cluster replay` resumed it under the same ID and it succeeded
            using var dir = new TempDirectory("home");
            var time = new FakeTimeProvider(Start);
            var log = new AuditLog(dir.Path, time);
            log.Append(Begin("op1"));
            log.Append(Finish("op1", JournalOutcome.Failed, 1));
            time.Advance(TimeSpan.FromHours(1));
            log.Append(Begin("op1") with { Command = "tug cluster replay prod" });
            var midway = log.Operations().Single();
            time.Advance(TimeSpan.FromMinutes(1));
            log.Append(Finish("op1"));

            // When
            var operation = log.Operations().Single();

            // Then
            Assert.Equal((AuditOutcome.Interrupted, (DateTimeOffset?)null), (midway.Outcome, midway.Ended));
            Assert.Equal((Start, Start.AddMinutes(61), AuditOutcome.Succeeded, 0), (operation.Started, operation.Ended, operation.Outcome, operation.ExitCode));
        }
    }

    public sealed class TheRedactMethod
    {
        [Theory]
        [InlineData(new[] { "--password", "hunter2", "prod" }, new[] { "--password", "***", "prod" })]
        [InlineData(new[] { "--password=hunter2", "prod" }, new[] { "--password=***", "prod" })]
        [InlineData(new[] { "--passphrase", "p w", "--token=abc" }, new[] { "--passphrase", "***", "--token=***" })]
        [InlineData(new[] { "--secret", "s", "--key-passphrase", "k", "--key-passphrase=k2" }, new[] { "--secret", "***", "--key-passphrase", "***", "--key-passphrase=***" })]
        [InlineData(new[] { "--db-password", "x", "--api-token=y", "--client-secret", "z" }, new[] { "--db-password", "***", "--api-token=***", "--client-secret", "***" })]
        [InlineData(new[] { "tidb.password=abc", "PD_SECRET=1", "auth_token=t", "ssh_passphrase=q", "passwd=w" }, new[] { "tidb.password=***", "PD_SECRET=***", "auth_token=***", "ssh_passphrase=***", "passwd=***" })]
        [InlineData(new[] { "--set", "security.password=abc" }, new[] { "--set", "security.password=***" })]
        [InlineData(new[] { "deploy", "prod", "v8.5.0", "topo.yaml", "-p", "-y" }, new[] { "deploy", "prod", "v8.5.0", "topo.yaml", "-p", "-y" })]
        [InlineData(new[] { "--component", "node_exporter=v1.9.0", "--user", "tidb", "-i", "/home/u/.ssh/id_rsa" }, new[] { "--component", "node_exporter=v1.9.0", "--user", "tidb", "-i", "/home/u/.ssh/id_rsa" })]
        [InlineData(new[] { "--token" }, new[] { "--token" })]
        [InlineData(new[] { "--password=" }, new[] { "--password=***" })]
        public void Should_Replace_Secret_Values(string[] args, string[] expected)
        {
            Assert.Equal(expected, AuditLog.Redact(args));
        }

        [Fact]
        public void Should_Keep_The_Argument_After_A_Secret_Named_Switch()
        {
            // Tug's --password takes no value: it reads the password from stdin
            Assert.Equal(
                ["cluster", "deploy", "--password", "prod", "--token", "***"],
                AuditLog.Redact(["cluster", "deploy", "--password", "prod", "--token", "t"], switches: ["--password"]));
        }
    }
}
