// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Buffers;
using System.Collections.Immutable;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tug.Core.Cluster;

/// <summary>The first record of a journal: what ran, with which (redacted) arguments, by whom.</summary>
/// <param name="Id">The operation ID (see <see cref="OperationId"/>); also the journal's directory name.</param>
/// <param name="Cluster">The cluster's name.</param>
/// <param name="Operation">The kind of operation, e.g. <c>upgrade</c>, <c>deploy</c>, <c>scale-out</c>.</param>
/// <param name="Args">The command's arguments, already redacted by the caller (<see cref="AuditLog.Redact"/>).</param>
/// <param name="Started">When the operation began.</param>
/// <param name="Pid">The process that began it.</param>
/// <param name="User">The OS user that began it.</param>
public sealed record JournalHeader(string Id, string Cluster, string Operation, ImmutableArray<string> Args, DateTimeOffset Started, int Pid, string User)
{
    /// <summary>A header for an operation this process begins now.</summary>
    public static JournalHeader ForThisProcess(string id, string cluster, string operation, IEnumerable<string> redactedArgs, TimeProvider time) =>
        new(id, cluster, operation, [.. redactedArgs], time.GetUtcNow(), Environment.ProcessId, Environment.UserName);
}

/// <summary>The state a step record declares.</summary>
public enum StepState
{
    /// <summary>About to run; on disk before the step touches anything.</summary>
    Planned,

    /// <summary>Finished and checked.</summary>
    Done,

    /// <summary>Ran and failed.</summary>
    Failed,
}

/// <summary>How a run of an operation ended.</summary>
public enum JournalOutcome
{
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>An operation's status, computed from its journal and the cluster's lock.</summary>
public enum OperationStatus
{
    /// <summary>No end record, and the cluster's lock is live and held for this operation.</summary>
    Running,

    /// <summary>No end record and nobody runs it (the process died), or the user cancelled it.</summary>
    Interrupted,

    /// <summary>The last run ended failed.</summary>
    Failed,

    /// <summary>The last run ended succeeded.</summary>
    Succeeded,
}

/// <summary>One step record.</summary>
/// <param name="Seq">Its position among the operation's step records, from 1, continuing across replays.</param>
/// <param name="At">When it was written.</param>
/// <param name="Step">The step's stable key, e.g. <c>stage h1</c> or <c>switch node_exporter 10.0.0.1:9100</c>.</param>
/// <param name="State">What it declares.</param>
/// <param name="Detail">Free text: what was done, or why it failed.</param>
public sealed record StepRecord(long Seq, DateTimeOffset At, string Step, StepState State, string? Detail);

/// <summary>The end record of a run.</summary>
public sealed record JournalEnd(DateTimeOffset At, JournalOutcome Outcome, string Summary);

/// <summary>Everything a journal says about one operation.</summary>
/// <param name="Header">What ran.</param>
/// <param name="Steps">Every step record in order, over every run (the first run and its replays).</param>
/// <param name="End">How the latest run ended; null when it has not ended (running, or the process died).</param>
/// <param name="Replays">How many times the operation was resumed.</param>
/// <param name="Status">The computed status.</param>
public sealed record OperationRecord(JournalHeader Header, ImmutableArray<StepRecord> Steps, JournalEnd? End, int Replays, OperationStatus Status)
{
    public string Id => Header.Id;

    /// <summary>The last step record written, or null before the first.</summary>
    public StepRecord? LastStep => Steps.IsEmpty ? null : Steps[^1];

    /// <summary>The last state recorded for a step in any run, or null when it was never recorded.</summary>
    public StepState? StateOf(string step)
    {
        for (var i = Steps.Length - 1; i >= 0; i--)
        {
            if (Steps[i].Step == step)
            {
                return Steps[i].State;
            }
        }

        return null;
    }

    /// <summary>The last state of every step, in the order the steps first appeared.</summary>
    public ImmutableArray<KeyValuePair<string, StepState>> StepStates()
    {
        var order = new List<string>();
        var states = new Dictionary<string, StepState>(StringComparer.Ordinal);
        foreach (var record in Steps)
        {
            if (!states.ContainsKey(record.Step))
            {
                order.Add(record.Step);
            }

            states[record.Step] = record.State;
        }

        return [.. order.Select(step => KeyValuePair.Create(step, states[step]))];
    }
}

/// <summary>
/// A durable per-step journal of one operation: <c>&lt;cluster&gt;/operations/&lt;id&gt;/journal.jsonl</c>, one JSON
/// object per line. Every record is written with one <c>write</c> and flushed to disk before the method returns, so a
/// step's "planned" record is on disk before the step runs and a crash loses at most the record being written.
/// </summary>
/// <remarks>
/// <para>Records (unknown members are ignored when reading; timestamps are UTC ISO 8601):</para>
/// <code>
/// {"type":"begin","id":"…","cluster":"prod","operation":"upgrade","args":["prod","v8.5.0"],"started":"…","pid":123,"user":"tidb"}
/// {"type":"step","seq":1,"at":"…","step":"stage h1","state":"planned"}
/// {"type":"step","seq":2,"at":"…","step":"stage h1","state":"done","detail":"…"}
/// {"type":"replay","at":"…","pid":456}
/// {"type":"end","at":"…","outcome":"succeeded","summary":"…"}
/// </code>
/// <para>
/// Only the holder of the cluster's <see cref="ClusterLock"/> writes a journal (take the lock with the journal's
/// operation ID, also when replaying), so the file has one writer; writes from several threads of that writer are
/// serialized. A line torn by a crash is skipped when reading, and the next record starts on a fresh line.
/// </para>
/// </remarks>
public sealed class OperationJournal : IDisposable
{
    /// <summary>The directory under a cluster's directory that holds one directory per operation.</summary>
    public const string OperationsDirectoryName = "operations";

    /// <summary>The journal's file name inside its operation directory.</summary>
    public const string FileName = "journal.jsonl";

    private readonly FileStream _stream;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, StepState> _states;
    private long _seq;
    private bool _needsNewline;

    private OperationJournal(string path, JournalHeader header, FileStream stream, TimeProvider time, Dictionary<string, StepState> states, long seq, bool needsNewline)
    {
        FilePath = path;
        Header = header;
        _stream = stream;
        _time = time;
        _states = states;
        _seq = seq;
        _needsNewline = needsNewline;
    }

    /// <summary>The operation's header.</summary>
    public JournalHeader Header { get; }

    /// <summary>The operation ID.</summary>
    public string Id => Header.Id;

    /// <summary>The journal file.</summary>
    public string FilePath { get; }

    /// <summary><c>&lt;cluster&gt;/operations/&lt;id&gt;/journal.jsonl</c>.</summary>
    public static string PathOf(string clusterDirectory, string operationId) =>
        Path.Combine(clusterDirectory, OperationsDirectoryName, operationId, FileName);

    /// <summary>Creates the journal of a new operation and writes its header.</summary>
    /// <exception cref="ArgumentException">The header's ID cannot name a directory (see <see cref="OperationId.IsValid"/>).</exception>
    /// <exception cref="IOException">A journal with this ID exists already, or the file cannot be written.</exception>
    public static OperationJournal Begin(string clusterDirectory, JournalHeader header, TimeProvider time)
    {
        if (!OperationId.IsValid(header.Id))
        {
            throw new ArgumentException($"'{header.Id}' is not a valid operation ID.", nameof(header));
        }

        var path = PathOf(clusterDirectory, header.Id);
        PrivateFiles.CreateDirectory(Path.Combine(clusterDirectory, OperationsDirectoryName));
        PrivateFiles.CreateDirectory(Path.GetDirectoryName(path)!);
        var stream = PrivateFiles.Open(path, FileMode.CreateNew, FileShare.Read, bufferSize: 0);
        var journal = new OperationJournal(path, header, stream, time, new Dictionary<string, StepState>(StringComparer.Ordinal), 0, needsNewline: false);
        try
        {
            journal.Append(w =>
            {
                w.WriteString("type", "begin");
                w.WriteString("id", header.Id);
                w.WriteString("cluster", header.Cluster);
                w.WriteString("operation", header.Operation);
                w.WriteStartArray("args");
                foreach (var arg in header.Args)
                {
                    w.WriteStringValue(arg);
                }

                w.WriteEndArray();
                w.WriteString("started", DurableFile.FormatTime(header.Started));
                w.WriteNumber("pid", header.Pid);
                w.WriteString("user", header.User);
            });
            return journal;
        }
        catch
        {
            journal.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reopens an operation's journal to replay it: loads the state of every step recorded so far and appends a
    /// <c>replay</c> record. The caller skips the steps for which <see cref="IsDone"/> is true.
    /// </summary>
    /// <exception cref="ClusterException"><see cref="ClusterException.NotFound"/>: no readable journal has this ID.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static OperationJournal Resume(string clusterDirectory, string operationId, TimeProvider time)
    {
        var path = OperationId.IsValid(operationId) ? PathOf(clusterDirectory, operationId) : null;
        var parsed = path is null ? null : Parse(path);
        if (parsed is null)
        {
            throw new ClusterException(ClusterException.NotFound,
                $"Cluster '{ClusterLock.ClusterName(clusterDirectory)}' has no operation '{operationId}' with a readable journal.",
                "See the operations with `tug cluster audit`.");
        }

        var stream = PrivateFiles.Open(path!, FileMode.Append, FileShare.Read, bufferSize: 0);
        var states = new Dictionary<string, StepState>(StringComparer.Ordinal);
        foreach (var step in parsed.Steps)
        {
            states[step.Step] = step.State;
        }

        var journal = new OperationJournal(path!, parsed.Header, stream, time, states, parsed.Steps.IsEmpty ? 0 : parsed.Steps.Max(s => s.Seq), parsed.EndsTorn);
        try
        {
            journal.Append(w =>
            {
                w.WriteString("type", "replay");
                w.WriteString("at", DurableFile.FormatTime(time.GetUtcNow()));
                w.WriteNumber("pid", Environment.ProcessId);
            });
            return journal;
        }
        catch
        {
            journal.Dispose();
            throw;
        }
    }

    /// <summary>Records that a step is about to run; on disk when this returns.</summary>
    /// <exception cref="IOException">The record could not be written; do not run the step.</exception>
    public void Planned(string step, string? detail = null) => Step(step, StepState.Planned, detail);

    /// <summary>Records that a step finished; on disk when this returns.</summary>
    /// <exception cref="IOException">The record could not be written.</exception>
    public void Done(string step, string? detail = null) => Step(step, StepState.Done, detail);

    /// <summary>Records that a step failed, and why; on disk when this returns.</summary>
    /// <exception cref="IOException">The record could not be written.</exception>
    public void Failed(string step, string detail) => Step(step, StepState.Failed, detail);

    /// <summary>Whether the last state recorded for a step, in this or any earlier run of the operation, is done.</summary>
    public bool IsDone(string step)
    {
        lock (_gate)
        {
            return _states.TryGetValue(step, out var state) && state == StepState.Done;
        }
    }

    /// <summary>The last state recorded for a step in any run, or null.</summary>
    public StepState? StateOf(string step)
    {
        lock (_gate)
        {
            return _states.TryGetValue(step, out var state) ? state : null;
        }
    }

    /// <summary>Records how this run ended; on disk when this returns.</summary>
    /// <exception cref="IOException">The record could not be written.</exception>
    public void End(JournalOutcome outcome, string summary) => Append(w =>
    {
        w.WriteString("type", "end");
        w.WriteString("at", DurableFile.FormatTime(_time.GetUtcNow()));
        w.WriteString("outcome", Name(outcome));
        w.WriteString("summary", summary);
    });

    /// <summary>Closes the file.</summary>
    public void Dispose() => _stream.Dispose();

    /// <summary>Every operation of a cluster with a readable journal, oldest first (by start time, then ID).</summary>
    /// <exception cref="IOException">The operations directory cannot be read.</exception>
    public static IReadOnlyList<OperationRecord> List(string clusterDirectory)
    {
        var root = Path.Combine(clusterDirectory, OperationsDirectoryName);
        if (!Directory.Exists(root))
        {
            return [];
        }

        var parsed = Directory.GetDirectories(root)
            .Select(Path.GetFileName)
            .Where(OperationId.IsValid)
            .Select(id => Parse(PathOf(clusterDirectory, id!)))
            .OfType<ParsedJournal>()
            .ToList();
        if (parsed.Count == 0)
        {
            return [];
        }

        var @lock = ClusterLock.Peek(clusterDirectory);
        return [.. parsed.Select(p => InDirectory(p.ToRecord(@lock), clusterDirectory)).OrderBy(r => r.Header.Started).ThenBy(r => r.Id, StringComparer.Ordinal)];
    }

    /// <summary>One operation, or null when it has no readable journal.</summary>
    public static OperationRecord? Read(string clusterDirectory, string operationId) =>
        OperationId.IsValid(operationId) && Parse(PathOf(clusterDirectory, operationId)) is { } parsed
            ? InDirectory(parsed.ToRecord(ClusterLock.Peek(clusterDirectory)), clusterDirectory)
            : null;

    /// <summary>
    /// A journal belongs to the cluster whose directory holds it: a rename moves the directory, the journal of the
    /// rename itself included, so the name its header recorded may be the old one.
    /// </summary>
    private static OperationRecord InDirectory(OperationRecord record, string clusterDirectory) =>
        ClusterLock.ClusterName(clusterDirectory) is var name && name == record.Header.Cluster ? record : record with { Header = record.Header with { Cluster = name } };

    /// <summary>
    /// The latest interrupted operation that no later operation superseded by succeeding, or null. A mutating
    /// command refuses to start while this is not null (unless forced) and offers <c>tug cluster replay NAME</c>.
    /// </summary>
    public static OperationRecord? Interrupted(string clusterDirectory) =>
        Latest(List(clusterDirectory), OperationStatus.Interrupted);

    /// <summary>
    /// The operation <c>tug cluster replay</c> resumes: the latest one that is interrupted or failed and that no later
    /// operation superseded by succeeding, or null.
    /// </summary>
    public static OperationRecord? Replayable(string clusterDirectory) =>
        Latest(List(clusterDirectory), OperationStatus.Interrupted, OperationStatus.Failed);

    /// <summary>Throws when <see cref="Interrupted"/> finds an operation; a mutating command calls this unless forced.</summary>
    /// <exception cref="ClusterException"><see cref="ClusterException.Interrupted"/>, naming the operation and its last step.</exception>
    public static void ThrowIfInterrupted(string clusterDirectory)
    {
        if (Interrupted(clusterDirectory) is { } interrupted)
        {
            throw InterruptedError(interrupted);
        }
    }

    /// <summary>The error for a cluster with an interrupted operation.</summary>
    public static ClusterException InterruptedError(OperationRecord interrupted)
    {
        var header = interrupted.Header;
        var last = interrupted.LastStep is { } step ? $"; its last step was '{step.Step}' ({Name(step.State)})" : "; it recorded no step";
        var how = interrupted.End?.Outcome == JournalOutcome.Cancelled ? "was cancelled" : "did not finish";
        return new ClusterException(ClusterException.Interrupted,
            $"Cluster '{header.Cluster}' has an interrupted `{header.Operation}` (operation {header.Id}, started {header.Started.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}) that {how}{last}.",
            $"Finish it with `tug cluster replay {header.Cluster}`, or pass --force to start anyway.");
    }

    /// <summary>The journal's spelling of a step state.</summary>
    public static string Name(StepState state) => state switch
    {
        StepState.Planned => "planned",
        StepState.Done => "done",
        StepState.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    /// <summary>The journal's (and audit log's) spelling of an outcome.</summary>
    public static string Name(JournalOutcome outcome) => outcome switch
    {
        JournalOutcome.Succeeded => "succeeded",
        JournalOutcome.Failed => "failed",
        JournalOutcome.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome)),
    };

    /// <summary>An outcome from its spelling, or null.</summary>
    public static JournalOutcome? ParseOutcome(string? text) => text switch
    {
        "succeeded" => JournalOutcome.Succeeded,
        "failed" => JournalOutcome.Failed,
        "cancelled" => JournalOutcome.Cancelled,
        _ => null,
    };

    private static StepState? ParseState(string? text) => text switch
    {
        "planned" => StepState.Planned,
        "done" => StepState.Done,
        "failed" => StepState.Failed,
        _ => null,
    };

    private static OperationRecord? Latest(IReadOnlyList<OperationRecord> operations, params OperationStatus[] wanted)
    {
        // Newest first: a succeeded operation supersedes everything before it.
        for (var i = operations.Count - 1; i >= 0; i--)
        {
            var status = operations[i].Status;
            if (wanted.Contains(status))
            {
                return operations[i];
            }

            if (status == OperationStatus.Succeeded)
            {
                return null;
            }
        }

        return null;
    }

    private void Step(string step, StepState state, string? detail)
    {
        lock (_gate)
        {
            var seq = _seq + 1;
            WriteLine(DurableFile.Json(w =>
            {
                w.WriteString("type", "step");
                w.WriteNumber("seq", seq);
                w.WriteString("at", DurableFile.FormatTime(_time.GetUtcNow()));
                w.WriteString("step", step);
                w.WriteString("state", Name(state));
                if (detail is not null)
                {
                    w.WriteString("detail", detail);
                }
            }, newline: true));
            _seq = seq;
            _states[step] = state;
        }
    }

    private void Append(Action<Utf8JsonWriter> members)
    {
        var line = DurableFile.Json(members, newline: true);
        lock (_gate)
        {
            WriteLine(line);
        }
    }

    /// <summary>One write of a whole line, then fsync; the caller holds <see cref="_gate"/>.</summary>
    private void WriteLine(byte[] line)
    {
        // After a torn line (a crashed predecessor's, or ours after a failed write), start on a fresh line so this
        // record stays readable.
        var bytes = _needsNewline ? [(byte)'\n', .. line] : line;
        _needsNewline = true;
        _stream.Write(bytes);
        _stream.Flush(flushToDisk: true);
        _needsNewline = false;
    }

    private static ParsedJournal? Parse(string path)
    {
        byte[] content;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            content = new byte[stream.Length];
            stream.ReadExactly(content);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or EndOfStreamException)
        {
            return null;
        }

        JournalHeader? header = null;
        var steps = ImmutableArray.CreateBuilder<StepRecord>();
        JournalEnd? end = null;
        var replays = 0;
        foreach (var line in DurableFile.Lines(content))
        {
            try
            {
                using var document = JsonDocument.Parse(line);
                var r = document.RootElement;
                switch (r.GetProperty("type").GetString())
                {
                    case "begin" when header is null:
                        header = new JournalHeader(
                            DurableFile.String(r, "id"),
                            DurableFile.String(r, "cluster"),
                            DurableFile.String(r, "operation"),
                            r.TryGetProperty("args", out var args) ? [.. args.EnumerateArray().Select(a => a.GetString() ?? "")] : [],
                            DurableFile.ParseTime(DurableFile.String(r, "started")),
                            r.TryGetProperty("pid", out var pid) ? pid.GetInt32() : 0,
                            DurableFile.OptionalString(r, "user") ?? "");
                        break;
                    case "step" when header is not null && ParseState(r.GetProperty("state").GetString()) is { } state:
                        steps.Add(new StepRecord(
                            r.GetProperty("seq").GetInt64(),
                            DurableFile.ParseTime(DurableFile.String(r, "at")),
                            DurableFile.String(r, "step"),
                            state,
                            DurableFile.OptionalString(r, "detail")));
                        break;
                    case "replay" when header is not null:
                        replays++;
                        end = null;
                        break;
                    case "end" when header is not null && ParseOutcome(r.GetProperty("outcome").GetString()) is { } outcome:
                        end = new JournalEnd(DurableFile.ParseTime(DurableFile.String(r, "at")), outcome, DurableFile.OptionalString(r, "summary") ?? "");
                        break;
                    default:
                        break;
                }
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                // A torn or foreign line: skip it.
            }
        }

        return header is null ? null : new ParsedJournal(header, steps.ToImmutable(), end, replays, content.Length > 0 && content[^1] != (byte)'\n');
    }

    private sealed record ParsedJournal(JournalHeader Header, ImmutableArray<StepRecord> Steps, JournalEnd? End, int Replays, bool EndsTorn)
    {
        public OperationRecord ToRecord(LockState? @lock)
        {
            var status = End?.Outcome switch
            {
                JournalOutcome.Succeeded => OperationStatus.Succeeded,
                JournalOutcome.Failed => OperationStatus.Failed,
                JournalOutcome.Cancelled => OperationStatus.Interrupted,
                _ => @lock is { Live: true, Holder: { } holder } && holder.OperationId == Header.Id
                    ? OperationStatus.Running
                    : OperationStatus.Interrupted,
            };
            return new OperationRecord(Header, Steps, End, Replays, status);
        }
    }
}

/// <summary>Small helpers for files that must survive a crash: atomic replacement, fsynced lines, timestamps.</summary>
internal static class DurableFile
{
    // Files, not HTML: keep quotes, '+' and non-ASCII readable instead of \uXXXX.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes a temporary file beside the target, flushes it to disk, then renames it over the target.</summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> content)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (var stream = PrivateFiles.Open(temporary, FileMode.CreateNew, FileShare.None, bufferSize: 0))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>One compact JSON object with the members written by <paramref name="members"/>, in that order.</summary>
    public static byte[] Json(Action<Utf8JsonWriter> members, bool newline = false)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            members(writer);
            writer.WriteEndObject();
        }

        if (newline)
        {
            buffer.Write("\n"u8);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The non-empty lines of a file's bytes, including an unterminated last line.</summary>
    public static IEnumerable<ReadOnlyMemory<byte>> Lines(ReadOnlyMemory<byte> content)
    {
        var start = 0;
        while (start < content.Length)
        {
            var length = content.Span[start..].IndexOf((byte)'\n');
            var end = length < 0 ? content.Length : start + length;
            if (end > start)
            {
                yield return content[start..end];
            }

            start = end + 1;
        }
    }

    /// <summary>A required string member.</summary>
    /// <exception cref="FormatException">It is missing or not a string.</exception>
    public static string String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new FormatException($"missing string member '{name}'");

    /// <summary>An optional string member: null when missing or null.</summary>
    /// <exception cref="FormatException">It is present and neither a string nor null.</exception>
    public static string? OptionalString(JsonElement element, string name) =>
        !element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new FormatException($"member '{name}' is not a string");

    /// <summary>UTC, ISO 8601 with seven fractional digits: <c>2025-01-02T03:04:05.1234567Z</c>.</summary>
    public static string FormatTime(DateTimeOffset value) => value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    /// <exception cref="FormatException">Not a timestamp.</exception>
    public static DateTimeOffset ParseTime(string? text) =>
        DateTimeOffset.Parse(text ?? throw new FormatException("missing timestamp"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
