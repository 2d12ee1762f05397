using System.Text.Json;
using KvActors.Chaos.Tests.Harness;
using Xunit.Abstractions;

namespace KvActors.Chaos.Tests;

/// <summary>
/// What a newcomer runs, as processes: <c>local</c> starts a three-node cluster and prints <c>ready</c>; kvctl puts,
/// gets and reads the status; Ctrl-C stops everything cleanly; <c>local</c> again on the same directory brings the
/// data back.
/// </summary>
public sealed class QuickStartTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempDirectory _data = new("quickstart");

    [Fact]
    public async Task Local_runs_a_cluster_that_kvctl_uses_stops_cleanly_on_ctrl_c_and_comes_back_with_its_data()
    {
        await using var processes = new ProcessHarness(log);
        int port = FreePorts(3);
        string endpoints = string.Join(",", Enumerable.Range(port, 3).Select(p => $"127.0.0.1:{p}"));

        RunningProcess local = processes.Start("local", "KvActors.Node", "local", "--data-dir", _data.Path, "--port", port.ToString());
        string ready = await local.WaitForLineAsync(l => l.StartsWith("ready", StringComparison.Ordinal));
        ready.Should().Contain("3 nodes").And.Contain("16 shards");

        (await processes.KvctlAsync("--endpoints", endpoints, "put", "hello", "world")).ExitCode.Should().Be(0);
        var get = await processes.KvctlAsync("--endpoints", endpoints, "get", "hello");
        get.ExitCode.Should().Be(0);
        get.Output.Trim().Should().Be("world");
        var absent = await processes.KvctlAsync("--endpoints", endpoints, "get", "never-written");
        absent.ExitCode.Should().NotBe(0);
        absent.Error.Should().Contain("not found");

        var status = await processes.KvctlAsync("--endpoints", endpoints, "--json", "status");
        status.ExitCode.Should().Be(0, status.Error);
        using (JsonDocument json = JsonDocument.Parse(status.Output))
        {
            JsonElement nodes = json.RootElement.GetProperty("nodes");
            nodes.GetArrayLength().Should().Be(3);
            nodes.EnumerateArray().Select(n => n.GetProperty("status").GetString()).Should().AllBe("up");
            nodes.EnumerateArray().Select(n => n.GetProperty("id").GetString()).Should().BeEquivalentTo(["n1", "n2", "n3"]);
            JsonElement shards = json.RootElement.GetProperty("shards");
            shards.GetArrayLength().Should().Be(16);
            foreach (JsonElement shard in shards.EnumerateArray())
            {
                shard.GetProperty("leader").ValueKind.Should().Be(JsonValueKind.String, shard.ToString());
                shard.GetProperty("voters").GetArrayLength().Should().Be(3);
                shard.GetProperty("replicas").GetArrayLength().Should().Be(3);
            }
        }

        await StopWithCtrlCAsync(local);

        RunningProcess again = processes.Start("local again", "KvActors.Node", "local", "--data-dir", _data.Path, "--port", port.ToString());
        await again.WaitForLineAsync(l => l.StartsWith("ready", StringComparison.Ordinal));
        var reread = await processes.KvctlAsync("--endpoints", endpoints, "get", "hello");
        reread.ExitCode.Should().Be(0, reread.Error);
        reread.Output.Trim().Should().Be("world");
        await StopWithCtrlCAsync(again);
    }

    private static async Task StopWithCtrlCAsync(RunningProcess local)
    {
        local.Signal("INT");
        using var timeout = new CancellationTokenSource(ProcessHarness.Wait);
        await local.Process.WaitForExitAsync(timeout.Token);
        local.Process.WaitForExit();
        local.Process.ExitCode.Should().Be(0, local.Errors);
        local.Output.Should().Contain("stopped");
    }

    /// <summary>The first of <paramref name="count"/> consecutive ports that are free now.</summary>
    private static int FreePorts(int count)
    {
        while (true)
        {
            int first = ProcessHarness.FreePort();
            if (first + count > 65535) continue;
            bool free = true;
            for (int p = first + 1; p < first + count && free; p++)
            {
                try
                {
                    using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, p);
                    probe.Start();
                }
                catch (System.Net.Sockets.SocketException)
                {
                    free = false;
                }
            }
            if (free) return first;
        }
    }

    public void Dispose() => _data.Dispose();
}
