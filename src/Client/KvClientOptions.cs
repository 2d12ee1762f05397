using KvActors.Protocol;

namespace KvActors.Client;

/// <summary>How a <see cref="KvClient"/> behaves.</summary>
public sealed record KvClientOptions
{
    /// <summary>The defaults.</summary>
    public static KvClientOptions Default { get; } = new();

    /// <summary>How long a call may take when it names no deadline of its own, waiting for earlier writes to the
    /// same shard included; past it the call fails with Timeout. Default 10 s (the Gateway's own default deadline).</summary>
    public TimeSpan RequestDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The limits requests are checked against before they are sent; the cluster's must be the same.</summary>
    public KvLimits Limits { get; init; } = KvLimits.Default;
}
