using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using KvActors.Bench.Load;
using KvActors.Client;
using KvActors.Node.Hosting;

namespace KvActors.Bench.KvActors;

/// <summary>
/// A KvActors cluster as a user runs it: node processes (<c>start</c>, all seeds) on 127.0.0.1 with durable SQLite in
/// <c>DIR/kvactors/nN</c>, reached through <see cref="KvClient"/> and ClusterClient, the client's normal routing.
/// Every bench client is its own <see cref="KvClient"/> (its own session), as independent applications would be; they
/// share one client ActorSystem.
/// </summary>
internal sealed class KvActorsSystem : IBenchSystem
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private readonly string _root;
    private readonly int _shards;
    private readonly int _replication;
    private readonly string? _configFile;
    private readonly TextWriter _log;
    private readonly string[] _endpoints;
    private readonly List<NodeChildProcess> _nodes = [];
    private ActorSystem? _clientSystem;

    /// <param name="root">The benchmark's data folder; the nodes live in <c>root/kvactors/nN</c>.</param>
    /// <param name="nodes">Node processes.</param>
    /// <param name="shards">Shards (fixed when the cluster is first created).</param>
    /// <param name="replication">Replicas per shard.</param>
    /// <param name="configFile">A HOCON file every node takes over its defaults (<c>--config</c>), or null.</param>
    /// <param name="log">Where progress lines go. The client system itself logs nothing (nodes stopping between rows
    /// would fill the output with disassociations); every failed request is counted as an error instead.</param>
    public KvActorsSystem(string root, int nodes, int shards, int replication, string? configFile, TextWriter log)
    {
        _root = Path.Combine(root, "kvactors");
        _shards = shards;
        _replication = replication;
        _configFile = configFile;
        _log = log;
        // Chosen once: the seed list decides placement, so a restart must use the same endpoints.
        _endpoints = [.. Enumerable.Range(0, nodes).Select(_ => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{FreePort()}"))];
    }

    public string Name => "kvactors";

    public string Description =>
        $"KvActors, {_endpoints.Length} node processes on 127.0.0.1, {_shards} shards x {_replication} replicas, SQLite (fsync on commit), KvClient over ClusterClient";

    public IReadOnlyList<int> ProcessIds => [.. _nodes.Select(n => n.Process.Id)];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        for (int i = 0; i < _endpoints.Length; i++)
        {
            string nodeId = string.Create(CultureInfo.InvariantCulture, $"n{i + 1}");
            _nodes.Add(NodeChildProcess.Start(nodeId, _endpoints[i], _endpoints, Path.Combine(_root, nodeId), _shards, _replication, _configFile));
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadyTimeout);
        Task ready = LocalCluster.WaitUntilReadyAsync(_endpoints, _shards, timeout.Token);
        Task exited = Task.WhenAny(_nodes.Select(n => n.Process.WaitForExitAsync(timeout.Token)));
        try
        {
            if (await Task.WhenAny(ready, exited) == ready) await ready;
            else throw new BenchSetupException($"kvactors: a node exited during start; its log:{Environment.NewLine}{Logs()}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BenchSetupException($"kvactors: not every shard had a leader within {ReadyTimeout.TotalSeconds} s; the nodes' logs:{Environment.NewLine}{Logs()}");
        }
        _clientSystem ??= ActorSystem.Create("bench", ConfigurationFactory.ParseString(KvClientConfig.Silent).WithFallback(KvClientConfig.Default));
        _log.WriteLine($"kvactors: {_endpoints.Length} nodes ready at {string.Join(",", _endpoints)}, every shard has a leader");
    }

    private string Logs() => string.Join(Environment.NewLine, _nodes.Select(n => $"{n.NodeId} ({n.LogPath}):{Environment.NewLine}  "
        + string.Join(Environment.NewLine + "  ", n.LogTail(10))));

    public async Task StopAsync()
    {
        await NodeChildProcess.StopAllAsync(_nodes, StopTimeout);
        _nodes.Clear();
    }

    public Task<IBenchClient> ConnectAsync(int clientIndex, CancellationToken cancellationToken)
    {
        ActorSystem system = _clientSystem ?? throw new InvalidOperationException("kvactors is not started");
        // Each client lists the nodes from its own one first, so the clients spread over the receptionists.
        string[] contacts = [.. _endpoints.Skip(clientIndex % _endpoints.Length), .. _endpoints.Take(clientIndex % _endpoints.Length)];
        return Task.FromResult<IBenchClient>(new Connection(KvClient.Create(system, contacts)));
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_clientSystem is not null) await _clientSystem.Terminate();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class Connection(KvClient client) : IBenchClient
    {
        public Task PutAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken) =>
            client.PutAsync(System.Text.Encoding.UTF8.GetBytes(key), value, cancellationToken: cancellationToken);

        public Task GetAsync(string key, bool serializable, CancellationToken cancellationToken) =>
            client.GetAsync(System.Text.Encoding.UTF8.GetBytes(key), serializable ? ReadConsistency.Serializable : ReadConsistency.Linearizable,
                cancellationToken: cancellationToken);

        public ValueTask DisposeAsync() => client.DisposeAsync();
    }
}
