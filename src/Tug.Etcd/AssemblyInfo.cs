// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Tug.Core.Tests")]
