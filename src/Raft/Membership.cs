using System.Buffers.Binary;
using System.Collections.Immutable;
using KvActors.Raft.Ids;

namespace KvActors.Raft;

/// <summary>
/// The replicas of one Raft group and what each may do. In a joint configuration (dissertation §4.3) both
/// <see cref="Voters"/> and <see cref="OutgoingVoters"/> must agree: elections and commits need a majority of each.
/// <see cref="Learners"/> receive the log but never vote or count toward a quorum. Sets are sorted by id.
/// </summary>
public sealed record Membership(
    ImmutableSortedSet<ReplicaId> Voters,
    ImmutableSortedSet<ReplicaId> OutgoingVoters,
    ImmutableSortedSet<ReplicaId> Learners)
{
    /// <summary>No replicas: what a replica with an empty disk knows before a leader tells it more.</summary>
    public static Membership Empty { get; } = new([], [], []);

    /// <summary>A simple configuration of the given voters, no learners.</summary>
    public static Membership Of(params ReplicaId[] voters) => new([.. voters], [], []);

    /// <summary>True while moving between two sets of voters: both must form a quorum.</summary>
    public bool IsJoint => OutgoingVoters.Count > 0;

    /// <summary>True when this membership names nobody.</summary>
    public bool IsEmpty => Voters.Count == 0 && OutgoingVoters.Count == 0 && Learners.Count == 0;

    /// <summary>True when <paramref name="id"/> votes in this membership (in either half of a joint one).</summary>
    public bool IsVoter(ReplicaId id) => Voters.Contains(id) || OutgoingVoters.Contains(id);

    /// <summary>True when <paramref name="id"/> is a learner.</summary>
    public bool IsLearner(ReplicaId id) => Learners.Contains(id);

    /// <summary>True when <paramref name="id"/> is a voter or a learner.</summary>
    public bool IsMember(ReplicaId id) => IsVoter(id) || IsLearner(id);

    private ImmutableSortedSet<ReplicaId>? _members;
    private ImmutableSortedSet<ReplicaId>? _allVoters;

    /// <summary>Every voter and learner, in id order.</summary>
    public ImmutableSortedSet<ReplicaId> Members => _members ??= Voters.Union(OutgoingVoters).Union(Learners);

    /// <summary>Every voter of either half, in id order.</summary>
    public ImmutableSortedSet<ReplicaId> AllVoters => _allVoters ??= Voters.Union(OutgoingVoters);

    /// <summary>The configuration that ends a joint one: the incoming voters alone.</summary>
    public Membership LeaveJoint() => this with { OutgoingVoters = [] };

    /// <inheritdoc />
    public bool Equals(Membership? other) =>
        other is not null && Voters.SetEquals(other.Voters) && OutgoingVoters.SetEquals(other.OutgoingVoters)
        && Learners.SetEquals(other.Learners);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Voters.Count, OutgoingVoters.Count, Learners.Count);

    /// <inheritdoc />
    public override string ToString() =>
        $"voters=[{string.Join(",", Voters)}]" +
        (IsJoint ? $" outgoing=[{string.Join(",", OutgoingVoters)}]" : "") +
        (Learners.Count > 0 ? $" learners=[{string.Join(",", Learners)}]" : "");

    /// <summary>The bytes of a configuration entry: three length-prefixed lists of ids, little-endian.</summary>
    public byte[] Encode()
    {
        var bytes = new byte[4 * 3 + 8 * (Voters.Count + OutgoingVoters.Count + Learners.Count)];
        int at = 0;
        foreach (ImmutableSortedSet<ReplicaId> set in (ReadOnlySpan<ImmutableSortedSet<ReplicaId>>)[Voters, OutgoingVoters, Learners])
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), set.Count);
            at += 4;
            foreach (ReplicaId id in set)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), id.Value);
                at += 8;
            }
        }
        return bytes;
    }

    /// <summary>Reads what <see cref="Encode"/> wrote; null when the bytes are not a configuration.</summary>
    public static Membership? Decode(ReadOnlySpan<byte> bytes)
    {
        var sets = new ImmutableSortedSet<ReplicaId>[3];
        for (int s = 0; s < 3; s++)
        {
            if (bytes.Length < 4) return null;
            int count = BinaryPrimitives.ReadInt32LittleEndian(bytes);
            bytes = bytes[4..];
            if (count < 0 || count > bytes.Length / 8) return null;
            var builder = ImmutableSortedSet.CreateBuilder<ReplicaId>();
            for (int i = 0; i < count; i++)
            {
                var id = new ReplicaId(BinaryPrimitives.ReadUInt64LittleEndian(bytes));
                if (!id.IsSome) return null;
                builder.Add(id);
                bytes = bytes[8..];
            }
            sets[s] = builder.ToImmutable();
        }
        return bytes.Length == 0 ? new Membership(sets[0], sets[1], sets[2]) : null;
    }
}
