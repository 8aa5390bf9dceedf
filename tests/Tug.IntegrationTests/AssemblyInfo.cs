// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Tug.Testing;

// One testbed per run. Faults (cut, rekey) change shared hosts, so xunit.runner.json runs these tests one at a time.
[assembly: AssemblyFixture(typeof(TestbedFixture))]
[assembly: AssemblyFixture(typeof(PackagesFixture))]
