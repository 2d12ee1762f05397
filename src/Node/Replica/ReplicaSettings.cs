using Akka.Configuration;
using KvActors.Node.Hosting;
using KvActors.Raft;

namespace KvActors.Node.Replica;

/// <summary>
/// How every replica on a node behaves, read once from HOCON <c>kvactors.replica</c> (defaults and reasons in
/// <c>hocon/kvactors.conf</c>). Invalid values fail at start with the key's name.
/// </summary>
public sealed record ReplicaSettings
{
    /// <summary>How often the Raft core ticks; election timeout and heartbeat interval are counted in ticks.</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Raft settings shared by every replica (its id and seed are filled in per replica).</summary>
    public required RaftConfig RaftTemplate { get; init; }

    /// <summary>Take a snapshot once this many entries were applied since the last one.</summary>
    public long SnapshotEveryEntries { get; init; } = 10_000;

    /// <summary>Or once this many bytes of commands were applied since the last one, whichever comes first.</summary>
    public long SnapshotEveryBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Most client requests a replica keeps waiting (writes in the log, reads in ReadIndex); past it: Unavailable.</summary>
    public int MaxPendingRequests { get; init; } = 10_000;

    /// <summary>How long a request may wait for its answer before it fails with Timeout.</summary>
    public TimeSpan RequestDeadline { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Most client sessions each shard's state machine remembers (oldest evicted first).</summary>
    public int MaxSessions { get; init; } = 10_000;

    /// <summary>Reads <c>kvactors.replica</c> from <paramref name="config"/>.</summary>
    /// <exception cref="ConfigurationException">A key is missing or out of range; the message names it.</exception>
    public static ReplicaSettings From(Config config)
    {
        var c = new SettingsSection(config, "kvactors.replica", "kvactors.conf");
        var raft = new RaftConfig
        {
            Id = new Raft.Ids.ReplicaId(1),        // replaced per replica
            ElectionTimeoutTicks = c.GetInt("election-timeout-ticks"),
            HeartbeatIntervalTicks = c.GetInt("heartbeat-interval-ticks"),
            PreVote = c.GetBoolean("pre-vote"),
            CheckQuorum = c.GetBoolean("check-quorum"),
            MaxAppendEntries = c.GetInt("max-append-entries"),
            MaxAppendBytes = c.PositiveBytes("max-append-bytes"),
            MaxInflightAppends = c.GetInt("max-inflight-appends"),
            MaxInflightBytes = c.PositiveBytes("max-inflight-bytes"),
            MaxUncommittedBytes = c.PositiveBytes("max-uncommitted-bytes"),
            MaxSnapshotChunkBytes = checked((int)c.PositiveBytes("max-snapshot-chunk-bytes")),
            MaxApplyBytesPerReady = c.PositiveBytes("max-apply-bytes-per-ready"),
        };
        try
        {
            raft.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ConfigurationException($"kvactors.replica: {e.Message}");
        }
        var settings = new ReplicaSettings
        {
            TickInterval = c.PositiveDuration("tick-interval"),
            RaftTemplate = raft,
            SnapshotEveryEntries = c.GetLong("snapshot-every-entries"),
            SnapshotEveryBytes = c.PositiveBytes("snapshot-every-bytes"),
            MaxPendingRequests = c.GetInt("max-pending-requests"),
            RequestDeadline = c.PositiveDuration("request-deadline"),
            MaxSessions = c.GetInt("max-sessions"),
        };
        if (settings.SnapshotEveryEntries < 1) throw new ConfigurationException("kvactors.replica.snapshot-every-entries must be at least 1");
        if (settings.MaxPendingRequests < 1) throw new ConfigurationException("kvactors.replica.max-pending-requests must be at least 1");
        if (settings.MaxSessions < 1) throw new ConfigurationException("kvactors.replica.max-sessions must be at least 1");
        return settings;
    }

}
