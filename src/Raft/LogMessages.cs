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
}
