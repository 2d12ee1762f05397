using System.Text;
using System.Text.Json;

namespace KvActors.Chaos.Tests.Verification;

/// <summary>
/// Histories as JSON lines, one <see cref="HistoryEvent"/> per line, fields in the contract's order: process, type,
/// f, key, expected (cas invoke), value, succeeded (cas ok), time. <c>value</c> is written as <c>null</c> where null
/// means something (a get that read nothing) and left out where it does not apply.
/// </summary>
public static class HistoryJson
{
    public static string Line(HistoryEvent e)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("process", e.Process);
            json.WriteString("type", e.Type);
            json.WriteString("f", e.F);
            json.WriteString("key", e.Key);
            if (e.HasExpected)
            {
                if (e.Expected is null) json.WriteNull("expected");
                else json.WriteString("expected", e.Expected);
            }
            bool valueMeansSomething = e.Type == HistoryEvent.Invoke ? e.F is HistoryEvent.Put or HistoryEvent.Cas : e.F == HistoryEvent.Get && e.Type == HistoryEvent.Ok;
            if (valueMeansSomething)
            {
                if (e.Value is null) json.WriteNull("value");
                else json.WriteString("value", e.Value);
            }
            if (e.Succeeded is { } succeeded) json.WriteBoolean("succeeded", succeeded);
            json.WriteNumber("time", e.Time);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static void Write(string path, IEnumerable<HistoryEvent> events)
    {
        using var file = new StreamWriter(path);
        foreach (HistoryEvent e in events) file.WriteLine(Line(e));
    }

    /// <summary>Reads a history back.</summary>
    /// <exception cref="FormatException">A malformed line; the message names its number.</exception>
    public static List<HistoryEvent> Read(string path)
    {
        var events = new List<HistoryEvent>();
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            if (line.Length == 0) continue;
            try
            {
                events.Add(Parse(line));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new FormatException($"{path}:{number}: {e.Message}: {line}", e);
            }
        }
        return events;
    }

    public static HistoryEvent Parse(string line)
    {
        using JsonDocument document = JsonDocument.Parse(line);
        JsonElement root = document.RootElement;
        bool hasExpected = root.TryGetProperty("expected", out JsonElement expected);
        return new HistoryEvent(
            root.GetProperty("process").GetInt32(),
            root.GetProperty("type").GetString()!,
            root.GetProperty("f").GetString()!,
            root.GetProperty("key").GetString()!,
            root.TryGetProperty("value", out JsonElement value) ? value.GetString() : null,
            hasExpected ? expected.GetString() : null,
            hasExpected,
            root.TryGetProperty("succeeded", out JsonElement succeeded) ? succeeded.GetBoolean() : null,
            root.GetProperty("time").GetInt64());
    }
}
