using System.Collections.Concurrent;
using KvActors.Client;
using KvActors.Chaos.Tests.Harness;
using Xunit.Abstractions;

namespace KvActors.Chaos.Tests;

/// <summary>
/// Durability with real processes: a write acknowledged to the client is on a majority of disks, so it survives
/// <c>kill -9</c> of any node during a write burst and then of every node at once, and comes back after a restart.
/// </summary>
public sealed class KillNineTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempDirectory _data = new("kill9");

    [Fact]
    public async Task Acknowledged_writes_survive_kill_9_of_one_node_mid_burst_then_of_every_node()
    {
        await using var processes = new ProcessHarness(log);
        string[] endpoints = [.. Enumerable.Range(0, 3).Select(_ => $"127.0.0.1:{ProcessHarness.FreePort()}")];
        var nodes = new RunningProcess?[3];
        async Task StartAsync(int i)
        {
            nodes[i] = processes.Start($"n{i + 1}", "KvActors.Node", "start", "--node-id", $"n{i + 1}", "--port", endpoints[i].Split(':')[1],
                "--seeds", string.Join(",", endpoints), "--data-dir", Path.Combine(_data.Path, $"n{i + 1}"), "--shards", "4");
            await nodes[i]!.WaitForLineAsync(l => l.StartsWith("started", StringComparison.Ordinal));
        }
        await Task.WhenAll(Enumerable.Range(0, 3).Select(StartAsync));

        var acked = new ConcurrentDictionary<string, string>();
        await using (KvClient client = KvClient.Connect(endpoints))
        {
            int next = 0;
            async Task WriterAsync()
            {
                while (true)
                {
                    int k = Interlocked.Increment(ref next);
                    if (k > 400) return;
                    try
                    {
                        await client.PutAsync($"k{k}", $"v{k}");
                        acked[$"k{k}"] = $"v{k}";
                    }
                    catch (KvException)
                    {
                        // Not acknowledged (a leader died under it): the test promises nothing about it.
                    }
                }
            }
            Task burst = Task.WhenAll(Enumerable.Range(0, 8).Select(_ => WriterAsync()));
            while (acked.Count < 100) await Task.Delay(20);
            nodes[2]!.Kill9();
            await burst;
        }
        acked.Count.Should().BeGreaterThan(300, "two of three nodes keep every shard available");

        nodes[0]!.Kill9();
        nodes[1]!.Kill9();
        await Task.WhenAll(Enumerable.Range(0, 3).Select(StartAsync));
        // Replicas replay their journals after "started"; on a loaded machine that took 10 s, longer than one request's
        // deadline. The test is about what survives, so it waits for the shards to have leaders before it reads.
        await ChaosCluster.WaitForRecoveryAsync(endpoints, ["n1", "n2", "n3"], shards: 4, TimeSpan.FromSeconds(90));

        await using KvClient reader = KvClient.Connect(endpoints);
        foreach ((string key, string value) in acked)
            (await reader.GetAsync(key))?.ValueText.Should().Be(value, $"{key} was acknowledged before the kills");
    }

    public void Dispose() => _data.Dispose();
}
