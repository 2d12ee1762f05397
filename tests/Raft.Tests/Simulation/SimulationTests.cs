using KvActors.Raft.Tests.Simulation;
using Xunit.Abstractions;

namespace KvActors.Raft.Tests.Simulation;

/// <summary>Whole clusters of cores under random faults, with every safety invariant checked after every step.</summary>
public sealed class SimulationTests(ITestOutputHelper output)
{
    [Fact]
    public void Random_faults_never_break_safety_and_a_healed_cluster_makes_progress()
    {
        var run = SimulationRun.FromEnvironment(defaultSeeds: 1_000, stepsPerSeed: 20_000);
        foreach (ulong seed in run.Seeds)
        {
            var sim = new ClusterSimulation(seed, FaultProfile.Swarm(seed));
            for (int step = 0; step < run.StepsPerSeed; step++)
            {
                sim.Step();
                if (sim.Invariants.FirstViolation is { } violation) Fail(run, sim, violation);
            }
            sim.HealAndRequireProgress(maxTicks: 500);
            if (sim.Invariants.FirstViolation is { } late) Fail(run, sim, late);
            run.Record(sim);
        }
        Report(run.Summary(violations: 0));
        Report(run.Details);
        run.Acknowledged.Should().BePositive("a run that acknowledged no write tested nothing");
        if (run.Seeds.Count < 100) return;       // a replay of a few seeds need not draw every kind of fault
        run.ReadsServed.Should().BePositive("a run that served no read tested nothing");
        run.Counters.ConfigChanges.Should().BePositive("membership changes must be exercised");
        run.Counters.SnapshotsRestored.Should().BePositive("snapshot installs must be exercised");
        run.Counters.Transfers.Should().BePositive("leader transfers must be exercised");
    }

    private void Fail(SimulationRun run, ClusterSimulation sim, string violation)
    {
        Report(run.Summary(violations: 1));
        Assert.Fail(SimulationRun.Failure(sim, violation));
    }

    private void Report(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }
}
