namespace KvActors.Node.StateMachine;

/// <summary>
/// What the state machine stores under a key: the value and its etcd-style metadata. Stored inline in the
/// ordered map's leaves.
/// </summary>
/// <param name="Value">The value's bytes; owned by the state machine, never changed after it is stored.</param>
/// <param name="CreateRevision">The shard revision of the put that created the key (since its last delete); at least 1.</param>
/// <param name="ModRevision">The shard revision of the latest write to the key; at least <paramref name="CreateRevision"/>.</param>
/// <param name="Version">Puts since the key was created: 1 after creation.</param>
internal readonly record struct VersionedValue(byte[] Value, ulong CreateRevision, ulong ModRevision, ulong Version);
