// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

namespace Tug.Core.State;

/// <summary>What a state key may be: relative path segments, none starting with a dot (see <see cref="IStateStore"/>).</summary>
public static class StateKey
{
    /// <summary>Refuses a key that is not a state key.</summary>
    /// <exception cref="StateException"><see cref="StateException.BadKey"/>.</exception>
    public static void Validate(string key)
    {
        if (Problem(key) is { } problem)
        {
            throw StateException.NotAKey(key, problem);
        }
    }

    /// <summary>Refuses a list prefix that no key could start with: empty, or a key whose last segment may be partial or end in <c>/</c>.</summary>
    /// <exception cref="StateException"><see cref="StateException.BadKey"/>.</exception>
    public static void ValidatePrefix(string prefix)
    {
        if (prefix.Length > 0 && Problem(prefix.EndsWith('/') ? prefix[..^1] : prefix) is { } problem)
        {
            throw StateException.NotAKey(prefix, problem);
        }
    }

    /// <summary>Whether <paramref name="key"/> is a state key.</summary>
    public static bool IsValid(string key) => Problem(key) is null;

    private static string? Problem(string key)
    {
        if (key.Length == 0)
        {
            return "it is empty";
        }

        if (key.Length > StateLimits.MaxKeyLength)
        {
            return $"it is longer than {StateLimits.MaxKeyLength} characters";
        }

        foreach (var segment in key.Split('/'))
        {
            if (segment.Length == 0)
            {
                return "it has an empty segment (a leading, trailing or doubled '/')";
            }

            if (segment[0] == '.')
            {
                return $"its segment '{segment}' starts with '.' (such names belong to the store)";
            }

            foreach (var c in segment)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '+' or '@' or '=' or '-'))
                {
                    return $"it has the character '{c}' (U+{(int)c:X4})";
                }
            }
        }

        return null;
    }
}
