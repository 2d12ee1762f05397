using System.Net;
using System.Net.Sockets;

namespace KvActors.Tests.Shared;

/// <summary>
/// Loopback ports for the nodes a test starts. A port the kernel hands out for port 0 is free only until the listener
/// closes, and test projects run side by side: two of them could be given the same port and join each other's nodes.
/// So each project draws from a range of its own, below the kernel's ephemeral range (32768 and up on Linux, which
/// outgoing connections use too), and never hands out one port twice in a process.
/// </summary>
internal static class TestPorts
{
    private static readonly Lock Gate = new();
    private static int _next = -1;

    /// <summary>A port in <paramref name="first"/> … <paramref name="first"/> + <paramref name="count"/> − 1 that is free now and new to this process.</summary>
    public static int Next(int first, int count)
    {
        lock (Gate)
        {
            if (_next < 0) _next = Random.Shared.Next(count);
            for (int tried = 0; tried < count; tried++)
            {
                int port = first + _next++ % count;
                if (IsFree(port)) return port;
            }
            throw new InvalidOperationException($"no loopback port in {first}..{first + count - 1} is free");
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
