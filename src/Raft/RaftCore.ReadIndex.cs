using KvActors.Raft.Ids;
using KvActors.Raft.Quorum;
using KvActors.Raft.Tracking;

namespace KvActors.Raft;

internal sealed partial class RaftCore
{
    // Dissertation §6.4, batched. A read is safe at the commit index once the leader (1) has committed an entry of
    // its term, so that index covers every write committed before, and (2) has heard from a quorum *after* the read
    // arrived, so no newer leader can have committed anything it lacks. Reads that arrive between two flushes share
    // one round: the flush starts it and stamps it on heartbeats, and an answer to any heartbeat that left after the
    // round started confirms it and every earlier round.
    private readonly List<ReadContext> _readsAwaitingCommit = [];
    private readonly List<ReadContext> _readBatch = [];
    private readonly Queue<ReadRound> _readRounds = new();
    private readonly List<ReadState> _readStates = [];
    private readonly List<ReadContext> _abortedReads = [];
    private ulong _readRound;           // the newest round started; rounds only count up, across terms too

    private sealed record ReadRound(ulong Id, LogIndex Index, ReadContext[] Contexts);

    public ReadIndexResult ReadIndex(ReadContext context)
    {
        if (Role != Role.Leader) return new ReadIndexResult(RequestStatus.NotLeader, Leader);
        if (CommittedInCurrentTerm) _readBatch.Add(context);
        else _readsAwaitingCommit.Add(context);
        return new ReadIndexResult(RequestStatus.Accepted, _id);
    }

    public bool HasReadResults => _readStates.Count > 0 || _abortedReads.Count > 0;

    public bool HasReadBatch => Role == Role.Leader && _readBatch.Count > 0;

    private void OnFirstCommitOfTerm()
    {
        _readBatch.AddRange(_readsAwaitingCommit);
        _readsAwaitingCommit.Clear();
    }

    private void FlushReads()
    {
        if (_readBatch.Count == 0) return;
        ReadContext[] contexts = _readBatch.ToArray();
        _readBatch.Clear();
        _readRounds.Enqueue(new ReadRound(++_readRound, Log.Committed, contexts));
        if (_progress.TryGetValue(_id, out Progress? self)) self.ReadRoundAcked = _readRound;
        if (JointQuorum.Reached(_membership, voter => voter == _id)) ReleaseConfirmedReads();   // we are the quorum
        else BroadcastHeartbeat();
    }

    /// <summary>Hands out every round, oldest first, that a quorum has confirmed.</summary>
    private void ReleaseConfirmedReads()
    {
        while (_readRounds.Count > 0)
        {
            ReadRound round = _readRounds.Peek();
            if (!QuorumConfirmed(round.Id)) return;
            _readRounds.Dequeue();
            foreach (ReadContext context in round.Contexts) _readStates.Add(new ReadState(context, round.Index));
        }
    }

    private bool QuorumConfirmed(ulong round) =>
        JointQuorum.Reached(_membership, voter => _progress.TryGetValue(voter, out Progress? p) && p.ReadRoundAcked >= round);

    /// <summary>Leadership is gone: every read still waiting fails, so the shell can answer it now.</summary>
    private void AbortReads()
    {
        _abortedReads.AddRange(_readsAwaitingCommit);
        _abortedReads.AddRange(_readBatch);
        foreach (ReadRound round in _readRounds) _abortedReads.AddRange(round.Contexts);
        _readsAwaitingCommit.Clear();
        _readBatch.Clear();
        _readRounds.Clear();
    }

    public ReadState[] TakeReadStates()
    {
        ReadState[] states = _readStates.ToArray();
        _readStates.Clear();
        return states;
    }

    public ReadContext[] TakeAbortedReads()
    {
        ReadContext[] aborted = _abortedReads.ToArray();
        _abortedReads.Clear();
        return aborted;
    }
}
