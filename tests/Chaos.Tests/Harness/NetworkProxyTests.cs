using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;

namespace KvActors.Chaos.Tests.Harness;

/// <summary>
/// The partition proxy tells a node's connection from a client's by its Akka.Remote handshake, stalls a cut link's
/// connections and lets them flow on once healed, and never cuts a client.
/// </summary>
public sealed class NetworkProxyTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly int[] _public = [ProcessHarness.FreePort(), ProcessHarness.FreePort()];
    private readonly TcpListener[] _nodes = [new(IPAddress.Loopback, 0), new(IPAddress.Loopback, 0)];
    private NetworkProxy _proxy = null!;

    public Task InitializeAsync()
    {
        foreach (TcpListener node in _nodes) node.Start();
        _proxy = NetworkProxy.Start(_public, [.. _nodes.Select(n => ((IPEndPoint)n.LocalEndpoint).Port)]);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        foreach (TcpListener node in _nodes) node.Stop();
    }

    [Fact]
    public async Task A_connection_from_one_node_to_another_carries_both_ways_until_its_link_is_cut_and_again_once_healed()
    {
        (TcpClient from, TcpClient to) = await ConnectAsync(originPort: _public[0], target: 1);
        using (from)
        using (to)
        {
            _proxy.NodeConnections.Should().Be(1, "the handshake names node 0 as the origin");
            await RoundTripAsync(from, to, 1);

            _proxy.Cut(0, 1);
            await from.GetStream().WriteAsync(new byte[] { 2 });
            await to.GetStream().WriteAsync(new byte[] { 3 });
            await Task.Delay(300);        // a window in which a leaking proxy would have delivered them
            to.Available.Should().Be(0, "a cut link moves nothing towards node 1");
            from.Available.Should().Be(0, "nor back towards node 0");

            _proxy.Heal(0, 1);
            (await ReadByteAsync(to)).Should().Be(2, "what was held during the cut arrives once healed");
            (await ReadByteAsync(from)).Should().Be(3);
        }
    }

    [Fact]
    public async Task A_connection_opened_while_its_link_is_cut_waits_for_the_heal()
    {
        _proxy.Cut(0, 1);
        Task<(TcpClient, TcpClient)> connecting = ConnectAsync(originPort: _public[0], target: 1);
        await Task.Delay(300);
        connecting.IsCompleted.Should().BeFalse("the proxy does not reach node 1 while the link is cut");

        _proxy.Heal(0, 1);
        (TcpClient from, TcpClient to) = await connecting.WaitAsync(Wait);
        using (from)
        using (to) await RoundTripAsync(from, to, 4);
    }

    [Fact]
    public async Task A_client_is_never_cut()
    {
        _proxy.Cut(0, 1);
        (TcpClient from, TcpClient to) = await ConnectAsync(originPort: 1, target: 1);      // port 1: no node's
        using (from)
        using (to)
        {
            await RoundTripAsync(from, to, 5);
            _proxy.NodeConnections.Should().Be(0);
        }
    }

    /// <summary>Opens a connection to node <paramref name="target"/> through the proxy, sending the Associate handshake of an origin on <paramref name="originPort"/>.</summary>
    private async Task<(TcpClient From, TcpClient To)> ConnectAsync(int originPort, int target)
    {
        var from = new TcpClient();
        await from.ConnectAsync(IPAddress.Loopback, _public[target]);
        await from.GetStream().WriteAsync(Handshake(originPort));
        TcpClient to = await _nodes[target].AcceptTcpClientAsync();
        byte[] received = new byte[Handshake(originPort).Length];
        await to.GetStream().ReadExactlyAsync(received).AsTask().WaitAsync(Wait);
        received.Should().Equal(Handshake(originPort), "the handshake is forwarded as it came");
        return (from, to);
    }

    private static async Task RoundTripAsync(TcpClient from, TcpClient to, byte value)
    {
        await from.GetStream().WriteAsync(new[] { value });
        (await ReadByteAsync(to)).Should().Be(value);
        await to.GetStream().WriteAsync(new[] { (byte)(value + 100) });
        (await ReadByteAsync(from)).Should().Be((byte)(value + 100));
    }

    private static async Task<byte> ReadByteAsync(TcpClient client)
    {
        byte[] one = new byte[1];
        await client.GetStream().ReadExactlyAsync(one).AsTask().WaitAsync(Wait);
        return one[0];
    }

    /// <summary>An Akka.Remote Associate frame (WireFormats.proto) from <c>akka.tcp://kvactors@127.0.0.1:port</c>.</summary>
    private static byte[] Handshake(int port)
    {
        byte[] address = Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteString("kvactors");
            o.WriteTag(2, WireFormat.WireType.LengthDelimited);
            o.WriteString("127.0.0.1");
            o.WriteTag(3, WireFormat.WireType.Varint);
            o.WriteUInt32((uint)port);
            o.WriteTag(4, WireFormat.WireType.LengthDelimited);
            o.WriteString("akka.tcp");
        });
        byte[] handshake = Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(address));
            o.WriteTag(2, WireFormat.WireType.Fixed64);
            o.WriteFixed64(42);
        });
        byte[] control = Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.Varint);
            o.WriteEnum(1);      // ASSOCIATE
            o.WriteTag(2, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(handshake));
        });
        byte[] message = Message(o =>
        {
            o.WriteTag(2, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFrom(control));
        });
        byte[] frame = new byte[4 + message.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, message.Length);
        message.CopyTo(frame, 4);
        return frame;
    }

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        write(output);
        output.Flush();
        return buffer.ToArray();
    }
}
