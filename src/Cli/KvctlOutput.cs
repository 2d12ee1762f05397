using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using KvActors.Client;
using KvActors.Protocol.Wire;

namespace KvActors.Cli;

/// <summary>
/// What kvctl prints for each result: short text for people, or with <c>--json</c> one JSON object on one line whose
/// field names and shapes scripts rely on (README "kvctl"). Keys and values are shown as UTF-8 text.
/// </summary>
internal sealed class KvctlOutput(TextWriter stdout, bool json)
{
    // Relaxed escaping: the output goes to a terminal or a script, never into HTML, so '<' or 'é' stay readable.
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public Task PutAsync(string key, ulong revision) => json
        ? WriteJsonAsync(w =>
        {
            w.WriteString("key", key);
            w.WriteNumber("revision", revision);
        })
        : stdout.WriteLineAsync($"OK (revision {revision})");

    /// <summary><c>{"key","value","found","modRevision","createRevision","version"}</c>; an absent key has a null value
    /// and zeros. Text: the value alone, nothing when absent (the "not found" line goes to stderr).</summary>
    public Task GetAsync(string key, KvEntry? entry)
    {
        if (!json) return entry is null ? Task.CompletedTask : stdout.WriteLineAsync(entry.ValueText);
        return WriteJsonAsync(w =>
        {
            w.WriteString("key", key);
            if (entry is null) w.WriteNull("value");
            else w.WriteString("value", entry.ValueText);
            w.WriteBoolean("found", entry is not null);
            WriteRevisions(w, entry);
        });
    }

    public Task DeleteAsync(string key, bool deleted) => json
        ? WriteJsonAsync(w =>
        {
            w.WriteString("key", key);
            w.WriteBoolean("deleted", deleted);
        })
        : stdout.WriteLineAsync(deleted ? "deleted" : $"{key} did not exist; nothing deleted");

    /// <summary><c>{"succeeded","key","value","modRevision","createRevision","version"}</c>: the pair after the call
    /// (the new one, or the one that failed the compare; null value and zeros when absent).</summary>
    public Task CompareAndSwapAsync(string key, KvCasResult result)
    {
        if (!json)
            return result.Succeeded ? stdout.WriteLineAsync($"OK (revision {result.Current?.ModRevision ?? 0})") : Task.CompletedTask;
        return WriteJsonAsync(w =>
        {
            w.WriteBoolean("succeeded", result.Succeeded);
            w.WriteString("key", key);
            if (result.Current is null) w.WriteNull("value");
            else w.WriteString("value", result.Current.ValueText);
            WriteRevisions(w, result.Current);
        });
    }

    /// <summary><c>{"kvs":[{"key","value","createRevision","modRevision","version"}],"more","count"}</c>; count is the
    /// number of pairs printed. Text: <c>key = value</c> per line, then a note when more follow.</summary>
    public async Task RangeAsync(KvRangeResult range)
    {
        if (json)
        {
            await WriteJsonAsync(w =>
            {
                w.WriteStartArray("kvs");
                foreach (KvEntry entry in range.Entries)
                {
                    w.WriteStartObject();
                    w.WriteString("key", entry.KeyText);
                    w.WriteString("value", entry.ValueText);
                    WriteRevisions(w, entry);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteBoolean("more", range.More);
                w.WriteNumber("count", range.Entries.Count);
            }).ConfigureAwait(false);
            return;
        }
        var text = new StringBuilder();
        foreach (KvEntry entry in range.Entries) text.Append(entry.KeyText).Append(" = ").AppendLine(entry.ValueText);
        if (range.More) text.AppendLine("(more pairs follow; ask again from just after the last key)");
        await stdout.WriteAsync(text.ToString()).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>{"nodes":[{"id","address","status","draining","replicas","leading"}],"shards":[{"id","leader","term","voters","learners","replicas":[{"node",
    /// "applied","lag","role","reachable"}],"commit","move"}]}</c> (node.proto's names in lowerCamelCase; <c>leader</c> is
    /// null without a leader, <c>move</c> empty while the shard's manager changes nothing). Text: a table of nodes, then
    /// one of shards, then the moves in progress.
    /// </summary>
    public Task StatusAsync(ClusterStatus status) => json
        ? WriteJsonAsync(w => WriteStatus(w, status))
        : stdout.WriteAsync(StatusTable.Format(status));

    private static void WriteStatus(Utf8JsonWriter w, ClusterStatus status)
    {
        w.WriteStartArray("nodes");
        foreach (NodeStatus node in status.Nodes)
        {
            w.WriteStartObject();
            w.WriteString("id", node.Id);
            w.WriteString("address", node.Address);
            w.WriteString("status", node.Status);
            w.WriteBoolean("draining", node.Draining);
            w.WriteNumber("replicas", node.Replicas);
            w.WriteNumber("leading", node.Leading);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("shards");
        foreach (ShardStatus shard in status.Shards)
        {
            w.WriteStartObject();
            w.WriteNumber("id", shard.Id);
            if (shard.HasLeader) w.WriteString("leader", shard.Leader);
            else w.WriteNull("leader");
            w.WriteNumber("term", shard.Term);
            WriteStrings(w, "voters", shard.Voters);
            WriteStrings(w, "learners", shard.Learners);
            w.WriteStartArray("replicas");
            foreach (ReplicaStatusEntry replica in shard.Replicas)
            {
                w.WriteStartObject();
                w.WriteString("node", replica.Node);
                w.WriteNumber("applied", replica.Applied);
                w.WriteNumber("lag", replica.Lag);
                w.WriteString("role", replica.Role);
                w.WriteBoolean("reachable", replica.Reachable);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("commit", shard.Commit);
            w.WriteString("move", shard.Move);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>
    /// <c>kvctl node drain</c>: <c>{"node","draining","drained","replicas","leading"}</c> (<c>drained</c>: it holds no
    /// replica and leads no shard; false only when kvctl did not wait). Text: one line saying so.
    /// </summary>
    public Task DrainAsync(string node, bool drained, uint replicas, uint leading) => json
        ? WriteJsonAsync(w =>
        {
            w.WriteString("node", node);
            w.WriteBoolean("draining", true);
            w.WriteBoolean("drained", drained);
            w.WriteNumber("replicas", replicas);
            w.WriteNumber("leading", leading);
        })
        : stdout.WriteLineAsync(drained
            ? $"{node} is drained: it holds no replicas and leads no shard; it is safe to stop"
            : $"{node} is draining: its replicas and leaderships move to other nodes (kvctl status shows the moves)");

    /// <summary><c>kvctl node drain --cancel</c>: <c>{"node","draining":false}</c>. Text: one line.</summary>
    public Task DrainCancelledAsync(string node) => json
        ? WriteJsonAsync(w =>
        {
            w.WriteString("node", node);
            w.WriteBoolean("draining", false);
        })
        : stdout.WriteLineAsync($"{node} is no longer draining: it may hold replicas and lead shards again");

    /// <summary>
    /// <c>kvctl node remove</c>: <c>{"node","removed"}</c> (<c>removed</c>: no shard names the node any more; false only
    /// when kvctl did not wait). Text: one line.
    /// </summary>
    public Task RemoveAsync(string node, bool removed) => json
        ? WriteJsonAsync(w =>
        {
            w.WriteString("node", node);
            w.WriteBoolean("removed", removed);
        })
        : stdout.WriteLineAsync(removed
            ? $"{node} is removed: no shard has a replica on it any more"
            : $"{node} is being removed: every shard replaces its replica there (kvctl status shows the moves)");

    /// <summary>A progress line while kvctl waits (text only: with --json stdout carries the one result object).</summary>
    public Task ProgressAsync(string line) => json ? Task.CompletedTask : stdout.WriteLineAsync(line);

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (string value in values) w.WriteStringValue(value);
        w.WriteEndArray();
    }

    private static void WriteRevisions(Utf8JsonWriter w, KvEntry? entry)
    {
        w.WriteNumber("modRevision", entry?.ModRevision ?? 0);
        w.WriteNumber("createRevision", entry?.CreateRevision ?? 0);
        w.WriteNumber("version", entry?.Version ?? 0);
    }

    /// <summary>One object on one line: a script reads the whole of stdout as one JSON document.</summary>
    private Task WriteJsonAsync(Action<Utf8JsonWriter> fields)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, JsonOptions))
        {
            writer.WriteStartObject();
            fields(writer);
            writer.WriteEndObject();
        }
        return stdout.WriteLineAsync(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, checked((int)buffer.Length)));
    }
}

/// <summary>The human form of <c>kvctl status</c>: a node table and a shard table, columns aligned.</summary>
internal static class StatusTable
{
    public static string Format(ClusterStatus status)
    {
        var nodes = new List<string[]> { new[] { "NODE", "ADDRESS", "STATUS", "REPLICAS", "LEADING" } };
        foreach (NodeStatus node in status.Nodes)
        {
            nodes.Add(new[]
            {
                node.Id, node.Address, node.Draining ? node.Status + ", draining" : node.Status,
                node.Replicas.ToString(CultureInfo.InvariantCulture), node.Leading.ToString(CultureInfo.InvariantCulture),
            });
        }
        var shards = new List<string[]> { new[] { "SHARD", "LEADER", "TERM", "COMMIT", "VOTERS", "LEARNERS", "REPLICAS (node applied/lag)" } };
        foreach (ShardStatus shard in status.Shards)
        {
            var replicas = new List<string>();
            foreach (ReplicaStatusEntry r in shard.Replicas)
                replicas.Add(string.Create(CultureInfo.InvariantCulture, $"{r.Node} {r.Applied}/{r.Lag}{(r.Reachable ? "" : " unreachable")}"));
            shards.Add(new[]
            {
                shard.Id.ToString(CultureInfo.InvariantCulture),
                shard.HasLeader ? shard.Leader : "-",
                shard.Term.ToString(CultureInfo.InvariantCulture),
                shard.Commit.ToString(CultureInfo.InvariantCulture),
                List(shard.Voters),
                List(shard.Learners),
                replicas.Count == 0 ? "-" : string.Join(", ", replicas),
            });
        }
        var text = new StringBuilder();
        Table(text, nodes);
        text.AppendLine();
        Table(text, shards);
        foreach (ShardStatus shard in status.Shards.Where(s => s.Move.Length > 0))
            text.Append(CultureInfo.InvariantCulture, $"shard {shard.Id}: {shard.Move}").AppendLine();
        return text.ToString();
    }

    private static string List(IReadOnlyCollection<string> ids) => ids.Count == 0 ? "-" : string.Join(",", ids);

    private static void Table(StringBuilder text, List<string[]> rows)
    {
        var widths = new int[rows[0].Length];
        foreach (string[] row in rows)
            for (int i = 0; i < row.Length; i++) widths[i] = Math.Max(widths[i], row[i].Length);
        foreach (string[] row in rows)
        {
            var line = new StringBuilder();
            for (int i = 0; i < row.Length; i++)
            {
                if (i > 0) line.Append("  ");
                line.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i]));
            }
            text.AppendLine(line.ToString().TrimEnd());
        }
    }
}
