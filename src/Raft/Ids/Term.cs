using System.Globalization;

namespace KvActors.Raft.Ids;

/// <summary>A Raft term. It only moves forward; <c>default</c> (0) means "before any election".</summary>
public readonly record struct Term(ulong Value) : IComparable<Term>
{
    /// <summary>The term an election started from this one campaigns in.</summary>
    public Term Next() => new(checked(Value + 1));

    /// <inheritdoc />
    public int CompareTo(Term other) => Value.CompareTo(other.Value);

    /// <summary>Orders terms by value.</summary>
    public static bool operator <(Term a, Term b) => a.Value < b.Value;
    /// <summary>Orders terms by value.</summary>
    public static bool operator >(Term a, Term b) => a.Value > b.Value;
    /// <summary>Orders terms by value.</summary>
    public static bool operator <=(Term a, Term b) => a.Value <= b.Value;
    /// <summary>Orders terms by value.</summary>
    public static bool operator >=(Term a, Term b) => a.Value >= b.Value;

    /// <inheritdoc />
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}
