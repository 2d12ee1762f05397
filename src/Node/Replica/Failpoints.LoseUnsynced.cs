using System.Diagnostics;
using System.Globalization;
using KvActors.Node.Hosting;
using Microsoft.Data.Sqlite;

namespace KvActors.Node.Replica;

internal static partial class Failpoints
{
    /// <summary>
    /// Names a file. While it exists, the node kills itself (SIGKILL) at a moment when journal writes are in flight,
    /// and, when it starts again on the same data, first deletes every journal row and snapshot its replicas had not
    /// been told were durable: a power loss that takes away every write not yet fsynced. A plain <c>kill -9</c> cannot
    /// show a missing fsync (the page cache survives it); this can, if a replica ever acts on a write before its store
    /// says it is on disk.
    /// </summary>
    public const string LoseUnsyncedVariable = "KVACTORS_FAILPOINT_LOSE_UNSYNCED";

    /// <summary>The file in the data directory that carries what was durable from the crash to the restart.</summary>
    public const string DurableFile = "failpoint-durable.tsv";

    private static readonly string? LoseUnsyncedFile =
        Environment.GetEnvironmentVariable(LoseUnsyncedVariable) is { Length: > 0 } file ? file : null;

    private static readonly Lock DurableLock = new();
    // What each replica (persistence id) has been told is durable: its highest journal sequence number and snapshot.
    private static readonly Dictionary<string, (long Journal, long Snapshot)> Durable = [];
    private static string? _dataDirectory;
    private static bool _crashing;
    private static long _nextArmCheck;

    /// <summary>
    /// Called once the node's SQLite files are ready and before any replica recovers: deletes what the previous
    /// process had not seen durable when the failpoint killed it, and remembers where to write that next time.
    /// </summary>
    public static void StorageOpened(string dataDirectory)
    {
        if (LoseUnsyncedFile is null) return;
        lock (DurableLock) _dataDirectory = dataDirectory;
        if (DropUnsynced(dataDirectory) is { } dropped) Say($"failpoint lose-unsynced: {dropped}");
    }

    /// <summary>
    /// When <paramref name="dataDirectory"/> holds a <see cref="DurableFile"/>, deletes every journal row and snapshot
    /// above the positions it names, then the file; says what it dropped, or returns null when there was no file.
    /// </summary>
    internal static string? DropUnsynced(string dataDirectory)
    {
        string path = Path.Combine(dataDirectory, DurableFile);
        if (!File.Exists(path)) return null;
        var durable = new List<(string Store, string PersistenceId, long SequenceNr)>();
        foreach (string line in File.ReadAllLines(path))
        {
            string[] fields = line.Split('\t');
            durable.Add((fields[0], fields[1], long.Parse(fields[2], CultureInfo.InvariantCulture)));
        }
        int rows = DeleteAbove(Path.Combine(dataDirectory, SqliteFiles.JournalFile), "journal", durable.Where(d => d.Store == "journal"));
        int snapshots = DeleteAbove(Path.Combine(dataDirectory, SqliteFiles.SnapshotFile), "snapshot", durable.Where(d => d.Store == "snapshot"));
        // Only once the deletes are committed: a crash before here deletes the same rows again at the next start.
        File.Delete(path);
        return $"dropped {rows} journal rows and {snapshots} snapshots that the crashed process had not seen durable";
    }

    /// <summary>Called when <paramref name="persistenceId"/> learns (or recovers) that its journal holds everything up to <paramref name="sequenceNr"/>.</summary>
    public static void JournalDurable(string persistenceId, long sequenceNr)
    {
        if (LoseUnsyncedFile is null) return;
        Record(persistenceId, d => (Math.Max(d.Journal, sequenceNr), d.Snapshot));
        MaybeLoseUnsynced();
    }

    /// <summary>Called when <paramref name="persistenceId"/> learns (or recovers) that its snapshot at <paramref name="sequenceNr"/> is saved.</summary>
    public static void SnapshotDurable(string persistenceId, long sequenceNr)
    {
        if (LoseUnsyncedFile is null) return;
        Record(persistenceId, d => (d.Journal, Math.Max(d.Snapshot, sequenceNr)));
    }

    private static void Record(string persistenceId, Func<(long Journal, long Snapshot), (long, long)> update)
    {
        lock (DurableLock)
        {
            // Once the crash has begun nobody may act on a write: what they would act on is about to be lost.
            if (_crashing) HangUntilKilled();
            Durable[persistenceId] = update(Durable.GetValueOrDefault(persistenceId));
        }
    }

    private static void MaybeLoseUnsynced()
    {
        // A look at the file every 20 ms at most: this runs after every journal write.
        long now = Stopwatch.GetTimestamp();
        if (now < Interlocked.Read(ref _nextArmCheck)) return;
        Interlocked.Exchange(ref _nextArmCheck, now + Stopwatch.Frequency / 50);
        if (!File.Exists(LoseUnsyncedFile)) return;
        string lines;
        string dataDirectory;
        int replicas;
        lock (DurableLock)
        {
            if (_crashing || _dataDirectory is null) return;
            _crashing = true;
            dataDirectory = _dataDirectory;
            replicas = Durable.Count;
            lines = FormatDurable(Durable);
        }
        File.Delete(LoseUnsyncedFile!);
        File.WriteAllText(Path.Combine(dataDirectory, DurableFile), lines);
        // The journal goes on writing meanwhile; no replica hears of it.
        int delay = Random.Shared.Next(0, 20);
        Say($"failpoint lose-unsynced: {replicas} replicas' durable positions recorded; the process ends in {delay} ms, losing what they have not seen durable");
        Thread.Sleep(delay);
        Process.GetCurrentProcess().Kill();
        HangUntilKilled();
    }

    /// <summary>The content of a <see cref="DurableFile"/>: per persistence id, its durable journal position and snapshot.</summary>
    internal static string FormatDurable(IEnumerable<KeyValuePair<string, (long Journal, long Snapshot)>> durable) =>
        string.Concat(durable.Select(d => string.Create(CultureInfo.InvariantCulture,
            $"journal\t{d.Key}\t{d.Value.Journal}\nsnapshot\t{d.Key}\t{d.Value.Snapshot}\n")));

    private static int DeleteAbove(string database, string table, IEnumerable<(string Store, string PersistenceId, long SequenceNr)> durable)
    {
        using var connection = new SqliteConnection(SqliteFiles.ConnectionString(database));
        connection.Open();
        using (SqliteCommand exists = connection.CreateCommand())
        {
            exists.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $table";
            exists.Parameters.AddWithValue("$table", table);
            if (Convert.ToInt64(exists.ExecuteScalar(), CultureInfo.InvariantCulture) == 0) return 0;
        }
        using SqliteTransaction transaction = connection.BeginTransaction();
        int deleted = 0;
        foreach ((_, string persistenceId, long sequenceNr) in durable)
        {
            using SqliteCommand delete = connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = $"DELETE FROM {table} WHERE persistence_id = $id AND sequence_number > $durable";
            delete.Parameters.AddWithValue("$id", persistenceId);
            delete.Parameters.AddWithValue("$durable", sequenceNr);
            deleted += delete.ExecuteNonQuery();
        }
        transaction.Commit();
        return deleted;
    }

    private static void HangUntilKilled()
    {
        while (true) Thread.Sleep(Timeout.Infinite);
    }
}
