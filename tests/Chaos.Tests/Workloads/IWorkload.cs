using KvActors.Chaos.Tests.Verification;

namespace KvActors.Chaos.Tests.Workloads;

/// <summary>A chaos workload: client processes that run until stopped, then a final read and its own checks.</summary>
internal interface IWorkload
{
    string Name { get; }

    /// <summary>Runs the client processes until <paramref name="stop"/> is cancelled.</summary>
    Task RunAsync(ClientProcesses clients, CancellationToken stop);

    /// <summary>After healing: reads back everything the run touched, as the final readers (processes below <see cref="HistoryChecker.FinalReaders"/>).</summary>
    Task FinalReadAsync(ClientProcesses clients, CancellationToken cancellationToken);

    /// <summary>Checks beyond the history's own (e.g. the bank total).</summary>
    IReadOnlyList<Anomaly> ExtraChecks();
}
