using System.Collections.Concurrent;
using KvActors.Chaos.Tests.Verification;
using KvActors.Client;

namespace KvActors.Chaos.Tests.Workloads;

/// <summary>
/// Registers: a few keys, many processes doing get, put, delete and compare-and-swap with unique values. The cas
/// expects the value its process last read of that key, so some succeed and some fail.
/// </summary>
internal sealed class RegisterWorkload(int keys, int processes, int seed) : IWorkload
{
    private int _nextValue;

    public string Name => "registers";

    private string Key(int i) => $"reg/{seed}/k{i}";

    public async Task RunAsync(ClientProcesses clients, CancellationToken stop)
    {
        await Task.WhenAll(Enumerable.Range(0, processes).Select(slot => SlotAsync(clients, slot, stop)));
    }

    private async Task SlotAsync(ClientProcesses clients, int slot, CancellationToken stop)
    {
        var random = new Random(HashCode.Combine(seed, slot));
        var lastRead = new ConcurrentDictionary<string, string?>();
        await using KvClient client = clients.NewClient();
        int process = clients.NewProcess();
        while (!stop.IsCancellationRequested)
        {
            string key = Key(random.Next(keys));
            int dice = random.Next(10);
            string type;
            if (dice < 4)
            {
                (type, KvEntry? entry) = await clients.RunAsync(process, HistoryEvent.Invoked(process, HistoryEvent.Get, key, null, 0),
                    () => client.GetAsync(key), (e, done) => done with { Value = e?.ValueText });
                if (type == HistoryEvent.Ok) lastRead[key] = entry?.ValueText;
            }
            else if (dice < 7)
            {
                string value = NextValue(slot);
                (type, _) = await clients.RunAsync(process, HistoryEvent.Invoked(process, HistoryEvent.Put, key, value, 0),
                    () => client.PutAsync(key, value), static (_, done) => done);
            }
            else if (dice < 9)
            {
                string value = NextValue(slot);
                string? expected = lastRead.GetValueOrDefault(key);
                CasExpectation expectation = expected is null ? CasExpectation.Absent : CasExpectation.Value(expected);
                (type, _) = await clients.RunAsync(process, HistoryEvent.CasInvoked(process, key, expected, value, 0),
                    () => client.CompareAndSwapAsync(System.Text.Encoding.UTF8.GetBytes(key), expectation, System.Text.Encoding.UTF8.GetBytes(value)),
                    static (r, done) => done with { Succeeded = r.Succeeded });
            }
            else
            {
                (type, _) = await clients.RunAsync(process, HistoryEvent.Invoked(process, HistoryEvent.Delete, key, null, 0),
                    () => client.DeleteAsync(key), static (_, done) => done);
            }
            if (type == HistoryEvent.Info) process = clients.NewProcess();
        }
    }

    private string NextValue(int slot) => $"v{Interlocked.Increment(ref _nextValue)}-{slot}";

    public async Task FinalReadAsync(ClientProcesses clients, CancellationToken cancellationToken)
    {
        await using KvClient client = clients.NewClient();
        for (int i = 0; i < keys; i++) await FinalRead.ReadAsync(clients, client, Key(i), cancellationToken);
    }

    public IReadOnlyList<Anomaly> ExtraChecks() => [];
}

/// <summary>The final reader's get of one key, retried (each attempt recorded) until it is answered.</summary>
internal static class FinalRead
{
    /// <summary>Reads <paramref name="key"/> as final reader <paramref name="reader"/> (below <see cref="HistoryChecker.FinalReaders"/>), retrying until it succeeds.</summary>
    public static async Task<string?> ReadAsync(ClientProcesses clients, KvClient client, string key, CancellationToken cancellationToken, int reader = 0)
    {
        for (int attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            (string type, KvEntry? entry) = await clients.RunAsync(reader, HistoryEvent.Invoked(reader, HistoryEvent.Get, key, null, 0),
                () => client.GetAsync(key), (e, done) => done with { Value = e?.ValueText });
            if (type == HistoryEvent.Ok) return entry?.ValueText;
            if (attempt == 20) throw new TimeoutException($"the final read of {key} failed 20 times after healing");
            await Task.Delay(250, cancellationToken);
        }
    }
}
