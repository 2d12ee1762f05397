using System.Diagnostics;
using System.Globalization;

namespace KvActors.Node.Replica;

/// <summary>
/// Test-only crash points, for the chaos campaign: moments that a <c>kill -9</c> from outside hits only by chance. Each
/// is off unless its environment variable is set when the node starts; production never sets them.
/// </summary>
internal static partial class Failpoints
{
    /// <summary>
    /// Names a file. While it exists, the next replica that hands a snapshot to the snapshot store deletes it and
    /// the process kills itself (SIGKILL) within a few milliseconds: while the store is writing that snapshot.
    /// </summary>
    public const string CrashDuringSnapshotVariable = "KVACTORS_FAILPOINT_CRASH_DURING_SNAPSHOT";

    private static readonly string? CrashDuringSnapshotFile =
        Environment.GetEnvironmentVariable(CrashDuringSnapshotVariable) is { Length: > 0 } file ? file : null;

    /// <summary>Called right after <paramref name="replica"/> handed a snapshot to the store.</summary>
    public static void SnapshotHandedToStore(ReplicaAddress replica)
    {
        if (CrashDuringSnapshotFile is null || !File.Exists(CrashDuringSnapshotFile)) return;
        try
        {
            File.Delete(CrashDuringSnapshotFile);
        }
        catch (IOException)
        {
            return;
        }
        int delay = Random.Shared.Next(0, 5);
        Say(string.Create(CultureInfo.InvariantCulture,
            $"failpoint crash-during-snapshot: shard {replica.Shard} replica {replica.Replica.Value} handed a snapshot to the store; the process ends in {delay} ms"));
        _ = Task.Run(async () =>
        {
            await Task.Delay(delay);
            Process.GetCurrentProcess().Kill();
        });
    }

    // Straight to stdout, not through Akka's logger: the line must be out before the process ends.
    private static void Say(string line)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }
}
