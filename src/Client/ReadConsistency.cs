namespace KvActors.Client;

/// <summary>What a read promises.</summary>
public enum ReadConsistency
{
    /// <summary>The default: the read sees every write acknowledged before it started (ReadIndex: the shard's leader
    /// confirms with a quorum that it still leads).</summary>
    Linearizable = 0,

    /// <summary>Answered from one replica's applied state without a quorum round: it may miss recent writes, but it never
    /// sees a write that was not committed.</summary>
    Serializable = 1,
}
