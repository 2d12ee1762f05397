namespace KvActors.Bench.Etcd;

/// <summary>Which member's endpoint a bench client of <see cref="EtcdSystem"/> talks to.</summary>
internal enum EtcdRouting
{
    /// <summary>Every client talks to the current leader: no follower forwards a request, etcd's best case.</summary>
    LeaderOnly = 0,

    /// <summary>Client i talks to member i mod 3, as clients spread over a cluster's endpoints would.</summary>
    RoundRobin = 1,
}
