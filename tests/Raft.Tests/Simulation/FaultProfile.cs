namespace KvActors.Raft.Tests.Simulation;

/// <summary>
/// How hostile one simulated run is. Each seed draws its own rates ("swarm testing", as in TigerBeetle's VOPR):
/// some runs are calm, some lose half their messages, some crash nodes constantly, so that no single mix of faults
/// hides a bug that another mix would show.
/// </summary>
public sealed record FaultProfile
{
    public int Nodes { get; init; } = 3;
    public bool PreVote { get; init; } = true;
    public bool CheckQuorum { get; init; } = true;
    public double DropRate { get; init; }
    public double DuplicateRate { get; init; }
    /// <summary>Chance that a message goes to the slow lane, to arrive long after newer ones.</summary>
    public double DelayRate { get; init; }
    /// <summary>Relative weights of the step kinds.</summary>
    public double DeliverWeight { get; init; } = 50;
    public double TickWeight { get; init; } = 10;
    public double ReadyWeight { get; init; } = 25;
    public double ProposeWeight { get; init; } = 5;
    public double ReadWeight { get; init; } = 3;
    public double CrashWeight { get; init; }
    public double RestartWeight { get; init; } = 1;
    public double PartitionWeight { get; init; }
    public double HealWeight { get; init; } = 0.5;
    public double ConfigChangeWeight { get; init; }
    public double SnapshotWeight { get; init; }
    public double TransferWeight { get; init; }
    public long MaxUncommittedBytes { get; init; } = 1024 * 1024;
    public int MaxSnapshotChunkBytes { get; init; } = 1024;
    public int MaxAppendEntries { get; init; } = 8;
    public int MaxInflightAppends { get; init; } = 4;

    /// <summary>A fault-free profile: the baseline every test of liveness starts from.</summary>
    public static FaultProfile Calm(int nodes) => new() { Nodes = nodes };

    public static FaultProfile Swarm(ulong seed)
    {
        var random = new SimRandom(seed ^ 0x5A5A_5A5A_5A5A_5A5AUL);
        return new FaultProfile
        {
            Nodes = random.Chance(0.5) ? 3 : 5,
            PreVote = random.Chance(0.75),
            CheckQuorum = random.Chance(0.75),
            DropRate = random.Chance(0.3) ? 0 : random.Between(0, 0.2),
            DuplicateRate = random.Chance(0.5) ? 0 : random.Between(0, 0.1),
            DelayRate = random.Chance(0.5) ? 0 : random.Between(0, 0.05),
            DeliverWeight = random.Between(30, 70),
            TickWeight = random.Between(4, 16),
            ReadyWeight = random.Between(15, 35),
            ProposeWeight = random.Between(1, 10),
            ReadWeight = random.Between(0.5, 6),
            CrashWeight = random.Chance(0.2) ? 0 : random.Between(0.02, 1.5),
            RestartWeight = random.Between(0.2, 2),
            PartitionWeight = random.Chance(0.2) ? 0 : random.Between(0.05, 1.5),
            HealWeight = random.Between(0.1, 1),
            ConfigChangeWeight = random.Chance(0.25) ? 0 : random.Between(0.05, 1.5),
            SnapshotWeight = random.Chance(0.25) ? 0 : random.Between(0.05, 2),
            TransferWeight = random.Chance(0.4) ? 0 : random.Between(0.02, 0.5),
            MaxUncommittedBytes = random.Chance(0.3) ? 8 * (1 + random.Next(16)) : 1024 * 1024,
            MaxSnapshotChunkBytes = 8 * (1 + random.Next(128)),
            MaxAppendEntries = 1 + random.Next(16),
            MaxInflightAppends = 1 + random.Next(8),
        };
    }

    public override string ToString() =>
        $"nodes={Nodes} preVote={PreVote} checkQuorum={CheckQuorum} drop={DropRate:F3} dup={DuplicateRate:F3} delay={DelayRate:F3} " +
        $"weights(deliver={DeliverWeight:F1} tick={TickWeight:F1} ready={ReadyWeight:F1} propose={ProposeWeight:F1} " +
        $"read={ReadWeight:F1} crash={CrashWeight:F2} restart={RestartWeight:F2} partition={PartitionWeight:F2} heal={HealWeight:F2} " +
        $"config={ConfigChangeWeight:F2} snapshot={SnapshotWeight:F2} transfer={TransferWeight:F2}) " +
        $"maxAppend={MaxAppendEntries} maxInflight={MaxInflightAppends} maxUncommitted={MaxUncommittedBytes} chunk={MaxSnapshotChunkBytes}";
}
