using System.Text;
using Google.Protobuf;
using KvActors.Protocol.Wire;

namespace KvActors.Node.Tests.StateMachine;

/// <summary>Builds requests for the example tests: <c>Kv.Put("a", "1")</c>, <c>Kv.Get("a").InSession(1, 1)</c>.</summary>
internal static class Kv
{
    public static ByteString Bytes(string text) => ByteString.CopyFrom(Encoding.Latin1.GetBytes(text));

    public static ByteString Bytes(int length, byte fill = (byte)'k') => ByteString.CopyFrom(Enumerable.Repeat(fill, length).ToArray());

    public static string Text(ByteString bytes) => Encoding.Latin1.GetString(bytes.Span);

    public static KvRequest Put(string key, string value, bool prevKv = false) =>
        new() { Put = PutOp(key, value, prevKv) };

    public static PutRequest PutOp(string key, string value, bool prevKv = false) =>
        new() { Key = Bytes(key), Value = Bytes(value), PrevKv = prevKv };

    public static KvRequest Delete(string key, bool prevKv = false) =>
        new() { Delete = new DeleteRequest { Key = Bytes(key), PrevKv = prevKv } };

    public static KvRequest Get(string key) => new() { Get = new GetRequest { Key = Bytes(key) } };

    public static KvRequest Range(string start, string end = "", uint limit = 0, bool keysOnly = false, bool countOnly = false) =>
        new() { Range = RangeOp(start, end, limit, keysOnly, countOnly) };

    public static RangeRequest RangeOp(string start, string end = "", uint limit = 0, bool keysOnly = false, bool countOnly = false) =>
        new() { Start = Bytes(start), End = Bytes(end), Limit = limit, KeysOnly = keysOnly, CountOnly = countOnly };

    public static KvRequest CasValue(string key, string expected, string newValue) =>
        new() { CompareAndSwap = new CompareAndSwapRequest { Key = Bytes(key), ExpectedValue = Bytes(expected), NewValue = Bytes(newValue) } };

    public static KvRequest CasModRevision(string key, ulong expected, string newValue) =>
        new() { CompareAndSwap = new CompareAndSwapRequest { Key = Bytes(key), ExpectedModRevision = expected, NewValue = Bytes(newValue) } };

    public static KvRequest CasAbsent(string key, string newValue) =>
        new() { CompareAndSwap = new CompareAndSwapRequest { Key = Bytes(key), ExpectAbsent = true, NewValue = Bytes(newValue) } };

    public static KvRequest Txn(IEnumerable<Compare> compares, IEnumerable<Op> success, IEnumerable<Op>? failure = null)
    {
        var txn = new TxnRequest();
        txn.Compares.AddRange(compares);
        txn.Success.AddRange(success);
        txn.Failure.AddRange(failure ?? []);
        return new KvRequest { Txn = txn };
    }

    public static Compare ValueIs(string key, Compare.Types.Result result, string value) =>
        new() { Key = Bytes(key), Target = Compare.Types.Target.Value, Result = result, Value = Bytes(value) };

    public static Compare VersionIs(string key, Compare.Types.Result result, ulong version) =>
        new() { Key = Bytes(key), Target = Compare.Types.Target.Version, Result = result, Version = version };

    public static Compare ModRevisionIs(string key, Compare.Types.Result result, ulong revision) =>
        new() { Key = Bytes(key), Target = Compare.Types.Target.ModRevision, Result = result, ModRevision = revision };

    public static Compare CreateRevisionIs(string key, Compare.Types.Result result, ulong revision) =>
        new() { Key = Bytes(key), Target = Compare.Types.Target.CreateRevision, Result = result, CreateRevision = revision };

    public static Op OpPut(string key, string value) => new() { Put = PutOp(key, value) };

    public static Op OpDelete(string key) => new() { Delete = new DeleteRequest { Key = Bytes(key) } };

    public static Op OpGet(string key) => new() { Get = new GetRequest { Key = Bytes(key) } };

    public static Op OpRange(string start, string end = "") => new() { Range = RangeOp(start, end) };

    /// <summary>The 16-byte client id whose every byte is <paramref name="client"/>.</summary>
    public static ByteString ClientId(byte client) => ByteString.CopyFrom(Enumerable.Repeat(client, 16).ToArray());

    public static KvRequest InSession(this KvRequest request, byte client, ulong sequence)
    {
        KvRequest copy = request.Clone();
        copy.ClientId = ClientId(client);
        copy.Sequence = sequence;
        return copy;
    }
}
