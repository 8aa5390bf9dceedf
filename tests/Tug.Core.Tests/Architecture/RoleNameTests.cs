// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using System.Text.RegularExpressions;
using Tug.Core.Tests.Infrastructure;
using Tug.Core.Topology;

namespace Tug.Core.Tests.Architecture;

/// <summary>What differs by role is data in the component specs: the planning and execution code never names a role.</summary>
public sealed partial class RoleNameTests
{
    [Fact]
    public void Should_Name_No_Role_In_The_Planning_And_Execution_Code()
    {
        // Given every role Tug knows, and the planning and execution sources
        var roles = Roles.StartOrder.ToList();
        var files = new[] { "Planning", "Execution" }
            .SelectMany(d => Directory.GetFiles(Path.Combine(Repo.Root, "src", "Tug.Core", d), "*.cs", SearchOption.AllDirectories))
            .ToList();
        Assert.NotEmpty(files);

        // When they are searched for a role constant or a role's name in a string
        var found = new List<string>();
        foreach (var file in files)
        {
            var lines = File.ReadAllLines(file);
            for (var n = 0; n < lines.Length; n++)
            {
                if (RoleConstant().IsMatch(lines[n]) || roles.Any(r => lines[n].Contains($"\"{r}\"", StringComparison.Ordinal) || Regex.IsMatch(lines[n], $@"\b{Regex.Escape(r)}\b", RegexOptions.IgnoreCase) && !lines[n].TrimStart().StartsWith("//", StringComparison.Ordinal) && !lines[n].TrimStart().StartsWith("///", StringComparison.Ordinal)))
                {
                    found.Add($"{Path.GetRelativePath(Repo.Root, file)}:{n + 1}: {lines[n].Trim()}");
                }
            }
        }

        // Then nothing is found
        Assert.True(found.Count == 0, "role names in planning/execution code:\n" + string.Join('\n', found));
    }

    [GeneratedRegex(@"\bRoles\.[A-Z]")]
    private static partial Regex RoleConstant();
}
