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
    /// <remarks>
    /// A node the cluster downed, that a member quarantined, or that was in the smaller of two clusters restarts
    /// itself on the same data and rejoins (<see cref="NodeSettings.RejoinAfter"/>): it heals without an operator.
    /// </remarks>
    /// <param name="options">The node's options.</param>
    /// <param name="configFile">An operator's HOCON file over the defaults, or null.</param>
    /// <param name="stopWhenInputCloses">Stop when standard input reaches its end (a parent process went away).</param>
    /// <param name="output">Where the one-line start report goes.</param>
    /// <param name="error">Where a refusal's one-line reason goes.</param>
    /// <param name="cancel">Stops the node when cancelled.</param>
    public static async Task<int> RunAsync(NodeOptions options, string? configFile, bool stopWhenInputCloses, TextWriter output,
        TextWriter error, CancellationToken cancel)
    {
        string[] overlays;
        try
        {
            overlays = configFile is null ? [] : [await File.ReadAllTextAsync(configFile, cancel)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"kvactors: node {options.NodeId} cannot start: {e.Message}");
            return NodeCommands.Refused;
        }
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        if (stopWhenInputCloses) StopWhenInputCloses(stop);

        while (true)
        {
            (int code, CoordinatedShutdown.Reason? reason) = await RunOnceAsync(options, overlays, output, error, stop.Token);
            if (reason is not (CoordinatedShutdown.ClusterDowningReason or RejoinReason) || stop.IsCancellationRequested) return code;
            TimeSpan pause = NodeSettings.From(KvNode.Config(options, null, overlays)).RejoinAfter;
            await output.WriteLineAsync(
                $"node {options.NodeId} stopped: {Describe(reason)}; restarting on the same data in {pause.TotalSeconds:0.#} s to rejoin");
            try
            {
                await Task.Delay(pause, stop.Token);
            }
            catch (OperationCanceledException)
            {
                return NodeCommands.Ok;
            }
        }
    }

    /// <summary>Runs the node once, until its ActorSystem stops; returns the exit code and why it stopped.</summary>
    private static async Task<(int Code, CoordinatedShutdown.Reason? Reason)> RunOnceAsync(NodeOptions options, string[] overlays,
        TextWriter output, TextWriter error, CancellationToken stop)
    {
        ClusterIdentity? identity;
        try
        {
            identity = KvNode.Check(options);
        }
        catch (NodeStartException e)
        {
            await error.WriteLineAsync($"kvactors: node {options.NodeId} cannot start: {e.Message}");
            return (NodeCommands.Refused, null);
        }

        KvNode? node = null;
        ActorSystem? system = null;
        HostApplicationBuilder builder = Host.CreateApplicationBuilder([]);
        builder.Logging.ClearProviders();       // Akka logs to stdout itself; the host's own lines would only repeat it
        builder.Services.AddAkka(NodePaths.SystemName, (akka, _) =>
        {
            akka.AddHocon(KvNode.Config(options, identity, overlays), HoconAddMode.Prepend);
            akka.AddSetup(SqliteFiles.JournalSetup(options.DataDirectory));
            akka.WithActors((actorSystem, _) =>
            {
                system = actorSystem;
                node = KvNode.Start(actorSystem, options, identity);
            });
        });
        using IHost host = builder.Build();
        await host.StartAsync(stop);
        IHostApplicationLifetime lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        using CancellationTokenRegistration stopOnCancel = stop.Register(lifetime.StopApplication);

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
                return (NodeCommands.Refused, null);
            }
        }
        await stopped;
        CoordinatedShutdown.Reason? reason = system is null ? null : CoordinatedShutdown.Get(system).ShutdownReason;
        if (reason is null or CoordinatedShutdown.ClrExitReason or CoordinatedShutdown.ActorSystemTerminateReason) return (NodeCommands.Ok, reason);
        if (reason is not (CoordinatedShutdown.ClusterDowningReason or RejoinReason) || stop.IsCancellationRequested)
            await error.WriteLineAsync($"kvactors: node {options.NodeId} stopped on its own ({Describe(reason)}); see its log");
        return (NodeCommands.Stopped, reason);
    }

    private static string Describe(CoordinatedShutdown.Reason reason) => reason switch
    {
        CoordinatedShutdown.ClusterDowningReason => "the cluster downed it (its split brain resolver: it was cut off from the majority, or the network was too unstable to tell)",
        CoordinatedShutdown.ClusterLeavingReason => "it left the cluster",
        CoordinatedShutdown.ClusterJoinUnsuccessfulReason => "it could not join the cluster through its seeds",
        RejoinReason rejoin => rejoin.Description,
        _ => reason.GetType().Name,
    };

    private static void StopWhenInputCloses(CancellationTokenSource stop) =>
        _ = Task.Run(async () =>
        {
            using var input = new StreamReader(Console.OpenStandardInput());
            await input.ReadToEndAsync();
            await stop.CancelAsync();
        });
}
