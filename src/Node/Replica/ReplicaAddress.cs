using System.Collections.Immutable;
using System.Globalization;
using Akka.Actor;
using KvActors.Raft.Ids;

namespace KvActors.Node.Replica;

/// <summary>One replica of one shard: names its actor and its persistence id.</summary>
public readonly record struct ReplicaAddress(int Shard, ReplicaId Replica)
{
    /// <summary>The Akka.Persistence id of its journal and snapshots: <c>raft-{shard}-{replica}</c>.</summary>
    public string PersistenceId => string.Create(CultureInfo.InvariantCulture, $"raft-{Shard}-{Replica.Value}");

    /// <summary>The actor's name under its parent: <c>shard-{shard}-replica-{replica}</c>.</summary>
    public string ActorName => string.Create(CultureInfo.InvariantCulture, $"shard-{Shard}-replica-{Replica.Value}");

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"shard {Shard} replica {Replica}");
}

/// <summary>Where the other replicas of a shard live, by replica id. Raft decides who votes; this only routes.</summary>
public sealed record UpdatePeers(ImmutableDictionary<ReplicaId, ActorPath> Peers);
