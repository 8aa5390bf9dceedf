// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Diagnostics;
using System.Text;
using CsCheck;
using Tug.Core.Cluster;
using Tug.Core.Tests.Infrastructure;
using Tug.Core.Topology;

namespace Tug.Core.Tests.Safety;

/// <summary>
/// Issue 11 "Done when": the topology reader and the meta.yaml reader run over generated and mutated inputs (TiUP's
/// fixtures, the tests' own topologies and meta files, byte flips, truncations, inserted anchors, aliases, brackets,
/// quotes, newlines) for a bounded time. Only <see cref="TugException"/>s may come out: any other exception is a bug
/// (exit 70), a stack overflow kills the test run, and a case slower than a few seconds fails.
/// </summary>
public sealed class ReaderFuzzTests
{
    private const int SecondsPerReader = 10;
    private static readonly TimeSpan SlowCase = TimeSpan.FromSeconds(5);

    private static readonly string[] Tokens =
    [
        "&a ", "*a", "&b [*a, *a, *a, *a, *a, *a, *a, *a]", "*b", "<<: *a\n", "[", "]", "{", "}", "\"", "'", "\n", "\r\n", ": ", "- ", "? ",
        "|\n", ">-\n", "#", ",", "\t", "\0", "\uFEFF", "---\n", "...\n", "%YAML 1.1\n", "!!binary ", "!!str ", "!foo ", "~", "null", "true",
        "yes", "99999999999999999999", "0x7fffffffffffffff", "-1", "1e309", ".nan", "-.inf", "0o777", "65536", "host: ", "port: ", "deploy_dir: ",
        "  ", "    ", "\u00e9", "\uD83D\uDE00", "\\", "%", "@", "`", "&", "*", "!", "[[[[[[[[[[[[[[[[", "{a: {b: {c: {d: ", "etcd_servers:\n  - host: 10.0.0.1\n",
        "server_configs:\n  pd:\n    ", "topology:\n  ", "tug:\n  instances:\n    ", "host_keys:\n      ", "versions: [1, 2]\n",
    ];

    private static readonly Lazy<string[]> Seeds = new(LoadSeeds);

    private sealed record Mutation(int Kind, double Where, double Length, int Token, byte Byte);

    private static readonly Gen<Mutation> OneMutation =
        Gen.Select(Gen.Int[0, 6], Gen.Double[0.0, 1.0], Gen.Double[0.0, 1.0], Gen.Int[0, Tokens.Length - 1], Gen.Byte, (k, w, l, t, b) => new Mutation(k, w, l, t, b));

    private static readonly Gen<(int Seed, Mutation[] Mutations)> Mutated = Gen.Select(Gen.Int[0, 1000], OneMutation.Array[1, 12]);

    /// <summary>Generated from nothing: random sequences of tokens and words, nested or not.</summary>
    private static readonly Gen<string> Generated = Gen.Int[0, Tokens.Length - 1].Array[1, 60].Select(ts => string.Concat(ts.Select(t => Tokens[t])));

    [Fact]
    public void Should_Only_Refuse_Mutated_Topologies_With_Tug_Errors()
    {
        Mutated.Sample(input => Read(Apply(input), topology: true), time: SecondsPerReader, threads: 1, print: input => Show(Apply(input)));
    }

    [Fact]
    public void Should_Only_Refuse_Mutated_Meta_Files_With_Tug_Errors()
    {
        Mutated.Sample(input => Read(Apply(input), topology: false), time: SecondsPerReader, threads: 1, print: input => Show(Apply(input)));
    }

    [Fact]
    public void Should_Only_Refuse_Generated_Yaml_With_Tug_Errors()
    {
        Generated.Sample(text =>
        {
            Read(text, topology: true);
            Read(text, topology: false);
        }, time: SecondsPerReader / 2, threads: 1, print: Show);
    }

    [Fact]
    public void Should_Start_From_Real_Fixtures_That_Read()
    {
        // The seeds are real: every one reads with no error before it is mutated (else the fuzzing would only test errors).
        Assert.True(Seeds.Value.Length >= 20, $"only {Seeds.Value.Length} seeds");
        foreach (var seed in Seeds.Value)
        {
            if (seed.StartsWith("user:", StringComparison.Ordinal))
            {
                Assert.NotEmpty(ClusterMetaSerializer.Deserialize(seed, "meta.yaml").Topology.Servers);
            }
            else
            {
                Assert.NotEmpty(TopologyLoader.Parse(seed, "topology.yaml").Servers);
            }
        }
    }

    private static void Read(string text, bool topology)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            if (topology)
            {
                TopologyLoader.Parse(text, "fuzz.yaml");
            }
            else
            {
                ReadThroughStore(text);
            }
        }
        catch (TugException)
        {
            // A refusal with a code and a hint: what any input may produce.
        }

        Assert.True(clock.Elapsed < SlowCase, $"one input took {clock.Elapsed}");
    }

    private static void ReadThroughStore(string text)
    {
        var root = Directory.CreateTempSubdirectory("tug-fuzz-").FullName;
        try
        {
            var store = new ClusterStore(root, TimeProvider.System);
            Directory.CreateDirectory(Path.Combine(root, "c"));
            File.WriteAllText(store.MetaFile("c"), text, new UTF8Encoding(false));
            var meta = store.Load("c");
            Assert.NotEmpty(meta.Topology.Servers);
            _ = ClusterMetaSerializer.Serialize(meta);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static string Apply((int Seed, Mutation[] Mutations) input)
    {
        var seeds = Seeds.Value;
        var bytes = new List<byte>(Encoding.UTF8.GetBytes(seeds[input.Seed % seeds.Length]));
        foreach (var m in input.Mutations)
        {
            var at = (int)(m.Where * bytes.Count);
            var length = Math.Min(bytes.Count - at, 1 + (int)(m.Length * 64));
            switch (m.Kind)
            {
                case 0 when bytes.Count > 0 && at < bytes.Count:
                    bytes[at] = m.Byte;
                    break;
                case 1:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 2 when length > 0:
                    bytes.RemoveRange(at, length);
                    break;
                case 3 when length > 0:
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    break;
                case 4:
                    bytes.Insert(at, m.Byte);
                    break;
                default:
                    bytes.InsertRange(at, Encoding.UTF8.GetBytes(Tokens[m.Token]));
                    break;
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    private static string Show(string text) => text.Length <= 2000 ? text : text[..2000] + $"... ({text.Length} chars)";

    private static string[] LoadSeeds()
    {
        var topologies = Topologies.TiupFixtureFiles().Append(Topologies.Data("etcd.yaml")).Append(Topologies.Data("pdms.yaml"))
            .Select(File.ReadAllText)
            .Where(text => Parses(() => TopologyLoader.Parse(text, "seed.yaml")))
            .ToList();
        var metas = Directory.GetFiles(Path.Combine(Repo.TestProject, "Expectations", "Meta"))
            .Select(File.ReadAllText)
            .Append(ClusterMetaSerializer.Serialize(new ClusterMeta { User = "tidb", Version = "v3.4.23", Topology = Topologies.Etcd }))
            .Where(text => Parses(() => ClusterMetaSerializer.Deserialize(text, "seed.yaml")))
            .ToList();
        return [.. topologies, .. metas];
    }

    private static bool Parses(Action read)
    {
        try
        {
            read();
            return true;
        }
        catch (TopologyException)
        {
            return false;
        }
    }
}
