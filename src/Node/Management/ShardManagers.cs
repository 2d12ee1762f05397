using System.Globalization;
using Akka.Actor;
using Akka.Cluster.Sharding;
using KvActors.Node.Topology;

namespace KvActors.Node.Management;

/// <summary>Starts the Cluster Sharding region of the <see cref="ShardManager"/>s on a node.</summary>
public static class ShardManagers
{
    /// <summary>
    /// Starts (or returns the already started) region of type <see cref="NodePaths.ShardManagerType"/> on
    /// <paramref name="system"/>, which must use the cluster provider. The region takes <see cref="GetShardStatus"/>, <see cref="ForgetReplicas"/> and
    /// <see cref="ShardRegion.StartEntity"/> for shards 0..<paramref name="shardCount"/>-1 and delivers them to that
    /// shard's manager, wherever in the cluster it runs; anything else, or another shard, is dropped by the region.
    /// Settings come from <c>kvactors.shard-manager</c> unless <paramref name="settings"/> is given.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shardCount"/> is less than 1.</exception>
    public static IActorRef Start(ActorSystem system, int shardCount, ShardManagerSettings? settings = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        ShardManagerSettings managerSettings = settings ?? ShardManagerSettings.From(system.Settings.Config);
        return ClusterSharding.Get(system).Start(
            NodePaths.ShardManagerType,
            entityId => ShardManager.Props(int.Parse(entityId, NumberStyles.None, CultureInfo.InvariantCulture), managerSettings),
            ClusterShardingSettings.Create(system),
            new ShardManagerMessageExtractor(shardCount));
    }

    /// <summary>The message that starts <paramref name="shard"/>'s manager if it is not running (and does nothing else).</summary>
    public static ShardRegion.StartEntity KeepAlive(int shard) => new(EntityId(shard));

    internal static string EntityId(int shard) => shard.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Routes <see cref="GetShardStatus"/> and <see cref="ForgetReplicas"/> to their shard's manager. (<see cref="ShardRegion.StartEntity"/>, the keep-alive,
/// is routed by the region itself through <see cref="ShardId(string, object?)"/>.) The entity id and the Cluster Sharding shard id are both the KvActors shard number, so
/// each manager is its own sharding shard and the allocation strategy spreads managers evenly over the nodes.
/// </summary>
internal sealed class ShardManagerMessageExtractor(int shardCount) : IMessageExtractor
{
    public string EntityId(object message) => message switch
    {
        GetShardStatus get when get.Shard < (uint)shardCount => ShardManagers.EntityId((int)get.Shard),
        ForgetReplicas forget when forget.Shard < (uint)shardCount => ShardManagers.EntityId((int)forget.Shard),
        _ => null!,         // Cluster Sharding's contract: null means "not mine", and the region drops it
    };

    public object EntityMessage(object message) => message;

    public string ShardId(object message) => EntityId(message);

    public string ShardId(string entityId, object? messageHint = null) => entityId;
}
