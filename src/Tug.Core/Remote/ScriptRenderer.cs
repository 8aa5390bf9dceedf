// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Tug.Core.Remote;

/// <summary>One named value for a script template: a single word, or a list of words (a bash array).</summary>
internal sealed record ScriptValue(string? Word, ImmutableArray<string> Words)
{
    public bool IsList => Word is null;
}

/// <summary>The named values a template is rendered with; built with a collection initializer.</summary>
internal sealed class ScriptArgs : IEnumerable<KeyValuePair<string, ScriptValue>>
{
    private readonly Dictionary<string, ScriptValue> _values = new(StringComparer.Ordinal);

    public void Add(string name, string value) => Put(name, new ScriptValue(value, []));

    public void Add(string name, int value) => Add(name, value.ToString(CultureInfo.InvariantCulture));

    public void Add(string name, bool value) => Add(name, value ? "1" : "0");

    public void Add(string name, IEnumerable<string> values) => Put(name, new ScriptValue(null, [.. values]));

    public void Add(string name, IEnumerable<int> values) => Add(name, values.Select(v => v.ToString(CultureInfo.InvariantCulture)));

    public IEnumerator<KeyValuePair<string, ScriptValue>> GetEnumerator() => _values.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private void Put(string name, ScriptValue value)
    {
        if (!_values.TryAdd(name, value))
        {
            throw new ArgumentException($"script parameter '{name}' is given twice", nameof(name));
        }
    }
}

/// <summary>
/// Renders the shell templates under <c>Remote/Scripts/*.sh</c> (embedded resources). A template starts with a comment
/// header that declares its parameters (<c># tug:params unit port units[]</c>, <c>[]</c> marking a list) and uses each
/// exactly once as <c>name={{name}}</c> or <c>name=({{name}})</c>. Every value is quoted exactly once, by
/// <see cref="Quote"/>; a list renders as space-separated quoted words. An undeclared, missing, unused or
/// misplaced parameter throws, so typos fail the tests rather than a host.
/// </summary>
internal static partial class ScriptRenderer
{
    private const string ParamsTag = "# tug:params";
    private const string ResourcePrefix = "Tug.Core.Remote.Scripts.";

    private static readonly ConcurrentDictionary<string, Template> Templates = new(StringComparer.Ordinal);

    /// <summary>The names of every embedded template (<c>probe.sh</c>...).</summary>
    public static ImmutableArray<string> Names { get; } = [.. typeof(ScriptRenderer).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".sh", StringComparison.Ordinal))
        .Select(n => n[ResourcePrefix.Length..])
        .Order(StringComparer.Ordinal)];

    /// <summary>The declared parameters of template <paramref name="name"/>: name → whether it is a list.</summary>
    public static ImmutableSortedDictionary<string, bool> Parameters(string name) => Load(name).Declared;

    /// <summary>Renders the embedded template <paramref name="name"/> (e.g. <c>wait.sh</c>) with <paramref name="args"/>.</summary>
    /// <exception cref="ArgumentException">No such template, or the arguments do not match its declared parameters.</exception>
    public static string Render(string name, ScriptArgs args) => Load(name).Render(args);

    /// <summary>Renders template text directly (tests).</summary>
    public static string RenderText(string name, string text, ScriptArgs args) => Template.Parse(name, text).Render(args);

    /// <summary>Single-quote shell quoting: the one function every value in a rendered script goes through.</summary>
    /// <exception cref="ArgumentException">The value holds a NUL, which no shell word can carry.</exception>
    public static string Quote(string value) => value.Contains('\0', StringComparison.Ordinal)
        ? throw new ArgumentException("a shell word cannot hold a NUL character", nameof(value))
        : "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static Template Load(string name) => Templates.GetOrAdd(name, n =>
    {
        using var stream = typeof(ScriptRenderer).Assembly.GetManifestResourceStream(ResourcePrefix + n)
            ?? throw new ArgumentException($"no script template '{n}' (known: {string.Join(", ", Names)})", nameof(name));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return Template.Parse(n, reader.ReadToEnd());
    });

    [GeneratedRegex(@"\{\{([A-Za-z0-9_]*)\}\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();

    private sealed record Template(string Name, string Body, ImmutableSortedDictionary<string, bool> Declared)
    {
        public static Template Parse(string name, string text)
        {
            var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
            var header = lines.TakeWhile(l => l.StartsWith('#')).ToList();
            var declared = ImmutableSortedDictionary.CreateBuilder<string, bool>(StringComparer.Ordinal);
            foreach (var word in header.Where(l => l.StartsWith(ParamsTag, StringComparison.Ordinal)).SelectMany(l => l[ParamsTag.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)))
            {
                var list = word.EndsWith("[]", StringComparison.Ordinal);
                if (!declared.TryAdd(list ? word[..^2] : word, list))
                {
                    throw new ArgumentException($"script template {name} declares parameter '{word}' twice", nameof(text));
                }
            }

            var body = string.Join('\n', lines.Skip(header.Count));
            var used = Placeholder().Matches(body).ToList();
            foreach (var group in used.GroupBy(m => m.Groups[1].Value, StringComparer.Ordinal))
            {
                if (!declared.TryGetValue(group.Key, out var list))
                {
                    throw new ArgumentException($"script template {name} uses {{{{{group.Key}}}}}, which its header does not declare", nameof(text));
                }

                if (group.Count() != 1)
                {
                    throw new ArgumentException($"script template {name} uses {{{{{group.Key}}}}} {group.Count()} times; assign it to a variable once", nameof(text));
                }

                // The only places a quoted value can stand: name=VALUE, or name=(WORDS) for a list.
                var m = group.Single();
                var before = body[..m.Index];
                var after = body[(m.Index + m.Length)..];
                var ok = list
                    ? before.EndsWith("=(", StringComparison.Ordinal) && after.StartsWith(')')
                    : before.EndsWith('=') && (after.Length == 0 || after[0] is '\n' or ' ' or ';');
                if (!ok)
                {
                    throw new ArgumentException($"script template {name}: {{{{{group.Key}}}}} must stand alone as {(list ? $"{group.Key}=({{{{{group.Key}}}}})" : $"{group.Key}={{{{{group.Key}}}}}")}", nameof(text));
                }
            }

            var unused = declared.Keys.Where(k => !used.Any(m => m.Groups[1].Value == k)).ToList();
            if (unused.Count > 0)
            {
                throw new ArgumentException($"script template {name} declares {string.Join(", ", unused)} but never uses {(unused.Count == 1 ? "it" : "them")}", nameof(text));
            }

            return new Template(name, body, declared.ToImmutable());
        }

        public string Render(ScriptArgs args)
        {
            var given = args.ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
            var unknown = given.Keys.Where(k => !Declared.ContainsKey(k)).ToList();
            var missing = Declared.Keys.Where(k => !given.ContainsKey(k)).ToList();
            if (unknown.Count > 0 || missing.Count > 0)
            {
                throw new ArgumentException($"script {Name}: {string.Join("; ", new[] { unknown.Count > 0 ? $"unknown parameter(s) {string.Join(", ", unknown)}" : null, missing.Count > 0 ? $"missing parameter(s) {string.Join(", ", missing)}" : null }.OfType<string>())} (declared: {string.Join(", ", Declared.Keys)})", nameof(args));
            }

            var wrongKind = given.Where(g => g.Value.IsList != Declared[g.Key]).Select(g => g.Key).ToList();
            if (wrongKind.Count > 0)
            {
                throw new ArgumentException($"script {Name}: {string.Join(", ", wrongKind.Select(k => $"{k} must be {(Declared[k] ? "a list" : "a single value")}"))}", nameof(args));
            }

            return Placeholder().Replace(Body, m =>
            {
                var value = given[m.Groups[1].Value];
                return value.Word is { } word ? Quote(word) : string.Join(' ', value.Words.Select(Quote));
            });
        }
    }
}
