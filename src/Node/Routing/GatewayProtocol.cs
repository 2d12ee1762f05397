using KvActors.Protocol.Wire;

namespace KvActors.Node.Routing;

/// <summary>Self-message: one attempt of request <see cref="Id"/> ended, with <see cref="Reply"/> or none (the ask
/// timed out or failed). <see cref="Attempt"/> tells a late answer of an abandoned attempt from the current one.</summary>
internal sealed record AttemptEnded(long Id, int Attempt, KvReply? Reply)
{
    public override string ToString() => $"AttemptEnded request={Id} attempt={Attempt} error={Reply?.Error.ToString() ?? "no answer"}";
}

/// <summary>Timer: the backoff of request <see cref="Id"/> is over; send its next attempt.</summary>
internal sealed record RetryRequest(long Id);
