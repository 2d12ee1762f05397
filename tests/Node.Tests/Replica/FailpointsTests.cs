using KvActors.Node.Hosting;
using KvActors.Node.Replica;
using Microsoft.Data.Sqlite;

namespace KvActors.Node.Tests.Replica;

/// <summary>
/// The lose-unsynced failpoint's restart half: what the crashed process recorded as durable stays, everything above
/// it goes, replicas it recorded nothing for keep everything, and it happens once.
/// </summary>
public sealed class FailpointsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kvactors-tests", Guid.NewGuid().ToString("N"));

    public FailpointsTests() => Directory.CreateDirectory(_dir);

    [Fact]
    public void A_restart_drops_every_journal_row_and_snapshot_above_what_was_durable_and_nothing_else()
    {
        // The columns the SQL plugin's tables key on; the drop needs no others.
        Execute(SqliteFiles.JournalFile, "CREATE TABLE journal (persistence_id TEXT NOT NULL, sequence_number INTEGER NOT NULL)");
        Execute(SqliteFiles.SnapshotFile, "CREATE TABLE snapshot (persistence_id TEXT NOT NULL, sequence_number INTEGER NOT NULL)");
        Insert(SqliteFiles.JournalFile, "journal", "raft-1-7", 1, 10);
        Insert(SqliteFiles.JournalFile, "journal", "raft-2-7", 1, 5);
        Insert(SqliteFiles.JournalFile, "journal", "raft-3-7", 1, 3);
        Insert(SqliteFiles.SnapshotFile, "snapshot", "raft-1-7", 4, 4);
        Insert(SqliteFiles.SnapshotFile, "snapshot", "raft-1-7", 9, 9);
        File.WriteAllText(Path.Combine(_dir, Failpoints.DurableFile), Failpoints.FormatDurable(
        [
            new("raft-1-7", (8L, 4L)),
            new("raft-2-7", (5L, 0L)),
        ]));

        string? said = Failpoints.DropUnsynced(_dir);

        said.Should().Be("dropped 2 journal rows and 1 snapshots that the crashed process had not seen durable");
        SequenceNumbers(SqliteFiles.JournalFile, "journal", "raft-1-7").Should().Equal(1, 2, 3, 4, 5, 6, 7, 8);
        SequenceNumbers(SqliteFiles.JournalFile, "journal", "raft-2-7").Should().Equal(1, 2, 3, 4, 5);
        SequenceNumbers(SqliteFiles.JournalFile, "journal", "raft-3-7").Should().Equal(1, 2, 3);
        SequenceNumbers(SqliteFiles.SnapshotFile, "snapshot", "raft-1-7").Should().Equal(4);
        File.Exists(Path.Combine(_dir, Failpoints.DurableFile)).Should().BeFalse();
        Failpoints.DropUnsynced(_dir).Should().BeNull("the positions are applied once, at the first restart after the crash");
    }

    [Fact]
    public void A_crash_before_any_snapshot_store_table_exists_drops_journal_rows_only()
    {
        Execute(SqliteFiles.JournalFile, "CREATE TABLE journal (persistence_id TEXT NOT NULL, sequence_number INTEGER NOT NULL)");
        Insert(SqliteFiles.JournalFile, "journal", "raft-1-7", 1, 3);
        File.WriteAllText(Path.Combine(_dir, Failpoints.DurableFile), Failpoints.FormatDurable([new("raft-1-7", (1L, 0L))]));

        Failpoints.DropUnsynced(_dir).Should().Be("dropped 2 journal rows and 0 snapshots that the crashed process had not seen durable");
    }

    private void Execute(string file, string sql)
    {
        using var connection = new SqliteConnection(SqliteFiles.ConnectionString(Path.Combine(_dir, file)));
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private void Insert(string file, string table, string persistenceId, int from, int to)
    {
        for (int sequenceNr = from; sequenceNr <= to; sequenceNr++)
            Execute(file, $"INSERT INTO {table} VALUES ('{persistenceId}', {sequenceNr})");
    }

    private List<long> SequenceNumbers(string file, string table, string persistenceId)
    {
        using var connection = new SqliteConnection(SqliteFiles.ConnectionString(Path.Combine(_dir, file)));
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = $"SELECT sequence_number FROM {table} WHERE persistence_id = $id ORDER BY sequence_number";
        command.Parameters.AddWithValue("$id", persistenceId);
        using SqliteDataReader reader = command.ExecuteReader();
        var numbers = new List<long>();
        while (reader.Read()) numbers.Add(reader.GetInt64(0));
        return numbers;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
