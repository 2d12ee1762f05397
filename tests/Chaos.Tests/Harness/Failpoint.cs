namespace KvActors.Chaos.Tests.Harness;

/// <summary>A node's test-only failpoint: its name in the node's lines and files, and the environment variable that enables it.</summary>
internal sealed record Failpoint(string Name, string Variable)
{
    /// <summary>Kills the node while its snapshot store writes a snapshot.</summary>
    public static readonly Failpoint CrashDuringSnapshot = new("crash-during-snapshot", "KVACTORS_FAILPOINT_CRASH_DURING_SNAPSHOT");

    /// <summary>Kills the node with journal writes in flight and, at its restart, drops what its replicas had not seen durable.</summary>
    public static readonly Failpoint LoseUnsynced = new("lose-unsynced", "KVACTORS_FAILPOINT_LOSE_UNSYNCED");
}
