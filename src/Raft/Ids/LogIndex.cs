using System.Globalization;

namespace KvActors.Raft.Ids;

/// <summary>A position in a Raft log. The first entry is at 1; <c>default</c> (0) means "before the first entry".</summary>
public readonly record struct LogIndex(ulong Value) : IComparable<LogIndex>
{
    /// <summary>The position right after this one.</summary>
    public LogIndex Next() => new(checked(Value + 1));

    /// <summary>The position right before this one; 0 stays 0.</summary>
    public LogIndex Previous() => Value == 0 ? this : new(Value - 1);

    /// <summary>The position <paramref name="count"/> entries after this one.</summary>
    public LogIndex Plus(ulong count) => new(checked(Value + count));

    /// <summary>The smaller of two positions.</summary>
    public static LogIndex Min(LogIndex a, LogIndex b) => a.Value <= b.Value ? a : b;

    /// <summary>The larger of two positions.</summary>
    public static LogIndex Max(LogIndex a, LogIndex b) => a.Value >= b.Value ? a : b;

    /// <inheritdoc />
    public int CompareTo(LogIndex other) => Value.CompareTo(other.Value);

    /// <summary>Orders positions by value.</summary>
    public static bool operator <(LogIndex a, LogIndex b) => a.Value < b.Value;
    /// <summary>Orders positions by value.</summary>
    public static bool operator >(LogIndex a, LogIndex b) => a.Value > b.Value;
    /// <summary>Orders positions by value.</summary>
    public static bool operator <=(LogIndex a, LogIndex b) => a.Value <= b.Value;
    /// <summary>Orders positions by value.</summary>
    public static bool operator >=(LogIndex a, LogIndex b) => a.Value >= b.Value;

    /// <inheritdoc />
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}
