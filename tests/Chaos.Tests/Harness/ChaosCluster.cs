using System.Globalization;
using KvActors.Client;
using KvActors.Protocol.Wire;

namespace KvActors.Chaos.Tests.Harness;

/// <summary>
/// A cluster of real node processes (<c>start</c>; every node a seed except the last <c>joiners</c>, which join later)
/// on loopback, each with its data and its log in <c>root/nN</c>, that a chaos run breaks and heals: <c>kill -9</c> and restart, <c>SIGSTOP</c> and <c>SIGCONT</c>,
/// and, when it runs behind a <see cref="NetworkProxy"/>, partitions. Only processes it started are signalled, by PID.
/// </summary>
internal sealed class ChaosCluster : IAsyncDisposable
{
    private readonly ProcessHarness _processes;
    private readonly string _root;
    private readonly string? _configFile;
    private readonly RunningProcess?[] _running;
    private readonly bool[] _paused;
    private readonly int[]? _bindPorts;
    private readonly int _seeds;
    private readonly bool[] _started;

    /// <param name="processes">Starts and ends the node processes.</param>
    /// <param name="root">The folder for the nodes' data and logs.</param>
    /// <param name="nodes">How many nodes.</param>
    /// <param name="shards">The shard count.</param>
    /// <param name="configFile">A HOCON file for every node, or null.</param>
    /// <param name="partitionable">Put a <see cref="NetworkProxy"/> between the nodes, so that links can be cut.</param>
    /// <param name="joiners">How many of the nodes (the last ones) are no seeds: <see cref="StartAsync"/> leaves them
    /// out, and each joins the formed cluster when <see cref="StartNodeAsync"/> starts it.</param>
    public ChaosCluster(ProcessHarness processes, string root, int nodes, int shards, string? configFile, bool partitionable, int joiners = 0)
    {
        _seeds = nodes - joiners;
        _started = new bool[nodes];
        _processes = processes;
        _root = root;
        _configFile = configFile;
        _running = new RunningProcess?[nodes];
        _paused = new bool[nodes];
        Count = nodes;
        Shards = shards;
        int[] publicPorts = [.. Enumerable.Range(0, nodes).Select(_ => ProcessHarness.FreePort())];
        Endpoints = [.. publicPorts.Select(port => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}"))];
        if (partitionable)
        {
            _bindPorts = [.. Enumerable.Range(0, nodes).Select(_ => ProcessHarness.FreePort())];
            Network = NetworkProxy.Start(publicPorts, _bindPorts);
        }
    }

    /// <summary>The nodes' endpoints, <c>127.0.0.1:port</c>, chosen once (placement depends on them).</summary>
    public string[] Endpoints { get; }

    /// <summary>The seeds' endpoints: where clients connect.</summary>
    public string[] Contacts => Endpoints[.._seeds];

    /// <summary>The proxy between the nodes, when the cluster is partitionable.</summary>
    public NetworkProxy? Network { get; }

    public int Count { get; }

    public int Shards { get; }

    /// <summary>Replicas per shard: the nodes' default <c>--replication</c>.</summary>
    public int Replication => Math.Min(3, _seeds);

    public string NodeId(int i) => string.Create(CultureInfo.InvariantCulture, $"n{i + 1}");

    public string LogPath(int i) => Path.Combine(_root, NodeId(i), "node.log");

    public IEnumerable<string> LogPaths => Enumerable.Range(0, Count).Select(LogPath);

    /// <summary>What node <paramref name="i"/> has printed since it was last started.</summary>
    public IReadOnlyCollection<string> Lines(int i) => _running[i]?.Lines ?? [];

    public bool IsRunning(int i) => _running[i] is { Process.HasExited: false };

    public bool IsPaused(int i) => _paused[i];

    /// <summary>Starts every seed and waits until every seed is up and every shard has a leader.</summary>
    public async Task StartAsync(TimeSpan within)
    {
        await Task.WhenAll(Enumerable.Range(0, _seeds).Select(StartNodeAsync));
        await WaitForRecoveryAsync(within);
    }

    /// <summary>Starts node <paramref name="i"/> (again, on its data) and waits for its "started" line.</summary>
    public async Task StartNodeAsync(int i)
    {
        var arguments = new List<string>
        {
            "start", "--node-id", NodeId(i), "--port", Endpoints[i].Split(':')[1], "--seeds", string.Join(",", Endpoints[.._seeds]),
            "--data-dir", Path.Combine(_root, NodeId(i)), "--shards", Shards.ToString(CultureInfo.InvariantCulture),
        };
        if (_bindPorts is not null) arguments.AddRange(["--bind-port", _bindPorts[i].ToString(CultureInfo.InvariantCulture)]);
        if (_configFile is not null) arguments.AddRange(["--config", _configFile]);
        _paused[i] = false;
        _started[i] = true;
        // Armed by creating the file (ArmFailpoint); the node only looks while the variable names it.
        Dictionary<string, string> environment = Failpoints.ToDictionary(f => f.Variable, f => FailpointFile(i, f));
        _running[i] = _processes.StartLogged(NodeId(i), "KvActors.Node", LogPath(i), environment, [.. arguments]);
        await _running[i]!.WaitForLineAsync(l => l.StartsWith("started", StringComparison.Ordinal));
    }

    /// <summary>The test-only failpoints of every node (src/Node/Replica/Failpoints.cs): a file arms each.</summary>
    public static readonly Failpoint[] Failpoints = [Failpoint.CrashDuringSnapshot, Failpoint.LoseUnsynced];

    /// <summary>Arms a failpoint of node <paramref name="i"/>: it fires (and kills the node) at its next chance.</summary>
    public void ArmFailpoint(int i, Failpoint failpoint) => File.WriteAllText(FailpointFile(i, failpoint), "armed by the chaos run");

    /// <summary>Disarms it, if it did not fire.</summary>
    public void DisarmFailpoint(int i, Failpoint failpoint) => File.Delete(FailpointFile(i, failpoint));

    private string FailpointFile(int i, Failpoint failpoint) => Path.Combine(_root, $"{NodeId(i)}-{failpoint.Name}");

    /// <summary><c>kill -9</c>: the process ends at once; what it had not written is lost.</summary>
    public void Kill(int i)
    {
        if (_paused[i]) Resume(i);     // a stopped process takes SIGKILL too, but keep the bookkeeping simple
        _running[i]?.Kill9();
    }

    /// <summary>
    /// Deletes everything in stopped node <paramref name="i"/>'s data directory but its log: its next start is a new
    /// incarnation (a fresh replica id, no replicas) that the shard managers must rebuild the lost replicas on.
    /// </summary>
    public void Wipe(int i)
    {
        if (IsRunning(i)) throw new InvalidOperationException($"{NodeId(i)} is running: stop it before wiping its data");
        foreach (string file in Directory.EnumerateFiles(Path.Combine(_root, NodeId(i))))
        {
            if (file != LogPath(i)) File.Delete(file);
        }
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

    /// <summary>Heals every link, resumes paused nodes, restarts stopped ones, and waits until every started node is up and every shard has a leader again.</summary>
    public async Task HealAsync(TimeSpan within)
    {
        Network?.HealAll();
        for (int i = 0; i < Count; i++)
        {
            if (_paused[i]) Resume(i);
        }
        for (int i = 0; i < Count; i++)
        {
            if (_started[i] && !IsRunning(i)) await StartNodeAsync(i);
        }
        await WaitForRecoveryAsync(within);
    }

    /// <summary>Polls the cluster's status until every node started so far is up in the cluster and every shard reports a leader.</summary>
    public Task WaitForRecoveryAsync(TimeSpan within) =>
        WaitForRecoveryAsync(Contacts, [.. Enumerable.Range(0, Count).Where(i => _started[i]).Select(NodeId)], Shards, within);

    /// <summary>
    /// Polls the status of the cluster at <paramref name="endpoints"/> until the nodes <paramref name="nodeIds"/> are
    /// up and each of its <paramref name="shards"/> shards reports a leader; fails after <paramref name="within"/>,
    /// saying what was still missing.
    /// </summary>
    public static Task WaitForRecoveryAsync(string[] endpoints, string[] nodeIds, int shards, TimeSpan within) =>
        WaitForStatusAsync(endpoints, "recover", status =>
        {
            string[] notUp = [.. nodeIds.Where(id => !status.Nodes.Any(n => n.Id == id && n.Status == "up"))];
            return notUp.Length == 0 && status.Shards.Count == shards && status.Shards.All(s => s.HasLeader)
                ? null
                : $"{status.Shards.Count(s => s.HasLeader)} of {shards} shards have a leader; nodes not up: {(notUp.Length == 0 ? "none" : string.Join(",", notUp))}";
        }, within);

    /// <summary>
    /// Polls the status of the cluster at <paramref name="endpoints"/> until <paramref name="missing"/> finds nothing
    /// missing (returns null) and returns that status; after <paramref name="within"/> fails with a
    /// <see cref="TimeoutException"/> saying the cluster did not <paramref name="what"/> and what was still missing.
    /// </summary>
    public static async Task<ClusterStatus> WaitForStatusAsync(string[] endpoints, string what, Func<ClusterStatus, string?> missing, TimeSpan within)
    {
        await using KvClient client = KvClient.Connect(endpoints, config: KvClientConfig.Silent);
        using var deadline = new CancellationTokenSource(within);
        string last = "no answer yet";
        while (true)
        {
            try
            {
                ClusterStatus status = await client.StatusAsync(TimeSpan.FromSeconds(5), deadline.Token);
                if (missing(status) is not { } gap) return status;
                last = gap;
            }
            catch (KvException e)
            {
                last = e.Message;
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"the cluster did not {what} within {within}: {last}");
            }
            try
            {
                await Task.Delay(250, deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"the cluster did not {what} within {within}: {last}");
            }
        }
    }

    /// <summary>Every shard's voters, learners, leader and move, for a failure message.</summary>
    public static string DescribeShards(ClusterStatus status) =>
        string.Join("; ", status.Shards.Select(s =>
            $"shard {s.Id}: voters {string.Join(",", s.Voters)} learners {string.Join(",", s.Learners)} leader {(s.HasLeader ? s.Leader : "-")} {s.Move}"));

    public async ValueTask DisposeAsync()
    {
        if (Network is not null) await Network.DisposeAsync();
    }
}
