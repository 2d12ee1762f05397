using KvActors.Node.Hosting;

namespace KvActors.Node.Tests.Hosting;

/// <summary>The node's command line refuses what it cannot run with one line that says why, and changes nothing.</summary>
public sealed class NodeCommandsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kvactors-commands", Guid.NewGuid().ToString("N"));

    private async Task<(int Code, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await NodeCommands.RunAsync(args, output, error);
        return (code, error.ToString());
    }

    [Theory]
    [InlineData(new[] { "start", "--node-id", "n1", "--port", "7101", "--data-dir", "D" }, "--seeds")]
    [InlineData(new[] { "start", "--node-id", "n1", "--port", "seven", "--seeds", "127.0.0.1:7101", "--data-dir", "D" }, "seven")]
    [InlineData(new[] { "start", "--node-id", "n1", "--port", "7101", "--seeds", "nope", "--data-dir", "D" }, "'nope' is not host:port")]
    [InlineData(new[] { "frob" }, "frob")]
    [InlineData(new[] { "local" }, "--data-dir")]
    [InlineData(new[] { "local", "--data-dir", "D", "--nodes", "0" }, "--nodes 0 must be at least 1")]
    [InlineData(new[] { "local", "--data-dir", "D", "--replication", "5" }, "--replication 5 must be between 1 and --nodes (3)")]
    public async Task A_malformed_command_line_exits_2_saying_why(string[] args, string reason)
    {
        (int code, string error) = await RunAsync(args);

        code.Should().Be(NodeCommands.Usage);
        error.Should().Contain(reason);
    }

    [Theory]
    [InlineData("bad id!", "127.0.0.1:7101", "3", "--node-id 'bad id!' is not a short name")]
    [InlineData("n1", "127.0.0.1:7101", "3", "--replication 3 needs at least 3 seeds, but --seeds names 1")]
    [InlineData("n1", "127.0.0.1:7101", "0", "--replication 0 must be at least 1")]
    public async Task Options_a_node_cannot_run_with_exit_1_with_one_line_and_write_nothing(string nodeId, string seeds, string replication, string reason)
    {
        (int code, string error) = await RunAsync("start", "--node-id", nodeId, "--port", "7101", "--seeds", seeds, "--data-dir", _dir,
            "--replication", replication);

        code.Should().Be(NodeCommands.Refused);
        error.Trim().Split('\n').Should().ContainSingle().Which.Should().Contain(reason);
        Directory.Exists(_dir).Should().BeFalse("a refused node leaves no trace");
    }

    [Fact]
    public async Task A_bind_port_that_is_not_a_port_is_refused()
    {
        (int code, string error) = await RunAsync("start", "--node-id", "n1", "--port", "7101", "--bind-port", "70000",
            "--seeds", "127.0.0.1:7101", "--data-dir", _dir, "--replication", "1");

        code.Should().Be(NodeCommands.Refused);
        error.Should().Contain("--bind-port 70000 is not a TCP port");
    }

    [Fact]
    public void A_node_behind_a_forward_listens_on_its_bind_port_and_is_known_by_its_port()
    {
        var options = new NodeOptions("n1", "127.0.0.1", 7101, ["127.0.0.1:7101"], _dir, BindPort: 7201);

        Akka.Configuration.Config config = options.AkkaConfig();

        config.GetInt("akka.remote.dot-netty.tcp.port").Should().Be(7201);
        config.GetInt("akka.remote.dot-netty.tcp.public-port").Should().Be(7101);
        config.GetString("akka.remote.dot-netty.tcp.public-hostname").Should().Be("127.0.0.1");
        options.Endpoint.Should().Be("127.0.0.1:7101", "peers and seed lists name the port they reach it by");
    }

    [Fact]
    public void A_node_without_a_bind_port_listens_where_it_is_known()
    {
        Akka.Configuration.Config config = new NodeOptions("n1", "127.0.0.1", 7101, ["127.0.0.1:7101"], _dir).AkkaConfig();

        config.GetInt("akka.remote.dot-netty.tcp.port").Should().Be(7101);
        config.HasPath("akka.remote.dot-netty.tcp.public-port").Should().BeFalse();
    }

    [Fact]
    public void A_node_that_was_a_member_before_joins_through_the_other_seeds_only()
    {
        var options = new NodeOptions("n1", "127.0.0.1", 7101, ["127.0.0.1:7101", "127.0.0.1:7102", "127.0.0.1:7103"], _dir);

        options.AkkaConfig().GetStringList("akka.cluster.seed-nodes").Should().HaveCount(3, "a first start founds the Akka way");
        options.AkkaConfig(memberBefore: true).GetStringList("akka.cluster.seed-nodes").Should()
            .Equal(["akka.tcp://kvactors@127.0.0.1:7102", "akka.tcp://kvactors@127.0.0.1:7103"], "it must not found a second cluster by itself");
        new NodeOptions("n1", "127.0.0.1", 7101, ["127.0.0.1:7101"], _dir).AkkaConfig(memberBefore: true)
            .GetStringList("akka.cluster.seed-nodes").Should().ContainSingle("the only seed founds alone: there is nothing to join");
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
