using System.Globalization;
using System.Runtime.InteropServices;
using KvActors.Client;
using KvActors.Protocol.Wire;

namespace KvActors.Node.Hosting;

/// <summary>
/// The <c>local</c> command: a cluster of several node processes on 127.0.0.1, each a <c>start</c> of this same
/// program with its own data directory (<c>DIR/n1</c>, ...) and log (<c>DIR/n1/node.log</c>), all of them seeds. It
/// prints a line starting with <c>ready</c> once every shard has a leader; Ctrl-C stops every node cleanly; running
/// it again on the same directory brings the same data back.
/// </summary>
/// <param name="dataDirectory">Where the nodes keep their data and logs.</param>
/// <param name="nodes">How many nodes.</param>
/// <param name="shards">Shard count (when the cluster is first created).</param>
/// <param name="replication">Replicas per shard (when the cluster is first created).</param>
/// <param name="basePort">The first node's port; node i listens on <c>basePort + i - 1</c>.</param>
/// <param name="configFile">An operator's HOCON file passed to every node, or null.</param>
public sealed class LocalCluster(string dataDirectory, int nodes, int shards, int replication, int basePort, string? configFile)
{
    /// <summary>The first node's port when none is given; kvctl's default endpoints match.</summary>
    public const int DefaultBasePort = 7101;

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Runs the cluster until Ctrl-C / SIGTERM or until a node exits; returns the exit code.</summary>
    public async Task<int> RunAsync(TextWriter output, TextWriter error, CancellationToken cancel)
    {
        if (Problem() is { } problem)
        {
            await error.WriteLineAsync($"kvactors: {problem}");
            return NodeCommands.Usage;
        }
        string[] endpoints = [.. Enumerable.Range(0, nodes).Select(i => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{basePort + i}"))];
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

        await output.WriteLineAsync($"starting {nodes} nodes on {string.Join(",", endpoints)} ({shards} shards, replication {replication}); data and logs under {dataDirectory}");
        var children = new List<NodeChildProcess>();
        try
        {
            for (int i = 0; i < nodes; i++)
            {
                string nodeId = string.Create(CultureInfo.InvariantCulture, $"n{i + 1}");
                children.Add(NodeChildProcess.Start(nodeId, endpoints[i], endpoints, Path.Combine(dataDirectory, nodeId), shards, replication, configFile));
            }
            Task<NodeChildProcess> firstExit = Task.WhenAny(children.Select(async c => { await c.Process.WaitForExitAsync(CancellationToken.None); return c; }))
                .Unwrap();
            Task ready = WaitUntilReadyAsync(endpoints, shards, stop.Token);
            Task first = await Task.WhenAny(ready, firstExit, Task.Delay(Timeout.Infinite, stop.Token));
            if (first == ready && ready.IsCompletedSuccessfully)
            {
                await output.WriteLineAsync($"ready: {nodes} nodes, {shards} shards, every shard has a leader; endpoints {string.Join(",", endpoints)}");
                first = await Task.WhenAny(firstExit, Task.Delay(Timeout.Infinite, stop.Token));
            }
            if (first == firstExit)
            {
                NodeChildProcess exited = await firstExit;
                await error.WriteLineAsync($"kvactors: node {exited.NodeId} exited with code {exited.Process.ExitCode}; the last lines of {exited.LogPath}:");
                foreach (string line in exited.LogTail(15)) await error.WriteLineAsync("  " + line);
                return NodeCommands.Stopped;
            }
            await output.WriteLineAsync("stopping");
            return NodeCommands.Ok;
        }
        finally
        {
            await NodeChildProcess.StopAllAsync(children, StopTimeout);
            await output.WriteLineAsync("stopped");
        }

        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;       // do not let the runtime exit at once: stop the nodes first
            stop.Cancel();
        }
    }

    private string? Problem()
    {
        if (nodes < 1) return $"--nodes {nodes} must be at least 1";
        if (replication < 1 || replication > nodes) return $"--replication {replication} must be between 1 and --nodes ({nodes})";
        if (shards is < 1 or > NodeOptions.MaxShards) return $"--shards {shards} must be between 1 and {NodeOptions.MaxShards}";
        if (basePort < 1 || basePort + nodes - 1 > 65535) return $"--port {basePort} leaves no room for {nodes} ports below 65536";
        return null;
    }

    /// <summary>Polls the status of the cluster at <paramref name="endpoints"/> until each of its
    /// <paramref name="shards"/> shards reports a leader; used by <c>local</c> and the benchmark.</summary>
    public static async Task WaitUntilReadyAsync(IReadOnlyList<string> endpoints, int shards, CancellationToken cancel)
    {
        await using KvClient client = KvClient.Connect(endpoints, config: KvClientConfig.Silent);
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            try
            {
                ClusterStatus status = await client.StatusAsync(TimeSpan.FromSeconds(5), cancel);
                if (status.Shards.Count == shards && status.Shards.All(s => s.HasLeader)) return;
            }
            catch (KvException)
            {
                // Not up yet: the nodes are still forming.
            }
            await Task.Delay(PollInterval, cancel);
        }
    }
}
