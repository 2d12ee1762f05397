using KvActors.Raft.Ids;

namespace KvActors.Raft;

/// <summary>What a membership change does.</summary>
public enum ConfigChangeKind : byte
{
    /// <summary>Adds <see cref="ConfigChange.Replica"/> as a learner: it receives the log but does not vote.</summary>
    AddLearner = 0,

    /// <summary>Makes learner <see cref="ConfigChange.Replica"/> a voter, through a joint configuration.</summary>
    PromoteLearner = 1,

    /// <summary>Removes <see cref="ConfigChange.Replica"/>: a learner at once, a voter through a joint configuration.</summary>
    Remove = 2,

    /// <summary>Replaces voter <see cref="ConfigChange.Replica"/> by learner <see cref="ConfigChange.Replacement"/> in one joint change.</summary>
    ReplaceVoter = 3,
}

/// <summary>A membership change to propose with <see cref="RaftNode.ProposeConfigChange"/>.</summary>
public sealed record ConfigChange(ConfigChangeKind Kind, ReplicaId Replica, ReplicaId Replacement = default)
{
    /// <summary>Adds a learner.</summary>
    public static ConfigChange AddLearner(ReplicaId replica) => new(ConfigChangeKind.AddLearner, replica);

    /// <summary>Promotes a learner to voter.</summary>
    public static ConfigChange Promote(ReplicaId replica) => new(ConfigChangeKind.PromoteLearner, replica);

    /// <summary>Removes a voter or learner.</summary>
    public static ConfigChange Remove(ReplicaId replica) => new(ConfigChangeKind.Remove, replica);

    /// <summary>Replaces a voter by a caught-up learner.</summary>
    public static ConfigChange Replace(ReplicaId voter, ReplicaId learner) => new(ConfigChangeKind.ReplaceVoter, voter, learner);

    /// <inheritdoc />
    public override string ToString() => Kind == ConfigChangeKind.ReplaceVoter
        ? $"{Kind}({Replica}->{Replacement})"
        : $"{Kind}({Replica})";
}
