using Google.Protobuf;
using KvActors.Node.StateMachine;
using KvActors.Protocol;
using KvActors.Protocol.Wire;

namespace KvActors.Node.Tests.StateMachine;

/// <summary>
/// The state machine's specification, written the naive way: a dictionary of hex-string keys sorted on demand,
/// a list of sessions searched linearly, and a Txn applied to a copy of the dictionary. It shares only the
/// parser and <see cref="KvLimits.Validate"/> (tested on their own) with <see cref="KvStateMachine"/>. Messages
/// are not modelled: replies are compared with their messages cleared.
/// </summary>
internal sealed class ReferenceModel(StateMachineSettings settings)
{
    private sealed record Item(byte[] Value, ulong Create, ulong Mod, ulong Version);

    private sealed class Session
    {
        public required string Client;
        public ulong Sequence;
        public required KvReply Reply;
        public ulong Index;
    }

    private Dictionary<string, Item> _items = [];
    private readonly List<Session> _sessions = [];

    public ulong Revision { get; private set; }

    public ulong AppliedIndex { get; private set; }

    public int SessionCount => _sessions.Count;

    public KvReply Apply(ulong index, byte[] command)
    {
        AppliedIndex = index;
        KvRequest request;
        try
        {
            request = KvRequest.Parser.ParseFrom(command);
        }
        catch (InvalidProtocolBufferException)
        {
            return Refused(ErrorCode.InvalidArgument);
        }
        ValidationResult verdict = settings.Limits.Validate(request);
        if (!verdict.IsOk) return Refused(verdict.Error);
        if (request.ClientId.IsEmpty) return Run(request);

        string client = Convert.ToHexString(request.ClientId.Span);
        Session? session = _sessions.Find(s => s.Client == client);
        if (session is null)
        {
            if (request.Sequence != 1) return Refused(ErrorCode.InvalidArgument);
            KvReply first = Run(request);
            if (_sessions.Count == settings.MaxSessions)
            {
                Session oldest = _sessions.OrderBy(s => s.Index).ThenBy(s => s.Client, StringComparer.Ordinal).First();
                _sessions.Remove(oldest);
            }
            _sessions.Add(new Session { Client = client, Sequence = 1, Reply = first.Clone(), Index = index });
            return first;
        }
        if (request.Sequence == session.Sequence) return session.Reply.Clone();
        if (request.Sequence < session.Sequence) return Refused(ErrorCode.InvalidArgument);
        KvReply reply = Run(request);
        session.Sequence = request.Sequence;
        session.Reply = reply.Clone();
        session.Index = index;
        return reply;
    }

    public void AdvanceIndex(ulong index) => AppliedIndex = index;

    public KvReply Read(KvRequest request)
    {
        if (request.CommandCase is not (KvRequest.CommandOneofCase.Get or KvRequest.CommandOneofCase.Range))
            return Refused(ErrorCode.InvalidArgument);
        ValidationResult verdict = settings.Limits.Validate(request);
        return verdict.IsOk ? Run(request) : Refused(verdict.Error);
    }

    /// <summary>Every pair as <see cref="Shard.Describe"/> writes it, in key order.</summary>
    public List<string> Dump() =>
        [.. _items.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => Shard.Describe(ToKeyValue(p.Key, p.Value, false)))];

    private KvReply Refused(ErrorCode error) => new() { Error = error, Revision = Revision };

    private KvReply Run(KvRequest request)
    {
        switch (request.CommandCase)
        {
            case KvRequest.CommandOneofCase.Put:
                Revision++;
                return new KvReply { Revision = Revision, Put = Put(_items, request.Put, Revision) };
            case KvRequest.CommandOneofCase.Delete:
                DeleteResult deleted = Delete(_items, request.Delete);
                if (deleted.Deleted == 1) Revision++;
                return new KvReply { Revision = Revision, Delete = deleted };
            case KvRequest.CommandOneofCase.Get:
                return new KvReply { Revision = Revision, Get = Get(_items, request.Get) };
            case KvRequest.CommandOneofCase.Range:
                return new KvReply { Revision = Revision, Range = Range(_items, request.Range) };
            case KvRequest.CommandOneofCase.CompareAndSwap:
                return CompareAndSwap(request.CompareAndSwap);
            default:
                return Txn(request.Txn);
        }
    }

    private static PutResult Put(Dictionary<string, Item> items, PutRequest put, ulong revision)
    {
        string key = Hex(put.Key);
        var result = new PutResult();
        if (items.TryGetValue(key, out Item? old))
        {
            if (put.PrevKv) result.Prev = ToKeyValue(key, old, false);
            items[key] = new Item(put.Value.ToByteArray(), old.Create, revision, old.Version + 1);
        }
        else
        {
            items[key] = new Item(put.Value.ToByteArray(), revision, revision, 1);
        }
        return result;
    }

    private static DeleteResult Delete(Dictionary<string, Item> items, DeleteRequest delete)
    {
        string key = Hex(delete.Key);
        if (!items.Remove(key, out Item? old)) return new DeleteResult();
        return new DeleteResult { Deleted = 1, Prev = delete.PrevKv ? ToKeyValue(key, old, false) : null };
    }

    private static GetResult Get(Dictionary<string, Item> items, GetRequest get) =>
        items.TryGetValue(Hex(get.Key), out Item? item) ? new GetResult { Found = true, Kv = ToKeyValue(Hex(get.Key), item, false) } : new GetResult();

    private RangeResult Range(Dictionary<string, Item> items, RangeRequest range)
    {
        string start = Hex(range.Start), end = Hex(range.End);
        List<string> keys = [.. items.Keys
            .Where(k => string.CompareOrdinal(k, start) >= 0 && (end.Length == 0 || string.CompareOrdinal(k, end) < 0))
            .OrderBy(k => k, StringComparer.Ordinal)];
        var result = new RangeResult { Count = (ulong)keys.Count };
        if (range.CountOnly) return result;
        uint limit = range.Limit == 0 ? (uint)settings.Limits.MaxRangeLimit : range.Limit;
        long bytes = 0;
        foreach (string key in keys)
        {
            if (result.Kvs.Count == limit) break;
            long size = key.Length / 2 + (range.KeysOnly ? 0 : items[key].Value.Length);
            if (result.Kvs.Count > 0 && bytes + size > settings.Limits.MaxRangeReplyBytes) break;
            bytes += size;
            result.Kvs.Add(ToKeyValue(key, items[key], range.KeysOnly));
        }
        result.More = result.Kvs.Count < keys.Count;
        return result;
    }

    private KvReply CompareAndSwap(CompareAndSwapRequest cas)
    {
        string key = Hex(cas.Key);
        _items.TryGetValue(key, out Item? current);
        bool holds = cas.ExpectedCase switch
        {
            CompareAndSwapRequest.ExpectedOneofCase.ExpectedValue => current is not null && current.Value.AsSpan().SequenceEqual(cas.ExpectedValue.Span),
            CompareAndSwapRequest.ExpectedOneofCase.ExpectedModRevision => current is not null && current.Mod == cas.ExpectedModRevision,
            _ => current is null,
        };
        if (!holds)
        {
            return new KvReply
            {
                Error = ErrorCode.Conflict,
                Revision = Revision,
                CompareAndSwap = new CasResult { Current = current is null ? null : ToKeyValue(key, current, false) },
            };
        }
        Revision++;
        Put(_items, new PutRequest { Key = cas.Key, Value = cas.NewValue }, Revision);
        return new KvReply { Revision = Revision, CompareAndSwap = new CasResult { Succeeded = true, Current = ToKeyValue(key, _items[key], false) } };
    }

    private KvReply Txn(TxnRequest txn)
    {
        bool succeeded = txn.Compares.All(Holds);
        var copy = new Dictionary<string, Item>(_items);
        bool changed = false;
        var result = new TxnResult { Succeeded = succeeded };
        foreach (Op op in succeeded ? txn.Success : txn.Failure)
        {
            switch (op.OpCase)
            {
                case Op.OpOneofCase.Put:
                    result.Results.Add(new OpResult { Put = Put(copy, op.Put, Revision + 1) });
                    changed = true;
                    break;
                case Op.OpOneofCase.Delete:
                    DeleteResult deleted = Delete(copy, op.Delete);
                    changed |= deleted.Deleted == 1;
                    result.Results.Add(new OpResult { Delete = deleted });
                    break;
                case Op.OpOneofCase.Get:
                    result.Results.Add(new OpResult { Get = Get(copy, op.Get) });
                    break;
                default:
                    result.Results.Add(new OpResult { Range = Range(copy, op.Range) });
                    break;
            }
        }
        _items = copy;
        if (changed) Revision++;
        return new KvReply { Revision = Revision, Txn = result };
    }

    private bool Holds(Compare compare)
    {
        _items.TryGetValue(Hex(compare.Key), out Item? item);
        if (compare.Target == Compare.Types.Target.Value && item is null) return false;
        int order = compare.Target switch
        {
            Compare.Types.Target.Value => Math.Sign(string.CompareOrdinal(Convert.ToHexString(item!.Value), Hex(compare.Value))),
            Compare.Types.Target.Version => (item?.Version ?? 0).CompareTo(compare.Version),
            Compare.Types.Target.CreateRevision => (item?.Create ?? 0).CompareTo(compare.CreateRevision),
            _ => (item?.Mod ?? 0).CompareTo(compare.ModRevision),
        };
        return compare.Result switch
        {
            Compare.Types.Result.Equal => order == 0,
            Compare.Types.Result.NotEqual => order != 0,
            Compare.Types.Result.Greater => order > 0,
            _ => order < 0,
        };
    }

    private static string Hex(ByteString bytes) => Convert.ToHexString(bytes.Span);

    private static KeyValue ToKeyValue(string hexKey, Item item, bool keysOnly) => new()
    {
        Key = ByteString.CopyFrom(Convert.FromHexString(hexKey)),
        Value = keysOnly ? ByteString.Empty : ByteString.CopyFrom(item.Value),
        CreateRevision = item.Create,
        ModRevision = item.Mod,
        Version = item.Version,
    };
}
