using KvActors.Raft.Ids;
using KvActors.Raft.Log;

namespace KvActors.Raft;

/// <summary>
/// What a replica had on disk when its core starts. <see cref="Membership"/> is the configuration as of the snapshot
/// (or the group's initial one, or <see cref="Raft.Membership.Empty"/> for a replica that a leader has yet to
/// tell); configuration entries in the log after the snapshot override it.
/// </summary>
public sealed record RaftInitialState(HardState HardState, Membership Membership);

/// <summary>
/// The durable log and hard state of one replica, as the core reads them. The shell implements it and owns every
/// write: it appends a <see cref="Ready"/>'s entries and hard state (see <see cref="Ready"/>) before it calls
/// <see cref="RaftNode.Advance"/>, so the core only ever reads what is already durable.
/// <para>
/// To compact, the shell saves a snapshot of its state machine at an applied index (metadata from
/// <see cref="RaftNode.SnapshotMetadataAt"/>), then drops the entries up to it; from then on
/// <see cref="Snapshot"/> returns it, and the core sends it to followers that need entries before it.
/// </para>
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

    /// <summary>
    /// The latest snapshot made durable: the log is compacted up to its last index, so <see cref="FirstIndex"/> is
    /// that index + 1. <see cref="Snapshot.None"/> (last index 0) before any snapshot.
    /// </summary>
    Snapshot Snapshot();

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
