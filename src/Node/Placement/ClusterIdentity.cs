using System.Text.Json;
using System.Text.Json.Serialization;

namespace KvActors.Node.Placement;

/// <summary>
/// What a node's data directory records about the cluster it belongs to, in <c>cluster.json</c>, written when the node
/// has decided who it is: the shard count and replication factor (fixed for the cluster's life), the seed list the
/// initial placement was computed from, the node's id and endpoint, the node replica id and the shards it hosts. A wiped
/// directory loses the replica id, which is the point: its replicas come back under a new id (a new incarnation) and
/// must be added again, so an empty replica never answers to the id of one that voted.
/// <see cref="Removed"/> lists, once per removal, the shards whose replica on this node was removed from the shard's
/// membership: a later replica of such a shard here gets a new id (<see cref="ReplicaOf"/>). <see cref="Draining"/> survives a
/// restart, so a drain is not undone by one.
/// </summary>
public sealed record ClusterIdentity(
    [property: JsonPropertyName("shards")] int Shards,
    [property: JsonPropertyName("replication")] int Replication,
    [property: JsonPropertyName("seeds")] IReadOnlyList<string> Seeds,
    [property: JsonPropertyName("nodeId")] string NodeId,
    [property: JsonPropertyName("endpoint")] string Endpoint,
    [property: JsonPropertyName("replicaId")] ulong ReplicaId,
    [property: JsonPropertyName("hosted")] IReadOnlyList<int> Hosted)
{
    /// <summary>The file's name in the data directory.</summary>
    public const string FileName = "cluster.json";

    /// <summary>Shards whose replica on this node was removed from the shard (replaced or moved elsewhere), once per removal, ascending.</summary>
    [JsonPropertyName("removed")]
    public IReadOnlyList<int> Removed { get; init; } = [];

    /// <summary>An operator drains this node (<c>kvctl node drain</c>): shard managers move its replicas away and place none here.</summary>
    [JsonPropertyName("draining")]
    public bool Draining { get; init; }

    /// <summary>The id of this node's current (or, when it hosts none, its next) replica of <paramref name="shard"/>.</summary>
    public Raft.Ids.ReplicaId ReplicaOf(int shard) => ReplicaIds.ForShard(new Raft.Ids.ReplicaId(ReplicaId), shard, Removed.Count(s => s == shard));

    /// <summary>The ids of this node's replicas of <paramref name="shard"/> that were removed, oldest first.</summary>
    public IEnumerable<Raft.Ids.ReplicaId> RemovedReplicasOf(int shard) =>
        Enumerable.Range(0, Removed.Count(s => s == shard)).Select(k => ReplicaIds.ForShard(new Raft.Ids.ReplicaId(ReplicaId), shard, k));

    /// <summary>This identity hosting <paramref name="shard"/> too.</summary>
    public ClusterIdentity Hosting(int shard) => this with { Hosted = [.. Hosted.Append(shard).Distinct().Order()] };

    /// <summary>This identity with its replica of <paramref name="shard"/> removed: the next one gets a new id.</summary>
    public ClusterIdentity WithRemoved(int shard) =>
        this with { Hosted = [.. Hosted.Where(s => s != shard)], Removed = [.. Removed.Append(shard).Order()] };

    /// <summary>The identity recorded in <paramref name="dataDirectory"/>, or null when the directory has none yet.</summary>
    /// <exception cref="InvalidDataException">The file exists but is not a valid identity; the message says what to do.</exception>
    public static ClusterIdentity? Load(string dataDirectory)
    {
        string path = Path.Combine(dataDirectory, FileName);
        ClusterIdentity? identity = DurableJson.Load<ClusterIdentity>(path,
            "restore it from a backup, or move the data directory away to start this node as a new replica");
        if (identity is null) return null;
        if (identity.Shards < 1 || identity.Replication < 1 || identity.Seeds is null || string.IsNullOrEmpty(identity.NodeId) ||
            string.IsNullOrEmpty(identity.Endpoint) || identity.ReplicaId == 0 || identity.Hosted is null || identity.Removed is null)
            throw new InvalidDataException($"{path} is incomplete; restore it from a backup, or move the data directory away to start this node as a new replica");
        return identity;
    }

    /// <summary>Writes this identity durably (a temporary file, flushed to disk, then renamed over the old one).</summary>
    public void Save(string dataDirectory) => DurableJson.Save(Path.Combine(dataDirectory, FileName), this);

    /// <summary>
    /// Null when a node started with <paramref name="nodeId"/>, <paramref name="shards"/> and
    /// <paramref name="replication"/> may use this identity; otherwise why not, in one line naming the flag to change.
    /// </summary>
    public string? Conflict(string nodeId, int shards, int replication)
    {
        if (CountConflict(Shards, Replication, shards, replication) is { } conflict)
            return "this data directory belongs to a cluster " + conflict;
        if (!string.Equals(nodeId, NodeId, StringComparison.Ordinal))
            return $"this data directory belongs to node '{NodeId}', but --node-id {nodeId} was given";
        return null;
    }

    /// <summary>
    /// Null when <paramref name="shards"/>/<paramref name="replication"/> (given) match <paramref name="clusterShards"/>
    /// /<paramref name="clusterReplication"/> (what the cluster was created with); otherwise the disagreement, phrased
    /// to follow "... belongs to a cluster ".
    /// </summary>
    public static string? CountConflict(int clusterShards, int clusterReplication, int shards, int replication)
    {
        if (shards != clusterShards)
            return $"created with {clusterShards} shards, but --shards {shards} was given: the shard count is fixed when a cluster is first created";
        if (replication != clusterReplication)
            return $"created with replication {clusterReplication}, but --replication {replication} was given: the replication factor is fixed when a cluster is first created";
        return null;
    }
}

/// <summary>
/// The seeds this node knows to have formed (started their initial replicas under their initial replica ids), in
/// <c>formed-seeds.json</c>. Written before this node answers a seed's formation announcement, and kept even while
/// this node has no identity yet, so that any surviving seed can tell a wiped seed that it must come back as a new
/// replica.
/// </summary>
public sealed record FormedSeeds([property: JsonPropertyName("formed")] IReadOnlyList<string> Formed)
{
    /// <summary>The file's name in the data directory.</summary>
    public const string FileName = "formed-seeds.json";

    /// <summary>The set recorded in <paramref name="dataDirectory"/>, empty when there is none.</summary>
    /// <exception cref="InvalidDataException">The file exists but cannot be read.</exception>
    public static FormedSeeds Load(string dataDirectory) =>
        DurableJson.Load<FormedSeeds>(Path.Combine(dataDirectory, FileName), "restore it from a backup") is { Formed: not null } seeds
            ? seeds
            : new FormedSeeds([]);

    /// <summary>This set plus <paramref name="endpoints"/>, sorted; this set itself when nothing is new.</summary>
    public FormedSeeds With(IEnumerable<string> endpoints)
    {
        string[] union = [.. Formed.Union(endpoints, StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        return union.Length == Formed.Count ? this : new FormedSeeds(union);
    }

    /// <summary>Writes the set durably.</summary>
    public void Save(string dataDirectory) => DurableJson.Save(Path.Combine(dataDirectory, FileName), this);
}

/// <summary>Small JSON files that must survive a crash whole: written to a temporary file, fsynced, renamed.</summary>
internal static class DurableJson
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public static T? Load<T>(string path, string remedy) where T : class
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} cannot be read ({e.Message}); {remedy}", e);
        }
    }

    public static void Save<T>(string path, T value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temporary = path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(file, value, Options);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
