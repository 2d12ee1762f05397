using KvActors.Raft.Ids;
using KvActors.Raft.Messages;

namespace KvActors.Raft;

internal sealed partial class RaftCore
{
    // Dissertation §3.10: the leader stops taking proposals, brings the target's log up to its own, then tells it to
    // campaign at once. If that has not happened within an election timeout, the transfer is given up.
    private ReplicaId _transferee;

    public TransferResult TransferLeadership(ReplicaId to)
    {
        if (Role != Role.Leader) return new TransferResult(RequestStatus.NotLeader, Leader);
        if (to == _id || !_membership.Voters.Contains(to) || !_progress.ContainsKey(to))
            return new TransferResult(RequestStatus.InvalidChange, _id);
        if (_transferee == to) return new TransferResult(RequestStatus.Accepted, _id);
        _transferee = to;
        _electionElapsed = 0;                 // the abort timer
        LogMessages.TransferStarted(_logger, _id, Term, to);
        if (_progress[to].Match == Log.LastIndex) SendTimeoutNow(to);
        else SendAppend(to, sendIfEmpty: true);
        return new TransferResult(RequestStatus.Accepted, _id);
    }

    private void SendTimeoutNow(ReplicaId to) => Send(new TimeoutNowRequest(_id, to, Term));

    /// <summary>The target caught up: hand over.</summary>
    private void MaybeFinishTransfer(ReplicaId from, LogIndex match)
    {
        if (from == _transferee && match == Log.LastIndex) SendTimeoutNow(from);
    }

    private void HandleTimeoutNow(TimeoutNowRequest request)
    {
        if (!IsPromotable) return;
        LogMessages.TakingOverLeadership(_logger, _id, Term, request.From);
        // No pre-vote: the leader asked for this, and voters answer a transfer election even inside their lease.
        Campaign(preVote: false, transfer: true);
    }
}
