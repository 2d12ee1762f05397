using System.Collections.Concurrent;
using KvActors.Chaos.Tests.Verification;
using KvActors.Client;

namespace KvActors.Chaos.Tests.Workloads;

/// <summary>Append: every put writes a key of its own; after healing, every key written (acknowledged or not) is read.</summary>
internal sealed class AppendWorkload(int processes, int seed) : IWorkload
{
    private readonly ConcurrentBag<string> _written = [];
    private int _next;

    public string Name => "append";

    public Task RunAsync(ClientProcesses clients, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, processes).Select(async slot =>
        {
            await using KvClient client = clients.NewClient();
            int process = clients.NewProcess();
            while (!stop.IsCancellationRequested)
            {
                int n = Interlocked.Increment(ref _next);
                string key = $"app/{seed}/{n}", value = $"v{n}";
                _written.Add(key);
                (string type, _) = await clients.RunAsync(process, HistoryEvent.Invoked(process, HistoryEvent.Put, key, value, 0),
                    () => client.PutAsync(key, value), static (_, done) => done);
                if (type == HistoryEvent.Info) process = clients.NewProcess();
            }
        }));

    public async Task FinalReadAsync(ClientProcesses clients, CancellationToken cancellationToken)
    {
        await using KvClient client = clients.NewClient();
        string[] keys = [.. _written];
        // Several readers at once: an append run writes thousands of keys.
        int next = -1;
        await Task.WhenAll(Enumerable.Range(0, HistoryChecker.FinalReaders).Select(async reader =>
        {
            for (int i = Interlocked.Increment(ref next); i < keys.Length; i = Interlocked.Increment(ref next))
                await FinalRead.ReadAsync(clients, client, keys[i], cancellationToken, reader);
        }));
    }

    public IReadOnlyList<Anomaly> ExtraChecks() => [];
}
