using System.CommandLine;
using System.CommandLine.Parsing;
using KvActors.Protocol;

namespace KvActors.Node.Hosting;

/// <summary>
/// The node's command line (DESIGN.md, Commands): <c>start</c> runs one node, <c>local</c> runs a cluster of several
/// node processes on this machine. Options and output lines are contracts that scripts read.
/// </summary>
public static class NodeCommands
{
    /// <summary>Exit code: the node ran and stopped cleanly.</summary>
    public const int Ok = 0;

    /// <summary>Exit code: the node refused to start (bad options, conflicting data directory, unreachable seeds).</summary>
    public const int Refused = 1;

    /// <summary>Exit code: a malformed command line.</summary>
    public const int Usage = 2;

    /// <summary>Exit code: the node stopped on its own (a replica or the host failed); a downed node restarts itself instead.</summary>
    public const int Stopped = 3;

    /// <summary>Parses <paramref name="args"/> and runs the command; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var shards = new Option<int>("--shards")
        {
            Description = "Shard count, fixed when the cluster is first created",
            DefaultValueFactory = _ => NodeOptions.DefaultShards,
        };
        var replication = new Option<int>("--replication")
        {
            Description = "Replicas per shard, fixed when the cluster is first created",
            DefaultValueFactory = _ => NodeOptions.DefaultReplication,
        };
        var dataDir = new Option<string>("--data-dir") { Description = "Where the node keeps its data (SQLite files, identity)", Required = true };
        var config = new Option<string?>("--config") { Description = "A HOCON file whose settings override the defaults (see hocon/kvactors.conf)" };

        var nodeId = new Option<string>("--node-id") { Description = "The node's short name, e.g. n1", Required = true };
        var port = new Option<int>("--port") { Description = "The TCP port the node binds and advertises", Required = true };
        var seeds = new Option<string>("--seeds") { Description = "The seed nodes, host:port,... (a node not among them joins an existing cluster)", Required = true };
        var bindPort = new Option<int?>("--bind-port")
        {
            Description = "The TCP port the node listens on when others reach it on --port through a forward, NAT or proxy",
        };
        var host = new Option<string>("--host") { Description = "The address the node binds and advertises", DefaultValueFactory = _ => "127.0.0.1" };
        var stopWithInput = new Option<bool>("--stop-when-input-closes")
        {
            Description = "Stop when standard input closes (used by `local` for its child nodes)",
            Hidden = true,
        };
        var start = new Command("start", "Run one node of a cluster (the seed-node deployment)")
        {
            nodeId, port, seeds, dataDir, host, bindPort, shards, replication, config, stopWithInput,
        };
        start.SetAction(async (result, cancel) =>
        {
            IReadOnlyList<string> seedList;
            try
            {
                seedList = Endpoints.ParseList(result.GetValue(seeds)!);
            }
            catch (FormatException e)
            {
                await error.WriteLineAsync($"kvactors: --seeds: {e.Message}");
                return Usage;
            }
            var options = new NodeOptions(result.GetValue(nodeId)!, result.GetValue(host)!, result.GetValue(port), seedList,
                Path.GetFullPath(result.GetValue(dataDir)!), result.GetValue(shards), result.GetValue(replication), result.GetValue(bindPort));
            return await NodeProcess.RunAsync(options, result.GetValue(config), result.GetValue(stopWithInput), output, error, cancel);
        });

        var nodes = new Option<int>("--nodes") { Description = "How many nodes", DefaultValueFactory = _ => 3 };
        var basePort = new Option<int>("--port")
        {
            Description = "The first node's port; node i listens on port + i - 1",
            DefaultValueFactory = _ => LocalCluster.DefaultBasePort,
        };
        var local = new Command("local", "Run a cluster of several node processes on this machine (127.0.0.1), data under --data-dir")
        {
            dataDir, nodes, shards, replication, basePort, config,
        };
        local.SetAction(async (result, cancel) =>
        {
            var cluster = new LocalCluster(Path.GetFullPath(result.GetValue(dataDir)!), result.GetValue(nodes), result.GetValue(shards),
                result.GetValue(replication), result.GetValue(basePort), result.GetValue(config) is { } file ? Path.GetFullPath(file) : null);
            return await cluster.RunAsync(output, error, cancel);
        });

        var root = new RootCommand("KvActors node: a linearizable, sharded, Raft-replicated key-value store") { start, local };
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (ParseError problem in parsed.Errors) await error.WriteLineAsync($"kvactors: {problem.Message}");
            await error.WriteLineAsync("kvactors: see --help");
            return Usage;
        }
        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
    }
}
