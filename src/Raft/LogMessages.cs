using KvActors.Raft.Ids;
using Microsoft.Extensions.Logging;

namespace KvActors.Raft;

/// <summary>What the core says about itself, with event ids (1xxx: elections, 2xxx: leadership).</summary>
internal static partial class LogMessages
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information,
        Message = "Replica {Replica} starts a {Kind} for term {Term}; its log ends at {LastLog}")]
    public static partial void Campaigning(ILogger logger, ReplicaId replica, string kind, Term term, EntryId lastLog);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information,
        Message = "Replica {Replica} lost the election in term {Term}: {Refused} voters refused")]
    public static partial void LostElection(ILogger logger, ReplicaId replica, Term term, int refused);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Debug,
        Message = "Replica {Replica} ignored a vote request from {Candidate} for term {Term}: it heard from leader {Leader} within the election timeout")]
    public static partial void IgnoredVote(ILogger logger, ReplicaId replica, ReplicaId candidate, Term term, ReplicaId leader);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information,
        Message = "Replica {Replica} became leader of term {Term}; its log ends at index {LastIndex}")]
    public static partial void BecameLeader(ILogger logger, ReplicaId replica, Term term, LogIndex lastIndex);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning,
        Message = "Replica {Replica} steps down as leader of term {Term}: a quorum has not answered within an election timeout (check the network to the other replicas)")]
    public static partial void SteppingDownQuorumSilent(ILogger logger, ReplicaId replica, Term term);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information,
        Message = "Leader {Replica} of term {Term} starts handing leadership to {Target}")]
    public static partial void TransferStarted(ILogger logger, ReplicaId replica, Term term, ReplicaId target);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning,
        Message = "Leader {Replica} of term {Term} gave up handing leadership to {Target}: it did not take over within an election timeout (check that it is up and reachable)")]
    public static partial void TransferAborted(ILogger logger, ReplicaId replica, Term term, ReplicaId target);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information,
        Message = "Replica {Replica} takes over leadership from {Leader} after term {Term}, as the leader asked")]
    public static partial void TakingOverLeadership(ILogger logger, ReplicaId replica, Term term, ReplicaId leader);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information,
        Message = "Replica {Replica} in term {Term} now uses membership {Next} (was {Previous})")]
    public static partial void MembershipChanged(ILogger logger, ReplicaId replica, Term term, Membership previous, Membership next);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information,
        Message = "Leader {Replica} of term {Term} proposes {Change}: membership becomes {Next}")]
    public static partial void ProposingMembership(ILogger logger, ReplicaId replica, Term term, ConfigChange change, Membership next);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information,
        Message = "Leader {Replica} of term {Term}: the joint membership is committed; moving to {Next}")]
    public static partial void LeavingJoint(ILogger logger, ReplicaId replica, Term term, Membership next);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information,
        Message = "Leader {Replica} of term {Term} steps down: the committed membership no longer includes it")]
    public static partial void RemovedSteppingDown(ILogger logger, ReplicaId replica, Term term);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information,
        Message = "Leader {Replica} of term {Term} sends snapshot {Snapshot} ({Bytes} bytes) to {Follower}: it needs entries compacted away")]
    public static partial void SendingSnapshot(ILogger logger, ReplicaId replica, Term term, ReplicaId follower, EntryId snapshot, int bytes);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information,
        Message = "Replica {Replica} in term {Term} restores snapshot {Snapshot} from leader {Leader}")]
    public static partial void RestoringSnapshot(ILogger logger, ReplicaId replica, Term term, ReplicaId leader, EntryId snapshot);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Error,
        Message = "Replica {Replica} refused snapshot {Snapshot} from {Leader}: {Bytes} bytes is over the limit of {Limit} (raise MaxSnapshotBytes)")]
    public static partial void SnapshotTooLarge(ILogger logger, ReplicaId replica, ReplicaId leader, EntryId snapshot, long bytes, long limit);
}
