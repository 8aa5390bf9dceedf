// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Buffers;
using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Tug.Core.Cluster;

/// <summary>Whether an audit record marks the start or the end of an operation.</summary>
public enum AuditEventKind
{
    Start,
    End,
}

/// <summary>What to record; <see cref="AuditLog.Append"/> adds the sequence number, time and hashes.</summary>
/// <param name="OperationId">The operation (see <see cref="Cluster.OperationId"/>).</param>
/// <param name="Cluster">The cluster's name.</param>
/// <param name="Command">The command line, redacted with <see cref="AuditLog.Redact"/>, e.g. <c>tug cluster upgrade prod v8.5.0</c>.</param>
/// <param name="User">The OS user.</param>
/// <param name="Event">Start or end.</param>
/// <param name="Outcome">How it ended (end records only).</param>
/// <param name="ExitCode">The command's exit code (end records only).</param>
/// <param name="Summary">One line about the result (end records only).</param>
public sealed record AuditEvent(
    string OperationId,
    string Cluster,
    string Command,
    string User,
    AuditEventKind Event,
    JournalOutcome? Outcome = null,
    int? ExitCode = null,
    string? Summary = null)
{
    /// <summary>The start of an operation run by this process's user.</summary>
    public static AuditEvent Started(string operationId, string cluster, string command) =>
        new(operationId, cluster, command, Environment.UserName, AuditEventKind.Start);

    /// <summary>The end of an operation run by this process's user.</summary>
    public static AuditEvent Ended(string operationId, string cluster, string command, JournalOutcome outcome, int exitCode, string? summary = null) =>
        new(operationId, cluster, command, Environment.UserName, AuditEventKind.End, outcome, exitCode, summary);
}

/// <summary>One record of the audit log, as stored.</summary>
/// <param name="Seq">Its position in the log, from 1.</param>
/// <param name="Id">The operation ID.</param>
/// <param name="Cluster">The cluster's name.</param>
/// <param name="Command">The redacted command line.</param>
/// <param name="User">The OS user.</param>
/// <param name="At">When it was appended.</param>
/// <param name="Event">Start or end.</param>
/// <param name="Outcome">How the operation ended (end records).</param>
/// <param name="ExitCode">The command's exit code (end records).</param>
/// <param name="Summary">One line about the result (end records).</param>
/// <param name="Prev">The previous record's <paramref name="Hash"/> (64 zeros for the first record).</param>
/// <param name="Hash">Lowercase hex SHA-256 of this record's canonical bytes (see <see cref="AuditLog"/>).</param>
public sealed record AuditEntry(
    long Seq,
    string Id,
    string Cluster,
    string Command,
    string User,
    DateTimeOffset At,
    AuditEventKind Event,
    JournalOutcome? Outcome,
    int? ExitCode,
    string? Summary,
    string Prev,
    string Hash);

/// <summary>How an operation in the audit log ended, or that it has not.</summary>
public enum AuditOutcome
{
    /// <summary>No end record, and its cluster's lock is held for it now.</summary>
    Running,

    /// <summary>No end record, and nothing runs it: the process died.</summary>
    Interrupted,

    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>An operation's start and end records merged: what <c>tug cluster audit</c> lists.</summary>
/// <param name="Id">The operation ID.</param>
/// <param name="Cluster">The cluster's name.</param>
/// <param name="Command">The redacted command line of its first record.</param>
/// <param name="User">The OS user of its first record.</param>
/// <param name="Started">The time of its first record.</param>
/// <param name="Ended">The time of its end record when its latest run ended, else null.</param>
/// <param name="Outcome">How its latest run ended, or that it has not.</param>
/// <param name="ExitCode">The exit code of its latest run, when it ended.</param>
/// <param name="Summary">The summary of its latest run, when it ended.</param>
public sealed record OperationAudit(
    string Id,
    string Cluster,
    string Command,
    string User,
    DateTimeOffset Started,
    DateTimeOffset? Ended,
    AuditOutcome Outcome,
    int? ExitCode,
    string? Summary);

/// <summary>A kind of damage <see cref="AuditLog.Verify"/> finds.</summary>
public enum AuditProblemKind
{
    /// <summary>A line is not a complete audit record (edited, or torn by a crash during a write).</summary>
    Unparsable,

    /// <summary>A record's content does not match its hash: it was changed after it was written.</summary>
    Edited,

    /// <summary>A record's <c>prev</c> is not the hash of the record before it: records were deleted, inserted, reordered or rewritten.</summary>
    ChainBroken,

    /// <summary>A record's <c>seq</c> does not follow the one before it.</summary>
    SequenceGap,

    /// <summary><c>HEAD</c> counts more records than the file has: records were removed from the end.</summary>
    TailTruncated,

    /// <summary><c>HEAD</c> is missing, unreadable, or names another last record than the file's.</summary>
    HeadMismatch,

    /// <summary>A checkpoint record (written by <c>audit cleanup</c>) on another line than the first.</summary>
    MisplacedCheckpoint,
}

/// <summary>One problem found by <see cref="AuditLog.Verify"/>.</summary>
/// <param name="Kind">What is wrong.</param>
/// <param name="Line">The 1-based line of <c>audit.jsonl</c> concerned, or 0 for a problem with <c>HEAD</c>.</param>
/// <param name="Seq">The <c>seq</c> of the record concerned, when it has one.</param>
/// <param name="Message">A sentence naming the line and what is wrong.</param>
public sealed record AuditProblem(AuditProblemKind Kind, int Line, long? Seq, string Message);

/// <summary>The result of <see cref="AuditLog.Verify"/>.</summary>
/// <param name="Records">How many records could be read.</param>
/// <param name="Problems">Every problem found, in file order, then those with <c>HEAD</c>.</param>
public sealed record AuditVerification(int Records, ImmutableArray<AuditProblem> Problems)
{
    public bool Ok => Problems.IsEmpty;

    /// <summary>Throws unless the log verified.</summary>
    /// <exception cref="ClusterException"><see cref="ClusterException.AuditBroken"/>, naming the first problem and how many there are.</exception>
    public void ThrowIfBroken(string auditFile)
    {
        if (!Ok)
        {
            var more = Problems.Length > 1 ? $" (and {(Problems.Length - 1).ToString(CultureInfo.InvariantCulture)} more)" : "";
            throw new ClusterException(ClusterException.AuditBroken,
                $"The audit log {auditFile} does not verify: {Problems[0].Message}{more}.",
                "Someone or something changed it after Tug wrote it; keep a copy for investigation. New records are still chained to what HEAD recorded.");
        }
    }
}

/// <summary>
/// The hash-chained audit trail of every mutating command on this control machine (TiUP's <c>tiup cluster audit</c>):
/// <c>&lt;directory&gt;/audit.jsonl</c>, one record per line, and <c>&lt;directory&gt;/HEAD</c> with the record count
/// and last hash, so that removing records from the end is detected too.
/// </summary>
/// <remarks>
/// <para>
/// <b>Hash.</b> A record's canonical bytes are the UTF-8 bytes of the JSON object of its members other than
/// <c>hash</c>, in exactly this order, without whitespace, omitting an optional member that is absent:
/// <c>seq</c> (integer), <c>id</c>, <c>cluster</c>, <c>command</c>, <c>user</c>, <c>at</c> (the string as stored),
/// <c>event</c>, <c>outcome</c>?, <c>exit_code</c>? (integer), <c>summary</c>?, <c>prev</c>. Integers are written in
/// decimal; strings escape only <c>"</c> and <c>\</c> (as <c>\"</c>, <c>\\</c>) and U+0000–U+001F (as <c>\b \t \n
/// \f \r</c> or <c>\u00xx</c> with lowercase hex), as RFC 8785 does. <c>hash</c> is the lowercase hex SHA-256 of
/// those bytes; <c>prev</c> is the previous record's <c>hash</c>, and 64 zeros for the first record. The line stored
/// is the canonical bytes with <c>,"hash":"…"</c> inserted before the closing brace, so it is canonical itself.
/// </para>
/// <para>
/// <b>Concurrency.</b> Appends from several processes or threads are serialized by an exclusive lock on
/// <c>&lt;directory&gt;/audit.lock</c> held around reading the last hash, appending the line (one write, fsynced) and
/// replacing <c>HEAD</c> atomically. A new record chains onto what <c>HEAD</c> recorded, not onto whatever the file
/// ends with, so a truncation stays visible after later appends.
/// </para>
/// <para>
/// The chain detects accidental and careless changes; someone able to rewrite the whole file and <c>HEAD</c> can
/// recompute every hash. Ship the log elsewhere when that matters.
/// </para>
/// </remarks>
public sealed partial class AuditLog(string directory, TimeProvider time)
{
    /// <summary>The audit file's name.</summary>
    public const string FileName = "audit.jsonl";

    /// <summary>The name of the file holding the record count and the last hash.</summary>
    public const string HeadFileName = "HEAD";

    /// <summary>The name of the file locked around an append.</summary>
    public const string LockFileName = "audit.lock";

    /// <summary>The <c>prev</c> of the first record.</summary>
    public static readonly string GenesisHash = new('0', 64);

    /// <summary>What a redacted value is replaced with.</summary>
    public const string Mask = "***";

    private const int LockAttempts = 3000;
    private const int TailChunk = 64 * 1024;
    private static readonly TimeSpan LockRetryDelay = TimeSpan.FromMilliseconds(10);
    private static readonly string[] SecretWords = ["password", "passwd", "passphrase", "secret", "token"];

    /// <summary><c>&lt;directory&gt;/audit.jsonl</c>.</summary>
    public string FilePath => Path.Combine(directory, FileName);

    /// <summary><c>&lt;directory&gt;/HEAD</c>.</summary>
    public string HeadPath => Path.Combine(directory, HeadFileName);

    /// <summary>Appends a record, chained to the last one; on disk (and in <c>HEAD</c>) when this returns.</summary>
    /// <exception cref="ClusterException"><see cref="ClusterException.Locked"/>: another process held the audit lock for over 30 seconds.</exception>
    /// <exception cref="IOException">The log cannot be written.</exception>
    public AuditEntry Append(AuditEvent record)
    {
        PrivateFiles.CreateDirectory(directory);
        using var gate = TakeAppendLock();

        var (lastSeq, lastHash, endsTorn) = ChainTip();
        var raw = new RawRecord(
            lastSeq + 1,
            record.OperationId,
            record.Cluster,
            record.Command,
            record.User,
            DurableFile.FormatTime(time.GetUtcNow()),
            record.Event == AuditEventKind.Start ? "start" : "end",
            record.Outcome is { } outcome ? OperationJournal.Name(outcome) : null,
            record.ExitCode,
            record.Summary,
            lastHash,
            "");
        var canonical = CanonicalBytes(raw);
        raw = raw with { Hash = HashOf(canonical) };

        var line = new ArrayBufferWriter<byte>(canonical.Length + 80);
        if (endsTorn)
        {
            // A crash tore the last line; keep it (Verify reports it) and start this record on a fresh line.
            line.Write("\n"u8);
        }

        line.Write(canonical.AsSpan(0, canonical.Length - 1));
        line.Write(Encoding.UTF8.GetBytes($",\"hash\":\"{raw.Hash}\"}}\n"));
        using (var stream = PrivateFiles.Open(FilePath, FileMode.Append, FileShare.Read, bufferSize: 0))
        {
            stream.Write(line.WrittenSpan);
            stream.Flush(flushToDisk: true);
        }

        DurableFile.WriteAtomically(HeadPath, DurableFile.Json(w =>
        {
            w.WriteNumber("count", raw.Seq);
            w.WriteString("hash", raw.Hash);
        }, newline: true));
        return raw.ToEntry() ?? throw new InvalidOperationException("An audit record just written cannot be read back.");
    }

    /// <summary>Every readable record, in file order; unreadable lines are skipped (<see cref="Verify"/> reports them).</summary>
    /// <exception cref="IOException">The log cannot be read.</exception>
    public IReadOnlyList<AuditEntry> Read() =>
        [.. ReadLines().Select(l => l.Record?.ToEntry()).OfType<AuditEntry>()];

    /// <summary>
    /// Start and end records merged per operation, in the order the operations started. An operation without an end
    /// record is <see cref="AuditOutcome.Running"/> when <paramref name="clusters"/> is given and its cluster's lock is
    /// held for it now, otherwise <see cref="AuditOutcome.Interrupted"/>.
    /// </summary>
    /// <exception cref="IOException">The log cannot be read.</exception>
    public IReadOnlyList<OperationAudit> Operations(ClusterStore? clusters = null)
    {
        var operations = new Dictionary<string, OperationAudit>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var entry in Read())
        {
            if (!operations.TryGetValue(entry.Id, out var operation))
            {
                order.Add(entry.Id);
                operation = new OperationAudit(entry.Id, entry.Cluster, entry.Command, entry.User, entry.At, null, AuditOutcome.Interrupted, null, null);
            }

            operations[entry.Id] = entry.Event == AuditEventKind.Start
                ? operation with { Ended = null, Outcome = AuditOutcome.Interrupted, ExitCode = null, Summary = null }
                : operation with { Ended = entry.At, Outcome = ToAuditOutcome(entry.Outcome), ExitCode = entry.ExitCode, Summary = entry.Summary };
        }

        if (clusters is null)
        {
            return [.. order.Select(id => operations[id])];
        }

        // An unfinished operation is running when its cluster's lock is held for it right now.
        var locks = new Dictionary<string, LockState?>(StringComparer.Ordinal);
        return [.. order.Select(id => operations[id]).Select(o =>
        {
            if (o.Ended is not null || !IsPlainName(o.Cluster))
            {
                return o;
            }

            if (!locks.TryGetValue(o.Cluster, out var state))
            {
                state = ClusterLock.Peek(clusters.Directory(o.Cluster));
                locks[o.Cluster] = state;
            }

            return state is { Live: true, Holder: { } holder } && holder.OperationId == o.Id ? o with { Outcome = AuditOutcome.Running } : o;
        })];
    }

    /// <summary>
    /// Checks every line: that it parses, that its hash matches its content, that it chains onto the record before
    /// it, and that its <c>seq</c> follows; then that <c>HEAD</c> names the file's last record. A checkpoint record
    /// (see <see cref="Cleanup"/>) is accepted on the first line only: its own hash is checked, and the chain goes on
    /// from the last removed record it names.
    /// </summary>
    /// <exception cref="IOException">The log cannot be read.</exception>
    public AuditVerification Verify()
    {
        var problems = ImmutableArray.CreateBuilder<AuditProblem>();
        var records = 0;
        var prevHash = GenesisHash;
        long prevSeq = 0;
        var hashesBySeq = new Dictionary<long, string>();
        foreach (var (number, record) in ReadLines())
        {
            if (record is null)
            {
                problems.Add(new AuditProblem(AuditProblemKind.Unparsable, number, null,
                    $"line {L(number)} is not a complete audit record (edited, or torn by a crash while it was written)"));
                continue;
            }

            var at = $"line {L(number)} (seq {L(record.Seq)})";
            if (record.Event == CheckpointEvent)
            {
                if (HashOf(CanonicalBytes(record)) != record.Hash)
                {
                    problems.Add(new AuditProblem(AuditProblemKind.Edited, number, record.Seq,
                        $"{at}, the checkpoint of an audit cleanup, was changed after it was written: its content does not match its hash"));
                }

                if (number != 1 || records > 0)
                {
                    problems.Add(new AuditProblem(AuditProblemKind.MisplacedCheckpoint, number, record.Seq,
                        $"{at} is a checkpoint of an audit cleanup, which is only ever the first line: records were added before it"));
                    continue;
                }

                // The chain goes on from the last removed record.
                prevHash = record.Prev;
                prevSeq = record.Seq;
                hashesBySeq[record.Seq] = record.Prev;
                continue;
            }

            records++;
            if (HashOf(CanonicalBytes(record)) != record.Hash)
            {
                problems.Add(new AuditProblem(AuditProblemKind.Edited, number, record.Seq,
                    $"{at} was changed after it was written: its content does not match its hash"));
            }

            if (record.Prev != prevHash)
            {
                problems.Add(new AuditProblem(AuditProblemKind.ChainBroken, number, record.Seq,
                    $"{at} does not chain onto the record before it: a record was deleted, inserted, reordered or rewritten"));
            }

            if (record.Seq != prevSeq + 1)
            {
                var detail = record.Seq > prevSeq + 1
                    ? $"{L(record.Seq - prevSeq - 1)} record(s) missing"
                    : "out of order or repeated";
                problems.Add(new AuditProblem(AuditProblemKind.SequenceGap, number, record.Seq,
                    $"{at} follows seq {L(prevSeq)}: {detail}"));
            }

            prevHash = record.Hash;
            prevSeq = record.Seq;
            hashesBySeq[record.Seq] = record.Hash;
        }

        var fileHasRecords = records > 0 || prevSeq > 0;
        switch (ReadHead())
        {
            case (false, _) when fileHasRecords:
                problems.Add(new AuditProblem(AuditProblemKind.HeadMismatch, 0, null, $"{HeadFileName} is missing although the log has records"));
                break;
            case (true, null):
                problems.Add(new AuditProblem(AuditProblemKind.HeadMismatch, 0, null, $"{HeadFileName} cannot be read"));
                break;
            case (true, { } head) when head.Count > prevSeq:
                problems.Add(new AuditProblem(AuditProblemKind.TailTruncated, 0, head.Count,
                    $"{HeadFileName} records {L(head.Count)} record(s) but the log ends at seq {L(prevSeq)}: records were removed from the end"));
                break;
            case (true, { } head) when head.Count == prevSeq && head.Hash != prevHash:
                problems.Add(new AuditProblem(AuditProblemKind.HeadMismatch, 0, head.Count,
                    $"the last record (seq {L(prevSeq)}) is not the one {HeadFileName} recorded: it was replaced"));
                break;
            case (true, { } head) when head.Count < prevSeq
                && !(head.Count == prevSeq - 1 && hashesBySeq.GetValueOrDefault(head.Count, head.Count == 0 ? GenesisHash : "") == head.Hash):
                // One record beyond HEAD chained onto it is an append whose HEAD update a crash cut off; anything else is not.
                problems.Add(new AuditProblem(AuditProblemKind.HeadMismatch, 0, head.Count,
                    $"{HeadFileName} records {L(head.Count)} record(s) but the log has {L(prevSeq)}: records were added without Tug"));
                break;
            default:
                break;
        }

        return new AuditVerification(records, problems.ToImmutable());
    }

    /// <summary>Tug's secret-named flags that take no value (<c>--password</c> only says "read the password from stdin").</summary>
    public static readonly ImmutableArray<string> TugSwitches = ["--password"];

    /// <summary>
    /// The command text an audit record carries: <c>tug</c> and the arguments (already redacted with
    /// <see cref="Redact"/>), each quoted when it is empty or holds whitespace.
    /// </summary>
    public static string CommandText(IEnumerable<string> redactedArgs) =>
        "tug " + string.Join(' ', redactedArgs.Select(a => a.Length == 0 || a.Any(char.IsWhiteSpace) ? $"'{a}'" : a));

    /// <summary>
    /// Replaces secret values in a command line with <c>***</c> before it is journaled or audited: the value after a
    /// long flag whose name contains password, passwd, passphrase, secret or token (<c>--password VALUE</c>,
    /// <c>--key-passphrase=VALUE</c>), and the value of any <c>KEY=VALUE</c> argument whose key contains one of those.
    /// Short flags such as <c>-p</c> (Tug's "read the password from stdin") are kept as they are.
    /// </summary>
    /// <param name="args">The arguments as given.</param>
    /// <param name="switches">
    /// Secret-named long flags that take no value in the caller's parser (for example Tug's <c>--password</c>, which
    /// only says "read the password from stdin"), so that the argument after them is kept.
    /// </param>
    public static ImmutableArray<string> Redact(IEnumerable<string> args, IEnumerable<string>? switches = null)
    {
        var valueless = new HashSet<string>(switches ?? [], StringComparer.Ordinal);
        var result = ImmutableArray.CreateBuilder<string>();
        var maskNext = false;
        foreach (var arg in args)
        {
            if (maskNext)
            {
                result.Add(Mask);
                maskNext = false;
                continue;
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && IsSecretName(arg[..equals]))
            {
                result.Add(string.Concat(arg.AsSpan(0, equals + 1), Mask));
                continue;
            }

            maskNext = equals < 0 && arg.Length > 2 && arg.StartsWith("--", StringComparison.Ordinal) && IsSecretName(arg) && !valueless.Contains(arg);
            result.Add(arg);
        }

        return result.ToImmutable();
    }

    /// <summary>The canonical bytes of a record (see the remarks on <see cref="AuditLog"/>); <see cref="AuditEntry.Hash"/> is ignored.</summary>
    public static byte[] CanonicalBytes(AuditEntry entry) => CanonicalBytes(RawRecord.From(entry));

    /// <summary>Lowercase hex SHA-256.</summary>
    public static string HashOf(ReadOnlySpan<byte> canonicalBytes) => Convert.ToHexStringLower(SHA256.HashData(canonicalBytes));

    private static bool IsSecretName(string name) =>
        SecretWords.Any(word => name.Contains(word, StringComparison.OrdinalIgnoreCase));

    // A cluster name read from the log is only used as a directory name when it cannot leave the clusters directory.
    private static bool IsPlainName(string name) =>
        name.Length > 0 && name is not ("." or "..") && name.IndexOfAny(['/', '\\', '\0']) < 0;

    private static AuditOutcome ToAuditOutcome(JournalOutcome? outcome) => outcome switch
    {
        JournalOutcome.Succeeded => AuditOutcome.Succeeded,
        JournalOutcome.Failed => AuditOutcome.Failed,
        JournalOutcome.Cancelled => AuditOutcome.Cancelled,
        _ => AuditOutcome.Interrupted,
    };

    private static string L(long value) => value.ToString(CultureInfo.InvariantCulture);

    private FileStream TakeAppendLock()
    {
        var path = Path.Combine(directory, LockFileName);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return PrivateFiles.Open(path, FileMode.OpenOrCreate, FileShare.None, bufferSize: 1, access: FileAccess.ReadWrite);
            }
            catch (IOException e) when (ClusterLock.IsLockConflict(e))
            {
                if (attempt == LockAttempts)
                {
                    throw new ClusterException(ClusterException.Locked,
                        $"The audit log in {directory} stayed locked by another process for over 30 seconds.",
                        $"Look for a hung tug process holding {path}.", e);
                }

                Thread.Sleep(LockRetryDelay);
            }
        }
    }

    /// <summary>The seq and hash the next record chains onto, and whether the file ends in a torn line.</summary>
    private (long Seq, string Hash, bool EndsTorn) ChainTip()
    {
        var (last, endsTorn) = ReadLastRecord();
        var (_, head) = ReadHead();
        if (last?.Event == CheckpointEvent)
        {
            // A log that is only a checkpoint: the next record follows the last removed one.
            last = last with { Hash = last.Prev };
        }

        if (head is null)
        {
            return last is null ? (0, GenesisHash, endsTorn) : (last.Seq, last.Hash, endsTorn);
        }

        // The previous append wrote its line but died before updating HEAD: that record is good, chain onto it.
        if (last is not null && last.Seq == head.Count + 1 && last.Prev == head.Hash)
        {
            return (last.Seq, last.Hash, endsTorn);
        }

        return (head.Count, head.Hash, endsTorn);
    }

    private (RawRecord? Last, bool EndsTorn) ReadLastRecord()
    {
        FileStream stream;
        try
        {
            stream = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return (null, false);
        }

        using (stream)
        {
            var length = stream.Length;
            if (length == 0)
            {
                return (null, false);
            }

            for (var offset = Math.Max(0, length - TailChunk); ; offset = 0)
            {
                var content = new byte[length - offset];
                stream.Position = offset;
                stream.ReadExactly(content);
                var lines = DurableFile.Lines(content).ToList();

                // A chunk that starts mid-file may start mid-line: ignore its first piece.
                for (var i = lines.Count - 1; i >= (offset > 0 ? 1 : 0); i--)
                {
                    if (RawRecord.TryParse(lines[i].Span) is { } record)
                    {
                        return (record, content[^1] != (byte)'\n');
                    }
                }

                if (offset == 0)
                {
                    return (null, content[^1] != (byte)'\n');
                }
            }
        }
    }

    private (bool Exists, Head? Head) ReadHead()
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(HeadPath));
            var count = document.RootElement.GetProperty("count").GetInt64();
            var hash = DurableFile.String(document.RootElement, "hash");
            return (true, new Head(count, hash));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return (false, null);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return (true, null);
        }
    }

    private List<(int Number, RawRecord? Record)> ReadLines()
    {
        byte[] content;
        try
        {
            using var stream = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
            content = new byte[stream.Length];
            stream.ReadExactly(content);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return [];
        }

        // Number lines as an editor does, so that a problem's line can be found; empty lines are skipped.
        var result = new List<(int, RawRecord?)>();
        var number = 0;
        var start = 0;
        while (start < content.Length)
        {
            number++;
            var length = content.AsSpan(start).IndexOf((byte)'\n');
            var end = length < 0 ? content.Length : start + length;
            if (end > start)
            {
                result.Add((number, RawRecord.TryParse(content.AsSpan(start, end - start))));
            }

            start = end + 1;
        }

        return result;
    }

    private static byte[] CanonicalBytes(RawRecord r)
    {
        var b = new StringBuilder(256);
        b.Append("{\"seq\":").Append(r.Seq.ToString(CultureInfo.InvariantCulture));
        Member(b, "id", r.Id);
        Member(b, "cluster", r.Cluster);
        Member(b, "command", r.Command);
        Member(b, "user", r.User);
        Member(b, "at", r.At);
        Member(b, "event", r.Event);
        if (r.Outcome is not null)
        {
            Member(b, "outcome", r.Outcome);
        }

        if (r.ExitCode is { } exitCode)
        {
            b.Append(",\"exit_code\":").Append(exitCode.ToString(CultureInfo.InvariantCulture));
        }

        if (r.Summary is not null)
        {
            Member(b, "summary", r.Summary);
        }

        Member(b, "prev", r.Prev);
        b.Append('}');
        return Encoding.UTF8.GetBytes(b.ToString());
    }

    private static void Member(StringBuilder b, string name, string value)
    {
        b.Append(",\"").Append(name).Append("\":\"");
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    b.Append("\\\"");
                    break;
                case '\\':
                    b.Append("\\\\");
                    break;
                case '\b':
                    b.Append("\\b");
                    break;
                case '\t':
                    b.Append("\\t");
                    break;
                case '\n':
                    b.Append("\\n");
                    break;
                case '\f':
                    b.Append("\\f");
                    break;
                case '\r':
                    b.Append("\\r");
                    break;
                case < ' ':
                    b.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    break;
                default:
                    b.Append(c);
                    break;
            }
        }

        b.Append('"');
    }

    private sealed record Head(long Count, string Hash);

    /// <summary>A record with its values exactly as stored (<c>at</c> and the enums as strings), for hashing.</summary>
    private sealed record RawRecord(
        long Seq,
        string Id,
        string Cluster,
        string Command,
        string User,
        string At,
        string Event,
        string? Outcome,
        long? ExitCode,
        string? Summary,
        string Prev,
        string Hash)
    {
        public static RawRecord From(AuditEntry e) => new(
            e.Seq,
            e.Id,
            e.Cluster,
            e.Command,
            e.User,
            DurableFile.FormatTime(e.At),
            e.Event == AuditEventKind.Start ? "start" : "end",
            e.Outcome is { } outcome ? OperationJournal.Name(outcome) : null,
            e.ExitCode,
            e.Summary,
            e.Prev,
            e.Hash);

        public static RawRecord? TryParse(ReadOnlySpan<byte> line)
        {
            try
            {
                using var document = JsonDocument.Parse(line.ToArray());
                var r = document.RootElement;
                return new RawRecord(
                    r.GetProperty("seq").GetInt64(),
                    DurableFile.String(r, "id"),
                    DurableFile.String(r, "cluster"),
                    DurableFile.String(r, "command"),
                    DurableFile.String(r, "user"),
                    DurableFile.String(r, "at"),
                    DurableFile.String(r, "event"),
                    DurableFile.OptionalString(r, "outcome"),
                    r.TryGetProperty("exit_code", out var exitCode) && exitCode.ValueKind != JsonValueKind.Null ? exitCode.GetInt64() : null,
                    DurableFile.OptionalString(r, "summary"),
                    DurableFile.String(r, "prev"),
                    DurableFile.String(r, "hash"));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                return null;
            }
        }

        /// <summary>The typed entry, or null when a value is not one Tug writes (an unknown event, a bad time).</summary>
        public AuditEntry? ToEntry()
        {
            AuditEventKind? kind = Event switch { "start" => AuditEventKind.Start, "end" => AuditEventKind.End, _ => null };
            if (kind is null || !DateTimeOffset.TryParse(At, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
                || ExitCode is < int.MinValue or > int.MaxValue)
            {
                return null;
            }

            return new AuditEntry(Seq, Id, Cluster, Command, User, at, kind.Value, OperationJournal.ParseOutcome(Outcome), (int?)ExitCode, Summary, Prev, Hash);
        }
    }
}
