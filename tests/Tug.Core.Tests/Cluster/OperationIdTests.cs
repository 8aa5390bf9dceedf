// Copyright (c) Tug contributors. Licensed under the Apache License, Version 2.0.

using Microsoft.Extensions.Time.Testing;
using Tug.Core.Cluster;

namespace Tug.Core.Tests.Cluster;

/// <summary>Operation IDs: short, filename-safe, sortable by time, unique.</summary>
public sealed class OperationIdTests
{
    [Fact]
    public void Should_Be_Eleven_Filename_Safe_Characters_Encoding_The_Time()
    {
        // Given
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 3, 4, 5, 6, 7, 890, TimeSpan.Zero));

        // When
        var id = OperationId.New(time);

        // Then
        Assert.Matches("^[0-9A-Za-z]{11}$", id);
        Assert.True(OperationId.IsValid(id));
        var encoded = OperationId.TimeOf(id);
        Assert.NotNull(encoded);
        Assert.InRange(encoded.Value, time.GetUtcNow(), time.GetUtcNow().AddSeconds(1));
    }

    [Fact]
    public void Should_Be_Unique_And_In_Order_For_Quick_Successive_Calls()
    {
        // Given: a clock that does not move at all
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));

        // When
        var ids = Enumerable.Range(0, 10_000).Select(_ => OperationId.New(time)).ToList();

        // Then
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Should_Sort_By_Time_Across_Years()
    {
        var early = OperationId.New(new FakeTimeProvider(new DateTimeOffset(2040, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        var late = OperationId.New(new FakeTimeProvider(new DateTimeOffset(2041, 6, 1, 0, 0, 0, TimeSpan.Zero)));
        Assert.True(string.CompareOrdinal(early, late) < 0, $"{early} should sort before {late}");
    }

    [Theory]
    [InlineData("fD8kUi4vSTW", true)]
    [InlineData("op-1_a", true)]
    [InlineData("", false)]
    [InlineData("..", false)]
    [InlineData("a/b", false)]
    [InlineData("a b", false)]
    [InlineData("é", false)]
    public void Should_Accept_Only_Directory_Safe_Ids(string id, bool valid)
    {
        Assert.Equal(valid, OperationId.IsValid(id));
    }
}
