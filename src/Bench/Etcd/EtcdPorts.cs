using System.Globalization;
using System.Net;
using System.Net.Sockets;
using KvActors.Bench.Load;

namespace KvActors.Bench.Etcd;

/// <summary>
/// The members' loopback ports (one for clients, one for peers each), chosen when a cluster is created and kept in a
/// file beside the members' data. A member's peer URL is part of the membership that etcd stores in its data, and an
/// existing member ignores <c>--initial-cluster</c>, so a restart on the same data must listen where the others dial;
/// the file lets a later bench process (the same <c>--data-dir</c>) find them.
/// </summary>
internal sealed class EtcdPorts
{
    private const int MaxPort = 65_535;

    private readonly int[] _client;
    private readonly int[] _peer;

    private EtcdPorts(int[] client, int[] peer)
    {
        _client = client;
        _peer = peer;
    }

    /// <summary>Member <paramref name="member"/>'s (0-based) client port.</summary>
    public int Client(int member) => _client[member];

    /// <summary>Member <paramref name="member"/>'s (0-based) peer port.</summary>
    public int Peer(int member) => _peer[member];

    /// <summary>
    /// The ports recorded in <paramref name="file"/> when they are all free; otherwise, for a cluster with no data yet,
    /// <paramref name="members"/> pairs of free ports (from the OS when <paramref name="basePort"/> is 0, else the first
    /// free ones from <paramref name="basePort"/> up), written to <paramref name="file"/>.
    /// </summary>
    /// <exception cref="BenchSetupException">The cluster has data but its ports are unknown or in use, or no ports are free.</exception>
    public static EtcdPorts LoadOrChoose(string file, int members, int basePort, bool hasData)
    {
        string folder = Path.GetDirectoryName(file)!;
        if (File.Exists(file))
        {
            EtcdPorts? recorded = Parse(File.ReadAllLines(file), members);
            if (recorded is null && hasData)
                throw new BenchSetupException($"etcd: {file} does not list {members} members' ports; delete {folder} to start a new cluster");
            if (recorded is not null)
            {
                int busy = recorded.FirstBusyPort();
                if (busy == 0) return recorded;
                if (hasData)
                    throw new BenchSetupException($"etcd: port {busy}, recorded in {file} for the existing cluster, is in use by another " +
                        $"program; free it, or delete {folder} to start a new cluster");
            }
        }
        else if (hasData)
        {
            throw new BenchSetupException($"etcd: {folder} holds member data but no {file} saying where the members listen; delete {folder} to start a new cluster");
        }

        int[] ports = basePort == 0 ? FromOs(2 * members) : FirstFree(2 * members, basePort);
        var chosen = new EtcdPorts(ports[..members], ports[members..]);
        var lines = new List<string> { "# name client-port peer-port: where this cluster's members listen on 127.0.0.1 (kept for restarts)" };
        for (int i = 0; i < members; i++)
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{EtcdSystem.MemberName(i)} {chosen.Client(i)} {chosen.Peer(i)}"));
        File.WriteAllLines(file, lines);
        return chosen;
    }

    private static EtcdPorts? Parse(string[] lines, int members)
    {
        var client = new int[members];
        var peer = new int[members];
        int found = 0;
        foreach (string line in lines)
        {
            if (line.Length == 0 || line[0] == '#') continue;
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 3 || found >= members || fields[0] != EtcdSystem.MemberName(found)
                || !int.TryParse(fields[1], CultureInfo.InvariantCulture, out client[found])
                || !int.TryParse(fields[2], CultureInfo.InvariantCulture, out peer[found]))
                return null;
            found++;
        }
        return found == members ? new EtcdPorts(client, peer) : null;
    }

    /// <summary>The first recorded port another program listens on, or 0 when all are free.</summary>
    private int FirstBusyPort()
    {
        foreach (int port in (int[])[.. _client, .. _peer])
        {
            if (!IsFree(port)) return port;
        }
        return 0;
    }

    /// <summary>Distinct ports the OS picks: all listeners are held open together, so none is handed out twice.</summary>
    private static int[] FromOs(int count)
    {
        var listeners = new TcpListener[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                listeners[i] = new TcpListener(IPAddress.Loopback, 0);
                listeners[i].Start();
            }
            return [.. listeners.Select(static l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (TcpListener? listener in listeners) listener?.Stop();
        }
    }

    private static int[] FirstFree(int count, int basePort)
    {
        var ports = new List<int>(count);
        for (int port = basePort; port <= MaxPort && ports.Count < count; port++)
        {
            if (IsFree(port)) ports.Add(port);
        }
        if (ports.Count < count)
            throw new BenchSetupException($"etcd: fewer than {count} free loopback ports from {basePort} up; pick another base port (0 lets the OS choose)");
        return [.. ports];
    }

    private static bool IsFree(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
