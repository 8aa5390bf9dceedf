// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections.Immutable;
using System.Text.Json.Serialization;
using Tug.Core.Cluster;

namespace Tug.Core.Execution;

/// <summary>
/// What an operation reports while it runs, as data: the CLI renders these as a live display on a terminal, plain
/// lines otherwise, or JSON lines with <c>--format json</c>. Timings are fields, never text to scrape.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "event")]
[JsonDerivedType(typeof(OperationStarted), "operation-started")]
[JsonDerivedType(typeof(StepStarted), "step-started")]
[JsonDerivedType(typeof(StepFinished), "step-finished")]
[JsonDerivedType(typeof(WaveFinished), "wave-finished")]
[JsonDerivedType(typeof(PhaseFinished), "phase-finished")]
[JsonDerivedType(typeof(OperationFinished), "operation-finished")]
[JsonDerivedType(typeof(OperationEvent), "note")]
[JsonDerivedType(typeof(Warning), "warning")]
public abstract record ProgressEvent;

/// <summary>The executor began (or resumed) an operation.</summary>
public sealed record OperationStarted(string Id, string Operation, string Cluster, int Steps, bool Resumed) : ProgressEvent;

/// <summary>A step is about to act (or to be probed, on a resume).</summary>
public sealed record StepStarted(string Step, string Host, int Wave) : ProgressEvent;

/// <summary>A step ended.</summary>
/// <param name="Step">Its key.</param>
/// <param name="Host">Its host.</param>
/// <param name="Wave">Its wave.</param>
/// <param name="Status">How it ended.</param>
/// <param name="Message">What was done or found.</param>
/// <param name="Seconds">Wall-clock seconds on the control machine.</param>
/// <param name="AlreadyDone">On a resume: its effect was found on the host, so it was recorded done and not run again.</param>
/// <param name="Phases">The step's own phases (restart, switch, health, verify), in seconds.</param>
public sealed record StepFinished(string Step, string Host, int Wave, OutcomeStatus Status, string Message, double Seconds, bool AlreadyDone, ImmutableArray<PhaseTiming> Phases) : ProgressEvent;

/// <summary>A wave (a batch of a rolling change) ended.</summary>
public sealed record WaveFinished(int Wave, double Seconds, int Failed) : ProgressEvent;

/// <summary>A phase of the whole operation ended (connect, save, total).</summary>
public sealed record PhaseFinished(string Phase, double Seconds) : ProgressEvent;

/// <summary>The operation ended.</summary>
public sealed record OperationFinished(string Id, JournalOutcome Outcome, double Seconds, string Summary) : ProgressEvent;

/// <summary>Something the operator should know that is not a failure (a stale lock taken over).</summary>
public sealed record Warning(string Message) : ProgressEvent;
