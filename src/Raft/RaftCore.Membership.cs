using KvActors.Raft.Ids;
using KvActors.Raft.Log;

namespace KvActors.Raft;

internal sealed partial class RaftCore
{
    // Dissertation §4.3, joint consensus. Adding a learner or removing one changes no quorum, so it takes one entry.
    // Changing the voters takes two: first the joint configuration (old and new voters must both agree), then, once
    // that is committed, the new voters alone — appended by the leader without being asked. A configuration is in
    // force as soon as it is in a log (§4.1); only one change may be in flight: none may start while the newest
    // configuration entry is uncommitted or the configuration is joint.

    public ProposeResult ProposeConfigChange(ConfigChange change)
    {
        if (Role != Role.Leader) return new ProposeResult(RequestStatus.NotLeader, default, Leader);
        if (_transferee.IsSome) return new ProposeResult(RequestStatus.Transferring, default, _transferee);
        if (Log.LastConfigIndex > Log.Committed || _membership.IsJoint)
            return new ProposeResult(RequestStatus.ChangeInProgress, default, _id);
        (RequestStatus status, Membership? next) = Plan(change);
        if (status != RequestStatus.Accepted) return new ProposeResult(status, default, _id);
        LogMessages.ProposingMembership(_logger, _id, Term, change, next!);
        EntryId id = AppendAsLeader(EntryKind.Config, next!.Encode());
        return new ProposeResult(RequestStatus.Accepted, id, _id);
    }

    private (RequestStatus, Membership?) Plan(ConfigChange change)
    {
        Membership m = _membership;
        ReplicaId replica = change.Replica;
        if (!replica.IsSome) return (RequestStatus.InvalidChange, null);
        switch (change.Kind)
        {
            case ConfigChangeKind.AddLearner:
                return m.IsMember(replica)
                    ? (RequestStatus.InvalidChange, null)
                    : (RequestStatus.Accepted, m with { Learners = m.Learners.Add(replica) });
            case ConfigChangeKind.PromoteLearner:
                if (!m.IsLearner(replica)) return (RequestStatus.InvalidChange, null);
                if (!CaughtUp(replica)) return (RequestStatus.LearnerBehind, null);
                return (RequestStatus.Accepted, new Membership(m.Voters.Add(replica), m.Voters, m.Learners.Remove(replica)));
            case ConfigChangeKind.Remove when m.IsLearner(replica):
                return (RequestStatus.Accepted, m with { Learners = m.Learners.Remove(replica) });
            case ConfigChangeKind.Remove when m.Voters.Contains(replica):
                return m.Voters.Count == 1
                    ? (RequestStatus.WouldRemoveLastVoter, null)
                    : (RequestStatus.Accepted, new Membership(m.Voters.Remove(replica), m.Voters, m.Learners));
            case ConfigChangeKind.ReplaceVoter:
                if (!m.Voters.Contains(replica) || !m.IsLearner(change.Replacement)) return (RequestStatus.InvalidChange, null);
                if (!CaughtUp(change.Replacement)) return (RequestStatus.LearnerBehind, null);
                return (RequestStatus.Accepted, new Membership(
                    m.Voters.Remove(replica).Add(change.Replacement), m.Voters, m.Learners.Remove(change.Replacement)));
            default:
                return (RequestStatus.InvalidChange, null);
        }
    }

    /// <summary>A learner may vote once its log is close to ours: it must not slow down commits the moment it counts.</summary>
    private bool CaughtUp(ReplicaId learner) =>
        _progress.TryGetValue(learner, out var progress)
        && progress.Match.Plus((ulong)_config.MaxLearnerLagEntries) >= Log.LastIndex;

    /// <summary>After the commit index moved: finish a joint change, or step down if the committed configuration left us out.</summary>
    private void OnConfigurationCommitted()
    {
        if (Log.LastConfigIndex > Log.Committed) return;
        if (_membership.IsJoint)
        {
            Membership next = _membership.LeaveJoint();
            LogMessages.LeavingJoint(_logger, _id, Term, next);
            AppendAsLeader(EntryKind.Config, next.Encode());
            return;
        }
        if (!_membership.IsVoter(_id))
        {
            // The configuration without us is committed: tell the others (so they learn it and can elect), then go.
            LogMessages.RemovedSteppingDown(_logger, _id, Term);
            _appendPending = false;
            BroadcastAppend();
            BecomeFollower(Term, ReplicaId.None);
        }
    }
}
