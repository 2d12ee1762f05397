using Microsoft.Data.Sqlite;

namespace KvActors.Node.Hosting;

/// <summary>The SQLite files of a node's data directory, and making them durable before Akka.Persistence uses them.</summary>
public static class SqliteFiles
{
    /// <summary>The journal database's file name in the data directory.</summary>
    public const string JournalFile = "journal.db";

    /// <summary>The snapshot store's file name in the data directory.</summary>
    public const string SnapshotFile = "snapshots.db";

    /// <summary>The connection string for a database file: a private cache, pooled connections.</summary>
    public static string ConnectionString(string path) =>
        new SqliteConnectionStringBuilder { DataSource = path, Cache = SqliteCacheMode.Private, Pooling = true }.ToString();

    /// <summary>
    /// Creates the data directory and both databases if needed and puts them in WAL mode (a property of the file, so
    /// every later connection has it). Returns the synchronous level SQLite reports (2 = FULL: every commit fsyncs).
    /// </summary>
    public static int Prepare(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        int synchronous = 0;
        foreach (string file in (ReadOnlySpan<string>)[JournalFile, SnapshotFile])
        {
            using var connection = new SqliteConnection(ConnectionString(Path.Combine(dataDirectory, file)));
            connection.Open();
            using SqliteCommand wal = connection.CreateCommand();
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            string mode = (string)wal.ExecuteScalar()!;
            if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"{file} in {dataDirectory} refused WAL mode (it reports '{mode}')");
            using SqliteCommand sync = connection.CreateCommand();
            sync.CommandText = "PRAGMA synchronous;";
            synchronous = Convert.ToInt32(sync.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
        return synchronous;
    }
}
