using KvActors.Raft.Ids;
using KvActors.Raft.Log;
using KvActors.Raft.Messages;

namespace KvActors.Raft.Tests.Simulation;

/// <summary>
/// Raft's safety properties (Figure 3) and linearizable reads, checked incrementally as the simulation runs:
/// <list type="bullet">
/// <item><description>Election safety: at most one leader per term; a durable vote never changes within a term.</description></item>
/// <item><description>Log matching: two stored entries with the same index and term hold the same command and follow
/// entries of the same term — by induction, the logs are identical up to there.</description></item>
/// <item><description>Leader completeness: a new leader's log holds every entry applied anywhere.</description></item>
/// <item><description>State machine safety: no two nodes apply different entries at an index; each applies in order.</description></item>
/// <item><description>Reads: a read reflects every write acknowledged before it was issued.</description></item>
/// <item><description>Snapshots: a restored snapshot's image is exactly the applied sequence up to its index.</description></item>
/// <item><description>Membership: a replica that has applied a configuration without itself never wins an election
/// again; a replica that knows no configuration (an empty disk) never grants a vote.</description></item>
/// </list>
/// </summary>
public sealed class SimulationInvariants(ClusterSimulation sim)
{
    private readonly Dictionary<Term, ReplicaId> _leaders = new();
    private readonly Dictionary<(LogIndex, Term), (ulong Command, EntryKind Kind, Term PreviousTerm)> _stored = new();
    private readonly List<Entry> _applied = [];                // the one true sequence, index i at [i - 1]
    private readonly Dictionary<ReadContext, LogIndex> _readsInFlight = new();   // read → newest acknowledged write when issued
    private LogIndex _newestAcknowledged;
    // Members of any committed configuration so far, starting with the initial voters.
    private readonly HashSet<ReplicaId> _committedMembers =
        [.. Enumerable.Range(1, sim.Profile.Nodes).Select(i => new ReplicaId((ulong)i))];
    private readonly HashSet<ReplicaId> _removed = [];              // members of one, then missing from a later one

    public string? FirstViolation { get; private set; }

    public long Acknowledged { get; private set; }
    public long ReadsServed { get; private set; }
    public int LeadersElected => _leaders.Count;

    public void Report(string violation) => FirstViolation ??= violation;

    public bool WasEverCommittedMember(ReplicaId id) => _committedMembers.Contains(id);

    public bool IsRemoved(ReplicaId id) => _removed.Contains(id);

    public void OnSend(SimNode from, RaftMessage message)
    {
        if (message is VoteResponse { Granted: true } && from.Raft!.Membership.IsEmpty)
            Report($"{from.Id} granted a vote to {message.To} while knowing no configuration (an empty disk)");
    }

    public void OnSnapshotRestored(SimNode node, Snapshot snapshot)
    {
        ulong[] image = SimNode.DecodeImage(snapshot.Data.Span);
        if ((ulong)image.Length != snapshot.Metadata.Last.Index.Value)
            Report($"{node.Id} restored snapshot {snapshot.Metadata.Last} holding {image.Length} commands");
        for (int i = 0; i < image.Length; i++)
        {
            if (i >= _applied.Count || SimNode.CommandIdOf(_applied[i]) != image[i])
            {
                Report($"state machine safety: {node.Id} restored snapshot {snapshot.Metadata.Last} whose command at {i + 1} is {image[i]}, not the applied one");
                return;
            }
        }
    }

    private void OnCommittedConfiguration(Entry entry)
    {
        Membership membership = Membership.Decode(entry.Data.Span)!;
        foreach (ReplicaId member in _committedMembers)
        {
            if (!membership.IsMember(member)) _removed.Add(member);
        }
        foreach (ReplicaId member in membership.Members) _committedMembers.Add(member);
    }

    public void CheckAfterStep()
    {
        foreach (SimNode node in sim.Nodes)
        {
            if (node.Raft is not { } raft) continue;
            RaftStatus status = raft.Status;
            // Leadership counts once the leader's term is on its disk. A lone voter wins in memory in the same step it
            // campaigns, before its vote for itself is written; if it crashes first, that leadership never acted
            // (nothing leaves before the write) and its restarted self may vote for another in that term. With more
            // voters this changes nothing: a candidate's term and vote are durable before its vote requests leave.
            if (status.Role != Role.Leader || node.Disk.HardState.Term != status.Term) continue;
            if (_leaders.TryGetValue(status.Term, out ReplicaId leader))
            {
                if (leader != node.Id) Report($"election safety: {leader} and {node.Id} both lead term {status.Term}");
                continue;
            }
            _leaders[status.Term] = node.Id;
            if (node.AppliedOwnRemoval)
                Report($"{node.Id} won term {status.Term} after applying a configuration that removed it");
            CheckLeaderCompleteness(node, status.Term);
        }
    }

    private void CheckLeaderCompleteness(SimNode leader, Term term)
    {
        var log = leader.Raft!.Core.Log;
        for (int i = (int)log.FirstIndex.Value - 1; i < _applied.Count; i++)   // before FirstIndex: the snapshot holds it
        {
            Entry committed = _applied[i];
            if (!log.TryTermAt(committed.Index, out Term held) || held != committed.Term)
            {
                Report($"leader completeness: {leader.Id} leads term {term} but lacks committed entry {committed.Id} (has term {held} there)");
                return;
            }
        }
    }

    public void OnHardStateWrite(SimNode node, HardState next)
    {
        HardState previous = node.Disk.HardState;
        if (next.Term < previous.Term) Report($"{node.Id} wrote term {next.Term} over {previous.Term}");
        if (next.Term == previous.Term && previous.Vote.IsSome && next.Vote != previous.Vote)
            Report($"{node.Id} changed its vote in term {next.Term} from {previous.Vote} to {next.Vote}");
        if (next.Commit < previous.Commit) Report($"{node.Id} wrote commit {next.Commit} over {previous.Commit}");
    }

    public void OnEntriesWritten(SimNode node, IReadOnlyList<Entry> entries)
    {
        foreach (Entry entry in entries)
        {
            Term previousTerm = node.Disk.TermAt(entry.Index.Previous());
            var record = (SimNode.CommandIdOf(entry), entry.Kind, previousTerm);
            if (_stored.TryGetValue((entry.Index, entry.Term), out var seen))
            {
                if (seen != record)
                    Report($"log matching: {node.Id} stored {entry.Id} as {record}, elsewhere it is {seen}");
            }
            else
            {
                _stored[(entry.Index, entry.Term)] = record;
            }
        }
    }

    public void OnApply(SimNode node, Entry entry)
    {
        if (entry.Kind == EntryKind.Config)
        {
            // Removal means: a member before, by a configuration it applied, and then left out of a later one.
            bool member = Membership.Decode(entry.Data.Span)!.IsMember(node.Id);
            if (member) node.AppliedMembership = true;
            else if (node.AppliedMembership) node.AppliedOwnRemoval = true;
        }
        if (entry.Index != node.AppliedIndex.Next())
            Report($"{node.Id} applied {entry.Id} after index {node.AppliedIndex}: out of order");
        int at = (int)entry.Index.Value - 1;
        if (at < _applied.Count)
        {
            if (!_applied[at].SameAs(entry))
                Report($"state machine safety: {node.Id} applied {entry.Id}, another node applied {_applied[at].Id} there");
        }
        else if (at == _applied.Count)
        {
            _applied.Add(entry);
            if (entry.Kind == EntryKind.Config) OnCommittedConfiguration(entry);
        }
        else
        {
            Report($"{node.Id} applied {entry.Id} before anyone applied index {_applied.Count + 1}");
        }
    }

    public void OnWriteAcknowledged(SimNode node, LogIndex index, ulong commandId)
    {
        Acknowledged++;
        if (index > _newestAcknowledged) _newestAcknowledged = index;
    }

    public void OnReadIssued(ReadContext context) => _readsInFlight[context] = _newestAcknowledged;

    public void OnReadAborted(ReadContext context) => _readsInFlight.Remove(context);

    public void OnReadServed(SimNode node, ReadContext context, LogIndex readIndex, LogIndex appliedIndex)
    {
        if (!_readsInFlight.Remove(context, out LogIndex mustSee))
        {
            Report($"{node.Id} served read {context}, which no client has waiting");
            return;
        }
        ReadsServed++;
        if (readIndex < mustSee || appliedIndex < mustSee)
            Report($"linearizability: read {context} on {node.Id} got index {readIndex} (applied {appliedIndex}), but the write at {mustSee} was acknowledged before it was issued");
    }
}
