using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using KvActors.Chaos.Tests.Verification;
using KvActors.Chaos.Tests.Workloads;
using KvActors.Client;
using Xunit.Abstractions;

namespace KvActors.Chaos.Tests.Harness;

/// <summary>One chaos scenario: a workload against a cluster while faults come and go.</summary>
internal sealed record Scenario(string Name, int Nodes, Func<int, IWorkload> Workload, Fault[] Faults, TimeSpan Duration, int Seed,
    string? NodeConfig = null)
{
    /// <summary>Whether its faults cut links, so that its nodes run behind a <see cref="NetworkProxy"/>.</summary>
    public bool Partitions => Faults.Any(FaultInjector.CutsLinks);
}

/// <summary>What one scenario's run produced.</summary>
internal sealed record RunOutcome(string Scenario, int Operations, int Faults, CheckResult Check, string Folder);

/// <summary>
/// Runs a scenario: starts the cluster, runs the workload, and once enough operations succeeded injects faults
/// (<see cref="FaultInjector"/>: one at a time, healed before the next) until the duration is over; then heals everything, waits for
/// every shard to have a leader, reads back what the workload touched, writes the history (<c>history.jsonl</c>, with
/// the node logs beside it) and checks it. A run that completed too few operations before its first fault, or injected
/// none, is vacuous and fails.
/// </summary>
internal static class ChaosRun
{
    /// <summary>Operations that must succeed before the first fault: below this a run tests nothing.</summary>
    public const int MinOperationsBeforeFault = 50;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(90);

    public static async Task<RunOutcome> RunAsync(Scenario scenario, string folder, ITestOutputHelper log)
    {
        await using var processes = new ProcessHarness(log);
        return await processes.ReportingFailureAsync(() => RunOnAsync(processes, scenario, folder, log));
    }

    private static async Task<RunOutcome> RunOnAsync(ProcessHarness processes, Scenario scenario, string folder, ITestOutputHelper log)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(scenario.Seed);
        string? config = null;
        if (scenario.NodeConfig is not null)
        {
            config = Path.Combine(folder, "node.conf");
            await File.WriteAllTextAsync(config, scenario.NodeConfig);
        }
        await using var cluster = new ChaosCluster(processes, folder, scenario.Nodes, shards: 4, config, scenario.Partitions);
        Say(log, $"{scenario.Name}: starting {scenario.Nodes} nodes in {folder} (seed {scenario.Seed})");
        await cluster.StartAsync(StartTimeout);

        using ActorSystem system = ActorSystem.Create("chaos", ConfigurationFactory.ParseString(KvClientConfig.Silent).WithFallback(KvClientConfig.Default));
        var history = new HistoryRecorder();
        var clients = new ClientProcesses(system, cluster.Endpoints, history);
        IWorkload workload = scenario.Workload(scenario.Seed);
        using var stop = new CancellationTokenSource();
        Task running = workload.RunAsync(clients, stop.Token);
        var faults = new FaultInjector(cluster, scenario.Faults, random, line => Say(log, $"{scenario.Name}: {line}"));
        try
        {
            var warmup = Stopwatch.StartNew();
            while (clients.Ok < MinOperationsBeforeFault)
            {
                if (running.IsCompleted) await running;          // a workload that died says why
                if (warmup.Elapsed > StartTimeout)
                    throw new InvalidOperationException($"{scenario.Name}: vacuous run: only {clients.Ok} operations succeeded in {StartTimeout} before any fault");
                await Task.Delay(100);
            }
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < scenario.Duration)
            {
                await faults.InjectNextAsync($"{clients.Ok} ops ok so far");
                await Task.Delay(TimeSpan.FromMilliseconds(random.Next(1_000, 3_000)));
            }
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
        if (faults.Injected == 0) throw new InvalidOperationException($"{scenario.Name}: vacuous run: no fault was injected");
        if (cluster.Network is { NodeConnections: 0 })
            throw new InvalidOperationException($"{scenario.Name}: vacuous run: the proxy saw no connection between nodes, so no partition cut anything");

        await cluster.HealAsync(RecoveryTimeout);
        using (var finalRead = new CancellationTokenSource(RecoveryTimeout)) await workload.FinalReadAsync(clients, finalRead.Token);

        HistoryEvent[] events = [.. history.Events.OrderBy(e => e.Time)];
        string historyPath = Path.Combine(folder, "history.jsonl");
        HistoryJson.Write(historyPath, events);
        CheckResult check = HistoryChecker.Check(events);
        if (workload.ExtraChecks() is { Count: > 0 } extra) check = check with { Anomalies = [.. check.Anomalies, .. extra] };
        int rejoined = cluster.LogPaths.Sum(path => CountLines(path, l => l.StartsWith("node ", StringComparison.Ordinal) && l.Contains(" stopped: ", StringComparison.Ordinal)));
        Say(log, $"{scenario.Name}: {faults.Injected} faults, {rejoined} restarts of nodes downed, quarantined or on an island; {check.Summary}; history {historyPath}; node logs {string.Join(", ", cluster.LogPaths)}");
        return new RunOutcome(scenario.Name, check.Operations, faults.Injected, check, folder);
    }

    private static int CountLines(string path, Func<string, bool> match)
    {
        if (!File.Exists(path)) return 0;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        int count = 0;
        while (reader.ReadLine() is { } line)
        {
            if (match(line)) count++;
        }
        return count;
    }

    /// <summary>A line for the test log and for the console (which <c>dotnet test</c> shows and scripts read).</summary>
    public static void Say(ITestOutputHelper log, string line)
    {
        log.WriteLine(line);
        Console.WriteLine(line);
    }
}
