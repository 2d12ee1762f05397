using Akka.Actor;
using Akka.Hosting;
using KvActors.Node.Placement;
using KvActors.Node.Topology;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KvActors.Node.Hosting;

/// <summary>
/// The <c>start</c> command: one node as a Microsoft.Extensions.Hosting host with Akka.Hosting. Ctrl-C or SIGTERM stops
/// it through Akka's CoordinatedShutdown (it leaves the cluster, replicas stop after their last write).
/// </summary>
public static class NodeProcess
{
    /// <summary>Runs one node until it is stopped; returns the process exit code (<see cref="NodeCommands"/>).</summary>
    /// <param name="options">The node's options.</param>
    /// <param name="configFile">An operator's HOCON file over the defaults, or null.</param>
    /// <param name="stopWhenInputCloses">Stop when standard input reaches its end (a parent process went away).</param>
    /// <param name="output">Where the one-line start report goes.</param>
    /// <param name="error">Where a refusal's one-line reason goes.</param>
    /// <param name="cancel">Stops the node when cancelled.</param>
    public static async Task<int> RunAsync(NodeOptions options, string? configFile, bool stopWhenInputCloses, TextWriter output,
        TextWriter error, CancellationToken cancel)
    {
        ClusterIdentity? identity;
        string[] overlays;
        try
        {
            identity = KvNode.Check(options);
            overlays = configFile is null ? [] : [await File.ReadAllTextAsync(configFile, cancel)];
        }
        catch (Exception e) when (e is NodeStartException or IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"kvactors: node {options.NodeId} cannot start: {e.Message}");
            return NodeCommands.Refused;
        }

        KvNode? node = null;
        ActorSystem? system = null;
        HostApplicationBuilder builder = Host.CreateApplicationBuilder([]);
        builder.Logging.ClearProviders();       // Akka logs to stdout itself; the host's own lines would only repeat it
        builder.Services.AddAkka(NodePaths.SystemName, (akka, _) =>
        {
            akka.AddHocon(KvNode.Config(options, overlays), HoconAddMode.Prepend);
            akka.AddSetup(SqliteFiles.JournalSetup(options.DataDirectory));
            akka.WithActors((actorSystem, _) =>
            {
                system = actorSystem;
                node = KvNode.Start(actorSystem, options, identity);
            });
        });
        using IHost host = builder.Build();
        await host.StartAsync(cancel);
        IHostApplicationLifetime lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        using CancellationTokenRegistration stopOnCancel = cancel.Register(lifetime.StopApplication);
        if (stopWhenInputCloses) StopWhenInputCloses(lifetime);

        Task stopped = host.WaitForShutdownAsync(CancellationToken.None);
        if (await Task.WhenAny(node!.Identity, stopped) == node.Identity)
        {
            try
            {
                ClusterIdentity decided = await node.Identity;
                await output.WriteLineAsync(
                    $"started {decided.NodeId} at {decided.Endpoint}: replica {decided.ReplicaId}, hosting {decided.Hosted.Count} of {decided.Shards} shards, data in {options.DataDirectory}");
            }
            catch (NodeStartException e)
            {
                await error.WriteLineAsync($"kvactors: node {options.NodeId} cannot start: {e.Message}");
                lifetime.StopApplication();
                await stopped;
                return NodeCommands.Refused;
            }
        }
        await stopped;
        CoordinatedShutdown.Reason? reason = system is null ? null : CoordinatedShutdown.Get(system).ShutdownReason;
        if (reason is null or CoordinatedShutdown.ClrExitReason or CoordinatedShutdown.ActorSystemTerminateReason) return NodeCommands.Ok;
        await error.WriteLineAsync($"kvactors: node {options.NodeId} stopped on its own ({Describe(reason)}); see its log");
        return NodeCommands.Stopped;
    }

    private static string Describe(CoordinatedShutdown.Reason reason) => reason switch
    {
        CoordinatedShutdown.ClusterDowningReason => "the cluster downed it: it was unreachable from the majority",
        CoordinatedShutdown.ClusterLeavingReason => "it left the cluster",
        CoordinatedShutdown.ClusterJoinUnsuccessfulReason => "it could not join the cluster through its seeds",
        _ => reason.GetType().Name,
    };

    private static void StopWhenInputCloses(IHostApplicationLifetime lifetime) =>
        _ = Task.Run(async () =>
        {
            using var input = new StreamReader(Console.OpenStandardInput());
            await input.ReadToEndAsync();
            lifetime.StopApplication();
        });
}
