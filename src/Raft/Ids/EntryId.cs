namespace KvActors.Raft.Ids;

/// <summary>Names one log entry: two entries with the same id hold the same command (§5.3, Log Matching).</summary>
public readonly record struct EntryId(Term Term, LogIndex Index)
{
    /// <summary>True when a log ending at this entry is at least as up to date as one ending at <paramref name="other"/> (§5.4.1).</summary>
    public bool IsAtLeastAsUpToDateAs(EntryId other) =>
        Term > other.Term || (Term == other.Term && Index >= other.Index);

    /// <inheritdoc />
    public override string ToString() => $"{Term}/{Index}";
}
