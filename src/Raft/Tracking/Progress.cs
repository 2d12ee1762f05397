using KvActors.Raft.Ids;

namespace KvActors.Raft.Tracking;

/// <summary>How a leader sends to one follower.</summary>
internal enum ProgressState : byte
{
    /// <summary>Where the follower's log ends is unknown: one append at a time, then wait for its answer.</summary>
    Probe = 0,

    /// <summary>The follower is known to match up to <see cref="Progress.Match"/>: appends stream, up to the in-flight window.</summary>
    Replicate = 1,

    /// <summary>The follower needs entries the leader has compacted: it is sent a snapshot, chunk by chunk, and nothing else.</summary>
    Snapshot = 2,
}

/// <summary>
/// A leader's view of one replica (etcd's tracker.Progress):
/// <code>
///          success answer                 refusal
///  Probe ─────────────────► Replicate ─────────────► Probe
///    │  ▲                                               
///    │  └─────────── snapshot restored (acknowledged) ──┐
///    └─ needs compacted entries ──────────────────► Snapshot
/// </code>
/// Invariant: Match &lt; Next.
/// </summary>
internal sealed class Progress(LogIndex next, int maxInflight, long maxInflightBytes)
{
    /// <summary>The highest index known to be durable on the replica and equal to the leader's entry there.</summary>
    public LogIndex Match { get; private set; }

    /// <summary>The index of the next entry to send.</summary>
    public LogIndex Next { get; private set; } = next;

    public ProgressState State { get; private set; } = ProgressState.Probe;

    /// <summary>In Probe: an append was sent and its answer has not arrived; send nothing more until it does or a heartbeat is answered.</summary>
    public bool ProbeSent { get; set; }

    public Inflights Inflights { get; } = new(maxInflight, maxInflightBytes);

    /// <summary>The replica answered something since the last CheckQuorum round.</summary>
    public bool RecentActive { get; set; }

    /// <summary>The newest ReadIndex round this replica confirmed the leader's leadership for.</summary>
    public ulong ReadRoundAcked { get; set; }

    /// <summary>In Snapshot: the snapshot being sent; the same image to the end, even if the leader compacts again meanwhile.</summary>
    public Snapshot? PendingSnapshot { get; private set; }

    /// <summary>In Snapshot: every byte before this offset was acknowledged by the follower.</summary>
    public long SnapshotOffset { get; set; }

    /// <summary>In Snapshot: no chunk was acknowledged since the last heartbeat answer; at the next one, resend.</summary>
    public bool SnapshotStalled { get; set; }

    public bool IsPaused => State switch
    {
        ProgressState.Probe => ProbeSent,
        ProgressState.Replicate => Inflights.IsFull,
        _ => true,
    };

    /// <summary>The replica holds the leader's log up to <paramref name="index"/>; true when that is news.</summary>
    public bool MaybeUpdate(LogIndex index)
    {
        ProbeSent = false;
        if (index <= Match) return false;
        Match = index;
        if (Next <= index) Next = index.Next();
        return true;
    }

    /// <summary>
    /// The replica refused an append whose previous index was <paramref name="refused"/> and hinted that its log may
    /// match up to <paramref name="hint"/>. Moves Next back; false when the refusal is stale.
    /// </summary>
    public bool MaybeDecreaseTo(LogIndex refused, LogIndex hint)
    {
        if (State == ProgressState.Snapshot) return false;   // answers an append sent before the snapshot began
        if (State == ProgressState.Replicate)
        {
            if (refused <= Match) return false;   // answers an append sent before a later success
            Next = Match.Next();
            return true;
        }
        if (Next.Previous() != refused) return false;   // answers an older probe
        Next = LogIndex.Max(LogIndex.Min(refused, hint.Next()), Match.Next());
        ProbeSent = false;
        return true;
    }

    /// <summary>Records an append carrying entries up to <paramref name="last"/> (or none, when it only probes).</summary>
    public void OnSent(int count, LogIndex last, long bytes)
    {
        if (State == ProgressState.Replicate)
        {
            if (count == 0) return;
            Next = last.Next();
            Inflights.Add(last, bytes);
        }
        else
        {
            ProbeSent = true;
        }
    }

    public void BecomeProbe()
    {
        // After a snapshot, the follower holds everything up to it even before its answer moves Match there.
        LogIndex after = PendingSnapshot is { } snapshot ? LogIndex.Max(Match, snapshot.Metadata.Last.Index) : Match;
        State = ProgressState.Probe;
        ProbeSent = false;
        PendingSnapshot = null;
        Inflights.Clear();
        Next = after.Next();
    }

    public void BecomeSnapshot(Snapshot snapshot)
    {
        State = ProgressState.Snapshot;
        ProbeSent = false;
        Inflights.Clear();
        PendingSnapshot = snapshot;
        SnapshotOffset = 0;
        SnapshotStalled = false;
    }

    public void BecomeReplicate()
    {
        State = ProgressState.Replicate;
        ProbeSent = false;
        PendingSnapshot = null;
        Inflights.Clear();
        Next = Match.Next();
    }

    /// <summary>For the leader's own entry: what it has written durably.</summary>
    public void SetSelfMatch(LogIndex stable)
    {
        if (stable > Match) Match = stable;
        if (Next <= Match) Next = Match.Next();
    }

    public override string ToString() => $"{State} match={Match} next={Next} inflight={Inflights.Count}";
}
