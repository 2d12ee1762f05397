using Google.Protobuf;
using KvActors.Protocol.Wire;

namespace KvActors.Node.Tests.Replica;

/// <summary>Short ways to build client requests in tests.</summary>
internal static class KvRequests
{
    public static KvRequest Put(string key, string value) =>
        new() { Put = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) } };

    public static KvRequest Get(string key, bool serializable = false) =>
        new() { Get = new GetRequest { Key = ByteString.CopyFromUtf8(key), Serializable = serializable } };

    public static string? ValueOf(KvReply reply) =>
        reply.Get is { Found: true } get ? get.Kv.Value.ToStringUtf8() : null;
}
