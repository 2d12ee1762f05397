using System.Collections.Concurrent;
using System.Diagnostics;
using KvActors.Chaos.Tests.Harness;
using KvActors.Client;
using KvActors.Protocol.Wire;
using Xunit.Abstractions;

namespace KvActors.Chaos.Tests;

/// <summary>
/// Self-healing with real node processes and the default settings: a node killed for good has its replicas rebuilt
/// on the other nodes, with no acknowledged write lost, and when it comes back after all its replicas were replaced
/// it deletes them by itself; a fifth node started later takes replicas from the others.
/// </summary>
public sealed class HealingTests(ITestOutputHelper log) : IDisposable
{
    private static readonly TimeSpan HealWithin = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan BalanceWithin = TimeSpan.FromMinutes(2);
    private readonly TempDirectory _data = new("healing");

    [Fact]
    public async Task After_kill_9_of_one_of_four_nodes_every_shard_has_three_voters_on_live_nodes_all_data_reads_back_and_a_fifth_node_takes_replicas()
    {
        // KVACTORS_CHAOS_OUT=DIR keeps the node logs, as for the chaos campaign; a failure keeps them anyway.
        string root = Environment.GetEnvironmentVariable("KVACTORS_CHAOS_OUT") is { Length: > 0 } keep ? Path.Combine(keep, "healing") : _data.Path;
        try
        {
            await KillOneOfFourAsync(root);
        }
        catch (Exception e)
        {
            _data.Keep();
            throw new InvalidOperationException($"{e.Message} (node logs in {root})", e);
        }
    }

    private async Task KillOneOfFourAsync(string root)
    {
        await using var processes = new ProcessHarness(log);
        await processes.ReportingFailureAsync(() => KillOneOfFourAsync(processes, root));
    }

    private async Task KillOneOfFourAsync(ProcessHarness processes, string root)
    {
        await using var cluster = new ChaosCluster(processes, root, nodes: 5, shards: 4, configFile: null, partitionable: false, joiners: 1);
        await cluster.StartAsync(TimeSpan.FromSeconds(90));
        const int victim = 1, joiner = 4;
        string victimId = cluster.NodeId(victim), joinerId = cluster.NodeId(joiner);
        // Voters named by live nodes only: a node the directory has dropped shows as replica-<id>, not as its node id.
        string[] survivors = [.. Enumerable.Range(0, 4).Where(i => i != victim).Select(cluster.NodeId)];

        await using KvClient client = KvClient.Connect(cluster.Contacts);
        // The initial placement may leave a node two replicas ahead: what the victim holds is read with no move running.
        ClusterStatus before = await ChaosCluster.WaitForStatusAsync(cluster.Contacts, "settle its replicas", status =>
            Balanced(status, nodes: 4) ? null : ChaosCluster.DescribeShards(status), BalanceWithin);
        uint[] hostedByVictim = [.. before.Shards.Where(s => s.Voters.Contains(victimId)).Select(s => s.Id)];
        hostedByVictim.Should().NotBeEmpty("with 4 shards of 3 replicas on 4 nodes every node holds some");

        var acked = new ConcurrentDictionary<string, string>();
        using var stopWriting = new CancellationTokenSource();
        int next = 0;
        async Task WriterAsync()
        {
            while (!stopWriting.IsCancellationRequested)
            {
                int k = Interlocked.Increment(ref next);
                try
                {
                    await client.PutAsync($"k{k}", $"v{k}");
                    acked[$"k{k}"] = $"v{k}";
                }
                catch (KvException)
                {
                    // Not acknowledged (its leader died under it): the test promises nothing about it.
                }
                await Task.Delay(10);
            }
        }
        Task writers = Task.WhenAll(Enumerable.Range(0, 4).Select(_ => WriterAsync()));
        while (acked.Count < 200) await Task.Delay(20);

        cluster.Kill(victim);
        var clock = Stopwatch.StartNew();
        await ChaosCluster.WaitForStatusAsync(cluster.Contacts, $"bring every shard back to 3 voters without {victimId}",
            status => Settled(status) && status.Shards.All(s => s.Voters.All(survivors.Contains))
                ? null
                : ChaosCluster.DescribeShards(status), HealWithin);
        ChaosRun.Say(log, $"healing: healed {hostedByVictim.Length} shards of {victimId} in {clock.Elapsed.TotalSeconds:F1} s");
        await stopWriting.CancelAsync();
        await writers;

        foreach ((string key, string value) in acked)
            (await client.GetAsync(key))?.ValueText.Should().Be(value, $"{key} was acknowledged before or while {victimId} was lost");

        // The victim comes back on its old data: every replica it had was replaced, so it deletes them all.
        await cluster.StartNodeAsync(victim);
        clock.Restart();
        while (cluster.Lines(victim).Count(l => l.Contains("is no longer a member of the shard", StringComparison.Ordinal)) < hostedByVictim.Length)
        {
            if (clock.Elapsed > HealWithin)
                throw new TimeoutException($"{victimId} came back but did not remove its {hostedByVictim.Length} replaced replicas within {HealWithin}; see {cluster.LogPath(victim)}");
            await Task.Delay(200);
        }
        ChaosRun.Say(log, $"healing: {victimId} removed its {hostedByVictim.Length} replaced replicas {clock.Elapsed.TotalSeconds:F1} s after it came back");

        // The victim, now empty, and a fifth node that joins with nothing take replicas from the others: 12 replicas on
        // 5 nodes end at 2 or 3 each. (The victim's new replicas have new ids: it never answers to one that voted.)
        await cluster.StartNodeAsync(joiner);
        clock.Restart();
        ClusterStatus balanced = await ChaosCluster.WaitForStatusAsync(cluster.Contacts, $"move replicas to {victimId} and {joinerId}", status =>
            Balanced(status, nodes: 5) ? null
                : ChaosCluster.DescribeShards(status), BalanceWithin);
        ChaosRun.Say(log, $"balancing: {joinerId} took {balanced.Shards.Count(s => s.Voters.Contains(joinerId))} replicas and {victimId} " +
                          $"{balanced.Shards.Count(s => s.Voters.Contains(victimId))} in {clock.Elapsed.TotalSeconds:F1} s; " +
                          $"replicas per node: {string.Join(", ", Counts(balanced).Select(c => $"{c.Key} {c.Value}"))}; " +
                          $"leaders per node: {string.Join(", ", Counts(balanced).Keys.Select(n => $"{n} {balanced.Shards.Count(s => s.Leader == n)}"))}");
        foreach ((string key, string value) in acked)
            (await client.GetAsync(key))?.ValueText.Should().Be(value, $"{key} was acknowledged before the replicas moved");
    }

    /// <summary>Every shard has a leader and 3 voters, no learner, and no move in progress.</summary>
    private static bool Settled(ClusterStatus status) =>
        status.Shards.Count == 4 && status.Shards.All(s => s.HasLeader && s.Voters.Count == 3 && s.Learners.Count == 0 && s.Move.Length == 0);

    /// <summary>Settled, with <paramref name="nodes"/> nodes holding replicas, each within one of the others.</summary>
    private static bool Balanced(ClusterStatus status, int nodes) =>
        Settled(status) && Counts(status) is var counts && counts.Count == nodes && counts.Values.Max() - counts.Values.Min() <= 1;

    /// <summary>Voters per node id, for the nodes that hold any.</summary>
    private static Dictionary<string, int> Counts(ClusterStatus status) =>
        status.Shards.SelectMany(s => s.Voters).GroupBy(v => v).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());

    public void Dispose() => _data.Dispose();
}
