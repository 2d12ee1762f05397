using System.Collections.Concurrent;
using System.Text;
using Akka.Actor;
using Google.Protobuf;
using KvActors.Client;
using KvActors.Node.Hosting;
using KvActors.Node.Replica;
using KvActors.Protocol;
using KvActors.Protocol.Wire;
using KvActors.Raft;
using Xunit.Abstractions;

namespace KvActors.Cluster.Tests;

/// <summary>
/// Eight shards, three replicas each, over three ActorSystems joined on loopback with their own SQLite files and a
/// Gateway per node: what an application sees through <see cref="KvClient"/>. One cluster serves the whole class.
/// </summary>
public sealed class KvClientTests(KvClientTests.Fixture cluster) : IClassFixture<KvClientTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        private readonly string _root = TestCluster.NewRoot();
        public NodeHarness Cluster { get; private set; } = null!;
        public KvClient Client { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Cluster = await TestCluster.StartAsync(_root);
            Client = KvClient.Create(Cluster.Gateway(0)!);
        }

        public async Task DisposeAsync() => await TestCluster.StopAsync(Cluster, _root);
    }

    private KvClient Client => cluster.Client;

    [Fact]
    public async Task Put_get_and_delete_round_trip_and_an_absent_key_reads_as_null()
    {
        ulong revision = await Client.PutAsync("basic/a", "1");
        KvEntry? entry = await Client.GetAsync("basic/a");

        entry.Should().NotBeNull();
        entry!.ValueText.Should().Be("1");
        entry.ModRevision.Should().Be(revision);
        entry.Version.Should().Be(1);
        (await Client.DeleteAsync("basic/a")).Should().BeTrue();
        (await Client.GetAsync("basic/a")).Should().BeNull();
        (await Client.DeleteAsync("basic/a")).Should().BeFalse("deleting an absent key removes nothing");
        (await Client.GetAsync("basic/never")).Should().BeNull();
    }

    [Fact]
    public async Task Compare_and_swap_writes_only_when_its_expectation_holds_and_a_conflict_is_a_value()
    {
        byte[] key = Bytes("cas/a");

        KvCasResult created = await Client.CompareAndSwapAsync(key, CasExpectation.Absent, Bytes("1"));
        KvCasResult refused = await Client.CompareAndSwapAsync(key, CasExpectation.Absent, Bytes("2"));
        KvCasResult byValue = await Client.CompareAndSwapAsync(key, CasExpectation.Value("1"), Bytes("3"));
        KvCasResult staleRevision = await Client.CompareAndSwapAsync(key, CasExpectation.ModRevision(created.Current!.ModRevision), Bytes("4"));
        KvCasResult byRevision = await Client.CompareAndSwapAsync(key, CasExpectation.ModRevision(byValue.Current!.ModRevision), Bytes("5"));

        created.Succeeded.Should().BeTrue();
        refused.Succeeded.Should().BeFalse();
        refused.Current!.ValueText.Should().Be("1", "a conflict carries the pair that failed the expectation");
        byValue.Succeeded.Should().BeTrue();
        staleRevision.Succeeded.Should().BeFalse();
        staleRevision.Current!.ValueText.Should().Be("3");
        byRevision.Succeeded.Should().BeTrue();
        (await Client.GetAsync(key))!.ValueText.Should().Be("5");
    }

    [Fact]
    public async Task A_range_across_shards_is_merged_in_key_order_and_honours_its_limit()
    {
        var keys = new List<string>();
        for (int i = 0; i < 40; i++) keys.Add($"range/{i:D2}");
        var shards = new HashSet<int>();
        foreach (string key in keys) shards.Add(ShardMap.ShardOfKey(Bytes(key), cluster.Cluster.Shards).Value);
        shards.Count.Should().BeGreaterThan(4, "the keys spread over the shards, so the range must merge several");
        await Task.WhenAll(keys.Select(k => Client.PutAsync(k, "v-" + k)));

        KvRangeResult all = await Client.RangeAsync("range/", "range0");
        KvRangeResult first = await Client.RangeAsync("range/", "range0", limit: 7);
        KvRangeResult rest = await Client.RangeAsync("range/07", "range0", limit: 100);

        all.Entries.Select(e => e.KeyText).Should().Equal(keys);
        all.Entries.Should().OnlyContain(e => e.ValueText == "v-" + e.KeyText);
        all.More.Should().BeFalse();
        first.Entries.Select(e => e.KeyText).Should().Equal(keys.Take(7));
        first.More.Should().BeTrue("33 more keys are in the range");
        rest.Entries.Select(e => e.KeyText).Should().Equal(keys.Skip(7));
        rest.More.Should().BeFalse();
    }

    [Fact]
    public async Task A_txn_over_keys_with_the_same_hash_tag_runs_atomically_on_their_shard()
    {
        ShardMap.ShardOfKey(Bytes("{user42}/name"), 8).Should().Be(ShardMap.ShardOfKey(Bytes("{user42}/email"), 8));
        var txn = new TxnRequest
        {
            Compares = { new Compare { Key = BS("{user42}/name"), Target = Compare.Types.Target.Version, Result = Compare.Types.Result.Equal, Version = 0 } },
            Success =
            {
                new Op { Put = new PutRequest { Key = BS("{user42}/name"), Value = BS("Ada") } },
                new Op { Put = new PutRequest { Key = BS("{user42}/email"), Value = BS("ada@example.com") } },
            },
            Failure = { new Op { Get = new GetRequest { Key = BS("{user42}/name") } } },
        };

        TxnResult created = await Client.TxnAsync(txn);
        TxnResult again = await Client.TxnAsync(txn);

        created.Succeeded.Should().BeTrue();
        again.Succeeded.Should().BeFalse("the name exists now, so the failure branch ran");
        again.Results.Single().Get.Kv.Value.ToStringUtf8().Should().Be("Ada");
        KvEntry name = (await Client.GetAsync("{user42}/name"))!;
        KvEntry email = (await Client.GetAsync("{user42}/email"))!;
        email.ValueText.Should().Be("ada@example.com");
        email.ModRevision.Should().Be(name.ModRevision, "both writes of one txn share one revision");
    }

    [Fact]
    public async Task A_txn_over_keys_of_different_shards_is_refused_InvalidArgument_by_the_client_and_by_the_gateway()
    {
        (string a, string b) = KeysInDifferentShards();
        var txn = new TxnRequest
        {
            Success = { new Op { Put = new PutRequest { Key = BS(a), Value = BS("1") } }, new Op { Put = new PutRequest { Key = BS(b), Value = BS("1") } } },
        };

        Func<Task> client = () => Client.TxnAsync(txn);
        KvReply gateway = await cluster.Cluster.Gateway(1)!.Ask<KvReply>(new KvRequest { Txn = txn }, TestCluster.Wait);

        (await client.Should().ThrowAsync<KvException>()).Which.Error.Should().Be(ErrorCode.InvalidArgument);
        gateway.Error.Should().Be(ErrorCode.InvalidArgument);
        gateway.Message.Should().Contain("shards");
        (await Client.GetAsync(a)).Should().BeNull("the refused txn changed nothing");
    }

    [Fact]
    public async Task Bad_input_is_refused_with_the_limit_it_broke_and_changes_nothing()
    {
        byte[] tooLongKey = new byte[4097];
        tooLongKey.AsSpan().Fill((byte)'k');
        byte[] tooLargeValue = new byte[KvLimits.Default.MaxValueBytes + 1];

        (await Refusal(() => Client.PutAsync(Array.Empty<byte>(), Bytes("v")))).Should().Be(ErrorCode.InvalidArgument);
        (await Refusal(() => Client.GetAsync(Array.Empty<byte>()))).Should().Be(ErrorCode.InvalidArgument);
        (await Refusal(() => Client.PutAsync(tooLongKey, Bytes("v")))).Should().Be(ErrorCode.TooLarge);
        (await Refusal(() => Client.PutAsync(Bytes("bad/value"), tooLargeValue))).Should().Be(ErrorCode.TooLarge);
        (await Refusal(() => Client.RangeAsync("b", "a"))).Should().Be(ErrorCode.InvalidArgument);
        KvReply gateway = await cluster.Cluster.Gateway(2)!.Ask<KvReply>(
            new KvRequest { Put = new PutRequest { Key = ByteString.CopyFrom(tooLongKey), Value = BS("v") } }, TestCluster.Wait);
        gateway.Error.Should().Be(ErrorCode.TooLarge);
        gateway.Message.Should().Contain("4096");
        (await Client.GetAsync("bad/value")).Should().BeNull();
    }

    [Fact]
    public async Task The_same_request_sent_twice_through_a_gateway_applies_once()
    {
        var request = new KvRequest
        {
            ClientId = ByteString.CopyFrom(Guid.NewGuid().ToByteArray()),
            Sequence = 1,
            Put = new PutRequest { Key = BS("once/a"), Value = BS("1") },
        };

        KvReply first = await cluster.Cluster.Gateway(0)!.Ask<KvReply>(request, TestCluster.Wait);
        KvReply retry = await cluster.Cluster.Gateway(1)!.Ask<KvReply>(request, TestCluster.Wait);

        first.Error.Should().Be(ErrorCode.Ok, first.Message);
        retry.Error.Should().Be(ErrorCode.Ok, retry.Message);
        retry.Revision.Should().Be(first.Revision, "the retry gets the first application's reply");
        (await Client.GetAsync("once/a"))!.Version.Should().Be(1, "the put applied once");
    }

    [Fact]
    public async Task Every_gateway_serves_every_shard()
    {
        var other = KvClient.Create(cluster.Cluster.Gateway(2)!);
        for (int i = 0; i < 16; i++) await Client.PutAsync($"gw/{i}", $"{i}");

        for (int i = 0; i < 16; i++) (await other.GetAsync($"gw/{i}"))!.ValueText.Should().Be($"{i}");
    }

    private static async Task<ErrorCode> Refusal(Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (KvException e)
        {
            return e.Error;
        }
        throw new InvalidOperationException("the call was not refused");
    }

    private static (string, string) KeysInDifferentShards()
    {
        for (int i = 1; ; i++)
        {
            if (ShardMap.ShardOfKey(Bytes($"cross/{i}"), 8) != ShardMap.ShardOfKey(Bytes("cross/0"), 8)) return ("cross/0", $"cross/{i}");
        }
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static ByteString BS(string text) => ByteString.CopyFromUtf8(text);
}

/// <summary>Losing a node that leads shards while a client writes: no acknowledged write is lost.</summary>
public sealed class KvClientFailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _root = TestCluster.NewRoot();
    private NodeHarness _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync(_root);

    public async Task DisposeAsync() => await TestCluster.StopAsync(_cluster, _root);

    [Fact]
    public async Task Stopping_the_node_of_shard_leaders_during_a_write_burst_loses_no_acknowledged_write()
    {
        int victim = await NodeLeadingMostShardsAsync();
        var client = KvClient.Create(_cluster.Gateway((victim + 1) % 3)!);
        var acknowledged = new ConcurrentDictionary<string, string>();
        int failed = 0;
        int acknowledgedBeforeStop = -1;
        using var stop = new CancellationTokenSource();

        async Task WriterAsync(int writer)
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                string key = $"burst/{writer}/{i}";
                try
                {
                    await client.PutAsync(key, $"value-{i}");
                    acknowledged[key] = $"value-{i}";
                }
                catch (KvException e) when (e.Error is ErrorCode.Timeout or ErrorCode.Unavailable)
                {
                    Interlocked.Increment(ref failed);         // not acknowledged: it may or may not have applied
                }
            }
        }

        Task[] writers = Enumerable.Range(0, 8).Select(w => Task.Run(() => WriterAsync(w))).ToArray();
        await TestCluster.AwaitAsync(() => Task.FromResult(acknowledged.Count >= 40));
        acknowledgedBeforeStop = acknowledged.Count;
        await _cluster.StopAsync(victim);
        await TestCluster.AwaitAsync(() => Task.FromResult(acknowledged.Count >= acknowledgedBeforeStop + 80));
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        output.WriteLine($"stopped node {victim}; {acknowledgedBeforeStop} writes acknowledged before, {acknowledged.Count} in all, {failed} failed");
        foreach ((string key, string value) in acknowledged)
            (await client.GetAsync(key))?.ValueText.Should().Be(value, $"the write of {key} was acknowledged");
    }

    private async Task<int> NodeLeadingMostShardsAsync()
    {
        var leads = new int[3];
        for (int shard = 0; shard < _cluster.Shards; shard++)
        {
            for (int node = 0; node < 3; node++)
            {
                if ((await _cluster.ReplicaStatusAsync(node, shard))?.Raft.Role == Role.Leader) leads[node]++;
            }
        }
        return Array.IndexOf(leads, leads.Max());
    }
}

/// <summary>Starting and stopping the eight-shard test cluster, and waiting on conditions.</summary>
internal static class TestCluster
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    public const int Shards = 8;

    public static string NewRoot() => Path.Combine(Path.GetTempPath(), "kvactors-cluster-tests", Guid.NewGuid().ToString("N"));

    /// <summary>Starts 3 real nodes (seeds of one another) with 8 shards and waits until every shard has a leader.</summary>
    public static async Task<NodeHarness> StartAsync(string root)
    {
        var nodes = new NodeHarness(root, 3, Shards);
        await nodes.StartAllAsync();
        await nodes.AwaitLeadersAsync();
        return nodes;
    }

    public static async Task StopAsync(NodeHarness nodes, string root) => await nodes.DisposeAsync();

    public static async Task StopAsync(InProcessCluster cluster, string root)
    {
        await cluster.DisposeAsync();
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // A SQLite file may still be held for a moment; the temp folder is cleaned eventually.
        }
    }

    /// <summary>Polls a condition until it holds or <paramref name="within"/> (default <see cref="Wait"/>) passes (then fails, naming the wait).</summary>
    public static async Task AwaitAsync(Func<Task<bool>> condition, TimeSpan? within = null)
    {
        TimeSpan wait = within ?? Wait;
        using var timeout = new CancellationTokenSource(wait);
        while (true)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception e) when (e is AskTimeoutException or KvException { Error: ErrorCode.Timeout or ErrorCode.Unavailable })
            {
                // a replica busy electing or recovering, a gateway waiting on a shard manager just restarted: ask again
            }
            if (timeout.IsCancellationRequested) throw new TimeoutException($"condition not met within {wait}");
            await Task.Delay(50, CancellationToken.None);
        }
    }
}

/// <summary>How <see cref="KvClient"/> numbers its writes, against a scripted fake Gateway with one shard.</summary>
public sealed class KvClientSessionTests : IAsyncLifetime
{
    private readonly ActorSystem _system = ActorSystem.Create("client-sessions", "akka.loglevel = WARNING");
    private readonly ConcurrentQueue<ErrorCode> _script = new();
    private readonly ConcurrentQueue<KvRequest> _sent = new();
    private KvClient _client = null!;

    public Task InitializeAsync()
    {
        IActorRef gateway = _system.ActorOf(Props.Create(() => new ScriptedGateway(_script, _sent)));
        _client = KvClient.Create(gateway, new KvClientOptions { RequestDeadline = TimeSpan.FromSeconds(5) });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _system.Terminate();

    [Fact]
    public async Task A_write_that_certainly_did_not_apply_gives_its_sequence_back()
    {
        KvRequest refused = await Write(ErrorCode.Unavailable);
        KvRequest next = await Write(ErrorCode.Ok);

        refused.Sequence.Should().Be(1);
        next.Sequence.Should().Be(1, "sequence 1 never reached a state machine, and only sequence 1 opens a session");
        next.ClientId.Should().Equal(refused.ClientId);
    }

    [Fact]
    public async Task After_an_unknown_outcome_an_unopened_session_moves_to_a_fresh_client_id_and_an_opened_one_goes_on()
    {
        KvRequest unknown = await Write(ErrorCode.Timeout);
        KvRequest fresh = await Write(ErrorCode.Ok);
        KvRequest unknownAgain = await Write(ErrorCode.Timeout);
        KvRequest after = await Write(ErrorCode.Ok);

        fresh.ClientId.Should().NotEqual(unknown.ClientId, "sequence 1 may still apply under the old id; sequence 2 could not open a session");
        fresh.Sequence.Should().Be(1);
        unknownAgain.Sequence.Should().Be(2);
        after.ClientId.Should().Equal(fresh.ClientId, "the session is open, so it continues past the unknown sequence 2");
        after.Sequence.Should().Be(3, "sequence 2 may still apply, so it is never reused");
    }

    private async Task<KvRequest> Write(ErrorCode answer)
    {
        _script.Enqueue(answer);
        int before = _sent.Count;
        try
        {
            await _client.PutAsync("k", "v");
        }
        catch (KvException e)
        {
            e.Error.Should().Be(answer);
        }
        _sent.Count.Should().Be(before + 1);
        return _sent.Last();
    }

    private sealed class ScriptedGateway : ReceiveActor
    {
        public ScriptedGateway(ConcurrentQueue<ErrorCode> script, ConcurrentQueue<KvRequest> sent)
        {
            Receive<GetShardCount>(_ => Sender.Tell(new ShardCount { Count = 1 }));
            Receive<ShardRequest>(r =>
            {
                sent.Enqueue(r.Request.Clone());
                script.TryDequeue(out ErrorCode answer);
                var reply = new KvReply { Error = answer, Message = answer.ToString(), Put = answer == ErrorCode.Ok ? new PutResult() : null };
                Sender.Tell(new GatewayReply { CorrelationId = r.CorrelationId, Reply = reply });
            });
        }
    }
}
