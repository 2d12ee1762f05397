namespace KvActors.Bench.Load;

/// <summary>
/// A store under test: a cluster of processes on loopback that the bench starts, loads and stops. Only the system being
/// measured runs (an idle cluster still spends CPU, which would be charged to the other one), so a system is started
/// before its rows and stopped after them; its data directory is kept, so a restart finds the preloaded keys.
/// </summary>
internal interface IBenchSystem : IAsyncDisposable
{
    /// <summary>The name in tables, JSON and <c>--systems</c>: <c>kvactors</c> or <c>etcd</c>.</summary>
    string Name { get; }

    /// <summary>One line on how it runs (members, durability, how clients are routed), for the report.</summary>
    string Description { get; }

    /// <summary>Starts the cluster's processes (or starts them again on their data) and returns once it serves writes.</summary>
    /// <exception cref="BenchSetupException">It cannot start; the message says why and what to do.</exception>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Stops every process it started, cleanly, by PID; keeps the data. Safe to call when not started.</summary>
    Task StopAsync();

    /// <summary>The PIDs of the running server processes, whose CPU time is charged to this system.</summary>
    IReadOnlyList<int> ProcessIds { get; }

    /// <summary>A connection for one closed-loop client (index 0..clients-1); disposed when its row ends.</summary>
    Task<IBenchClient> ConnectAsync(int clientIndex, CancellationToken cancellationToken);
}

/// <summary>One closed-loop client's handle on a system: one request outstanding at a time.</summary>
internal interface IBenchClient : IAsyncDisposable
{
    /// <summary>Writes <paramref name="value"/> to <paramref name="key"/>; returns once it is acknowledged (durable on a
    /// majority). Throws on any failure; the bench counts it as an error.</summary>
    Task PutAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken);

    /// <summary>Reads <paramref name="key"/>: linearizable, or <paramref name="serializable"/> (a member's local state,
    /// possibly stale). Throws on any failure; the bench counts it as an error.</summary>
    Task GetAsync(string key, bool serializable, CancellationToken cancellationToken);
}

/// <summary>A system could not be set up (a program is missing, a port is taken, a cluster never became ready).</summary>
internal sealed class BenchSetupException(string message, Exception? inner = null) : Exception(message, inner);
