using Akka.Actor;
using KvActors.Chaos.Tests.Verification;
using KvActors.Client;
using KvActors.Protocol.Wire;

namespace KvActors.Chaos.Tests.Workloads;

/// <summary>
/// The logical client processes of a workload: each slot runs one process at a time through its own
/// <see cref="KvClient"/>, one operation outstanding, and records every invocation and completion. An operation whose
/// outcome is unknown ends its process (history rule); the slot goes on under a new process number.
/// </summary>
internal sealed class ClientProcesses(ActorSystem system, IReadOnlyList<string> endpoints, HistoryRecorder history)
{
    private int _nextProcess = HistoryChecker.FinalReaders - 1;
    private long _ok;

    /// <summary>How long one operation may take: long enough for an election, short enough to keep the run moving.</summary>
    public static readonly TimeSpan OperationDeadline = TimeSpan.FromSeconds(4);

    public HistoryRecorder History => history;

    /// <summary>Operations completed ok so far.</summary>
    public long Ok => Interlocked.Read(ref _ok);

    public int NewProcess() => Interlocked.Increment(ref _nextProcess);

    /// <summary>Counts an operation a workload recorded itself (a Txn) as completed ok.</summary>
    public void CountOk() => Interlocked.Increment(ref _ok);

    public KvClient NewClient() => KvClient.Create(system, endpoints, new KvClientOptions { RequestDeadline = OperationDeadline });

    /// <summary>
    /// How an operation that threw <paramref name="e"/> completes in the history: <c>fail</c> when it certainly did not
    /// apply (refused before anything applied, or a read, which changes nothing), else <c>info</c> (outcome unknown);
    /// null for an exception that is not a client's answer, which the caller lets through.
    /// </summary>
    public static string? Completion(Exception e, bool isRead) => e switch
    {
        KvException { Error: ErrorCode.Unavailable or ErrorCode.InvalidArgument or ErrorCode.TooLarge } => HistoryEvent.Fail,
        KvException or OperationCanceledException or AskTimeoutException => isRead ? HistoryEvent.Fail : HistoryEvent.Info,
        _ => null,
    };

    /// <summary>
    /// Runs <paramref name="operation"/> for process <paramref name="process"/>, recording it. Returns the completion type
    /// (<c>ok</c>, <c>fail</c> or <c>info</c>) and the operation's result when ok.
    /// </summary>
    public async Task<(string Type, T? Result)> RunAsync<T>(int process, HistoryEvent invoke, Func<Task<T>> operation,
        Func<T, HistoryEvent, HistoryEvent> completeOk)
    {
        history.Add(invoke with { Time = history.Now() });
        string type;
        T? result = default;
        try
        {
            result = await operation();
            history.Add(completeOk(result, HistoryEvent.Completed(process, HistoryEvent.Ok, invoke.F, invoke.Key, history.Now())));
            Interlocked.Increment(ref _ok);
            return (HistoryEvent.Ok, result);
        }
        catch (Exception e) when (Completion(e, isRead: invoke.F == HistoryEvent.Get) is { } failed)
        {
            type = failed;
        }
        history.Add(HistoryEvent.Completed(process, type, invoke.F, invoke.Key, history.Now()));
        return (type, result);
    }
}
