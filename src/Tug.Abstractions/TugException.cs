// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

namespace Tug;

/// <summary>
/// An expected failure: bad input, an untrusted mirror, an unreachable host, a locked cluster... Each carries a stable
/// code (<c>E1001</c>...), what to do about it, and the exit status it maps to. Anything that is not a
/// <see cref="TugException"/> is a bug.
/// </summary>
public abstract class TugException : Exception
{
    /// <summary>An expected failure with its stable code, sentence, optional hint and the file concerned.</summary>
    protected TugException(string code, string message, string? hint = null, string? file = null, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        Hint = hint;
        File = file;
    }

    /// <summary>Stable error code, e.g. <c>E2101</c>.</summary>
    public string Code { get; }

    /// <summary>What the operator should do about it, when there is something to say.</summary>
    public string? Hint { get; }

    /// <summary>The file concerned, when there is one.</summary>
    public string? File { get; }

    /// <summary>The exit status of a command that fails with this error (see <see cref="ExitCodes"/>).</summary>
    public abstract int ExitCode { get; }

    /// <summary>What the error line points at: the file by default.</summary>
    protected virtual string? Where => File;

    /// <summary>The lines the CLI prints on stderr: <c>error[CODE]: sentence</c>, where, and the hint.</summary>
    public virtual IEnumerable<string> Render() => Lines(Code, Message, Where, Hint);

    /// <summary>
    /// The one error format: <c>error[CODE]: sentence</c>, then <c>  --&gt; where</c> unless the sentence already
    /// names it, then <c>  hint: what to do</c>.
    /// </summary>
    public static IEnumerable<string> Lines(string code, string message, string? where, string? hint)
    {
        yield return $"error[{code}]: {message}";
        if (where is not null && !message.Contains(where, StringComparison.Ordinal))
        {
            yield return $"  --> {where}";
        }

        if (hint is not null)
        {
            yield return $"  hint: {hint}";
        }
    }
}
