using System.Diagnostics;
using System.Globalization;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using KvActors.Bench.Load;

namespace KvActors.Bench.Etcd;

/// <summary>
/// A 3-member etcd cluster on 127.0.0.1 as the benchmark's reference runs it: etcd's default durability (fsync on every
/// WAL write), a static initial cluster, members in <c>DIR/etcd/m1..m3</c> with their logs in <c>etcd.log</c> there.
/// Clients reach the members through dotnet-etcd's generated gRPC clients, one HTTP/2 channel per member shared by
/// every bench client routed to it, as etcd's own <c>benchmark</c> tool shares its connections among its clients
/// (<c>--conns</c> of 1 per endpoint): a client costs one HTTP/2 stream, not a TCP connection.
/// </summary>
internal sealed class EtcdSystem : IBenchSystem
{
    private const int MemberCount = 3;
    private const string ClusterToken = "kvactors-bench";

    // Room for 100,000 keys x 256 B overwritten for hours between compactions (etcd's default is 2 GiB; 8 GiB is the
    // largest it recommends), so a long run never stops on "mvcc: database space exceeded".
    private const long QuotaBackendBytes = 8L * 1024 * 1024 * 1024;

    // Keep the last 10,000 revisions. In revision mode etcd 3.4 compacts every 5 minutes, so the database holds at most
    // about 5 minutes of overwrites (at 9,000 puts/s some 2.7 M revisions, near 1 GB); freed pages are reused, so the
    // file stops growing. A compaction runs in the background of whatever row is measured then.
    private const string AutoCompactionRetentionRevisions = "10000";

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly ByteString ReadyKey = ByteString.CopyFromUtf8("kvactors-bench/ready");

    private readonly string _root;
    private readonly EtcdRouting _routing;
    private readonly TextWriter _log;
    private readonly int _basePort;
    private readonly string? _etcdPath;
    private string? _version;
    private EtcdMember[]? _members;
    private GrpcChannel[]? _channels;
    private KV.KVClient[]? _kv;
    private Maintenance.MaintenanceClient[]? _maintenance;
    private int _leader;
    private Task<int> _rowLeader = Task.FromResult(0);

    /// <param name="root">The benchmark's data folder; the members live in <c>root/etcd/m1..m3</c>, kept across restarts.</param>
    /// <param name="routing">Which member each client talks to.</param>
    /// <param name="log">Where progress lines go (nothing else is printed).</param>
    /// <param name="basePort">0: the OS picks free loopback ports; otherwise the first free ports from here up. Ports are
    /// chosen when the cluster is created and kept in <c>root/etcd/ports</c> for restarts.</param>
    /// <param name="etcdPath">The etcd server binary; null looks for <c>etcd</c> on <c>PATH</c>, then <c>/usr/bin/etcd</c>.</param>
    public EtcdSystem(string root, EtcdRouting routing, TextWriter log, int basePort = 0, string? etcdPath = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(basePort);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(basePort, 65_535);
        _root = Path.Combine(Path.GetFullPath(root), "etcd");
        _routing = routing;
        _log = log;
        _basePort = basePort;
        _etcdPath = etcdPath;
    }

    public string Name => "etcd";

    public string Description =>
        $"etcd {Version}, {MemberCount} members on 127.0.0.1, default durability (fsync), " +
        (_routing == EtcdRouting.LeaderOnly ? "leader-only" : "round-robin (client i to member i mod 3)") +
        ", one gRPC channel per member shared by its clients";

    public IReadOnlyList<int> ProcessIds =>
        _members is { } members ? [.. members.Select(static m => m.ProcessId).OfType<int>()] : [];

    /// <summary>The members' client URLs (<c>http://127.0.0.1:port</c>), m1 first; empty when not started.</summary>
    public IReadOnlyList<string> ClientUrls => _members is { } members ? [.. members.Select(static m => m.ClientUrl)] : [];

    /// <summary><c>m1</c> for member 0.</summary>
    public static string MemberName(int member) => string.Create(CultureInfo.InvariantCulture, $"m{member + 1}");

    private string Version => _version ??= EtcdBinary.Find(_etcdPath) is { } binary ? EtcdBinary.ReadVersion(binary) : "(not installed)";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_members is not null) throw new InvalidOperationException("etcd is already started");
        if (!OperatingSystem.IsLinux())
            throw new BenchSetupException("etcd: the bench runs etcd members on Linux only (it stops them with SIGTERM and reads their CPU time from /proc)");
        string binary = EtcdBinary.Find(_etcdPath) ?? throw new BenchSetupException(EtcdBinary.NotFoundMessage(_etcdPath));
        _version ??= EtcdBinary.ReadVersion(binary);
        long started = Stopwatch.GetTimestamp();

        Directory.CreateDirectory(_root);
        bool[] hasData = [.. Enumerable.Range(0, MemberCount).Select(i => Directory.Exists(Path.Combine(_root, MemberName(i), "member")))];
        if (hasData.Distinct().Count() > 1)
            throw new BenchSetupException($"etcd: only some members under {_root} have data (a member that lost its data cannot " +
                $"rejoin under its old id); delete {_root} to start a new cluster");
        EtcdPorts ports = EtcdPorts.LoadOrChoose(Path.Combine(_root, "ports"), MemberCount, _basePort, hasData[0]);
        var members = new EtcdMember[MemberCount];
        for (int i = 0; i < MemberCount; i++)
            members[i] = new EtcdMember(MemberName(i), Path.Combine(_root, MemberName(i)), ports.Client(i), ports.Peer(i));

        _members = members;
        _channels = [.. members.Select(static m => OpenChannel(m.ClientUrl))];
        _kv = [.. _channels.Select(static c => new KV.KVClient(c))];
        _maintenance = [.. _channels.Select(static c => new Maintenance.MaintenanceClient(c))];
        try
        {
            string initialCluster = string.Join(",", members.Select(static m => $"{m.Name}={m.PeerUrl}"));
            foreach (EtcdMember member in members) member.Start(binary, Arguments(member, initialCluster));
            _leader = await AwaitReadyAsync(cancellationToken);
        }
        catch
        {
            await StopAsync();
            throw;
        }
        _rowLeader = Task.FromResult(_leader);
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"etcd: {(hasData[0] ? "restarted" : "started")} {MemberCount} members ({Version}) on {string.Join(",", members.Select(static m => m.ClientUrl))} " +
            $"in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s; leader {MemberName(_leader)}"));
    }

    /// <summary>
    /// The flags of one member. On a member's first start they create the cluster; an existing member (data in its
    /// folder) ignores the <c>--initial-*</c> flags and rejoins with the membership stored in its data. Everything not
    /// set here is etcd's default, durability first: no <c>--unsafe-no-fsync</c>, default heartbeat (100 ms), election
    /// timeout (1 s) and snapshot count.
    /// </summary>
    private static string[] Arguments(EtcdMember member, string initialCluster) =>
    [
        "--name", member.Name,
        "--data-dir", member.DataDirectory,
        "--listen-client-urls", member.ClientUrl,
        "--advertise-client-urls", member.ClientUrl,
        "--listen-peer-urls", member.PeerUrl,
        "--initial-advertise-peer-urls", member.PeerUrl,
        "--initial-cluster", initialCluster,
        "--initial-cluster-token", ClusterToken,
        "--initial-cluster-state", member.HasData ? "existing" : "new",
        "--quota-backend-bytes", QuotaBackendBytes.ToString(CultureInfo.InvariantCulture),
        "--auto-compaction-mode", "revision",
        "--auto-compaction-retention", AutoCompactionRetentionRevisions,
    ];

    /// <summary>
    /// An HTTP/2 channel to one member. No retry policy (dotnet-etcd's own channel retries Unavailable up to 5 times):
    /// the bench counts every failed RPC as an error. Cancellation, and a passed deadline, surface as
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    private static GrpcChannel OpenChannel(string url) => GrpcChannel.ForAddress(url, new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler
        {
            ConnectTimeout = AttemptTimeout,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            EnableMultipleHttp2Connections = false,     // one TCP connection per member; etcd allows unlimited streams
        },
        DisposeHttpClient = true,
        ThrowOperationCanceledOnCancellation = true,
    });

    /// <summary>
    /// Waits until all members answer, agree on a leader, and the leader commits a write (a linearizable put); returns
    /// the leader's index.
    /// </summary>
    /// <exception cref="BenchSetupException">A member exited, or the cluster is not ready in <see cref="ReadyTimeout"/>.</exception>
    private async Task<int> AwaitReadyAsync(CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        string problem = "no member answered yet";
        while (true)
        {
            foreach (EtcdMember member in _members!)
            {
                if (member.ExitCode is { } code)
                    throw new BenchSetupException($"etcd: member {member.Name} exited with code {code} while starting (a port taken, " +
                        $"or data from another cluster?); the members' logs:{Environment.NewLine}{Logs()}");
            }
            try
            {
                if (await FindLeaderAsync(cancellationToken) is int leader)
                {
                    var ready = new PutRequest { Key = ReadyKey, Value = ByteString.CopyFromUtf8(DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture)) };
                    await _kv![leader].PutAsync(ready, deadline: DateTime.UtcNow + AttemptTimeout, cancellationToken: cancellationToken);
                    return leader;
                }
                problem = "the members do not agree on a leader yet";
            }
            catch (RpcException e)
            {
                problem = $"{e.StatusCode}: {e.Status.Detail}";
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // A deadline passed (the channel reports it as a cancellation): a member still starting holds requests.
                problem = $"a member did not answer within {AttemptTimeout.TotalSeconds:0} s";
            }
            if (Stopwatch.GetElapsedTime(started) > ReadyTimeout)
                throw new BenchSetupException($"etcd: the cluster did not elect a leader that commits writes within {ReadyTimeout.TotalSeconds:0} s " +
                    $"(last: {problem}); the members' logs:{Environment.NewLine}{Logs()}");
            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    /// <summary>
    /// Asks every member's Maintenance Status for its own id and its leader's; the index of the member whose id is the
    /// leader all of them name, or null when they do not agree (yet). An unreachable member throws <see cref="RpcException"/>,
    /// one silent for <see cref="AttemptTimeout"/> <see cref="OperationCanceledException"/> (the channel's deadline).
    /// </summary>
    private async Task<int?> FindLeaderAsync(CancellationToken cancellationToken)
    {
        Maintenance.MaintenanceClient[] maintenance = _maintenance!;
        DateTime deadline = DateTime.UtcNow + AttemptTimeout;
        var calls = new Task<StatusResponse>[maintenance.Length];
        for (int i = 0; i < maintenance.Length; i++)
            calls[i] = maintenance[i].StatusAsync(new StatusRequest(), deadline: deadline, cancellationToken: cancellationToken).ResponseAsync;
        StatusResponse[] statuses = await Task.WhenAll(calls);
        ulong leaderId = statuses[0].Leader;
        if (leaderId == 0 || statuses.Any(s => s.Leader != leaderId)) return null;
        for (int i = 0; i < statuses.Length; i++)
        {
            if (statuses[i].Header.MemberId == leaderId) return i;
        }
        return null;
    }

    private string Logs() => string.Join(Environment.NewLine, (_members ?? []).Select(static m =>
        $"{m.Name} ({m.LogPath}):{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", m.LogTail(10))}"));

    public async Task<IBenchClient> ConnectAsync(int clientIndex, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(clientIndex);
        KV.KVClient[] kv = _kv ?? throw new InvalidOperationException("etcd is not started");
        int member = _routing == EtcdRouting.RoundRobin ? clientIndex % MemberCount : await LeaderForRowAsync(clientIndex, cancellationToken);
        return new EtcdBenchClient(kv[member]);
    }

    /// <summary>
    /// Client 0 opens a row: it asks the members who leads now, and the row's other clients, connected right after it,
    /// wait for the same answer, so every row starts on the current leader at the cost of one Status round per row.
    /// </summary>
    private Task<int> LeaderForRowAsync(int clientIndex, CancellationToken cancellationToken)
    {
        if (clientIndex == 0) _rowLeader = RefreshLeaderAsync(cancellationToken);
        return _rowLeader;
    }

    private async Task<int> RefreshLeaderAsync(CancellationToken cancellationToken)
    {
        int? now = null;
        try
        {
            now = await FindLeaderAsync(cancellationToken);
        }
        catch (Exception e) when (e is RpcException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // A member does not answer (in time): keep the last leader; the row's errors will show what is wrong.
        }
        if (now is int leader && leader != _leader)
        {
            _log.WriteLine($"etcd: the leader is now {MemberName(leader)} (was {MemberName(_leader)})");
            _leader = leader;
        }
        return _leader;
    }

    public async Task StopAsync()
    {
        EtcdMember[]? members = _members;
        // Who leads now (the last known leader if the members do not say), so it can be stopped last.
        int leader = members is not null && _maintenance is not null ? await RefreshLeaderAsync(CancellationToken.None) : _leader;
        // Close the channels first, so no client reconnects to a member that is stopping.
        foreach (GrpcChannel channel in _channels ?? []) channel.Dispose();
        _channels = null;
        _kv = null;
        _maintenance = null;
        _members = null;
        if (members is null) return;
        // Followers first, then the leader. A leader given SIGTERM hands its leadership to a connected follower and waits
        // for it, up to about 7 s if that follower is stopping too; once its peers are gone it has none and stops at once.
        await Task.WhenAll(members.Where((_, i) => i != leader).Select(m => m.StopAsync(StopTimeout)));
        await members[leader].StopAsync(StopTimeout);
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
