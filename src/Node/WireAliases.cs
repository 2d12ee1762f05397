// The protobuf types the node uses by name everywhere. Aliased rather than imported: KvActors.Protocol.Wire also
// has Entry, EntryId and Membership, which would clash with the Raft core's.
global using ErrorCode = KvActors.Protocol.Wire.ErrorCode;
global using KvReply = KvActors.Protocol.Wire.KvReply;
global using KvRequest = KvActors.Protocol.Wire.KvRequest;
global using RaftEnvelope = KvActors.Protocol.Wire.RaftEnvelope;
global using EntriesAppended = KvActors.Protocol.Wire.EntriesAppended;
global using HardStateChanged = KvActors.Protocol.Wire.HardStateChanged;
global using ReplicaSnapshot = KvActors.Protocol.Wire.ReplicaSnapshot;
