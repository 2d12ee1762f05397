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
        Campaign(preVote: _config.PreVote);
    }

    /// <summary>Starts a (pre-)election: asks every other voter, counts our own vote, and wins at once when alone.</summary>
    private void Campaign(bool preVote)
    {
        if (Role == Role.Leader) return;
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
        LogMessages.Campaigning(_logger, _id, preVote ? "pre-election" : "election", voteTerm, Log.LastEntryId);
        EntryId lastLog = Log.LastEntryId;
        foreach (ReplicaId voter in _membership.Voters)
        {
            if (voter == _id) continue;
            Send(new VoteRequest(_id, voter, voteTerm, lastLog, preVote));
        }
        RecordVote(_id, granted: true);
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
        if (canVote && upToDate)
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
        RecordVote(response.From, response.Granted);
        TallyVotes();
    }

    private void RecordVote(ReplicaId voter, bool granted)
    {
        if (_membership.IsVoter(voter)) _votes.TryAdd(voter, granted);
    }

    private void TallyVotes()
    {
        int granted = 0, refused = 0;
        foreach ((ReplicaId _, bool vote) in _votes)
        {
            if (vote) granted++;
            else refused++;
        }
        int quorum = MajorityQuorum.Size(_membership.Voters.Count);
        if (granted >= quorum)
        {
            if (Role == Role.PreCandidate) Campaign(preVote: false);
            else BecomeLeader();
        }
        else if (refused > _membership.Voters.Count - quorum)
        {
            LogMessages.LostElection(_logger, _id, Term, refused);
            BecomeFollower(Term, ReplicaId.None);
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
        int active = 0;
        foreach (ReplicaId voter in _membership.Voters)
        {
            if (!_progress.TryGetValue(voter, out var progress)) continue;
            if (voter == _id || progress.RecentActive) active++;
            if (voter != _id) progress.RecentActive = false;
        }
        return active >= MajorityQuorum.Size(_membership.Voters.Count);
    }
}
