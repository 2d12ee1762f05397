using KvActors.Raft.Ids;
using KvActors.Raft.Messages;
using KvActors.Raft.Quorum;

namespace KvActors.Raft;

internal sealed partial class RaftCore
{
    private void TickElection()
    {
        _electionElapsed++;
        if (!IsPromotable || _electionElapsed < _randomizedElectionTimeout) return;
        _electionElapsed = 0;
        Campaign(preVote: _config.PreVote, transfer: false);
    }

    /// <summary>Starts a (pre-)election: asks every other voter, counts our own vote, and wins at once when alone.</summary>
    private void Campaign(bool preVote, bool transfer)
    {
        if (Role == Role.Leader || !IsPromotable) return;
        Term voteTerm;
        if (preVote)
        {
            BecomePreCandidate();
            voteTerm = Term.Next();                   // the term we would campaign in; our own stays put
        }
        else
        {
            BecomeCandidate();
            voteTerm = Term;
        }
        EntryId lastLog = Log.LastEntryId;
        LogMessages.Campaigning(_logger, _id, preVote ? "pre-election" : transfer ? "transfer election" : "election", voteTerm, lastLog);
        foreach (ReplicaId voter in _membership.AllVoters)
        {
            if (voter == _id) continue;
            Send(new VoteRequest(_id, voter, voteTerm, lastLog, preVote, transfer));
        }
        _votes[_id] = true;
        TallyVotes();
    }

    /// <summary>Figure 2, RequestVote receiver; with PreVote, the same rules answered hypothetically.</summary>
    private void HandleVoteRequest(VoteRequest request)
    {
        // One vote per term (§5.2): we may repeat a vote we cast, or cast one if we have neither voted nor follow a
        // leader of this term. A pre-vote for a later term promises nothing, so it only needs the log check.
        bool canVote = Vote == request.From
            || (!Vote.IsSome && !Leader.IsSome)
            || (request.PreVote && request.Term > Term);
        // §5.4.1: only a candidate whose log is at least as up to date as ours can hold every committed entry.
        bool upToDate = request.LastLog.IsAtLeastAsUpToDateAs(Log.LastEntryId);
        // A replica that knows no configuration has an empty disk. If it was a voter before it lost its disk, it may
        // have voted in this very term already; only a leader's log or snapshot makes it a trustworthy voter again.
        bool knowsConfiguration = !_membership.IsEmpty;
        if (canVote && upToDate && knowsConfiguration)
        {
            // The term and vote written below go to disk before this answer leaves (the Ready contract).
            Send(new VoteResponse(_id, request.From, request.Term, request.PreVote, Granted: true));
            if (!request.PreVote)
            {
                _electionElapsed = 0;
                Vote = request.From;
            }
        }
        else
        {
            Send(new VoteResponse(_id, request.From, Term, request.PreVote, Granted: false));
        }
    }

    private void HandleVoteResponse(VoteResponse response)
    {
        // Answers to the other kind of request are stale: a pre-vote answer reaching a candidate, or the reverse.
        if (response.PreVote != (Role == Role.PreCandidate)) return;
        if (_membership.IsVoter(response.From)) _votes.TryAdd(response.From, response.Granted);
        TallyVotes();
    }

    private void TallyVotes()
    {
        switch (JointQuorum.Count(_membership, _votes))
        {
            case VoteOutcome.Won when Role == Role.PreCandidate:
                Campaign(preVote: false, transfer: false);
                break;
            case VoteOutcome.Won:
                BecomeLeader();
                break;
            case VoteOutcome.Lost:
                LogMessages.LostElection(_logger, _id, Term, _votes.Count(v => !v.Value));
                BecomeFollower(Term, ReplicaId.None);
                break;
        }
    }

    private void TickLeader()
    {
        _heartbeatElapsed++;
        _electionElapsed++;
        if (_electionElapsed >= _config.ElectionTimeoutTicks)
        {
            _electionElapsed = 0;
            if (_config.CheckQuorum && !QuorumRecentlyActive())
            {
                // Dissertation §6.2: a leader cut off from a quorum stops taking reads and writes it cannot serve.
                LogMessages.SteppingDownQuorumSilent(_logger, _id, Term);
                BecomeFollower(Term, ReplicaId.None);
                return;
            }
            if (_transferee.IsSome)
            {
                LogMessages.TransferAborted(_logger, _id, Term, _transferee);
                _transferee = ReplicaId.None;
            }
        }
        if (_heartbeatElapsed >= _config.HeartbeatIntervalTicks)
        {
            _heartbeatElapsed = 0;
            BroadcastHeartbeat();
        }
    }

    /// <summary>True when a quorum (counting ourselves) answered since the last check; starts the next period.</summary>
    private bool QuorumRecentlyActive()
    {
        bool active = JointQuorum.Reached(_membership,
            voter => voter == _id || (_progress.TryGetValue(voter, out var p) && p.RecentActive));
        foreach ((ReplicaId member, var progress) in _progress)
        {
            if (member != _id) progress.RecentActive = false;
        }
        return active;
    }
}
