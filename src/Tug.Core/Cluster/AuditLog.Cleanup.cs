// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Globalization;
using System.Text;

namespace Tug.Core.Cluster;

/// <summary>What <see cref="AuditLog.Cleanup"/> removed, or would remove (<see cref="AuditLog.PlanCleanup"/>).</summary>
/// <param name="Cutoff">Records older than this may go.</param>
/// <param name="Removed">How many records go (or went).</param>
/// <param name="Operations">How many operations they belong to (every record of each goes).</param>
/// <param name="FirstSeq">The first removed record's seq (0 when none).</param>
/// <param name="LastSeq">The last removed record's seq (0 when none): the checkpoint's seq.</param>
/// <param name="Kept">How many records stay.</param>
/// <param name="StoppedAt">Why removal stopped before the cutoff, when it did (an operation still running or interrupted, or a record of one that ended after the cutoff); null when every record before the cutoff goes.</param>
/// <param name="BytesBefore">The size of <c>audit.jsonl</c> before.</param>
/// <param name="BytesAfter">Its size after (the same when nothing is removed).</param>
public sealed record AuditCleanup(DateTimeOffset Cutoff, int Removed, int Operations, long FirstSeq, long LastSeq, int Kept, string? StoppedAt, long BytesBefore, long BytesAfter);

/// <summary>Where <see cref="AuditLog.Cleanup"/> is between its steps, for tests that stop it there as a crash would.</summary>
public enum AuditCleanupPoint
{
    /// <summary>The new log is written beside the old one (<c>audit.jsonl.tmp</c>) and flushed; the old one is in place.</summary>
    NewLogWritten,

    /// <summary>The new log replaced the old one; the directory entry is not flushed yet.</summary>
    Renamed,
}

/// <summary><c>tug cluster audit cleanup</c>: removing old records from the front of the chain behind a checkpoint record.</summary>
public sealed partial class AuditLog
{
    /// <summary>The <c>event</c> of the checkpoint record an audit cleanup writes as the new first line.</summary>
    public const string CheckpointEvent = "checkpoint";

    /// <summary>The temporary file a cleanup writes before it replaces the log.</summary>
    public const string CleanupTemporaryName = FileName + ".tmp";

    /// <summary>What <see cref="Cleanup"/> would remove now (reads only; the answer may change before it runs).</summary>
    /// <exception cref="ClusterException"><see cref="ClusterException.AuditBroken"/>: the log does not verify.</exception>
    /// <exception cref="IOException">The log cannot be read.</exception>
    public AuditCleanup PlanCleanup(DateTimeOffset cutoff)
    {
        Verify().ThrowIfBroken(FilePath);
        var lines = RawLines();
        var selection = Select(lines, cutoff);
        var before = lines.Sum(l => (long)l.Bytes.Length + 1);
        return Describe(selection, lines, cutoff, before, before);
    }

    /// <summary>
    /// Removes the records older than <paramref name="cutoff"/> from the front of the log, whole operations only: the
    /// leading run of records whose operations have ended (their last record is an end record) with every record
    /// before the cutoff. Removal stops at the first record of an operation that is still running or interrupted, or
    /// that has a record after the cutoff, so the records of such an operation always stay (and so does everything
    /// after them). The removed records are replaced by one checkpoint record on the first line: its <c>seq</c> and
    /// <c>prev</c> are the last removed record's seq and hash, its own <c>hash</c> covers its canonical bytes (the
    /// same rule as every record), and <see cref="Verify"/> goes on from it, so the kept records verify as before and
    /// an edit of any of them, of the checkpoint, or a removed record put back is still found. <c>HEAD</c> does not
    /// change (records leave from the front only).
    /// </summary>
    /// <remarks>
    /// Under the audit lock: the log is verified (a log that does not verify is refused: a cleanup must not hide
    /// damage), the new log is written to <c>audit.jsonl.tmp</c> and flushed, renamed over <c>audit.jsonl</c>, and
    /// the directory flushed. A crash before the rename leaves the old log (and a stray temporary file that the
    /// next cleanup overwrites); after it, the new one; both verify.
    /// </remarks>
    /// <param name="cutoff">Records older than this may go.</param>
    /// <param name="operationId">The cleanup's own operation (named in the checkpoint).</param>
    /// <param name="command">The cleanup's command line, redacted.</param>
    /// <param name="crash">For tests: called at each point between steps; throwing there stands for a crash.</param>
    /// <exception cref="ClusterException"><see cref="ClusterException.AuditBroken"/>: the log does not verify (nothing changed); <see cref="ClusterException.Locked"/>: the audit lock stayed taken.</exception>
    /// <exception cref="IOException">The log cannot be read or written (the old log is then in place).</exception>
    public AuditCleanup Cleanup(DateTimeOffset cutoff, string operationId, string command, Action<AuditCleanupPoint>? crash = null)
    {
        PrivateFiles.CreateDirectory(directory);
        using var gate = TakeAppendLock();
        Verify().ThrowIfBroken(FilePath);
        var lines = RawLines();
        var before = lines.Sum(l => (long)l.Bytes.Length + 1);
        var selection = Select(lines, cutoff);
        if (selection.Count == 0)
        {
            return Describe(selection, lines, cutoff, before, before);
        }

        var removed = lines.Skip(selection.Start).Take(selection.Count).Select(l => l.Record!).ToList();
        var last = removed[^1];
        var summary = $"{L(removed.Count)} record(s) of {L(selection.Operations)} operation(s), seq {L(removed[0].Seq)}-{L(last.Seq)}, older than {DurableFile.FormatTime(cutoff)}, removed by audit cleanup";
        var checkpoint = new RawRecord(last.Seq, operationId, string.Empty, command, Environment.UserName, DurableFile.FormatTime(time.GetUtcNow()),
            CheckpointEvent, null, null, summary, last.Hash, string.Empty);
        var canonical = CanonicalBytes(checkpoint);
        var content = new MemoryStream();
        content.Write(canonical.AsSpan(0, canonical.Length - 1));
        content.Write(Encoding.UTF8.GetBytes($",\"hash\":\"{HashOf(canonical)}\"}}\n"));
        foreach (var line in lines.Skip(selection.Start + selection.Count))
        {
            content.Write(line.Bytes.Span);
            content.WriteByte((byte)'\n');
        }

        var temporary = Path.Combine(directory, CleanupTemporaryName);
        using (var stream = PrivateFiles.Open(temporary, FileMode.Create, FileShare.None, bufferSize: 0))
        {
            stream.Write(content.GetBuffer().AsSpan(0, (int)content.Length));
            stream.Flush(flushToDisk: true);
        }

        crash?.Invoke(AuditCleanupPoint.NewLogWritten);
        File.Move(temporary, FilePath, overwrite: true);
        crash?.Invoke(AuditCleanupPoint.Renamed);
        Posix.SyncDirectory(directory);
        return Describe(selection, lines, cutoff, before, content.Length);
    }

    private static AuditCleanup Describe(Selection selection, List<RawLine> lines, DateTimeOffset cutoff, long before, long after)
    {
        var removed = lines.Skip(selection.Start).Take(selection.Count).Select(l => l.Record!).ToList();
        var kept = lines.Count(l => l.Record is { } r && r.Event != CheckpointEvent) - removed.Count;
        return new AuditCleanup(cutoff, removed.Count, selection.Operations, removed.Count > 0 ? removed[0].Seq : 0, removed.Count > 0 ? removed[^1].Seq : 0, kept, selection.StoppedAt, before, after);
    }

    /// <summary>The leading run of removable records (after a checkpoint on line 1, which a new cleanup replaces), closed under operations.</summary>
    private static Selection Select(List<RawLine> lines, DateTimeOffset cutoff)
    {
        var start = lines.Count > 0 && lines[0].Record?.Event == CheckpointEvent ? 1 : 0;
        var records = lines.Skip(start).Select(l => l.Record!).ToList();
        var lastIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var removable = new Dictionary<string, bool>(StringComparer.Ordinal);
        for (var i = 0; i < records.Count; i++)
        {
            var r = records[i];
            lastIndex[r.Id] = i;
            var old = DateTimeOffset.TryParse(r.At, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) && at < cutoff;
            removable[r.Id] = removable.GetValueOrDefault(r.Id, true) && old;
        }

        // An operation goes only when it ended: its last record is an end record (a replay's start reopens it).
        foreach (var (id, index) in lastIndex)
        {
            removable[id] = removable[id] && records[index].Event == "end";
        }

        var count = 0;
        var maxLast = -1;
        var operations = new HashSet<string>(StringComparer.Ordinal);
        var closedOperations = 0;
        string? stoppedAt = null;
        for (var i = 0; i < records.Count; i++)
        {
            var r = records[i];
            if (!removable[r.Id])
            {
                stoppedAt = Why(r, records[lastIndex[r.Id]], cutoff);
                break;
            }

            operations.Add(r.Id);
            maxLast = Math.Max(maxLast, lastIndex[r.Id]);
            if (maxLast == i)
            {
                // Every operation with a record so far has all its records so far: a prefix that splits none.
                count = i + 1;
                closedOperations = operations.Count;
            }
        }

        return new Selection(start, count, closedOperations, stoppedAt);

        static string? Why(RawRecord first, RawRecord last, DateTimeOffset cutoff) =>
            last.Event != "end"
                ? $"operation {first.Id} (`{first.Command}`) has not ended (running or interrupted): its records and every later one are kept"
                : DateTimeOffset.TryParse(first.At, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) && at < cutoff
                    ? $"operation {first.Id} (`{first.Command}`) has records after {DurableFile.FormatTime(cutoff)}: they and every later one are kept"
                    : null;
    }

    /// <summary>Every non-empty line's bytes with its parsed record (the log verified, so every line parses).</summary>
    private List<RawLine> RawLines()
    {
        byte[] content;
        try
        {
            content = File.ReadAllBytes(FilePath);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }

        return [.. DurableFile.Lines(content).Select(l => new RawLine(l, RawRecord.TryParse(l.Span)))];
    }

    private sealed record RawLine(ReadOnlyMemory<byte> Bytes, RawRecord? Record);

    private sealed record Selection(int Start, int Count, int Operations, string? StoppedAt);

    /// <summary>The checkpoint on the first line, if the log has one: what a cleanup removed before.</summary>
    /// <exception cref="IOException">The log cannot be read.</exception>
    public string? CheckpointSummary() =>
        RawLines() is [{ Record: { Event: CheckpointEvent } checkpoint }, ..] ? checkpoint.Summary : null;
}
