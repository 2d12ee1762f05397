namespace KvActors.Raft;

/// <summary>
/// A replica's role. Only the core's <c>Become*</c> methods change it:
/// <code>
///            timeout              quorum of pre-votes           quorum of votes
/// Follower ──────────► PreCandidate ──────────────► Candidate ─────────────────► Leader
///    ▲  ▲                   │ refused / leader seen    │ higher term / leader seen  │ higher term /
///    │  └───────────────────┘                          │                            │ quorum silent
///    └─────────────────────────────────────────────────┴────────────────────────────┘
/// </code>
/// Without PreVote, a follower's timeout goes straight to Candidate.
/// </summary>
public enum Role : byte
{
    /// <summary>Follows a leader, or waits for one.</summary>
    Follower = 0,

    /// <summary>Asks whether it would win an election, without changing any term.</summary>
    PreCandidate = 1,

    /// <summary>Campaigns in a new term.</summary>
    Candidate = 2,

    /// <summary>Leads its term: takes proposals and reads, replicates, commits.</summary>
    Leader = 3,
}
