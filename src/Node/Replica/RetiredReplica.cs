using Akka.Actor;
using Akka.Event;
using Akka.Persistence;

namespace KvActors.Node.Replica;

/// <summary>
/// Deletes the journal and snapshots of a replica that is no longer a member of its shard, then stops. It takes the
/// replica's persistence id but recovers nothing: there is nothing left to serve. Safe to run again (deleting
/// nothing deletes nothing), which the host does at every start for every removed shard.
/// </summary>
internal sealed class RetiredReplica : UntypedPersistentActor
{
    private readonly ReplicaAddress _address;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private bool _messagesDeleted;
    private bool _snapshotsDeleted;

    public RetiredReplica(ReplicaAddress address) => _address = address;

    public static Props Props(ReplicaAddress address) => Akka.Actor.Props.Create(() => new RetiredReplica(address));

    public override string PersistenceId => _address.PersistenceId;

    public override Recovery Recovery => Recovery.None;

    protected override void OnRecover(object message)
    {
        if (message is not RecoveryCompleted) return;
        DeleteMessages(long.MaxValue);
        DeleteSnapshots(SnapshotSelectionCriteria.Latest);
    }

    protected override void OnCommand(object message)
    {
        switch (message)
        {
            case DeleteMessagesSuccess: _messagesDeleted = true; break;
            case DeleteSnapshotsSuccess: _snapshotsDeleted = true; break;
            case DeleteMessagesFailure failure:
                GiveUp("journal", failure.Cause);
                return;
            case DeleteSnapshotsFailure failure:
                GiveUp("snapshots", failure.Cause);
                return;
            default:
                Unhandled(message);
                return;
        }
        if (!_messagesDeleted || !_snapshotsDeleted) return;
        _log.Info("Shard {Shard} replica {Replica}: the journal and snapshots of this removed replica are deleted", _address.Shard, _address.Replica);
        Context.Stop(Self);
    }

    private void GiveUp(string what, Exception cause)
    {
        _log.Warning(cause, "Shard {Shard} replica {Replica}: could not delete the {What} of this removed replica; the node tries again at its next start",
            _address.Shard, _address.Replica, what);
        Context.Stop(Self);
    }
}
