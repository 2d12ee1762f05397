using Etcdserverpb;
using Google.Protobuf;
using KvActors.Bench.Load;

namespace KvActors.Bench.Etcd;

/// <summary>
/// One closed-loop client on one member's endpoint: a Put or a Range per call over the KV service client that
/// dotnet-etcd generates, on the gRPC channel the <see cref="EtcdSystem"/> shares among all clients of that member
/// (so disposing it closes nothing). Every RPC error surfaces as an <see cref="Grpc.Core.RpcException"/>.
/// </summary>
internal sealed class EtcdBenchClient(KV.KVClient kv) : IBenchClient
{
    public async Task PutAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken)
    {
        // The request owns a copy of its key and value; nothing else is allocated here but the call itself.
        var request = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFrom(value.Span) };
        await kv.PutAsync(request, cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false);
    }

    public async Task GetAsync(string key, bool serializable, CancellationToken cancellationToken)
    {
        // Serializable = false (the default) is etcd's linearizable read: the member confirms with a quorum (ReadIndex)
        // before it answers. A missing key is an empty answer, not an error.
        var request = new RangeRequest { Key = ByteString.CopyFromUtf8(key), Serializable = serializable };
        await kv.RangeAsync(request, cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
