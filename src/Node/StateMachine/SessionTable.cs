using KvActors.Protocol.Wire;

namespace KvActors.Node.StateMachine;

/// <summary>
/// The client sessions of one shard, at most <see cref="MaxSessions"/>, kept in age order: ascending log index
/// of each session's last applied request. Every replica applies the same log, so every replica holds the same
/// sessions in the same order, and evicts the same one.
/// </summary>
/// <remarks>
/// Eviction: opening a session when the table is full first drops the session whose last applied request has
/// the smallest log index (the least recently active client). One log index applies one request, so no two
/// sessions share an index and the order has no ties. The order is a linked list, so eviction is O(1).
/// </remarks>
internal sealed class SessionTable(int maxSessions)
{
    private readonly Dictionary<ClientId, ClientSession> _byId = [];
    private ClientSession? _oldest;
    private ClientSession? _newest;

    /// <summary>The most sessions kept; at least 1.</summary>
    public int MaxSessions { get; } = maxSessions;

    /// <summary>The number of sessions held.</summary>
    public int Count => _byId.Count;

    /// <summary>The least recently active session, or null; <see cref="ClientSession.Newer"/> walks the rest in order.</summary>
    public ClientSession? Oldest => _oldest;

    /// <summary>The client's session, or null if it has none (never opened, or evicted).</summary>
    public ClientSession? Find(ClientId id) => _byId.GetValueOrDefault(id);

    /// <summary>Opens a session for a client that has none, evicting the oldest session first if the table is
    /// full. <paramref name="appliedIndex"/> must be larger than every session's last applied index.</summary>
    public void Open(ClientId id, ulong sequence, KvReply reply, ulong appliedIndex)
    {
        if (_byId.Count >= MaxSessions)
        {
            ClientSession evicted = _oldest!;
            Unlink(evicted);
            _byId.Remove(evicted.Id);
        }
        var session = new ClientSession(id, sequence, reply, appliedIndex);
        _byId.Add(id, session);
        LinkNewest(session);
    }

    /// <summary>Records a newer request of an open session, which makes it the newest.</summary>
    public void Record(ClientSession session, ulong sequence, KvReply reply, ulong appliedIndex)
    {
        session.LastSequence = sequence;
        session.LastReply = reply;
        session.LastAppliedIndex = appliedIndex;
        Unlink(session);
        LinkNewest(session);
    }

    private void LinkNewest(ClientSession session)
    {
        session.Older = _newest;
        session.Newer = null;
        if (_newest is null) _oldest = session;
        else _newest.Newer = session;
        _newest = session;
    }

    private void Unlink(ClientSession session)
    {
        if (session.Older is null) _oldest = session.Newer;
        else session.Older.Newer = session.Newer;
        if (session.Newer is null) _newest = session.Older;
        else session.Newer.Older = session.Older;
        session.Older = null;
        session.Newer = null;
    }
}
