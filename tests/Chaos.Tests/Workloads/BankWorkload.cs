using System.Globalization;
using Google.Protobuf;
using KvActors.Chaos.Tests.Verification;
using KvActors.Client;
using KvActors.Protocol.Wire;

namespace KvActors.Chaos.Tests.Workloads;

/// <summary>
/// Bank: accounts under one hash tag (so one shard and one Txn hold them all). Transfers read two balances and write
/// both in a Txn that holds only if neither changed since (mod revision compares); reads take every balance in one Txn.
/// No read may ever see a total other than the initial one. A balance is stored as <c>amount/write-id</c>, so every
/// value is unique and the history's register checks apply to each account too.
/// </summary>
internal sealed class BankWorkload(int accounts, int processes, int seed) : IWorkload
{
    private const long Initial = 100;
    private readonly List<(long Time, int Process, IReadOnlyList<long> Balances)> _reads = [];
    private int _nextWrite;

    public string Name => "bank";

    private string Account(int i) => $"{{bank-{seed}}}a{i}";

    public async Task RunAsync(ClientProcesses clients, CancellationToken stop)
    {
        await using (KvClient opener = clients.NewClient())
        {
            for (int i = 0; i < accounts; i++)
            {
                int process = clients.NewProcess();
                string key = Account(i), value = Balance(Initial);
                (string type, _) = await clients.RunAsync(process, HistoryEvent.Invoked(process, HistoryEvent.Put, key, value, 0),
                    () => opener.PutAsync(key, value), static (_, done) => done);
                if (type != HistoryEvent.Ok) throw new InvalidOperationException($"the bank could not open {key}: {type}");
            }
        }
        await Task.WhenAll(Enumerable.Range(0, processes).Select(slot => SlotAsync(clients, slot, stop)));
    }

    private async Task SlotAsync(ClientProcesses clients, int slot, CancellationToken stop)
    {
        var random = new Random(HashCode.Combine(seed, slot));
        await using KvClient client = clients.NewClient();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (random.Next(3) == 0) await ReadAllAsync(clients, client);
                else await TransferAsync(clients, client, random);
            }
            catch (Exception e) when (ClientProcesses.Completion(e, isRead: true) is not null)
            {
                // A refused or unknown transfer: the history has the reads it made; the invariant does not care.
            }
        }
    }

    private async Task ReadAllAsync(ClientProcesses clients, KvClient client)
    {
        var txn = new TxnRequest();
        for (int i = 0; i < accounts; i++) txn.Success.Add(new Op { Get = new GetRequest { Key = ByteString.CopyFromUtf8(Account(i)) } });
        long start = clients.History.Now();
        TxnResult result = await client.TxnAsync(txn);
        long end = clients.History.Now();
        var balances = new long[accounts];
        int process = 0;
        for (int i = 0; i < accounts; i++)
        {
            string? value = result.Results[i].Get.Found ? result.Results[i].Get.Kv.Value.ToStringUtf8() : null;
            balances[i] = value is null ? 0 : Amount(value);
            // The snapshot's reads, as concurrent gets (one process each, as a process has one operation outstanding),
            // so that each account's history is checked like any register.
            process = clients.NewProcess();
            clients.History.Add(HistoryEvent.Invoked(process, HistoryEvent.Get, Account(i), null, start));
            clients.History.Add(HistoryEvent.Completed(process, HistoryEvent.Ok, HistoryEvent.Get, Account(i), end, value: value));
        }
        lock (_reads) _reads.Add((end, process, balances));
        clients.CountOk();
    }

    private async Task TransferAsync(ClientProcesses clients, KvClient client, Random random)
    {
        int from = random.Next(accounts), to = (from + 1 + random.Next(accounts - 1)) % accounts;
        KvEntry? a = await client.GetAsync(Account(from));
        KvEntry? b = await client.GetAsync(Account(to));
        if (a is null || b is null) return;
        long amount = Math.Min(Amount(a.ValueText!), random.Next(1, 20));
        if (amount <= 0) return;
        string newA = Balance(Amount(a.ValueText!) - amount), newB = Balance(Amount(b.ValueText!) + amount);
        var txn = new TxnRequest();
        txn.Compares.Add(new Compare { Key = ByteString.CopyFromUtf8(Account(from)), Target = Compare.Types.Target.ModRevision, Result = Compare.Types.Result.Equal, ModRevision = a.ModRevision });
        txn.Compares.Add(new Compare { Key = ByteString.CopyFromUtf8(Account(to)), Target = Compare.Types.Target.ModRevision, Result = Compare.Types.Result.Equal, ModRevision = b.ModRevision });
        txn.Success.Add(new Op { Put = new PutRequest { Key = ByteString.CopyFromUtf8(Account(from)), Value = ByteString.CopyFromUtf8(newA) } });
        txn.Success.Add(new Op { Put = new PutRequest { Key = ByteString.CopyFromUtf8(Account(to)), Value = ByteString.CopyFromUtf8(newB) } });
        // In the history a transfer is two cas of its accounts, each expecting the balance it read: a Txn applies both
        // or neither, and each alone is a register cas.
        int process = clients.NewProcess();
        long start = clients.History.Now();
        clients.History.Add(HistoryEvent.CasInvoked(process, Account(from), a.ValueText, newA, start));
        int other = clients.NewProcess();
        clients.History.Add(HistoryEvent.CasInvoked(other, Account(to), b.ValueText, newB, start));
        string type;
        bool? succeeded = null;
        try
        {
            succeeded = (await client.TxnAsync(txn)).Succeeded;
            // A transfer whose compares failed wrote nothing (the other account may be why): certainly no effect.
            type = succeeded.Value ? HistoryEvent.Ok : HistoryEvent.Fail;
            clients.CountOk();
            if (!succeeded.Value) succeeded = null;
        }
        catch (Exception e) when (ClientProcesses.Completion(e, isRead: false) is { } failed)
        {
            type = failed;
        }
        long end = clients.History.Now();
        clients.History.Add(HistoryEvent.Completed(process, type, HistoryEvent.Cas, Account(from), end, succeeded: succeeded));
        clients.History.Add(HistoryEvent.Completed(other, type, HistoryEvent.Cas, Account(to), end, succeeded: succeeded));
    }

    private string Balance(long amount) => string.Create(CultureInfo.InvariantCulture, $"{amount}/{Interlocked.Increment(ref _nextWrite)}");

    private static long Amount(string value) => long.Parse(value.AsSpan(0, value.IndexOf('/')), CultureInfo.InvariantCulture);

    public async Task FinalReadAsync(ClientProcesses clients, CancellationToken cancellationToken)
    {
        await using KvClient client = clients.NewClient();
        for (int i = 0; i < accounts; i++) await FinalRead.ReadAsync(clients, client, Account(i), cancellationToken);
        await ReadAllAsync(clients, client);
    }

    public IReadOnlyList<Anomaly> ExtraChecks()
    {
        lock (_reads) return HistoryChecker.Bank(_reads, accounts * Initial);
    }
}
