// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

namespace Tug.Cli;

/// <summary>Exit codes of the tug command.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int BadInput = 2;
    public const int Unexpected = 70;
    public const int Cancelled = 130;
}
