using KvActors.Raft.Ids;

namespace KvActors.Raft.Messages;

/// <summary>
/// A message between the replicas of one Raft group. Every message carries its sender's term; §5.1's term
/// rules run on it before anything else. Messages are immutable and safe to send to another thread or node.
/// </summary>
public abstract record RaftMessage(ReplicaId From, ReplicaId To, Term Term);
