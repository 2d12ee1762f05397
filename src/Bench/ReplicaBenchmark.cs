using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using Google.Protobuf;
using KvActors.Node.Hosting;
using KvActors.Node.Replica;
using KvActors.Raft;
using ErrorCode = KvActors.Protocol.Wire.ErrorCode;
using KvReply = KvActors.Protocol.Wire.KvReply;
using KvRequest = KvActors.Protocol.Wire.KvRequest;
using PutRequest = KvActors.Protocol.Wire.PutRequest;

namespace KvActors.Bench;

/// <summary>
/// <c>replicas</c>: shards (one by default, <c>--shards N</c>) of three replicas over three ActorSystems in this process
/// (loopback Akka.Remote, durable SQLite in a temporary directory), closed-loop puts straight to each shard's leader
/// replica (client i writes to shard i mod N). Reports puts/s and latency per number of concurrent proposers, the
/// leaders' journal writes against entries written (group commit per replica), and the SQLite journal transactions
/// of all three nodes (group commit across a node's replicas).
/// </summary>
internal static class ReplicaBenchmark
{
    private const int Keys = 100_000;
    private const int ValueBytes = 256;
    private const string QuietLogs = """
        akka.loglevel = WARNING
        akka.log-dead-letters = off
        akka.remote.log-remote-lifecycle-events = off
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        int[] clients = Option(args, "--clients", "1,16,64").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
        var duration = TimeSpan.FromSeconds(double.Parse(Option(args, "--duration", "10"), CultureInfo.InvariantCulture));
        var warmup = TimeSpan.FromSeconds(double.Parse(Option(args, "--warmup", "2"), CultureInfo.InvariantCulture));
        string root = Path.Combine(Path.GetTempPath(), "kvactors-bench", Guid.NewGuid().ToString("N"));
        // Any HOCON over the defaults, e.g. a snapshot interval, or the snapshot store in the journal's file.
        string overlay = Option(args, "--hocon", "");
        int shards = int.Parse(Option(args, "--shards", "1"), CultureInfo.InvariantCulture);
        output.WriteLine($"replicas: {shards} shard(s) of 3 replicas over 3 nodes, SQLite under {root}, {ValueBytes}-byte values, {Keys} keys, warm-up {warmup.TotalSeconds}s, measured {duration.TotalSeconds}s");
        if (overlay.Length > 0) output.WriteLine($"replicas: overlay {overlay}");
        await using InProcessCluster cluster = await InProcessCluster.StartAsync(root, 3, shards, QuietLogs, overlay);
        try
        {
            IActorRef[] leaders = await Task.WhenAll(Enumerable.Range(0, shards).Select(shard => LeaderAsync(cluster, shard)));
            foreach (int count in clients)
            {
                await RunClientsAsync(leaders, count, warmup, null);
                Totals before = await TotalsAsync(leaders);
                var latencies = new List<double>[count];
                long errors = await RunClientsAsync(leaders, count, duration, latencies);
                Totals after = await TotalsAsync(leaders);
                Report(output, count, duration, latencies, errors, before, after);
            }
            return 0;
        }
        finally
        {
            await cluster.DisposeAsync();
            TryDelete(root);
        }
    }

    /// <summary>The leaders' counters summed, and the journal transactions of every node in this process.</summary>
    private sealed record Totals(long JournalWrites, long Entries, long Transactions, SnapshotStats Snapshots);

    private static async Task<Totals> TotalsAsync(IActorRef[] leaders)
    {
        ReplicaStatus[] statuses = await Task.WhenAll(leaders.Select(l => l.Ask<ReplicaStatus>(GetReplicaStatus.Instance, TimeSpan.FromSeconds(5))));
        SnapshotStats snapshots = statuses[0].Snapshots;
        foreach (ReplicaStatus status in statuses.Skip(1))
        {
            snapshots = snapshots with
            {
                Taken = snapshots.Taken + status.Snapshots.Taken,
                MaxPause = status.Snapshots.MaxPause > snapshots.MaxPause ? status.Snapshots.MaxPause : snapshots.MaxPause,
                MaxSave = status.Snapshots.MaxSave > snapshots.MaxSave ? status.Snapshots.MaxSave : snapshots.MaxSave,
            };
        }
        return new Totals(statuses.Sum(s => s.JournalWrites), statuses.Sum(s => s.EntriesWritten), SqliteFiles.JournalTransactions, snapshots);
    }

    private static async Task<long> RunClientsAsync(IActorRef[] leaders, int count, TimeSpan duration, List<double>[]? latencies)
    {
        long errors = 0;
        var until = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, count).Select(async client =>
        {
            var random = new Random(client);
            var value = ByteString.CopyFrom(new byte[ValueBytes]);
            var mine = latencies is null ? null : latencies[client] = new List<double>(100_000);
            while (until.Elapsed < duration)
            {
                var request = new KvRequest { Put = new PutRequest { Key = ByteString.CopyFromUtf8("key" + random.Next(Keys).ToString(CultureInfo.InvariantCulture)), Value = value } };
                long start = Stopwatch.GetTimestamp();
                KvReply reply = await leaders[client % leaders.Length].Ask<KvReply>(request, TimeSpan.FromSeconds(10));
                if (reply.Error != ErrorCode.Ok) Interlocked.Increment(ref errors);
                mine?.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }).ToArray();
        await Task.WhenAll(workers);
        return errors;
    }

    private static void Report(TextWriter output, int clients, TimeSpan duration, List<double>[] latencies, long errors,
        Totals before, Totals after)
    {
        double[] all = latencies.SelectMany(l => l).Order().ToArray();
        double Percentile(double p) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)(p * all.Length))];
        long writes = after.JournalWrites - before.JournalWrites;
        long entries = after.Entries - before.Entries;
        long transactions = after.Transactions - before.Transactions;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"replicas: clients={clients} puts/s={all.Length / duration.TotalSeconds:F0} p50={Percentile(0.50):F2}ms p99={Percentile(0.99):F2}ms max={Percentile(1):F2}ms errors={errors} " +
            $"leader journal-writes/s={writes / duration.TotalSeconds:F0} entries/s={entries / duration.TotalSeconds:F0} entries-per-write={(writes == 0 ? 0 : (double)entries / writes):F1} " +
            $"journal-transactions/s={transactions / duration.TotalSeconds:F0} (all nodes) " +
            $"snapshots={after.Snapshots.Taken - before.Snapshots.Taken} snapshot-max-pause={after.Snapshots.MaxPause.TotalMilliseconds:F0}ms snapshot-max-save={after.Snapshots.MaxSave.TotalMilliseconds:F0}ms"));
    }

    private static async Task<IActorRef> LeaderAsync(InProcessCluster cluster, int shard)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            for (int node = 0; node < cluster.NodeCount; node++)
            {
                var status = await cluster.Replica(node, shard)!.Ask<ReplicaStatus>(GetReplicaStatus.Instance, TimeSpan.FromSeconds(5));
                if (status.Raft.Role == Role.Leader) return cluster.Replica(node, shard)!;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"shard {shard}: no leader was elected within 30 s");
    }

    private static string Option(string[] args, string name, string fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }

    private static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // left for the OS to clean up with the temp folder
        }
    }
}
