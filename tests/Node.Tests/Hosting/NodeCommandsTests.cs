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

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
