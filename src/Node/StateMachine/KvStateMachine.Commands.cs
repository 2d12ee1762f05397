using System.Runtime.InteropServices;
using Google.Protobuf;
using Google.Protobuf.Collections;
using KvActors.Protocol.Wire;

namespace KvActors.Node.StateMachine;

// Executing validated commands. Writes take the revision they write at (the shard revision + 1) and the caller
// makes it the shard revision if anything changed. Hot path: index loops (no LINQ, no enumerators), keys and
// values are the request's own arrays, and replies wrap stored arrays instead of copying them.
public sealed partial class KvStateMachine
{
    private KvReply Execute(KvRequest request)
    {
        switch (request.CommandCase)
        {
            case KvRequest.CommandOneofCase.Put:
                ulong putRevision = _revision + 1;
                PutResult put = Put(request.Put, putRevision);
                _revision = putRevision;
                return new KvReply { Revision = _revision, Put = put };
            case KvRequest.CommandOneofCase.Delete:
                DeleteResult delete = Delete(request.Delete, out bool deleted);
                if (deleted) _revision++;
                return new KvReply { Revision = _revision, Delete = delete };
            case KvRequest.CommandOneofCase.Get:
                return new KvReply { Revision = _revision, Get = Get(request.Get) };
            case KvRequest.CommandOneofCase.Range:
                return new KvReply { Revision = _revision, Range = Range(request.Range) };
            case KvRequest.CommandOneofCase.CompareAndSwap:
                return CompareAndSwap(request.CompareAndSwap);
            case KvRequest.CommandOneofCase.Txn:
                return Txn(request.Txn);
            default:
                // Validation refuses a request without a command before it gets here.
                throw new InvalidOperationException($"no command to execute: {request.CommandCase}");
        }
    }

    private PutResult Put(PutRequest put, ulong revision)
    {
        var result = new PutResult();
        ref VersionedValue stored = ref _map.GetValueRefOrAddDefault(Owned(put.Key), out bool exists);
        if (exists)
        {
            if (put.PrevKv) result.Prev = ToKeyValue(put.Key, stored, keysOnly: false);
            stored = new VersionedValue(Owned(put.Value), stored.CreateRevision, revision, stored.Version + 1);
        }
        else
        {
            stored = new VersionedValue(Owned(put.Value), revision, revision, 1);
        }
        return result;
    }

    // Does not advance the revision: deleted says whether the caller must.
    private DeleteResult Delete(DeleteRequest delete, out bool deleted)
    {
        var result = new DeleteResult();
        deleted = _map.Remove(delete.Key.Span, out VersionedValue removed);
        if (deleted)
        {
            result.Deleted = 1;
            if (delete.PrevKv) result.Prev = ToKeyValue(delete.Key, removed, keysOnly: false);
        }
        return result;
    }

    private GetResult Get(GetRequest get)
    {
        bool found = _map.TryGetValue(get.Key.Span, out VersionedValue stored);
        return found ? new GetResult { Found = true, Kv = ToKeyValue(get.Key, stored, keysOnly: false) } : new GetResult();
    }

    private RangeResult Range(RangeRequest range)
    {
        ReadOnlySpan<byte> start = range.Start.Span;
        int first = _map.Rank(start);
        int end = range.End.IsEmpty ? _map.Count : _map.Rank(range.End.Span);
        int count = end - first;
        var result = new RangeResult { Count = (ulong)count };
        if (range.CountOnly || count == 0) return result;

        // The limit was validated to be at most MaxRangeLimit; 0 means MaxRangeLimit.
        int limit = range.Limit == 0 ? _limits.MaxRangeLimit : (int)range.Limit;
        int wanted = Math.Min(count, limit);
        long replyBytes = 0;
        RepeatedField<KeyValue> kvs = result.Kvs;
        for (BPlusTree<VersionedValue>.Cursor cursor = _map.Seek(start); kvs.Count < wanted; cursor.MoveNext())
        {
            ref readonly VersionedValue stored = ref cursor.Value;
            long pairBytes = cursor.Key.Length + (range.KeysOnly ? 0 : stored.Value.Length);
            // One pair always goes out, so a client paging through large values makes progress.
            if (kvs.Count > 0 && replyBytes + pairBytes > _limits.MaxRangeReplyBytes) break;
            replyBytes += pairBytes;
            kvs.Add(ToKeyValue(UnsafeByteOperations.UnsafeWrap(cursor.Key), stored, range.KeysOnly));
        }
        result.More = kvs.Count < count;
        return result;
    }

    private KvReply CompareAndSwap(CompareAndSwapRequest cas)
    {
        bool exists = _map.TryGetValue(cas.Key.Span, out VersionedValue current);
        string? conflict = cas.ExpectedCase switch
        {
            CompareAndSwapRequest.ExpectedOneofCase.ExpectedValue when !exists => "the key does not exist",
            CompareAndSwapRequest.ExpectedOneofCase.ExpectedValue =>
                current.Value.AsSpan().SequenceEqual(cas.ExpectedValue.Span) ? null : "the key's value is not the expected value",
            CompareAndSwapRequest.ExpectedOneofCase.ExpectedModRevision when !exists => "the key does not exist",
            CompareAndSwapRequest.ExpectedOneofCase.ExpectedModRevision =>
                current.ModRevision == cas.ExpectedModRevision ? null
                    : Format($"the key's mod revision is {current.ModRevision}, not {cas.ExpectedModRevision}"),
            _ => exists ? Format($"the key exists (mod revision {current.ModRevision})") : null,
        };
        if (conflict is not null)
        {
            var failed = new CasResult { Succeeded = false, Current = exists ? ToKeyValue(cas.Key, current, keysOnly: false) : null };
            return new KvReply { Error = ErrorCode.Conflict, Message = conflict, Revision = _revision, CompareAndSwap = failed };
        }

        ulong revision = _revision + 1;
        byte[] value = Owned(cas.NewValue);
        var written = exists
            ? new VersionedValue(value, current.CreateRevision, revision, current.Version + 1)
            : new VersionedValue(value, revision, revision, 1);
        _map.GetValueRefOrAddDefault(Owned(cas.Key), out _) = written;
        _revision = revision;
        var succeeded = new CasResult { Succeeded = true, Current = ToKeyValue(cas.Key, written, keysOnly: false) };
        return new KvReply { Revision = revision, CompareAndSwap = succeeded };
    }

    private KvReply Txn(TxnRequest txn)
    {
        bool succeeded = true;
        RepeatedField<Compare> compares = txn.Compares;
        for (int i = 0; i < compares.Count && succeeded; i++)
            succeeded = Holds(compares[i]);

        // Every write of the Txn happens at one revision, which becomes the shard's only if something changed.
        ulong revision = _revision + 1;
        bool changed = false;
        var result = new TxnResult { Succeeded = succeeded };
        RepeatedField<Op> ops = succeeded ? txn.Success : txn.Failure;
        for (int i = 0; i < ops.Count; i++)
        {
            Op op = ops[i];
            var outcome = new OpResult();
            switch (op.OpCase)
            {
                case Op.OpOneofCase.Put:
                    outcome.Put = Put(op.Put, revision);
                    changed = true;
                    break;
                case Op.OpOneofCase.Delete:
                    outcome.Delete = Delete(op.Delete, out bool deleted);
                    changed |= deleted;
                    break;
                case Op.OpOneofCase.Get:
                    outcome.Get = Get(op.Get);
                    break;
                case Op.OpOneofCase.Range:
                    outcome.Range = Range(op.Range);
                    break;
                default:
                    throw new InvalidOperationException($"no operation in a validated Txn op: {op.OpCase}");
            }
            result.Results.Add(outcome);
        }
        if (changed) _revision = revision;
        return new KvReply { Revision = _revision, Txn = result };
    }

    // An absent key has version, create and mod revision 0 and no value: a VALUE compare on it is false.
    private bool Holds(Compare compare)
    {
        bool exists = _map.TryGetValue(compare.Key.Span, out VersionedValue stored);
        int order;
        switch (compare.Target)
        {
            case Compare.Types.Target.Value:
                if (!exists) return false;
                order = stored.Value.AsSpan().SequenceCompareTo(compare.Value.Span);
                break;
            case Compare.Types.Target.Version:
                order = stored.Version.CompareTo(compare.Version);
                break;
            case Compare.Types.Target.CreateRevision:
                order = stored.CreateRevision.CompareTo(compare.CreateRevision);
                break;
            default:
                order = stored.ModRevision.CompareTo(compare.ModRevision);
                break;
        }
        return compare.Result switch
        {
            Compare.Types.Result.Equal => order == 0,
            Compare.Types.Result.NotEqual => order != 0,
            Compare.Types.Result.Greater => order > 0,
            _ => order < 0,
        };
    }

    /// <summary>Every pair, in key order. O(n), allocating: for tests and diagnostics, never the hot path.</summary>
    internal IEnumerable<KeyValue> Pairs()
    {
        for (BPlusTree<VersionedValue>.Cursor cursor = _map.Seek([]); cursor.IsValid; cursor.MoveNext())
            yield return ToKeyValue(UnsafeByteOperations.UnsafeWrap(cursor.Key), cursor.Value, keysOnly: false);
    }

    private static KeyValue ToKeyValue(ByteString key, in VersionedValue stored, bool keysOnly) => new()
    {
        Key = key,
        Value = keysOnly ? ByteString.Empty : UnsafeByteOperations.UnsafeWrap(stored.Value),
        CreateRevision = stored.CreateRevision,
        ModRevision = stored.ModRevision,
        Version = stored.Version,
    };

    // The array behind a ByteString the state machine may keep: a parsed request's bytes belong to the request
    // alone, so the parser's own array is taken as is; anything else (a slice) is copied once.
    private static byte[] Owned(ByteString bytes) =>
        MemoryMarshal.TryGetArray(bytes.Memory, out ArraySegment<byte> segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : bytes.ToByteArray();
}
