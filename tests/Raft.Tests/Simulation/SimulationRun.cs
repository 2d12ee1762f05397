using System.Diagnostics;
using System.Globalization;

namespace KvActors.Raft.Tests.Simulation;

/// <summary>
/// Which seeds a simulation test runs, from the environment:
/// <c>KVACTORS_SIM_SEED=n</c> replays exactly seed n; <c>KVACTORS_SIM_SEEDS=N</c> runs N seeds (a soak), starting
/// at <c>KVACTORS_SIM_FIRST_SEED</c> (default 1); <c>KVACTORS_SIM_STEPS=n</c> sets the steps per seed.
/// </summary>
public sealed class SimulationRun
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private SimulationRun(IReadOnlyList<ulong> seeds, int stepsPerSeed)
    {
        Seeds = seeds;
        StepsPerSeed = stepsPerSeed;
    }

    public IReadOnlyList<ulong> Seeds { get; }
    public int StepsPerSeed { get; }
    public long Steps { get; private set; }
    public int SeedsRun { get; private set; }
    public long Acknowledged { get; private set; }
    public long ReadsServed { get; private set; }
    public long Leaders { get; private set; }
    public SimCounters Counters { get; } = new();

    public static SimulationRun FromEnvironment(int defaultSeeds, int stepsPerSeed, ulong firstSeed = 1)
    {
        int steps = Read("KVACTORS_SIM_STEPS") is { } s ? (int)s : stepsPerSeed;
        if (Read("KVACTORS_SIM_SEED") is { } one) return new SimulationRun([one], steps);
        ulong count = Read("KVACTORS_SIM_SEEDS") ?? (ulong)defaultSeeds;
        ulong first = Read("KVACTORS_SIM_FIRST_SEED") ?? firstSeed;
        var seeds = new List<ulong>();
        for (ulong i = 0; i < count; i++) seeds.Add(first + i);
        return new SimulationRun(seeds, steps);
    }

    private static ulong? Read(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } text
            ? ulong.Parse(text, CultureInfo.InvariantCulture)
            : null;

    public void Record(ClusterSimulation sim)
    {
        SeedsRun++;
        Steps += sim.StepCount;
        Acknowledged += sim.Invariants.Acknowledged;
        ReadsServed += sim.Invariants.ReadsServed;
        Leaders += sim.Invariants.LeadersElected;
        Counters.Add(sim.Counters);
    }

    /// <summary>The failure text for a violation: seed, how to replay it, the profile and the trace's tail.</summary>
    public static string Failure(ClusterSimulation sim, string violation) =>
        $"seed {sim.Seed}, step {sim.StepCount}: {violation}\n" +
        $"replay: KVACTORS_SIM_SEED={sim.Seed} dotnet test tests/Raft.Tests --filter <this test>\n" +
        $"profile: {sim.Profile}\n" +
        $"last events:\n{sim.Trace.Tail(150)}";

    /// <summary>One line scripts read: <c>raft-sim: &lt;seeds&gt; seeds, &lt;steps&gt; steps, &lt;violations&gt; violations</c>.</summary>
    public string Summary(int violations) =>
        $"raft-sim: {SeedsRun} seeds, {Steps} steps, {violations} violations";

    public string Details =>
        $"{Steps / Math.Max(0.001, _clock.Elapsed.TotalSeconds):F0} steps/s over {_clock.Elapsed.TotalSeconds:F1} s; " +
        $"{Leaders} leaders elected, {Acknowledged} writes acknowledged, {ReadsServed} linearizable reads served; {Counters}";
}
