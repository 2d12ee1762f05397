using KvActors.Protocol.Wire;

namespace KvActors.Protocol;

/// <summary>
/// Asks a Gateway to run <see cref="Request"/> on shard <see cref="Shard"/>, answered with a <see cref="KvReply"/>.
/// Clients use it for every request: a Range is sent to each shard in turn (keys are placed by hash, so a key
/// range spans every shard), and the Gateway checks that every key of any other command belongs to
/// <see cref="Shard"/> (InvalidArgument otherwise: the client and the cluster disagree on the shard count).
/// A bare <see cref="KvRequest"/> sent to a Gateway is routed by its keys instead, with the Gateway's deadline.
/// </summary>
/// <param name="Shard">The shard to run on; in <c>[0, shardCount)</c>, else InvalidArgument.</param>
/// <param name="Request">The command; owned by the message once sent (do not change it afterwards).</param>
/// <param name="Deadline">How long the Gateway may retry; <see cref="TimeSpan.Zero"/> or more than its own
/// <c>request-deadline</c> means its own.</param>
public sealed record ShardRequest(ShardId Shard, KvRequest Request, TimeSpan Deadline)
{
    /// <inheritdoc />
    public override string ToString() => $"ShardRequest shard={Shard} {Request.CommandCase} seq={Request.Sequence}";
}

/// <summary>Asks a Gateway for the cluster's shard count, answered with a <see cref="ShardCount"/>.</summary>
public sealed record GetShardCount
{
    /// <summary>The only instance.</summary>
    public static GetShardCount Instance { get; } = new();
}

/// <summary>The cluster's number of shards, fixed when it was created.</summary>
/// <param name="Count">At least 1.</param>
public sealed record ShardCount(int Count);
