using Akka.Actor;
using Google.Protobuf;
using KvActors.Protocol;
using KvActors.Raft;
using KvActors.Raft.Ids;
using KvActors.Raft.Log;

namespace KvActors.Node.Replica;

public sealed partial class ReplicaActor
{
    // Writes wait by log index for the entry that carries them; reads wait for ReadIndex, then for the state machine
    // to reach their index. Both are bounded (max-pending-requests) and fail with Timeout past their deadline.
    private readonly Dictionary<LogIndex, PendingWrite> _writes = new();
    private readonly Dictionary<ReadContext, PendingRead> _reads = new();
    private readonly List<(LogIndex Index, PendingRead Read)> _confirmedReads = [];
    private ulong _nextRead;

    private sealed record PendingWrite(EntryId Entry, IActorRef Client, DateTime Deadline);

    private sealed record PendingRead(KvRequest Request, IActorRef Client, DateTime Deadline);

    private void HandleClientRequest(KvRequest request, IActorRef client)
    {
        ValidationResult validation = KvLimits.Default.Validate(request);
        if (!validation.IsOk)
        {
            client.Tell(Reply(validation.Error, validation.Message));
            return;
        }
        if (IsRead(request, out bool serializable))
        {
            if (serializable)
            {
                KvReply local = _stateMachine.Read(request);
                local.Stale = true;      // answered from this replica's state: possibly behind the leader
                client.Tell(local);
                return;
            }
            ReadLinearizable(request, client);
            return;
        }
        if (_writes.Count + _reads.Count >= _settings.MaxPendingRequests)
        {
            client.Tell(Reply(ErrorCode.Unavailable, $"replica {_address} has {_settings.MaxPendingRequests} requests waiting; retry later"));
            return;
        }
        ProposeResult result = _raft!.Propose(request.ToByteArray());
        if (result.IsAccepted)
        {
            // A write still waiting at this index was proposed in an earlier term and truncated away: it is lost.
            if (_writes.Remove(result.Entry.Index, out PendingWrite? superseded)) superseded.Client.Tell(LostWrite());
            _writes[result.Entry.Index] = new PendingWrite(result.Entry, client, DateTime.UtcNow + _settings.RequestDeadline);
            return;
        }
        client.Tell(Refusal(result.Status, result.LeaderHint));
    }

    private static bool IsRead(KvRequest request, out bool serializable)
    {
        switch (request.CommandCase)
        {
            case KvRequest.CommandOneofCase.Get:
                serializable = request.Get.Serializable;
                return true;
            case KvRequest.CommandOneofCase.Range:
                serializable = request.Range.Serializable;
                return true;
            default:
                serializable = false;
                return false;
        }
    }

    private void ReadLinearizable(KvRequest request, IActorRef client)
    {
        if (_writes.Count + _reads.Count >= _settings.MaxPendingRequests)
        {
            client.Tell(Reply(ErrorCode.Unavailable, $"replica {_address} has {_settings.MaxPendingRequests} requests waiting; retry later"));
            return;
        }
        var context = new ReadContext(++_nextRead);
        ReadIndexResult result = _raft!.ReadIndex(context);
        if (result.IsAccepted) _reads[context] = new PendingRead(request, client, DateTime.UtcNow + _settings.RequestDeadline);
        else client.Tell(Refusal(result.Status, result.LeaderHint));
    }

    private void OnReadConfirmed(ReadState read)
    {
        if (_reads.Remove(read.Context, out PendingRead? pending)) _confirmedReads.Add((read.Index, pending));
    }

    private void OnReadAborted(ReadContext context)
    {
        if (_reads.Remove(context, out PendingRead? pending))
            pending.Client.Tell(Reply(ErrorCode.NotLeader, $"replica {_address} stopped leading before the read was confirmed; retry"));
    }

    private void ServeConfirmedReads()
    {
        if (_confirmedReads.Count == 0) return;
        ulong applied = _stateMachine.AppliedIndex;
        int kept = 0;
        foreach ((LogIndex index, PendingRead read) in _confirmedReads)
        {
            if (index.Value <= applied) read.Client.Tell(_stateMachine.Read(read.Request));
            else _confirmedReads[kept++] = (index, read);
        }
        _confirmedReads.RemoveRange(kept, _confirmedReads.Count - kept);
    }

    private void AnswerWrite(Entry entry, KvReply reply)
    {
        if (!_writes.Remove(entry.Index, out PendingWrite? pending)) return;
        if (pending.Entry == entry.Id) pending.Client.Tell(reply);
        else pending.Client.Tell(LostWrite());
    }

    /// <summary>A no-op or configuration entry landed where a client's command was: that command was lost with its leader.</summary>
    private void FailLostWrite(Entry entry)
    {
        if (_writes.Remove(entry.Index, out PendingWrite? pending)) pending.Client.Tell(LostWrite());
    }

    /// <summary>A snapshot from the leader replaced the log: whether these writes applied is unknown here.</summary>
    private void FailWritesUpTo(LogIndex index)
    {
        foreach (LogIndex waiting in _writes.Keys.Where(i => i <= index).ToList())
        {
            _writes.Remove(waiting, out PendingWrite? pending);
            pending!.Client.Tell(Reply(ErrorCode.Timeout, "the replica installed a snapshot from its leader; the write may have applied (a retry with the same sequence applies once)"));
        }
    }

    private KvReply LostWrite() =>
        Reply(ErrorCode.Unavailable, $"replica {_address} lost leadership before the write committed; it did not apply, retry");

    private void FailExpiredRequests()
    {
        DateTime now = DateTime.UtcNow;
        foreach ((LogIndex index, PendingWrite write) in _writes.Where(w => w.Value.Deadline <= now).ToList())
        {
            _writes.Remove(index);
            write.Client.Tell(Reply(ErrorCode.Timeout, "the write was not committed within the request deadline; it may still apply (a retry with the same sequence applies once)"));
        }
        foreach ((ReadContext context, PendingRead read) in _reads.Where(r => r.Value.Deadline <= now).ToList())
        {
            _reads.Remove(context);
            read.Client.Tell(Reply(ErrorCode.Timeout, "the read was not confirmed by a quorum within the request deadline"));
        }
        for (int i = _confirmedReads.Count - 1; i >= 0; i--)
        {
            if (_confirmedReads[i].Read.Deadline > now) continue;
            _confirmedReads[i].Read.Client.Tell(Reply(ErrorCode.Timeout, "the replica did not apply up to the read's index within the request deadline"));
            _confirmedReads.RemoveAt(i);
        }
    }

    private KvReply Refusal(RequestStatus status, ReplicaId leaderHint) => status switch
    {
        RequestStatus.NotLeader => new KvReply
        {
            Error = ErrorCode.NotLeader,
            Message = leaderHint.IsSome ? $"replica {_address} does not lead; replica {leaderHint} does" : $"replica {_address} does not lead and knows no leader",
            LeaderReplica = leaderHint.Value,
        },
        RequestStatus.TooBusy => Reply(ErrorCode.Unavailable, $"replica {_address} has too much uncommitted data; retry after a backoff"),
        RequestStatus.Transferring => Reply(ErrorCode.Unavailable, $"replica {_address} is handing over leadership to {leaderHint}; retry there"),
        _ => Reply(ErrorCode.Unavailable, $"replica {_address} refused the request: {status}"),
    };

    private static KvReply Reply(ErrorCode error, string message) => new() { Error = error, Message = message };
}
