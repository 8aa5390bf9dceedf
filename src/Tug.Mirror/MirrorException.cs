// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

namespace Tug.Mirror;

/// <summary>An expected failure of a mirror operation, with a stable code, the file concerned and what to do.</summary>
public sealed class MirrorException : TugException
{
    public MirrorException(string code, string message, string? file = null, string? hint = null, Exception? inner = null)
        : base(code, message, hint, file, inner)
    {
    }

    public MirrorException()
        : this("E2000", "mirror error")
    {
    }

    public MirrorException(string message)
        : this("E2000", message)
    {
    }

    public MirrorException(string message, Exception innerException)
        : this("E2000", message, inner: innerException)
    {
    }

    /// <summary>Refused: bad input, or a broken or untrusted mirror.</summary>
    public override int ExitCode => ExitCodes.BadInput;

    /// <summary>Builds a failure from a verification finding.</summary>
    public static MirrorException From(MirrorFinding finding) =>
        new(finding.Code, finding.Message, finding.File, finding.Hint);
}

/// <summary>Stable error codes of the mirror layer. Each names one kind of failure.</summary>
public static class MirrorErrors
{
    public const string BadInput = "E2001";
    public const string NotFound = "E2002";
    public const string BadJson = "E2003";
    public const string NotCanonical = "E2004";
    public const string BadSchema = "E2005";
    public const string BadKey = "E2010";
    public const string KeyNotAuthorized = "E2011";
    public const string BadSignature = "E2101";
    public const string Threshold = "E2102";
    public const string DuplicateSignature = "E2103";
    public const string Expired = "E2104";
    public const string Rollback = "E2105";
    public const string MixAndMatch = "E2106";
    public const string TooLong = "E2107";
    public const string HashMismatch = "E2108";
    public const string LengthMismatch = "E2109";
    public const string RootChain = "E2110";
    public const string Conflict = "E2201";
    public const string NotLocal = "E2202";
    public const string BadTarball = "E2301";
    public const string Network = "E2401";
}
