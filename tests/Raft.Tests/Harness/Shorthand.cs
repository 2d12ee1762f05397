using KvActors.Raft.Ids;

namespace KvActors.Raft.Tests.Harness;

/// <summary>Short constructors for ids in test code: <c>R(2)</c>, <c>T(3)</c>, <c>I(5)</c>, <c>E(term: 3, index: 5)</c>.</summary>
public static class Shorthand
{
    /// <summary>The replica with id <paramref name="value"/>.</summary>
    public static ReplicaId R(ulong value) => new(value);

    /// <summary>Term <paramref name="value"/>.</summary>
    public static Term T(ulong value) => new(value);

    /// <summary>Log index <paramref name="value"/>.</summary>
    public static LogIndex I(ulong value) => new(value);

    /// <summary>The entry id (<paramref name="term"/>, <paramref name="index"/>).</summary>
    public static EntryId E(ulong term, ulong index) => new(new Term(term), new LogIndex(index));
}
