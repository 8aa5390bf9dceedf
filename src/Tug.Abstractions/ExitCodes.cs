// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

namespace Tug;

/// <summary>
/// Exit statuses of the <c>tug</c> command, shared by the CLI and by the audit records Core writes:
/// 0 success, 1 a failed operation or verification, 2 refused, 70 a bug, 130 cancelled.
/// </summary>
public static class ExitCodes
{
    /// <summary>Everything asked for was done (and verified).</summary>
    public const int Success = 0;

    /// <summary>An operation or verification failed, or a host could not be reached or used.</summary>
    public const int Failure = 1;

    /// <summary>Refused before anything was changed: bad input, an untrusted or broken mirror, a locked cluster.</summary>
    public const int BadInput = 2;

    /// <summary>A bug in tug (an exception outside the <see cref="TugException"/> family).</summary>
    public const int Unexpected = 70;

    /// <summary>The operator cancelled (Ctrl+C or SIGTERM).</summary>
    public const int Cancelled = 130;
}
