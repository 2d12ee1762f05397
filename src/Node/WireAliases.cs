// The protobuf types the node uses by name everywhere. Aliased rather than imported: KvActors.Protocol.Wire also
// has Entry, EntryId and Membership, which would clash with the Raft core's.
global using ErrorCode = KvActors.Protocol.Wire.ErrorCode;
global using KvReply = KvActors.Protocol.Wire.KvReply;
global using KvRequest = KvActors.Protocol.Wire.KvRequest;
global using RaftEnvelope = KvActors.Protocol.Wire.RaftEnvelope;
global using EntriesAppended = KvActors.Protocol.Wire.EntriesAppended;
global using HardStateChanged = KvActors.Protocol.Wire.HardStateChanged;
global using ReplicaSnapshot = KvActors.Protocol.Wire.ReplicaSnapshot;
global using NodeInfo = KvActors.Protocol.Wire.NodeInfo;
global using GetNodeInfo = KvActors.Protocol.Wire.GetNodeInfo;
global using FormationQuery = KvActors.Protocol.Wire.FormationQuery;
global using FormationAnswer = KvActors.Protocol.Wire.FormationAnswer;
global using FormationAnnounce = KvActors.Protocol.Wire.FormationAnnounce;
global using FormationAck = KvActors.Protocol.Wire.FormationAck;
global using MembershipQuery = KvActors.Protocol.Wire.MembershipQuery;
global using MembershipAnswer = KvActors.Protocol.Wire.MembershipAnswer;
global using GetReplicaHealth = KvActors.Protocol.Wire.GetReplicaHealth;
global using ReplicaHealth = KvActors.Protocol.Wire.ReplicaHealth;
global using GetShardStatus = KvActors.Protocol.Wire.GetShardStatus;
global using GetClusterStatus = KvActors.Protocol.Wire.GetClusterStatus;
global using ClusterStatus = KvActors.Protocol.Wire.ClusterStatus;
global using ShardStatus = KvActors.Protocol.Wire.ShardStatus;
global using NodeStatus = KvActors.Protocol.Wire.NodeStatus;
global using ReplicaStatusEntry = KvActors.Protocol.Wire.ReplicaStatusEntry;
