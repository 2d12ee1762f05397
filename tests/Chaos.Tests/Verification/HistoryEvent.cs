namespace KvActors.Chaos.Tests.Verification;

/// <summary>
/// One line of a client history (the JSON-lines contract scripts read):
/// <c>{"process": 3, "type": "invoke", "f": "put", "key": "k1", "value": "v17", "time": 1234}</c>.
/// </summary>
/// <param name="Process">The logical client; after an <c>info</c> it issues nothing more (work goes on under a new number).
/// Process 0 is the final reader that reads every key once more after healing.</param>
/// <param name="Type"><c>invoke</c>, <c>ok</c>, <c>fail</c> (certainly not applied) or <c>info</c> (outcome unknown).</param>
/// <param name="F"><c>put</c>, <c>get</c>, <c>delete</c> or <c>cas</c>.</param>
/// <param name="Key">The key.</param>
/// <param name="Value">A put's or cas's new value on invoke; the value a get read on ok (null: absent).</param>
/// <param name="Expected">A cas invoke's expected value (null: the key is absent); only with <paramref name="HasExpected"/>.</param>
/// <param name="HasExpected">True on a cas invoke.</param>
/// <param name="Succeeded">A cas ok's outcome.</param>
/// <param name="Time">Monotonic nanoseconds.</param>
public sealed record HistoryEvent(int Process, string Type, string F, string Key, string? Value, string? Expected, bool HasExpected,
    bool? Succeeded, long Time)
{
    public const string Invoke = "invoke", Ok = "ok", Fail = "fail", Info = "info";
    public const string Put = "put", Get = "get", Delete = "delete", Cas = "cas";

    public static HistoryEvent Invoked(int process, string f, string key, string? value, long time) =>
        new(process, Invoke, f, key, value, null, false, null, time);

    public static HistoryEvent CasInvoked(int process, string key, string? expected, string value, long time) =>
        new(process, Invoke, Cas, key, value, expected, true, null, time);

    public static HistoryEvent Completed(int process, string type, string f, string key, long time, string? value = null, bool? succeeded = null) =>
        new(process, type, f, key, value, null, false, succeeded, time);

    public override string ToString() => HistoryJson.Line(this);
}
