using System.Globalization;
using KvActors.Chaos.Tests.Harness;
using KvActors.Chaos.Tests.Workloads;
using Xunit.Abstractions;

namespace KvActors.Chaos.Tests;

/// <summary>
/// The chaos campaign: real node processes under client load while nodes are killed (<c>kill -9</c>), paused
/// (<c>SIGSTOP</c>), crashed at failpoints (while writing a snapshot; losing every write not yet fsynced), wiped (and rebuilt by the shard managers) and partitioned (isolated, split, a flapping link, cut off past compaction), each history checked for linearizability, lost writes, writes applied twice and the bank total.
/// The default run is short (a few scenarios, a few minutes); <c>KVACTORS_CHAOS_MINUTES=N</c> repeats scenarios with
/// new seeds for about N minutes. <c>KVACTORS_CHAOS_OUT=DIR</c> keeps every history and the node logs there;
/// <c>KVACTORS_CHAOS_SCENARIOS=registers,bank</c> runs only the scenarios named.
/// </summary>
public sealed class ChaosTests(ITestOutputHelper log)
{
    [Fact]
    public async Task A_campaign_of_kills_pauses_and_partitions_finds_no_anomaly()
    {
        double minutes = double.TryParse(Environment.GetEnvironmentVariable("KVACTORS_CHAOS_MINUTES"), NumberStyles.Float, CultureInfo.InvariantCulture, out double m) ? m : 0;
        string? keep = Environment.GetEnvironmentVariable("KVACTORS_CHAOS_OUT");
        using var scratch = new TempDirectory("chaos");
        string root = keep ?? scratch.Path;
        int firstSeed = int.TryParse(Environment.GetEnvironmentVariable("KVACTORS_CHAOS_SEED"), out int s) ? s : 1;
        string[]? only = Environment.GetEnvironmentVariable("KVACTORS_CHAOS_SCENARIOS")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        if (only is not null && !Scenarios(firstSeed).Any(sc => only.Contains(sc.Name)))
            Assert.Fail($"KVACTORS_CHAOS_SCENARIOS names no scenario of {string.Join(",", Scenarios(firstSeed).Select(sc => sc.Name))}");
        var outcomes = new List<RunOutcome>();
        var campaign = System.Diagnostics.Stopwatch.StartNew();
        for (int round = 0; round == 0 || campaign.Elapsed < TimeSpan.FromMinutes(minutes); round++)
        {
            foreach (Scenario scenario in Scenarios(firstSeed + round).Where(s => only is null || only.Contains(s.Name)))
            {
                RunOutcome outcome = await ChaosRun.RunAsync(scenario, Path.Combine(root, $"{scenario.Name}-seed{scenario.Seed}"), log);
                outcomes.Add(outcome);
                if (!outcome.Check.Ok)
                {
                    scratch.Keep();
                    Assert.Fail($"{scenario.Name} (seed {scenario.Seed}): {outcome.Check}{Environment.NewLine}history and node logs kept in {outcome.Folder}");
                }
            }
        }
        string summary = $"chaos: {outcomes.Count} histories, {outcomes.Sum(o => o.Operations)} ops, {outcomes.Sum(o => o.Faults)} faults, " +
                         $"{outcomes.Sum(o => o.Check.Anomalies.Count)} anomalies";
        ChaosRun.Say(log, summary);
    }

    private static IEnumerable<Scenario> Scenarios(int seed)
    {
        // heal-after 5 s: a wiped node's replicas are rebuilt within seconds (no other fault here lasts that long, and
        // with every node holding every shard a replica has nowhere else to go).
        yield return new Scenario("registers", 3, s => new RegisterWorkload(keys: 8, processes: 12, s),
            [Fault.Kill, Fault.Pause, Fault.Isolate, Fault.Flap, Fault.LoseUnsynced, Fault.Wipe], TimeSpan.FromSeconds(50), seed,
            NodeConfig: "kvactors.shard-manager.heal-after = 5s");
        yield return new Scenario("bank", 3, s => new BankWorkload(accounts: 5, processes: 8, s),
            [Fault.Kill, Fault.Pause, Fault.Isolate, Fault.LoseUnsynced], TimeSpan.FromSeconds(35), seed);
        // Snapshots every 100 entries: a node's failpoint kills it while it writes one, and a node cut off for a few
        // seconds falls behind its leaders' compacted logs and must install a snapshot.
        yield return new Scenario("append", 3, s => new AppendWorkload(processes: 10, s), [Fault.CrashDuringSnapshot, Fault.IsolatePastCompaction, Fault.LoseUnsynced, Fault.Kill],
            TimeSpan.FromSeconds(35), seed, NodeConfig: "kvactors.replica.snapshot-every-entries = 100");
        yield return new Scenario("registers-5", 5, s => new RegisterWorkload(keys: 8, processes: 12, s),
            [Fault.Split, Fault.Kill, Fault.Isolate, Fault.Flap], TimeSpan.FromSeconds(35), seed);
    }
}
