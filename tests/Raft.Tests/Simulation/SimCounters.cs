namespace KvActors.Raft.Tests.Simulation;

/// <summary>How much of each kind of event a run (or a whole test) went through.</summary>
public sealed class SimCounters
{
    public long Crashes { get; set; }
    public long ConfigChanges { get; set; }
    public long Compactions { get; set; }
    public long SnapshotsRestored { get; set; }
    public long Transfers { get; set; }
    public long TooBusy { get; set; }

    public void Add(SimCounters other)
    {
        Crashes += other.Crashes;
        ConfigChanges += other.ConfigChanges;
        Compactions += other.Compactions;
        SnapshotsRestored += other.SnapshotsRestored;
        Transfers += other.Transfers;
        TooBusy += other.TooBusy;
    }

    public override string ToString() =>
        $"{Crashes} crashes, {ConfigChanges} membership changes, {Compactions} compactions, " +
        $"{SnapshotsRestored} snapshots installed, {Transfers} leader transfers, {TooBusy} proposals refused as too busy";
}
