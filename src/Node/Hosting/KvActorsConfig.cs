using System.Globalization;
using System.Reflection;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;

namespace KvActors.Node.Hosting;

/// <summary>
/// Builds a node's Akka configuration from the HOCON files under <c>hocon/</c> (embedded in this assembly):
/// <c>kvactors.conf</c> (node defaults), <c>serialization.conf</c> (protobuf on the wire and on disk), a storage
/// overlay (<c>sqlite.conf</c>) with the data directory filled in, and optional overlays such as <c>test.conf</c>.
/// </summary>
public static class KvActorsConfig
{
    /// <summary>The text of one embedded HOCON file, e.g. <c>"kvactors.conf"</c>.</summary>
    /// <exception cref="FileNotFoundException">No such file is embedded.</exception>
    public static string Hocon(string file)
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("hocon/" + file)
            ?? throw new FileNotFoundException($"hocon/{file} is not embedded in {typeof(KvActorsConfig).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// The configuration of a node whose SQLite files live in <paramref name="dataDirectory"/>. Earlier overlays win
    /// over later ones; every overlay wins over the defaults.
    /// </summary>
    public static Config ForSqlite(string dataDirectory, params string[] overlays)
    {
        string journal = SqliteFiles.ConnectionString(Path.Combine(dataDirectory, SqliteFiles.JournalFile));
        string snapshots = SqliteFiles.ConnectionString(Path.Combine(dataDirectory, SqliteFiles.SnapshotFile));
        Config config = ConfigurationFactory.ParseString(string.Create(CultureInfo.InvariantCulture, $"""
            akka.persistence.journal.sql.connection-string = "{Escape(journal)}"
            akka.persistence.snapshot-store.sql.connection-string = "{Escape(snapshots)}"
            """));
        foreach (string overlay in overlays) config = config.WithFallback(ConfigurationFactory.ParseString(overlay));
        return config
            .WithFallback(ConfigurationFactory.ParseString(Hocon("sqlite.conf")))
            .WithFallback(ConfigurationFactory.ParseString(Hocon("serialization.conf")))
            .WithFallback(ConfigurationFactory.ParseString(Hocon("kvactors.conf")))
            .WithFallback(ConfigurationFactory.ParseString(Hocon("sharding.conf")))
            .WithFallback(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration);   // the plugin's own defaults
    }

    /// <summary>
    /// What an ActorSystem of a node whose SQLite files live in <paramref name="dataDirectory"/> is created with:
    /// <paramref name="config"/> (from <see cref="ForSqlite"/>) and the journal's connection setup
    /// (<see cref="SqliteFiles.JournalSetup"/>).
    /// </summary>
    public static ActorSystemSetup SqliteSetup(string dataDirectory, Config config) =>
        BootstrapSetup.Create().WithConfig(config).And(SqliteFiles.JournalSetup(dataDirectory));

    private static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
