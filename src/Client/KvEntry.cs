using KvActors.Protocol.Wire;

namespace KvActors.Client;

/// <summary>A key, its value and its metadata, as stored (etcd's meanings).</summary>
/// <param name="Key">The key's bytes.</param>
/// <param name="Value">The value's bytes; empty for a keys-only range.</param>
/// <param name="CreateRevision">The shard revision of the put that created the key.</param>
/// <param name="ModRevision">The shard revision of its latest write.</param>
/// <param name="Version">Puts since the key was created: 1 after creation.</param>
public sealed record KvEntry(ReadOnlyMemory<byte> Key, ReadOnlyMemory<byte> Value, ulong CreateRevision, ulong ModRevision, ulong Version)
{
    /// <summary>The value as UTF-8 text.</summary>
    public string ValueText => System.Text.Encoding.UTF8.GetString(Value.Span);

    /// <summary>The key as UTF-8 text.</summary>
    public string KeyText => System.Text.Encoding.UTF8.GetString(Key.Span);

    internal static KvEntry? From(KeyValue? kv) =>
        kv is null ? null : new KvEntry(kv.Key.Memory, kv.Value.Memory, kv.CreateRevision, kv.ModRevision, kv.Version);
}

/// <summary>The outcome of a compare-and-swap: a failed compare is a value, not an exception.</summary>
/// <param name="Succeeded">True: the expectation held and the new value was written.</param>
/// <param name="Current">The pair after the call: the new one on success, else the one that failed the
/// expectation; null when the key is absent.</param>
public sealed record KvCasResult(bool Succeeded, KvEntry? Current);

/// <summary>The pairs of a range, in ascending key order.</summary>
/// <param name="Entries">At most the limit asked for.</param>
/// <param name="More">True: the range holds keys after the last one returned; ask again from just after it.</param>
public sealed record KvRangeResult(IReadOnlyList<KvEntry> Entries, bool More);

/// <summary>What a compare-and-swap expects of the key; exactly one of its three forms.</summary>
public readonly record struct CasExpectation
{
    private CasExpectation(ReadOnlyMemory<byte>? value, ulong modRevision, bool absent)
    {
        ExpectedValue = value;
        ExpectedModRevision = modRevision;
        ExpectAbsent = absent;
    }

    /// <summary>The key exists with exactly this value.</summary>
    public static CasExpectation Value(ReadOnlyMemory<byte> value) => new(value, 0, false);

    /// <summary>The key exists with exactly this UTF-8 value.</summary>
    public static CasExpectation Value(string value) => new(System.Text.Encoding.UTF8.GetBytes(value), 0, false);

    /// <summary>The key exists and was last written at this revision (at least 1).</summary>
    public static CasExpectation ModRevision(ulong revision) => new(null, revision, false);

    /// <summary>The key does not exist.</summary>
    public static CasExpectation Absent { get; } = new(null, 0, true);

    /// <summary>The expected value, when this expectation is on the value.</summary>
    public ReadOnlyMemory<byte>? ExpectedValue { get; }

    /// <summary>The expected mod revision, when this expectation is on it; else 0.</summary>
    public ulong ExpectedModRevision { get; }

    /// <summary>True when the key is expected to be absent.</summary>
    public bool ExpectAbsent { get; }
}
