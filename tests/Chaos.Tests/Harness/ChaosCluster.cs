using System.Globalization;
using KvActors.Client;
using KvActors.Protocol.Wire;

namespace KvActors.Chaos.Tests.Harness;

/// <summary>
/// A cluster of real node processes (<c>start</c>, every node a seed) on loopback, each with its data and its log in
/// <c>root/nN</c>, that a chaos run breaks and heals: <c>kill -9</c> and restart, <c>SIGSTOP</c> and <c>SIGCONT</c>.
/// Only processes it started are signalled, by PID.
/// </summary>
internal sealed class ChaosCluster(ProcessHarness processes, string root, int nodes, int shards, string? configFile)
{
    private readonly RunningProcess?[] _running = new RunningProcess?[nodes];
    private readonly bool[] _paused = new bool[nodes];

    /// <summary>The nodes' endpoints, <c>127.0.0.1:port</c>, chosen once (placement depends on them).</summary>
    public string[] Endpoints { get; } =
        [.. Enumerable.Range(0, nodes).Select(_ => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{ProcessHarness.FreePort()}"))];

    public int Count => nodes;

    public int Shards => shards;

    public string NodeId(int i) => string.Create(CultureInfo.InvariantCulture, $"n{i + 1}");

    public string LogPath(int i) => Path.Combine(root, NodeId(i), "node.log");

    public IEnumerable<string> LogPaths => Enumerable.Range(0, nodes).Select(LogPath);

    public bool IsRunning(int i) => _running[i] is { Process.HasExited: false };

    public bool IsPaused(int i) => _paused[i];

    /// <summary>Starts every node and waits until every shard has a leader.</summary>
    public async Task StartAsync(TimeSpan within)
    {
        await Task.WhenAll(Enumerable.Range(0, nodes).Select(StartNodeAsync));
        await WaitForLeadersAsync(within);
    }

    /// <summary>Starts node <paramref name="i"/> (again, on its data) and waits for its "started" line.</summary>
    public async Task StartNodeAsync(int i)
    {
        var arguments = new List<string>
        {
            "start", "--node-id", NodeId(i), "--port", Endpoints[i].Split(':')[1], "--seeds", string.Join(",", Endpoints),
            "--data-dir", Path.Combine(root, NodeId(i)), "--shards", shards.ToString(CultureInfo.InvariantCulture),
        };
        if (configFile is not null) arguments.AddRange(["--config", configFile]);
        _paused[i] = false;
        _running[i] = processes.StartLogged(NodeId(i), "KvActors.Node", LogPath(i), [.. arguments]);
        await _running[i]!.WaitForLineAsync(l => l.StartsWith("started", StringComparison.Ordinal));
    }

    /// <summary><c>kill -9</c>: the process ends at once; what it had not written is lost.</summary>
    public void Kill(int i)
    {
        if (_paused[i]) Resume(i);     // a stopped process takes SIGKILL too, but keep the bookkeeping simple
        _running[i]?.Kill9();
    }

    /// <summary><c>SIGSTOP</c>: the process freezes (its timers, sockets and disk writes with it) until resumed.</summary>
    public void Pause(int i)
    {
        _running[i]!.Signal("STOP");
        _paused[i] = true;
    }

    /// <summary><c>SIGCONT</c>.</summary>
    public void Resume(int i)
    {
        _running[i]!.Signal("CONT");
        _paused[i] = false;
    }

    /// <summary>Resumes paused nodes, restarts stopped ones, and waits until every shard has a leader again.</summary>
    public async Task HealAsync(TimeSpan within)
    {
        for (int i = 0; i < nodes; i++)
        {
            if (_paused[i]) Resume(i);
        }
        for (int i = 0; i < nodes; i++)
        {
            if (!IsRunning(i)) await StartNodeAsync(i);
        }
        await WaitForLeadersAsync(within);
    }

    /// <summary>Polls the cluster's status until every shard reports a leader.</summary>
    public async Task WaitForLeadersAsync(TimeSpan within)
    {
        await using KvClient client = KvClient.Connect(Endpoints, config: KvClientConfig.Silent);
        using var deadline = new CancellationTokenSource(within);
        string last = "no answer yet";
        while (true)
        {
            try
            {
                ClusterStatus status = await client.StatusAsync(TimeSpan.FromSeconds(5), deadline.Token);
                if (status.Shards.Count == shards && status.Shards.All(s => s.HasLeader)) return;
                last = $"{status.Shards.Count(s => s.HasLeader)} of {shards} shards have a leader";
            }
            catch (KvException e)
            {
                last = e.Message;
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"the cluster did not recover within {within}: {last}");
            }
            try
            {
                await Task.Delay(250, deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"the cluster did not recover within {within}: {last}");
            }
        }
    }
}
