using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;

namespace KvActors.Chaos.Tests.Harness;

/// <summary>
/// A fault-injecting TCP proxy in front of every node's Akka.Remote port, so that a chaos run can partition nodes on
/// loopback without root or network namespaces. Node i is known by port <c>publicPorts[i]</c> (it advertises it, seed
/// lists name it) and listens on <c>bindPorts[i]</c>; the proxy listens on the first and forwards to the second.
/// </summary>
/// <remarks>
/// Akka.Remote carries both directions of a pair of nodes over one connection, opened by either of them, so where a
/// connection arrives does not say which pair it joins. Its first frame does: the Associate handshake names the
/// origin's address. A cut link stalls its connections, no byte moving either way, as when a network drops packets
/// and TCP retransmits, until it is healed; then the held bytes flow on. Connections whose origin is not a node (the
/// test's clients) are never cut.
/// </remarks>
internal sealed class NetworkProxy : IAsyncDisposable
{
    // Akka.Remote's frames (DotNetty transport): a 4-byte little-endian length, then an AkkaProtocolMessage.
    private const int LengthPrefix = 4;
    private const int MaxHandshakeBytes = 64 * 1024;

    private readonly int[] _publicPorts;
    private readonly int[] _bindPorts;
    private readonly TcpListener[] _listeners;
    private readonly Gate[,] _links;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];
    private int _nodeConnections;

    private NetworkProxy(int[] publicPorts, int[] bindPorts)
    {
        _publicPorts = publicPorts;
        _bindPorts = bindPorts;
        _links = new Gate[publicPorts.Length, publicPorts.Length];
        for (int a = 0; a < publicPorts.Length; a++)
        {
            for (int b = a; b < publicPorts.Length; b++) _links[a, b] = _links[b, a] = new Gate();
        }
        _listeners = [.. publicPorts.Select(port => new TcpListener(IPAddress.Loopback, port))];
    }

    /// <summary>Listens on every public port and forwards to the matching bind port; every link starts healed.</summary>
    public static NetworkProxy Start(int[] publicPorts, int[] bindPorts)
    {
        var proxy = new NetworkProxy(publicPorts, bindPorts);
        for (int node = 0; node < publicPorts.Length; node++)
        {
            proxy._listeners[node].Start();
            proxy.Track(proxy.AcceptAsync(node));
        }
        return proxy;
    }

    /// <summary>How many connections it has recognised as one node's to another: zero means no cut could bite.</summary>
    public int NodeConnections => Volatile.Read(ref _nodeConnections);

    /// <summary>Whether the link between nodes <paramref name="a"/> and <paramref name="b"/> is cut.</summary>
    public bool IsCut(int a, int b) => _links[a, b].IsCut;

    /// <summary>Cuts the link between nodes <paramref name="a"/> and <paramref name="b"/> (both directions).</summary>
    public void Cut(int a, int b) => _links[a, b].Cut();

    /// <summary>Heals the link between nodes <paramref name="a"/> and <paramref name="b"/>.</summary>
    public void Heal(int a, int b) => _links[a, b].Heal();

    /// <summary>Cuts every link between <paramref name="side"/> and the other nodes.</summary>
    public void Split(IReadOnlyCollection<int> side)
    {
        for (int a = 0; a < _publicPorts.Length; a++)
        {
            for (int b = 0; b < _publicPorts.Length; b++)
            {
                if (side.Contains(a) && !side.Contains(b)) Cut(a, b);
            }
        }
    }

    /// <summary>Heals every link.</summary>
    public void HealAll()
    {
        foreach (Gate gate in _links) gate.Heal();
    }

    private async Task AcceptAsync(int node)
    {
        while (true)
        {
            TcpClient inbound;
            try
            {
                inbound = await _listeners[node].AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            inbound.NoDelay = true;
            Track(ServeAsync(node, inbound));
        }
    }

    private async Task ServeAsync(int node, TcpClient inbound)
    {
        try
        {
            using (inbound)
            {
                NetworkStream from = inbound.GetStream();
                (byte[] first, int? origin) = await ReadHandshakeAsync(from);
                Gate? gate = origin is { } o && o != node ? _links[o, node] : null;
                if (gate is not null) Interlocked.Increment(ref _nodeConnections);
                if (gate is not null) await gate.WhenOpen().WaitAsync(_stop.Token);
                using var outbound = new TcpClient { NoDelay = true };
                await outbound.ConnectAsync(IPAddress.Loopback, _bindPorts[node], _stop.Token);
                NetworkStream to = outbound.GetStream();
                await to.WriteAsync(first, _stop.Token);
                // Either side closing ends the connection: closing both sockets ends the other pump.
                await Task.WhenAny(PumpAsync(from, to, gate), PumpAsync(to, from, gate));
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The node behind it is down, or either side hung up: the connection ends, as a real one would.
        }
    }

    /// <summary>
    /// Reads the connection's first frame; returns the bytes read (forwarded as they are) and the index of the node
    /// that opened it, or null when it is not a node's Associate handshake.
    /// </summary>
    private async Task<(byte[] Bytes, int? Origin)> ReadHandshakeAsync(NetworkStream from)
    {
        byte[] prefix = new byte[LengthPrefix];
        await from.ReadExactlyAsync(prefix, _stop.Token);
        int length = BinaryPrimitives.ReadInt32LittleEndian(prefix);
        if (length is <= 0 or > MaxHandshakeBytes) return (prefix, null);
        byte[] frame = new byte[LengthPrefix + length];
        prefix.CopyTo(frame, 0);
        await from.ReadExactlyAsync(frame.AsMemory(LengthPrefix), _stop.Token);
        int? port = OriginPort(ByteString.CopyFrom(frame, LengthPrefix, length));
        int index = port is { } p ? Array.IndexOf(_publicPorts, p) : -1;
        return (frame, index >= 0 ? index : null);
    }

    // AkkaProtocolMessage.instruction (2) -> AkkaControlMessage.handshakeInfo (2) -> AkkaHandshakeInfo.origin (1)
    // -> AddressData.port (3), as in Akka.Remote's WireFormats.proto.
    private static int? OriginPort(ByteString message)
    {
        try
        {
            ByteString? origin = Field(message, 2) is { } instruction && Field(instruction, 2) is { } handshake ? Field(handshake, 1) : null;
            if (origin is null) return null;
            var input = new CodedInputStream(origin.ToByteArray());
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                if (WireFormat.GetTagFieldNumber(tag) == 3 && WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint) return (int)input.ReadUInt32();
                input.SkipLastField();
            }
            return null;
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    private static ByteString? Field(ByteString message, int number)
    {
        var input = new CodedInputStream(message.ToByteArray());
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == number && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited) return input.ReadBytes();
            input.SkipLastField();
        }
        return null;
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, Gate? gate)
    {
        byte[] buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                if (gate is not null) await gate.WhenOpen().WaitAsync(_stop.Token);
                int read = await from.ReadAsync(buffer, _stop.Token);
                if (read == 0) return;
                // Bytes read just before a cut are held, like packets in flight, until the link heals.
                if (gate is not null) await gate.WhenOpen().WaitAsync(_stop.Token);
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Hung up or stopped: the caller closes both sockets.
        }
    }

    private void Track(Task task)
    {
        lock (_tasks)
        {
            _tasks.RemoveAll(t => t.IsCompleted);
            _tasks.Add(task);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (TcpListener listener in _listeners) listener.Stop();
        Task[] running;
        lock (_tasks) running = [.. _tasks];
        await Task.WhenAll(running);
        _stop.Dispose();
    }

    /// <summary>One link's state: open, or cut until healed.</summary>
    private sealed class Gate
    {
        private readonly Lock _lock = new();
        private TaskCompletionSource _open = Opened();

        public bool IsCut
        {
            get
            {
                lock (_lock) return !_open.Task.IsCompleted;
            }
        }

        /// <summary>Completes when the link is (or is next) open.</summary>
        public Task WhenOpen()
        {
            lock (_lock) return _open.Task;
        }

        public void Cut()
        {
            lock (_lock)
            {
                if (_open.Task.IsCompleted) _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        public void Heal()
        {
            lock (_lock) _open.TrySetResult();
        }

        private static TaskCompletionSource Opened()
        {
            var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            open.SetResult();
            return open;
        }
    }
}
