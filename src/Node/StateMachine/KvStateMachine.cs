using System.Globalization;
using Google.Protobuf;
using KvActors.Protocol;
using KvActors.Protocol.Wire;

namespace KvActors.Node.StateMachine;

/// <summary>
/// One shard's key-value state, in memory: an ordered map key → (value, create revision, mod revision,
/// version), the shard revision, and client sessions. It changes only by applying committed Raft log entries in
/// index order, and it is deterministic: replicas that apply the same log hold the same state and produce
/// byte-identical <see cref="TakeSnapshot"/> images. Not thread-safe: the replica actor owns it.
/// </summary>
/// <remarks>
/// <para><b>Revisions</b> (as in etcd). The shard revision starts at 0 and grows by 1 for each applied command
/// that changes something: a Put (even of the same value), a Delete that removes a key, a successful
/// CompareAndSwap, or a Txn whose ops change anything (once per Txn, however many writes it holds). A key's
/// <c>create_revision</c> is the revision of the put that created it, its <c>mod_revision</c> the revision of its
/// latest write, and its <c>version</c> counts puts since creation (1 on creation); a delete forgets the key, so
/// a later put creates it afresh.</para>
/// <para><b>Sessions: at most once.</b> A request with a client id and a sequence number is remembered with
/// its reply. Applying it again — the client retried after a timeout and both copies reached the log — returns
/// the remembered reply and changes nothing. Per client id, with S its last applied sequence:</para>
/// <list type="bullet">
/// <item>sequence &gt; S: applied, and the session now remembers it;</item>
/// <item>sequence = S: not applied again; the reply of S is returned;</item>
/// <item>sequence &lt; S: not applied; InvalidArgument "sequence N was already superseded";</item>
/// <item>no session: sequence 1 opens one; any other sequence is not applied and gets InvalidArgument
/// "session expired" — its session was evicted (or never opened), and applying it could apply it twice.</item>
/// </list>
/// <para>So a client keeps one request outstanding per client id, numbers them from 1, and reuses the number
/// on retry. Requests without a client id have no such protection. A Get or Range that comes through the log
/// counts in its session like any command (so a client numbers reads and writes alike); one answered by
/// <see cref="Read"/> does not touch sessions. Refused requests (malformed, over a limit) touch nothing.</para>
/// <para>Memory: each session keeps its last reply, so sessions take about <c>MaxSessions</c> times the size
/// of a typical reply (tens of bytes for a write; a value for a Get, a prev_kv or a CAS conflict).</para>
/// <para><b>Eviction.</b> At most <see cref="StateMachineSettings.MaxSessions"/> sessions are kept. Opening one
/// more first evicts the session whose last applied request has the oldest log index — the same one on every
/// replica, since each log index applies one request (no ties). An evicted client that retries gets "session
/// expired" instead of a second apply. The one retry this cannot catch is of a client's very first request
/// (sequence 1), after MaxSessions other clients opened sessions in between: it opens a new session and
/// applies again. With 10,000 sessions per shard that needs a retry delayed past 10,000 newer clients.</para>
/// <para><b>Bad input.</b> Bytes that are not a KvRequest, and requests that <see cref="KvLimits.Validate"/>
/// refuses, get InvalidArgument or TooLarge and change nothing; the log entry still counts as applied.</para>
/// </remarks>
public sealed partial class KvStateMachine
{
    private readonly StateMachineSettings _settings;
    private readonly KvLimits _limits;
    private readonly BPlusTree<VersionedValue> _map = new();
    private readonly SessionTable _sessions;
    private ulong _revision;

    /// <summary>An empty shard at revision 0 with nothing applied.</summary>
    /// <param name="settings">Bounds on sessions and requests; the same on every replica of the shard.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public KvStateMachine(StateMachineSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.ThrowIfInvalid();
        _settings = settings;
        _limits = settings.Limits;
        _sessions = new SessionTable(settings.MaxSessions);
    }

    /// <summary>The index of the last Raft log entry applied (with <see cref="Apply"/> or
    /// <see cref="AdvanceIndex"/>); 0 before the first.</summary>
    public ulong AppliedIndex { get; private set; }

    /// <summary>The shard revision: the number of applied commands that changed something; 0 initially.</summary>
    public ulong Revision => _revision;

    /// <summary>The number of keys in the shard.</summary>
    public int KeyCount => _map.Count;

    /// <summary>The number of client sessions held; at most <see cref="StateMachineSettings.MaxSessions"/>.</summary>
    public int SessionCount => _sessions.Count;

    /// <summary>
    /// Applies one committed log entry's command: a serialized <see cref="KvRequest"/>.
    /// </summary>
    /// <param name="index">The entry's log index: exactly <see cref="AppliedIndex"/> + 1.</param>
    /// <param name="command">The entry's payload. Not kept: what the state stores is copied out of it.</param>
    /// <returns>The reply for the client that proposed it, owned by the caller. Refused input (malformed bytes,
    /// a limit exceeded, a superseded sequence, an expired session) gets InvalidArgument or TooLarge and
    /// changes nothing but <see cref="AppliedIndex"/>.</returns>
    /// <exception cref="InvalidOperationException"><paramref name="index"/> is not the next index: a bug in the
    /// caller, which must apply every entry once, in order.</exception>
    public KvReply Apply(ulong index, ReadOnlySpan<byte> command)
    {
        CheckNextIndex(index);
        AppliedIndex = index;

        KvRequest request;
        try
        {
            request = KvRequest.Parser.ParseFrom(command);
        }
        catch (InvalidProtocolBufferException e)
        {
            return Refused(ErrorCode.InvalidArgument, "the command is not a KvRequest: " + OneLine(e.Message));
        }

        ValidationResult verdict = _limits.Validate(request);
        if (!verdict.IsOk) return Refused(verdict.Error, verdict.Message);
        if (request.ClientId.IsEmpty) return Execute(request);
        return ApplyInSession(request, index);
    }

    /// <summary>
    /// Records that the log entry at <paramref name="index"/> carries no command (a leader's no-op, a
    /// configuration change): nothing changes but <see cref="AppliedIndex"/>.
    /// </summary>
    /// <param name="index">Exactly <see cref="AppliedIndex"/> + 1.</param>
    /// <exception cref="InvalidOperationException"><paramref name="index"/> is not the next index.</exception>
    public void AdvanceIndex(ulong index)
    {
        CheckNextIndex(index);
        AppliedIndex = index;
    }

    /// <summary>
    /// Answers a Get or a Range from the current state without changing anything: after ReadIndex confirmed
    /// this replica is up to date (linearizable), or at once for a serializable read (possibly stale). Sessions
    /// are not consulted: a read changes nothing.
    /// </summary>
    /// <param name="request">A Get or Range request.</param>
    /// <returns>The reply, at the current <see cref="Revision"/>; InvalidArgument or TooLarge for any other
    /// command or for a request over a limit.</returns>
    public KvReply Read(KvRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!IsRead(request))
            return Refused(ErrorCode.InvalidArgument, Format($"only Get and Range are answered outside the log, not {request.CommandCase}"));
        ValidationResult verdict = _limits.Validate(request);
        return verdict.IsOk ? Execute(request) : Refused(verdict.Error, verdict.Message);
    }

    private KvReply ApplyInSession(KvRequest request, ulong index)
    {
        var id = ClientId.From(request.ClientId.Span);
        ulong sequence = request.Sequence;
        ClientSession? session = _sessions.Find(id);
        if (session is null)
        {
            if (sequence != 1)
                return Refused(ErrorCode.InvalidArgument, Format(
                    $"session expired: client {id} has no session on this shard (evicted, or never opened) and sequence {sequence} cannot open one; sessions open at sequence 1"));
            KvReply first = Execute(request);
            _sessions.Open(id, sequence, first.Clone(), index);
            return first;
        }
        if (sequence == session.LastSequence) return session.LastReply.Clone();
        if (sequence < session.LastSequence)
            return Refused(ErrorCode.InvalidArgument, Format(
                $"sequence {sequence} was already superseded: client {id} has applied sequence {session.LastSequence}"));

        KvReply reply = Execute(request);
        _sessions.Record(session, sequence, reply.Clone(), index);
        return reply;
    }

    private static bool IsRead(KvRequest request) =>
        request.CommandCase is KvRequest.CommandOneofCase.Get or KvRequest.CommandOneofCase.Range;

    private void CheckNextIndex(ulong index)
    {
        if (index != AppliedIndex + 1)
            throw new InvalidOperationException(Format(
                $"log entry {index} cannot be applied: the state machine has applied up to {AppliedIndex}, so the next is {AppliedIndex + 1}"));
    }

    private KvReply Refused(ErrorCode error, string message) => new() { Error = error, Message = message, Revision = _revision };

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    private static string Format(FormattableString message) => message.ToString(CultureInfo.InvariantCulture);
}
