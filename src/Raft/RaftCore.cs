using KvActors.Raft.Ids;
using KvActors.Raft.Log;
using KvActors.Raft.Messages;
using KvActors.Raft.Tracking;
using Microsoft.Extensions.Logging;

namespace KvActors.Raft;

/// <summary>
/// The Raft protocol for one replica (etcd's raft.go): roles, terms, votes, replication, membership, snapshots and
/// reads. Pure and deterministic — no clock, thread or I/O; work for the shell collects in the outbox and the log's
/// unstable tail, and <see cref="RaftNode"/> packs it into a <see cref="Ready"/>.
/// </summary>
internal sealed partial class RaftCore
{
    private readonly RaftConfig _config;
    private readonly ReplicaId _id;
    private readonly ILogger _logger;
    private readonly IRaftStorage _storage;
    private readonly Dictionary<ReplicaId, Progress> _progress = new();
    private readonly Dictionary<ReplicaId, bool> _votes = new();
    private readonly List<RaftMessage> _outbox = [];
    private Membership _membership;
    private ulong _random;
    private int _electionElapsed;       // ticks since a leader was heard from (follower) or since the last quorum check (leader)
    private int _heartbeatElapsed;
    private int _randomizedElectionTimeout;
    private bool _appendPending;        // entries appended since the last broadcast

    public RaftCore(RaftConfig config, IRaftStorage storage)
    {
        config.Validate();
        _config = config;
        _id = config.Id;
        _logger = config.Logger;
        _storage = storage;
        // Multiplied, not XORed: a seed equal to the id (or id + c) must not cancel out into the same timeouts everywhere.
        _random = config.RandomSeed * 0x9E3779B97F4A7C15UL + config.Id.Value * 0xC2B2AE3D27D4EB4FUL;
        RaftInitialState initial = storage.InitialState();
        Log = new RaftLog(storage, initial.Membership, initial.HardState.Commit, config.Applied);
        _membership = Log.Membership;
        Term = initial.HardState.Term;
        Vote = initial.HardState.Vote;
        BecomeFollower(Term, ReplicaId.None);
    }

    public RaftLog Log { get; }

    public Role Role { get; private set; }

    public Term Term { get; private set; }

    public ReplicaId Vote { get; private set; }

    public ReplicaId Leader { get; private set; }

    public Membership Membership => _membership;

    public bool MembershipSettled => Log.LastConfigIndex <= Log.Committed && !_membership.IsJoint;

    public HardState HardState => new(Term, Vote, Log.Committed);

    public RaftStatus Status => new(_id, Role, Term, Vote, Leader, Log.Committed, Log.Applied, Log.LastEntryId);

    /// <summary>
    /// True when this replica may campaign: a voter of its newest configuration, or of the one before while the newest
    /// is not known to be committed. The second case matters when a leader removes itself: if it loses leadership after
    /// appending the configuration without itself but before committing it, the others may still be in the joint
    /// configuration, needing its vote, while its longer log makes it refuse theirs. Only it can finish the change
    /// (it wins with a quorum of the new voters, commits, and steps down), as when configurations apply on commit.
    /// </summary>
    private bool IsPromotable =>
        _membership.IsVoter(_id)
        || (Log.LastConfigIndex > Log.Committed && Log.MembershipAt(Log.LastConfigIndex.Previous()).IsVoter(_id));

    public void Step(RaftMessage message)
    {
        if (message.To != _id || message.From == _id || !message.From.IsSome) return;   // misrouted: not ours to judge
        if (!StepTerm(message)) return;            // §5.1 term rules: may step down; a stale message stops here
        switch (Role)
        {
            case Role.Leader: StepLeader(message); break;
            case Role.Candidate or Role.PreCandidate: StepCandidate(message); break;
            default: StepFollower(message); break;
        }
    }

    /// <summary>
    /// §5.1: a higher term makes us a follower of it; a lower one marks the message stale. Returns false when the
    /// message must go no further.
    /// </summary>
    private bool StepTerm(RaftMessage message)
    {
        if (message.Term > Term)
        {
            switch (message)
            {
                case VoteRequest { Transfer: false } request when InLease():
                    // Dissertation §4.2.3: we heard from a leader within the minimum election timeout, so this
                    // candidate can only disrupt (a removed replica, or one cut off); neither adopt its term nor answer.
                    LogMessages.IgnoredVote(_logger, _id, request.From, request.Term, Leader);
                    return false;
                case VoteRequest { PreVote: true }:
                    return true;                      // a pre-vote asks about a future term and changes nobody's
                case VoteResponse { PreVote: true, Granted: true }:
                    return true;                      // our own pre-vote granted at the term we would campaign in
                case AppendRequest or HeartbeatRequest or SnapshotRequest:
                    BecomeFollower(message.Term, message.From);
                    return true;
                default:
                    // Adopted even when the same step goes on to grant a vote: a replica that granted a vote at
                    // term T but kept acknowledging the deposed leader of T - 1 let that leader commit.
                    BecomeFollower(message.Term, ReplicaId.None);
                    return true;
            }
        }
        if (message.Term < Term)
        {
            switch (message)
            {
                case AppendRequest or HeartbeatRequest when _config.CheckQuorum || _config.PreVote:
                    // A leader of an older term: tell it our term so it steps down. Without this, a replica stranded
                    // at a higher term (it campaigned while cut off) would ignore that leader forever, and with
                    // CheckQuorum the others would ignore its vote requests: no election could ever include it.
                    Send(new AppendResponse(_id, message.From, Term, false, default, default));
                    break;
                case VoteRequest { PreVote: true }:
                    // Refuse at our term, so that a pre-candidate stuck below us learns it and catches up.
                    Send(new VoteResponse(_id, message.From, Term, PreVote: true, Granted: false));
                    break;
            }
            return false;
        }
        return true;
    }

    /// <summary>We heard from a live leader (or are one) within the last election timeout.</summary>
    private bool InLease() =>
        _config.CheckQuorum && Leader.IsSome && _electionElapsed < _config.ElectionTimeoutTicks;

    private void StepLeader(RaftMessage message)
    {
        switch (message)
        {
            case AppendResponse r: HandleAppendResponse(r); break;
            case HeartbeatResponse r: HandleHeartbeatResponse(r); break;
            case SnapshotResponse r: HandleSnapshotResponse(r); break;
            case VoteRequest r: HandleVoteRequest(r); break;
            case AppendRequest or HeartbeatRequest or SnapshotRequest:
                Invariant.Fail($"two leaders in term {Term}: {_id} and {message.From}");
                break;
        }
    }

    private void StepCandidate(RaftMessage message)
    {
        switch (message)
        {
            case AppendRequest r:
                BecomeFollower(Term, r.From);       // §5.2: a leader of our term won; its term is at least ours
                HandleAppendRequest(r);
                break;
            case HeartbeatRequest r:
                BecomeFollower(Term, r.From);
                HandleHeartbeatRequest(r);
                break;
            case SnapshotRequest r:
                BecomeFollower(Term, r.From);
                HandleSnapshotRequest(r);
                break;
            case VoteRequest r: HandleVoteRequest(r); break;
            case VoteResponse r: HandleVoteResponse(r); break;
        }
    }

    private void StepFollower(RaftMessage message)
    {
        switch (message)
        {
            case AppendRequest r:
                HeardFromLeader(r.From);
                HandleAppendRequest(r);
                break;
            case HeartbeatRequest r:
                HeardFromLeader(r.From);
                HandleHeartbeatRequest(r);
                break;
            case SnapshotRequest r:
                HeardFromLeader(r.From);
                HandleSnapshotRequest(r);
                break;
            case TimeoutNowRequest r: HandleTimeoutNow(r); break;
            case VoteRequest r: HandleVoteRequest(r); break;
        }
    }

    private void HeardFromLeader(ReplicaId leader)
    {
        _electionElapsed = 0;
        Leader = leader;
    }

    public void Tick()
    {
        if (Role == Role.Leader) TickLeader();
        else TickElection();
    }

    private void BecomeFollower(Term term, ReplicaId leader)
    {
        Reset(term);
        Role = Role.Follower;
        Leader = leader;
    }

    private void BecomePreCandidate()
    {
        Invariant.Check(Role is not Role.Leader);
        // Neither term nor vote changes: a pre-election must not disturb anyone (dissertation §9.6).
        AbortReads();
        _votes.Clear();
        Leader = ReplicaId.None;
        Role = Role.PreCandidate;
    }

    private void BecomeCandidate()
    {
        Invariant.Check(Role is not Role.Leader);
        Reset(Term.Next());
        Vote = _id;
        Role = Role.Candidate;
    }

    private void BecomeLeader()
    {
        Invariant.Check(Role is Role.Candidate);
        Reset(Term);
        Role = Role.Leader;
        Leader = _id;
        LogIndex last = Log.LastIndex;
        foreach (ReplicaId member in _membership.Members) AddProgress(member, last);
        if (!_membership.IsMember(_id)) AddProgress(_id, last);   // leading a configuration it is leaving
        LogMessages.BecameLeader(_logger, _id, Term, last);
        // §5.4.2 and §8: entries of earlier terms commit only under an entry of this term, so append one now.
        AppendAsLeader(EntryKind.Noop, ReadOnlyMemory<byte>.Empty);
    }

    private void AddProgress(ReplicaId member, LogIndex last)
    {
        var progress = new Progress(last.Next(), _config.MaxInflightAppends, _config.MaxInflightBytes);
        if (member == _id)
        {
            progress.SetSelfMatch(Log.StableIndex);
            progress.BecomeReplicate();
            progress.RecentActive = true;
        }
        _progress[member] = progress;
    }

    /// <summary>Enters <paramref name="term"/> (forgetting the vote when it is new) and drops everything per-role.</summary>
    private void Reset(Term term)
    {
        if (term != Term)
        {
            Invariant.Check(term > Term);
            Term = term;
            Vote = ReplicaId.None;
        }
        Leader = ReplicaId.None;
        _electionElapsed = 0;
        _heartbeatElapsed = 0;
        _randomizedElectionTimeout = _config.ElectionTimeoutTicks + NextRandom(_config.ElectionTimeoutTicks);
        _votes.Clear();
        _progress.Clear();
        _appendPending = false;
        _transferee = ReplicaId.None;
        _uncommitted.Clear();
        _uncommittedBytes = 0;
        AbortReads();
    }

    /// <summary>
    /// Takes up the log's newest configuration after the log changed (§4.1: in force once appended). A leader tracks
    /// new members and forgets removed ones.
    /// </summary>
    private void SyncMembership()
    {
        Membership next = Log.Membership;
        if (ReferenceEquals(next, _membership)) return;
        Membership previous = _membership;
        _membership = next;
        LogMessages.MembershipChanged(_logger, _id, Term, previous, next);
        if (Role != Role.Leader) return;
        foreach (ReplicaId member in next.Members)
        {
            if (!_progress.ContainsKey(member)) AddProgress(member, Log.LastIndex);
        }
        foreach (ReplicaId gone in previous.Members)
        {
            if (!next.IsMember(gone) && gone != _id) _progress.Remove(gone);
        }
        if (_transferee.IsSome && !next.IsVoter(_transferee)) _transferee = ReplicaId.None;
    }

    private void Send(RaftMessage message) => _outbox.Add(message);

    /// <summary>Takes every message queued since the last call.</summary>
    public RaftMessage[] TakeMessages()
    {
        if (_outbox.Count == 0) return [];
        RaftMessage[] messages = _outbox.ToArray();
        _outbox.Clear();
        return messages;
    }

    public bool HasMessages => _outbox.Count > 0;

    /// <summary>Sends what was batched since the last <see cref="Ready"/>: appends for new proposals, a ReadIndex round.</summary>
    public void Flush()
    {
        if (Role != Role.Leader) return;
        if (_appendPending)
        {
            _appendPending = false;
            BroadcastAppend();
        }
        FlushReads();
    }

    /// <summary>The shell wrote <paramref name="written"/> (consecutive) durably.</summary>
    public void OnStable(IReadOnlyList<Entry> written)
    {
        // A conflicting append may have replaced the tail of what was being written. The part before the conflict is
        // still this log's and is now durable: mark it stable, or the next Ready would write it again — possibly
        // after the shell has applied and compacted it away. The last written entry that still matches ends it.
        for (int i = written.Count - 1; i >= 0; i--)
        {
            if (!Log.Matches(written[i].Id)) continue;
            Log.StableTo(written[i].Id);
            break;
        }
        if (Role == Role.Leader && _progress.TryGetValue(_id, out Progress? self))
        {
            // The leader counts toward a quorum only for what it has itself written (Figure 2's "stored on a majority").
            self.SetSelfMatch(Log.StableIndex);
            if (MaybeCommit()) BroadcastAppend();
        }
    }

    // SplitMix64: deterministic per seed, no shared state (the core may not use System.Random).
    private int NextRandom(int exclusiveMax)
    {
        ulong z = _random += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z % (ulong)exclusiveMax);
    }
}
