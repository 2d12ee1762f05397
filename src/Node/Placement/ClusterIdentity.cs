using System.Text.Json;
using System.Text.Json.Serialization;

namespace KvActors.Node.Placement;

/// <summary>
/// What a node's data directory records about the cluster it belongs to, in <c>cluster.json</c>, written once when the
/// directory is first used: the shard count and replication factor (fixed for the cluster's life), the seed list the
/// initial placement was computed from, the node's id, and the incarnation of its replicas. A wiped directory loses
/// the incarnation, which is the point: its replicas come back under new ids and must be added again.
/// </summary>
public sealed record ClusterIdentity(
    [property: JsonPropertyName("shards")] int Shards,
    [property: JsonPropertyName("replication")] int Replication,
    [property: JsonPropertyName("seeds")] IReadOnlyList<string> Seeds,
    [property: JsonPropertyName("nodeId")] string NodeId,
    [property: JsonPropertyName("incarnation")] uint Incarnation)
{
    /// <summary>The file's name in the data directory.</summary>
    public const string FileName = "cluster.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>The identity recorded in <paramref name="dataDirectory"/>, or null when the directory has none yet.</summary>
    /// <exception cref="InvalidDataException">The file exists but is not a valid identity; the message says what to check.</exception>
    public static ClusterIdentity? Load(string dataDirectory)
    {
        string path = Path.Combine(dataDirectory, FileName);
        if (!File.Exists(path)) return null;
        ClusterIdentity? identity;
        try
        {
            identity = JsonSerializer.Deserialize<ClusterIdentity>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a KvActors cluster identity ({e.Message}); restore it from a backup, or move the data directory away to start this node as a new replica", e);
        }
        if (identity is null || identity.Shards < 1 || identity.Replication < 1 || identity.Seeds is null || string.IsNullOrEmpty(identity.NodeId))
            throw new InvalidDataException($"{path} is incomplete; restore it from a backup, or move the data directory away to start this node as a new replica");
        return identity;
    }

    /// <summary>Writes this identity durably (a temporary file, flushed to disk, then renamed over the old one).</summary>
    public void Save(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        string path = Path.Combine(dataDirectory, FileName);
        string temporary = path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(file, this, Json);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>
    /// Null when a node started with <paramref name="shards"/> and <paramref name="replication"/> may use this
    /// identity; otherwise why not, in one line naming the flag to change.
    /// </summary>
    public string? Conflict(string nodeId, int shards, int replication)
    {
        if (shards != Shards)
            return $"this data directory belongs to a cluster created with {Shards} shards, but --shards {shards} was given: the shard count is fixed when a cluster is first created";
        if (replication != Replication)
            return $"this data directory belongs to a cluster created with replication {Replication}, but --replication {replication} was given: the replication factor is fixed when a cluster is first created";
        if (!string.Equals(nodeId, NodeId, StringComparison.Ordinal))
            return $"this data directory belongs to node '{NodeId}', but --node-id {nodeId} was given";
        return null;
    }
}
