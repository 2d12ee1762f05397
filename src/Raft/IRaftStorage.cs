using KvActors.Raft.Ids;
using KvActors.Raft.Log;

namespace KvActors.Raft;

/// <summary>What a replica had on disk when its core starts.</summary>
public sealed record RaftInitialState(HardState HardState, Membership Membership);

/// <summary>
/// The durable log and hard state of one replica, as the core reads them. The shell implements it and owns every
/// write: it appends a <see cref="Ready"/>'s entries and hard state (see <see cref="Ready"/>) before it calls
/// <see cref="RaftNode.Advance"/>, so the core only ever reads what is already durable.
/// <para>
/// Contract: entries are contiguous from <see cref="FirstIndex"/> to <see cref="LastIndex"/>; an empty log has
/// <c>LastIndex == FirstIndex - 1</c>. Asking outside that range is a bug in the caller, and implementations
/// throw <see cref="ArgumentOutOfRangeException"/>.
/// </para>
/// </summary>
public interface IRaftStorage
{
    /// <summary>The hard state and membership last made durable.</summary>
    RaftInitialState InitialState();

    /// <summary>The index of the first entry still stored (1 until the log is compacted).</summary>
    LogIndex FirstIndex();

    /// <summary>The index of the last entry stored; <c>FirstIndex() - 1</c> when none is.</summary>
    LogIndex LastIndex();

    /// <summary>The term of the entry at <paramref name="index"/>, for index in [FirstIndex − 1, LastIndex]; 0 at index 0.</summary>
    Term TermAt(LogIndex index);

    /// <summary>
    /// Appends the entries in [<paramref name="from"/>, <paramref name="to"/>) to <paramref name="into"/>, stopping
    /// before the total passes <paramref name="maxBytes"/> — but always at least one entry when the range is not empty.
    /// </summary>
    void CopyEntries(LogIndex from, LogIndex to, long maxBytes, List<Entry> into);
}
