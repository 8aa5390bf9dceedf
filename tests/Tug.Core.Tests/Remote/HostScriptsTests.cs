// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text;
using Tug.Core.Remote;
using Tug.Core.Tests.Infrastructure;

namespace Tug.Core.Tests.Remote;

/// <summary>
/// The operational root scripts: each rendered script as a snapshot (Expectations/Scripts), each one passing
/// <c>bash -n</c> and <c>shellcheck -S warning</c>, and hostile values staying inert when bash runs them.
/// </summary>
public sealed partial class HostScriptsTests
{
    public sealed class TheRenderedScripts
    {
        [Theory]
        [MemberData(nameof(ScriptCases.Names), MemberType = typeof(ScriptCases))]
        public void Should_Match_The_Snapshot(string name)
        {
            // Given
            var script = ScriptCases.All[name];

            // When, Then
            Snapshot.Verify("Scripts", name, script);
        }

        [Fact]
        public void Should_Pass_Bash_Syntax_And_Shellcheck_Every_One()
        {
            // Given: every composite case, and every template alone with hostile values for every parameter.
            var scripts = ScriptCases.All.Select(c => (Name: c.Key, Script: c.Value))
                .Concat(ScriptRenderer.Names.Select(n => (Name: "template-" + n[..^3], Script: ScriptRenderer.Render(n, Hostile(n)))))
                .ToList();
            var directory = Directory.CreateTempSubdirectory("tug-scripts-").FullName;
            try
            {
                foreach (var (name, script) in scripts)
                {
                    File.WriteAllText(Path.Combine(directory, name + ".sh"), script, new UTF8Encoding(false));
                }

                // When
                var problems = new List<string>();
                foreach (var (name, _) in scripts)
                {
                    var syntax = Shell.Run("bash", ["-n", Path.Combine(directory, name + ".sh")]);
                    if (syntax.ExitCode != 0)
                    {
                        problems.Add($"{name}: bash -n: {syntax.Stderr.Trim()}");
                    }
                }

                var check = Shell.Run("shellcheck", ["-s", "bash", "-S", "warning", "-f", "gcc", .. scripts.Select(s => Path.Combine(directory, s.Name + ".sh"))]);
                problems.AddRange(check.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Replace(directory + "/", string.Empty, StringComparison.Ordinal)));
                if (check.ExitCode is not (0 or 1))
                {
                    problems.Add($"shellcheck exited {check.ExitCode}: {check.Stderr.Trim()}");
                }

                // Then
                Assert.True(problems.Count == 0, $"{problems.Count} finding(s) in rendered scripts:\n{string.Join('\n', problems)}");
                Assert.Equal(scripts.Count, Directory.GetFiles(directory, "*.sh").Length);
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        /// <summary>Values for every declared parameter of a template: the hostile string, and two hostile words for a list.</summary>
        internal static ScriptArgs Hostile(string template)
        {
            var args = new ScriptArgs();
            foreach (var (name, list) in ScriptRenderer.Parameters(template))
            {
                if (list)
                {
                    args.Add(name, new[] { ScriptCases.Hostile, "-x\n" + ScriptCases.Hostile });
                }
                else
                {
                    args.Add(name, ScriptCases.Hostile);
                }
            }

            return args;
        }
    }

    public sealed class WhenValuesAreHostile
    {
        private const string Marker = "/tmp/tug-hostile-marker";

        public static TheoryData<string> Values() =>
        [
            ScriptCases.Hostile,
            $"'; touch {Marker}; '",
            $"$(touch {Marker})",
            $"`touch {Marker}`",
            $"a\nb; touch {Marker}",
            "-n",
            "\\'\\\"\\\\",
            "tab\there, star * and ~ and !! and {a,b}",
            string.Empty,
            "ünïcødé ✓",
        ];

        [Theory]
        [MemberData(nameof(Values))]
        public void Should_Reach_The_Script_As_The_Exact_Bytes(string value)
        {
            // Given
            File.Delete(Marker);
            var script = ScriptRenderer.RenderText("echo.sh", "# tug:params one many[]\none={{one}}\nmany=({{many}})\nprintf '<%s>' \"$one\" \"${#many[@]}\" \"${many[@]}\"\n", new()
            {
                { "one", value },
                { "many", new[] { value, value + value } },
            });

            // When
            var (exit, stdout, stderr) = Shell.Bash(script);

            // Then
            Assert.True(exit == 0, stderr);
            Assert.Equal($"<{value}><2><{value}><{value}{value}>", stdout);
            Assert.False(File.Exists(Marker), "a value was executed");
        }

        [Fact]
        public void Should_Hash_A_File_Under_A_Hostile_Path_And_Report_The_Path_Back()
        {
            // Given
            File.Delete(Marker);
            var directory = Directory.CreateTempSubdirectory("tug-hostile-").FullName;
            try
            {
                var path = Path.Combine(directory, "$(touch tug-hostile-marker) it's; a|b\nc");
                File.WriteAllText(path, "hello\n");
                var missing = Path.Combine(directory, "`touch tug-hostile-marker`");

                // When
                var (exit, stdout, _) = Shell.Bash(HostScripts.FileHashes([path, missing]));
                var files = HostReply.Parse(stdout).OfType<FileLine>().ToList();

                // Then
                Assert.Equal(0, exit);
                Assert.Equal([new FileLine(path, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"), new FileLine(missing, string.Empty)], files);
                Assert.False(File.Exists("tug-hostile-marker"), "a value was executed");
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
